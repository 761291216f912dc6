"""The golden vectors against the registry v2 on anvil, and `verify_bundle` end to end.

Every batch root of ``tests/vectors/batches.json`` is anchored by the anchoring key of the body
"Commune de Contern" (the ``issuer`` account); then the registry's own Merkle check
(``status(key, root, proof, leaf).included``) must agree with each vector, and `verify_bundle`
must give the expected verdict, never ``invalid`` for an outage. The attacker's side (another
body's name in the bundle, a compromised key, a look-alike registry, a rename, an annulled
revocation, a suspended body) is in ``test_bodies.py``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner
from web3 import Web3

from anchor.chain.cache import TTLCache
from anchor.chain.client import ChainClient
from anchor.chain.devchain import Anvil
from anchor.chain.registry import Registry
from anchor.cli.verify import verify_command
from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import verification_url
from anchor.trust import TrustedRegistry
from anchor.verify import Outcome, format_time, verify_bundle
from tests.support.bodies import CONTERN, CONTERN_CODE, Bodies, Body
from tests.support.chain import Accounts
from tests.support.lookalike import deploy_lookalike, forged_bundle
from tests.support.rpc_proxy import RecordingProxy

pytestmark = pytest.mark.chain

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
BATCHES: dict[str, dict[str, Any]] = json.loads((VECTORS / "batches.json").read_text())["batches"]
VALID: list[dict[str, Any]] = json.loads((VECTORS / "valid.json").read_text())["vectors"]
MUTATED: list[dict[str, Any]] = json.loads((VECTORS / "mutated.json").read_text())["vectors"]


@dataclass(frozen=True)
class Anchored:
    """Where and when each batch root was anchored."""

    tx_hash: str
    block_number: int
    anchored_at: int


def b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@pytest.fixture
def anchored(bodies: Bodies, contern: Body) -> dict[str, Anchored]:
    """Every batch root anchored by Contern's key, with its transaction and time."""
    out: dict[str, Anchored] = {}
    for name, batch in BATCHES.items():
        receipt = bodies.anchor(contern.anchoring, b32(batch["root"]), batch["leafCount"])
        record = bodies.registry.anchor_of(contern.id, b32(batch["root"]))
        tx = receipt["transactionHash"]
        assert isinstance(tx, bytes)
        out[name] = Anchored("0x" + tx.hex(), int(receipt["blockNumber"]), record.anchored_at)  # type: ignore[call-overload]
    return out


def bundle_for(
    v: dict[str, Any],
    anchored: dict[str, Anchored],
    reg: Registry,
    accounts: Accounts,
    **override: Any,
) -> ProofBundle:
    a = anchored[v["batch"]]
    data: dict[str, Any] = {
        "version": 1,
        **{k: v[k] for k in ("digest", "salt", "leaf", "proof", "root")},
        "chainId": 31337,
        "registry": reg.address,
        "txHash": a.tx_hash,
        "blockNumber": a.block_number,
        "issuer": accounts.issuer.address,
        "anchoredAt": a.anchored_at,
        "issuerName": "Commune de Contern",
    }  # fmt: skip
    data.update(override)
    return ProofBundle.model_validate(data)


