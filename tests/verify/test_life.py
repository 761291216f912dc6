"""The verifier on a document's life (registry 2.1): suspended, lifted, superseded, revoked by a
court, extended, expired; from the library and the CLI, and from the attacker's side (a status
key of another body cannot suspend or supersede this body's document, and an expired permit
stays expired whatever the bundle claims)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner
from web3.exceptions import ContractCustomError

from anchor.chain.devchain import Anvil
from anchor.chain.registry import Kind, Names, decode_revert
from anchor.cli.verify import verify_command
from anchor.merkle import build_tree
from anchor.proof.bundle import ProofBundleV2, parse_bundle
from anchor.proof.doctypes import builtin_types
from anchor.proof.statement import statement_for
from anchor.trust import TrustedRegistry
from anchor.verify import Outcome, Verdict, verify_bundle
from anchor.verify.validity import today, validity_check
from tests.support.bodies import Bodies, Body, block_time, new_key
from tests.support.chain import send

pytestmark = pytest.mark.chain

DAY = 86400
PERMIT = builtin_types().get_type("lu.building-permit")


def permit_facts(reference: str, valid_until: str | None) -> dict[str, str]:
    facts = {
        "reference": reference,
        "decisionDate": "2026-03-12",
        "works": "Construction d'une maison unifamiliale avec garage",
        "address": "6, rue de l'Étang, L-5326 Contern",
        "parcel": "Contern, section A, n° 123/4567",
    }
    if valid_until is not None:
        facts["validUntil"] = valid_until
    return facts


def anchor_permits(bodies: Bodies, body: Body, facts: list[dict[str, str]]) -> list[ProofBundleV2]:
    """Anchor typed building permits in one root under ``body`` and build their v2 bundles."""
    w3 = bodies.w3
    statements = [
        statement_for(PERMIT, PERMIT.validate_facts(f, file_given=False), file_digest=None,
                      private_salt=None)
        for f in facts
    ]  # fmt: skip
    salts = [os.urandom(32) for _ in facts]
    tree = build_tree([(s, st.digest()) for s, st in zip(salts, statements, strict=True)])
    receipt = bodies.anchor(body.anchoring, tree.root, tree.leaf_count)
    bundles = []
    for i, st in enumerate(statements):
        bundle = parse_bundle(
            {
                "version": 2,
                "digest": "0x" + st.digest().hex(),
                "salt": "0x" + salts[i].hex(),
                "leaf": "0x" + tree.leaf(i).hex(),
                "proof": ["0x" + p.hex() for p in tree.proof(i)],
                "root": "0x" + tree.root.hex(),
                "chainId": w3.eth.chain_id,
                "registry": bodies.registry.address.lower(),
                "txHash": "0x" + bytes(receipt["transactionHash"]).hex(),
                "blockNumber": int(receipt["blockNumber"]),
                "issuer": body.anchoring.address.lower(),
                "anchoredAt": block_time(w3, receipt),
                "type": PERMIT.id,
                "typeVersion": PERMIT.version,
                "facts": dict(st.facts),
            }
        )
        assert isinstance(bundle, ProofBundleV2)
        bundles.append(bundle)
    return bundles


def verify(anvil: Anvil, bodies: Bodies, bundle: ProofBundleV2) -> Verdict:
    trusted = [TrustedRegistry(bodies.registry.address.lower(), 31337)]
    return verify_bundle(bundle, trusted=trusted, rpc_urls=[anvil.url])


def args(bundle: ProofBundleV2) -> tuple[int, bytes, list[bytes], bytes]:
    return (0, bundle.root_bytes, list(bundle.proof_bytes), bundle.leaf_bytes)


@pytest.fixture
def commune(bodies: Bodies) -> Body:
    return bodies.register(
        Names(fr="Commune de Contern", de="Gemeng Conter", en="Municipality of Contern", lb=""),
        kind=Kind.COMMUNE, code=f"LU-CONT-{os.urandom(3).hex()}", status_key=new_key(bodies.w3),
    )  # fmt: skip


def change(bodies: Bodies, body: Body, name: str, bundle: ProofBundleV2, *extra: object) -> None:
    fn = getattr(bodies.functions, name)
    assert body.status_key is not None
    send(bodies.w3, body.status_key, fn(body.id, *args(bundle)[1:], *extra))


def test_suspended_then_lifted_then_superseded(
    anvil: Anvil, bodies: Bodies, commune: Body, tmp_path: Path
) -> None:
    first, successor = anchor_permits(
        bodies, commune, [permit_facts("2026/0042", None), permit_facts("2026/0042-bis", None)]
    )
    assert verify(anvil, bodies, first).outcome is Outcome.VALID

    change(bodies, commune, "suspendDocument", first, 1)  # sursis à exécution
    suspended = verify(anvil, bodies, first)
    assert suspended.outcome is Outcome.INVALID
    assert [c.name for c in suspended.failed] == ["leafStatus"]
    assert suspended.life is not None and suspended.life.state == "suspended"
    assert suspended.life.reason_name == "suspended by a court"
    check = suspended.check("leafStatus")
    assert check is not None and "suspended" in check.reason and "by a court" in check.reason
    assert suspended.to_dict()["life"]["state"] == "suspended"

    change(bodies, commune, "liftSuspension", first)
    lifted = verify(anvil, bodies, first)
    assert lifted.outcome is Outcome.VALID and lifted.life is not None
    assert lifted.life.state == "in_force"

    change(bodies, commune, "supersedeDocument", first, successor.root_bytes,
           list(successor.proof_bytes), successor.leaf_bytes)  # fmt: skip
    superseded = verify(anvil, bodies, first)
    assert superseded.outcome is Outcome.INVALID and superseded.life is not None
    assert superseded.life.state == "superseded"
    assert superseded.life.successor_leaf == successor.leaf
    # The successor itself is in force.
    assert verify(anvil, bodies, successor).outcome is Outcome.VALID

    # The CLI says it in words.
    path = tmp_path / "proof.json"
    path.write_text(first.to_json())
    app = typer.Typer()
    app.command("verify")(verify_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["verify", "--proof", str(path), "--rpc", anvil.url,
                                      "--registry", bodies.registry.address])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "document was superseded on" in " ".join(result.output.split()), result.output
    assert "Permit number: 2026/0042" not in result.output  # French by default
    assert "Numéro de l\u2019autorisation: 2026/0042" in result.output
    assert "Adresse du chantier: 6, rue de l'Étang, L-5326 Contern" in result.output
    # A forged fact: INVALID, and the forged facts are never printed as certified.
    forged = first.model_copy(update={"facts": {**first.facts, "reference": "2026/9999"}})
    path.write_text(forged.to_json())
    command = ["verify", "--proof", str(path), "--rpc", anvil.url, "--lang", "en"]
    result = CliRunner().invoke(app, [*command, "--registry", bodies.registry.address])
    assert result.exit_code == 1 and "compare them with" not in result.output, result.output
    assert "2026/9999" not in result.output


def test_expired_extended_and_revoked_by_a_court(
    anvil: Anvil, bodies: Bodies, commune: Body
) -> None:
    past = (today() - timedelta(days=3)).isoformat()
    future = (today() + timedelta(days=30)).isoformat()
    expired, valid = anchor_permits(
        bodies, commune, [permit_facts("2025/0007", past), permit_facts("2026/0099", future)]
    )
    verdict = verify(anvil, bodies, expired)
    assert verdict.outcome is Outcome.INVALID
    assert [c.name for c in verdict.failed] == ["validity"]
    assert verdict.life is not None and verdict.life.expired and verdict.life.valid_until == past
    ok = verify(anvil, bodies, valid)
    assert ok.outcome is Outcome.VALID and ok.life is not None
    assert (ok.life.valid_until, ok.life.expired) == (future, False)
    validity = ok.check("validity")
    assert validity is not None and validity.ok and future in validity.reason

    # The commune extends the expired permit by a year: valid again, until the new day.
    new_end = date.fromisoformat(past) + timedelta(days=365)
    until = (date.fromisoformat(new_end.isoformat()) - date(1970, 1, 1)).days * DAY
    change(bodies, commune, "extendValidity", expired, until)
    extended = verify(anvil, bodies, expired)
    assert extended.outcome is Outcome.VALID, extended.failed
    assert extended.life is not None
    assert (extended.life.extended_until, extended.life.valid_until) == (new_end.isoformat(),) * 2
    check = extended.check("validity")
    assert check is not None and "extended by the registry" in check.reason

    # Annulled by a court (revocation reason 5).
    change(bodies, commune, "revokeDocument", valid, 5)
    revoked = verify(anvil, bodies, valid)
    assert revoked.outcome is Outcome.INVALID and revoked.life is not None
    assert (revoked.life.state, revoked.life.reason_name) == ("revoked", "annulled by a court")
    assert [r.reason_name for r in revoked.revocations] == ["annulled by a court"]


def test_an_expiry_the_bundle_hides_is_still_found() -> None:
    """A forger who drops the validity-end fact changes the statement: the proof breaks; one who
    keeps it cannot move the date. Here: the check reads the fact the bundle certifies, and a
    type this verifier does not know gives no end to check rather than a made-up one."""
    bundle = parse_bundle(
        {
            "version": 2, "digest": "0x" + "11" * 32, "salt": "0x" + "22" * 32,
            "leaf": "0x" + "33" * 32, "proof": [], "root": "0x" + "33" * 32, "chainId": 1,
            "registry": "0x" + "44" * 20, "txHash": "0x" + "55" * 32, "blockNumber": 1,
            "issuer": "0x" + "66" * 20, "anchoredAt": 1, "type": PERMIT.id, "typeVersion": 1,
            "facts": permit_facts("2020/0001", "2021-01-31"),
        }
    )  # fmt: skip
    check, life = validity_check(bundle, None, on=date(2021, 2, 1))
    assert check is not None and check.ok is False and life is not None and life.expired
    check, life = validity_check(bundle, None, on=date(2021, 1, 31))  # valid through that day
    assert check is not None and check.ok is True and life is not None and not life.expired
    unknown = bundle.model_copy(update={"type_id": "xx.unknown-type"})
    assert validity_check(unknown, None) == (None, None)


def test_another_bodys_status_key_cannot_suspend_this_document(
    anvil: Anvil, bodies: Bodies, commune: Body
) -> None:
    (permit,) = anchor_permits(bodies, commune, [permit_facts("2026/0500", None)])
    neighbour = Names(fr="Commune voisine", de="", en="", lb="")
    code = f"LU-RIV-{os.urandom(3).hex()}"
    rival = bodies.register(neighbour, code=code, status_key=new_key(bodies.w3))
    assert rival.status_key is not None
    call = bodies.functions.suspendDocument(commune.id, *args(permit)[1:], 1)
    with pytest.raises(ContractCustomError) as caught:
        send(bodies.w3, rival.status_key, call)
    assert decode_revert(caught.value.data) == (  # type: ignore[arg-type]
        "RegistryUnauthorizedActor",
        (rival.status_key.address.lower(), commune.id),
    )
    assert verify(anvil, bodies, permit).outcome is Outcome.VALID