def trust(registry: Registry) -> list[TrustedRegistry]:
    """The registry, known out of band, on the session's chain."""
    return [TrustedRegistry(registry.address.lower(), 31337)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_onchain_inclusion_agrees_with_every_vector(
    registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    wrong = []
    for v in VALID + MUTATED:
        proof = [b32(p) for p in v["proof"]]
        status = registry.status(accounts.issuer.address, b32(v["root"]), proof, b32(v["leaf"]))
        if status.included is not v["expected"]["onchain"]:
            wrong.append(v["desc"])
    assert not wrong


def test_valid_vectors_are_valid_end_to_end(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    for v in VALID:
        bundle = bundle_for(v, anchored, registry, accounts)
        verdict = verify_bundle(
            bundle, trusted=trust(registry), document=v["document"].encode(), rpc_urls=[anvil.url]
        )
        assert verdict.outcome is Outcome.VALID, (v["desc"], verdict.failed)
        assert verdict.issuer_name() == "Commune de Contern"
        assert verdict.issuer_name("de") == "Gemeinde Contern"
        assert verdict.body is not None and verdict.authorised is True
        assert (verdict.body.kind, verdict.body.code, verdict.body.status) == (
            "commune", CONTERN_CODE, "active",
        )  # fmt: skip
        assert verdict.body.renamed() is None
        assert verdict.anchored_at == anchored[v["batch"]].anchored_at
        transaction = verdict.check("transaction")
        assert transaction is not None and transaction.ok is True


def test_mutated_vectors_are_invalid_end_to_end(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    for v in MUTATED:
        bundle = bundle_for(v, anchored, registry, accounts)
        verdict = verify_bundle(
            bundle, trusted=trust(registry), document=v["document"].encode(), rpc_urls=[anvil.url]
        )
        assert verdict.outcome is Outcome.INVALID, v["desc"]


@pytest.mark.parametrize(
    ("override", "check", "says"),
    [
        ({"anchoredAt": 1_000_000_000}, "anchoredAt", "not on 9 September 2001"),
        ({"issuer": "0x" + "44" * 20}, "issuer", "belongs to no issuing body"),
        ({"txHash": "0x" + "55" * 32}, "transaction", None),
    ],
)
def test_forged_chain_fields(
    anvil: Anvil,
    registry: Registry,
    accounts: Accounts,
    anchored: dict[str, Anchored],
    override: dict[str, Any],
    check: str,
    says: str | None,
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts, **override)
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[anvil.url])
    found = verdict.check(check)
    assert found is not None
    if says is None:  # an unknown transaction is not checked, and does not change the verdict
        assert found.ok is None and verdict.outcome is Outcome.VALID
    else:
        assert found.ok is False and says in found.reason
        assert verdict.outcome is Outcome.INVALID


def test_transaction_of_another_batch_is_invalid(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    other = anchored["b1"]
    bundle = bundle_for(VALID[3], anchored, registry, accounts, txHash=other.tx_hash,
                        blockNumber=other.block_number)  # fmt: skip
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[anvil.url])
    assert verdict.outcome is Outcome.INVALID
    assert [c.name for c in verdict.failed] == ["transaction"]


def test_revoked_document_is_invalid_with_date_and_reason(
    anvil: Anvil,
    registry: Registry,
    bodies: Bodies,
    contern: Body,
    accounts: Accounts,
    anchored: dict[str, Anchored],
) -> None:
    v = VALID[3]
    proof = [b32(p) for p in v["proof"]]
    bodies.revoke_document(contern.id, b32(v["root"]), proof, b32(v["leaf"]), 3)
    verdict = verify_bundle(
        trusted=trust(registry),
        bundle=bundle_for(v, anchored, registry, accounts),
        rpc_urls=[anvil.url],
    )
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "leafStatus"
    assert "the document was revoked on" in failed.reason and "(reason 3: fraud)" in failed.reason
    ((of, reason),) = [(r.of, r.reason) for r in verdict.revocations]
    assert (of, reason) == ("document", 3) and verdict.to_dict()["revocations"][0]["reason"] == 3
    sibling = VALID[4]  # same batch, not revoked
    assert (
        verify_bundle(
            trusted=trust(registry),
            bundle=bundle_for(sibling, anchored, registry, accounts),
            rpc_urls=[anvil.url],
        ).outcome
        is Outcome.VALID
    )


def test_revoked_root_is_invalid_with_reason(
    anvil: Anvil,
    registry: Registry,
    bodies: Bodies,
    contern: Body,
    accounts: Accounts,
    anchored: dict[str, Anchored],
) -> None:
    v = VALID[3]
    bodies.revoke_root(contern.id, b32(v["root"]), 7)
    verdict = verify_bundle(
        trusted=trust(registry),
        bundle=bundle_for(v, anchored, registry, accounts),
        rpc_urls=[anvil.url],
    )
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "rootStatus" and "(reason 7: site-specific)" in failed.reason
    assert [(r.of, r.reason, r.reason_name) for r in verdict.revocations] == [
        ("batch", 7, "site-specific")
    ]


def test_root_never_anchored_is_invalid(
    anvil: Anvil, registry: Registry, accounts: Accounts
) -> None:
    never = {"b1": Anchored("0x" + "66" * 32, 0, 1)}
    bundle = bundle_for(VALID[0], never, registry, accounts)
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[anvil.url])
    assert verdict.outcome is Outcome.INVALID
    assert [c.name for c in verdict.failed] == ["anchored"]
    assert verdict.failed[0].reason == (
        f"the root was never anchored by {CONTERN.fr} (body 1) in this registry"
    )


def test_dead_node_is_indeterminate_never_invalid(
    registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts)
    dead = f"http://127.0.0.1:{free_port()}"
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[dead], timeout=2)
    assert verdict.outcome is Outcome.INDETERMINATE
    assert not verdict.failed


def test_dead_first_url_fails_over_to_the_second(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts)
    dead = f"http://127.0.0.1:{free_port()}"
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[dead, anvil.url], timeout=2)
    assert verdict.outcome is Outcome.VALID
    assert verdict.rpc_url == anvil.url


@pytest.fixture(scope="module")
def other_chain() -> Iterator[Anvil]:
    with Anvil(chain_id=999, accounts=1) as node:
        yield node


def test_node_of_another_chain_is_indeterminate_then_fails_over(
    anvil: Anvil,
    other_chain: Anvil,
    registry: Registry,
    accounts: Accounts,
    anchored: dict[str, Anchored],
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts)
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[other_chain.url])
    assert verdict.outcome is Outcome.INDETERMINATE
    chain = verdict.check("chain")
    assert chain is not None and "is on chain 999, not 31337" in (chain.actual or "")
    both = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[other_chain.url, anvil.url])
    assert both.outcome is Outcome.VALID


def test_trusted_address_without_code_is_invalid(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts, registry=accounts.other.address)
    trusted = [TrustedRegistry(accounts.other.address.lower(), 31337)]
    verdict = verify_bundle(bundle, trusted=trusted, rpc_urls=[anvil.url])
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "registry"
    assert failed.reason == f"no registry at {accounts.other.address.lower()} on chain 31337"


def test_node_behind_the_anchoring_block_is_passed_over(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts, blockNumber=10**9)
    verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[anvil.url])
    assert verdict.outcome is Outcome.INDETERMINATE


def test_cli_valid_sentence_and_url_form(
    tmp_path: Path,
    anvil: Anvil,
    registry: Registry,
    accounts: Accounts,
    anchored: dict[str, Anchored],
) -> None:
    v = VALID[3]
    bundle = bundle_for(v, anchored, registry, accounts)
    doc = tmp_path / "permit.txt"
    doc.write_bytes(v["document"].encode())
    cli = typer.Typer()
    cli.command("verify")(verify_command)
    cli.command("noop")(lambda: None)
    url = verification_url(bundle, "https://verify.anchor.example.lu/verify")
    args = ["--rpc", anvil.url, "--registry", registry.address]
    result = CliRunner().invoke(cli, ["verify", str(doc), "--proof", url, *args])
    assert result.exit_code == 0, result.output
    when = format_time(anchored[v["batch"]].anchored_at)
    issuer = accounts.issuer.address.lower()
    assert result.output == (
        f"VALID — issued by Commune de Contern on {when}; the document matches; not revoked.\n"
        f"  body: Commune de Contern (Commune, code {CONTERN_CODE}, body 1), active today\n"
        f"  key: {issuer}, was authorised to anchor for the body then\n"
    )
    doc.write_bytes(b"altered")
    result = CliRunner().invoke(cli, ["verify", str(doc), "--proof", url, *args])
    assert result.exit_code == 1


# -- trusted registries: out of band, never the proof's; a look-alike is never called ----------


def test_lookalike_registry_is_invalid_and_never_called(
    tmp_path: Path, w3: Web3, anvil: Anvil, registry: Registry, accounts: Accounts
) -> None:
    lookalike = deploy_lookalike(w3, accounts.other, accounts.issuer.address)
    bundle = forged_bundle(w3, lookalike, accounts)
    # What fooled the old verifier: the look-alike answers exactly as a registry would.
    fake = Registry(w3, lookalike.address)
    assert fake.version() == "2.1.0"
    answer = fake.status(accounts.issuer.address, bundle.root_bytes, [], bundle.leaf_bytes)
    assert answer.name_at_anchor.fr == "Ministère de l'Intérieur" and answer.authorised
    proof = tmp_path / "forged.json"
    proof.write_text(bundle.to_json())
    cli = typer.Typer()
    cli.command("verify")(verify_command)
    cli.command("noop")(lambda: None)
    with RecordingProxy(anvil.url) as proxy:
        verdict = verify_bundle(bundle, trusted=trust(registry), rpc_urls=[proxy.url])
        args = ["--digest", bundle.digest, "--proof", str(proof), "--rpc", proxy.url]
        result = CliRunner().invoke(cli, ["verify", *args, "--registry", registry.address])
        by_env = CliRunner().invoke(
            cli, ["verify", *args], env={"ANCHOR_REGISTRY_ADDRESS": registry.address}
        )
        assert proxy.touching(lookalike.address) == []
        assert proxy.count() == 0  # another registry is refused before any node is asked
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "registry" and "issued in another registry" in failed.reason
    assert failed.actual == f"{lookalike.address.lower()} on chain 31337"
    for run in (result, by_env):
        assert run.exit_code == 1, run.output
        assert run.output.startswith("INVALID — do not rely on this document.\n")
        assert "The proof was issued in another registry" in run.output


def test_trust_periods_cover_a_redeploy(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts)
    at = anchored[VALID[3]["batch"]].anchored_at
    address = registry.address.lower()
    successor = TrustedRegistry("0x" + "77" * 20, 31337, valid_from=at)
    retired = [TrustedRegistry(address, 31337, valid_until=at), successor]
    verdict = verify_bundle(bundle, trusted=retired, rpc_urls=[anvil.url])
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "trustPeriod" and failed.expected == f"..{at}"
    assert "outside the period this verifier trusts the registry for" in failed.reason
    current = [TrustedRegistry(address, 31337, valid_until=at + 1), successor]
    assert verify_bundle(bundle, trusted=current, rpc_urls=[anvil.url]).outcome is Outcome.VALID


def test_repeated_verifications_are_answered_from_the_cache(
    anvil: Anvil, registry: Registry, accounts: Accounts, anchored: dict[str, Anchored]
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts)
    sibling = bundle_for(VALID[4], anchored, registry, accounts)  # same root, another leaf
    with RecordingProxy(anvil.url) as proxy:
        client, cache = ChainClient([proxy.url], 31337), TTLCache[object](60)
        first = verify_bundle(bundle, trusted=trust(registry), client=client, cache=cache)
        calls_first = proxy.methods()
        proxy.reset()
        again = verify_bundle(bundle, trusted=trust(registry), client=client, cache=cache)
        calls_again = proxy.count()
        other = verify_bundle(sibling, trusted=trust(registry), client=client, cache=cache)
        calls_sibling = proxy.methods()
    assert first.outcome is again.outcome is other.outcome is Outcome.VALID
    assert sorted(calls_first) == sorted(
        ["eth_chainId", "eth_blockNumber", "eth_getCode", "eth_call", "eth_call",
         "eth_getTransactionReceipt"]
    )  # fmt: skip
    assert calls_again == 0
    assert calls_sibling == ["eth_call"]  # only the sibling's status


def test_cli_anchored_after_the_year_9999_is_a_verdict_not_a_traceback(
    tmp_path: Path,
    anvil: Anvil,
    registry: Registry,
    accounts: Accounts,
    anchored: dict[str, Anchored],
) -> None:
    bundle = bundle_for(VALID[3], anchored, registry, accounts, anchoredAt=300_000_000_000)
    proof = tmp_path / "proof.json"
    proof.write_text(bundle.to_json())
    cli = typer.Typer()
    cli.command("verify")(verify_command)
    cli.command("noop")(lambda: None)
    args = ["verify", "--proof", str(proof), "--rpc", anvil.url, "--registry", registry.address]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "as the proof says" in result.output and "Unix time 300000000000" in result.output
    as_json = CliRunner().invoke(cli, [*args, "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["verdict"] == "invalid"
