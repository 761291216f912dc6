"""The verifier against issuing bodies of registry v2, from the attacker's side.

A bundle cannot name its body (the registry does, from the key), a compromised key's later
anchors are not authorised, a rename never rewrites the name at issue, an annulled revocation
does not count, a body suspended after anchoring leaves its documents valid, and a relayed
anchor is checked without asking that the relayer be the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from anchor.chain.devchain import Anvil
from anchor.chain.registry import BodyStatus, Kind, Names
from anchor.cli.verify import verify_command
from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import decode_compact, encode_compact
from anchor.trust import TrustedRegistry
from anchor.verify import Outcome, Verdict, verify_bundle
from tests.support.bodies import (
    CONTERN,
    SIGI,
    AnchoredBatch,
    Bodies,
    Body,
    advance,
    anchor_documents,
    block_time,
    new_key,
)
from tests.support.chain import Accounts

pytestmark = pytest.mark.chain

DOCUMENTS = [b"Permis de batir 2026/041", b"Autorisation 17", b"Certificat 9"]
RENAMED = Names(fr="Commune de Contern-Moutfort", de="Gemeinde Contern-Moutfort",
                en="Municipality of Contern-Moutfort", lb="")  # fmt: skip


def verify(anvil: Anvil, bodies: Bodies, bundle: ProofBundle) -> Verdict:
    trusted = [TrustedRegistry(bodies.registry.address.lower(), 31337)]
    return verify_bundle(bundle, trusted=trusted, rpc_urls=[anvil.url])


def cli(anvil: Anvil, bodies: Bodies, bundle: ProofBundle, tmp_path: Path, *extra: str) -> str:
    proof = tmp_path / "proof.json"
    proof.write_text(bundle.to_json())
    app = typer.Typer()
    app.command("verify")(verify_command)
    app.command("noop")(lambda: None)
    args = ["verify", "--proof", str(proof), "--rpc", anvil.url]
    result = CliRunner().invoke(app, [*args, "--registry", bodies.registry.address, *extra])
    return f"{result.exit_code}\n{result.output}"


@pytest.fixture
def batch(bodies: Bodies, contern: Body) -> AnchoredBatch:
    return anchor_documents(bodies, contern.anchoring, DOCUMENTS)


def test_a_bundle_naming_another_body_shows_the_registrys_name(
    anvil: Anvil, bodies: Bodies, contern: Body, tmp_path: Path
) -> None:
    forged = anchor_documents(
        bodies, contern.anchoring, DOCUMENTS, issuer_name="Ministère de l'Intérieur"
    )
    bundle = forged.bundles[1]
    for carried in (bundle, decode_compact(encode_compact(bundle))):  # JSON and QR forms
        assert carried.issuer_name == "Ministère de l'Intérieur"
        verdict = verify(anvil, bodies, carried)
        assert verdict.outcome is Outcome.VALID
        assert verdict.issuer_name() == CONTERN.fr
        assert verdict.to_dict()["issuerName"] == CONTERN.fr
        note = verdict.check("issuerName")
        assert note is not None and note.ok is False and not note.required
        assert "which verifiers ignore" in note.reason
    out = cli(anvil, bodies, bundle, tmp_path)
    assert out.startswith("0\nVALID — issued by Commune de Contern on "), out
    assert "issued by Ministère" not in out


def test_another_bodys_key_in_the_bundle_is_not_this_root(
    anvil: Anvil, bodies: Bodies, batch: AnchoredBatch, accounts: Accounts
) -> None:
    # The syndicate SIGI never anchored Contern's root: naming its key claims nothing.
    bundle = batch.bundles[0].model_copy(update={"issuer": accounts.issuer2.address.lower()})
    verdict = verify(anvil, bodies, bundle)
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "anchored"
    assert failed.reason == f"the root was never anchored by {SIGI.fr} (body 2) in this registry"


def test_an_anchor_after_the_keys_compromise_time_is_not_authorised(
    anvil: Anvil, bodies: Bodies, contern: Body, tmp_path: Path
) -> None:
    before = anchor_documents(bodies, contern.anchoring, DOCUMENTS)
    advance(bodies.w3, 60)
    after = anchor_documents(bodies, contern.anchoring, [b"forged permit"])
    # Found out later: the key leaked at the second anchor's time.
    bodies.compromise(contern.anchoring.address, after.bundles[0].anchored_at)

    verdict = verify(anvil, bodies, after.bundles[0])
    assert verdict.outcome is Outcome.INVALID
    assert verdict.authorised is False
    (failed,) = verdict.failed
    assert failed.name == "authorised"
    assert failed.reason.startswith("not authorised: the key ")
    assert "is marked compromised since" in failed.reason
    out = cli(anvil, bodies, after.bundles[0], tmp_path)
    assert out.startswith("1\nINVALID — do not rely on this document.\n"), out
    assert "was NOT authorised to anchor for the body then" in out
    assert "  - Not authorised: the key" in out

    # What the key anchored before its compromise time stays valid.
    earlier = verify(anvil, bodies, before.bundles[0])
    assert earlier.outcome is Outcome.VALID and earlier.authorised is True


def test_a_rename_after_anchoring_keeps_the_name_at_issue(
    anvil: Anvil, bodies: Bodies, contern: Body, batch: AnchoredBatch, tmp_path: Path
) -> None:
    advance(bodies.w3, 10)
    bodies.rename(contern.id, RENAMED)
    later = anchor_documents(bodies, contern.anchoring, [b"after the merger"])

    verdict = verify(anvil, bodies, batch.bundles[0])
    assert verdict.outcome is Outcome.VALID
    assert verdict.body is not None
    assert verdict.issuer_name() == CONTERN.fr
    assert verdict.body.renamed() == RENAMED.fr
    assert verdict.issuer_name("de") == CONTERN.de and verdict.body.renamed("de") == RENAMED.de
    assert verdict.to_dict("en")["issuerNameNow"] == RENAMED.en
    out = cli(anvil, bodies, batch.bundles[0], tmp_path)
    assert "VALID — issued by Commune de Contern on" in out
    assert f"  renamed since: today {RENAMED.fr}\n" in out
    as_json = json.loads(cli(anvil, bodies, batch.bundles[0], tmp_path, "--json", "--lang", "de")
                         .split("\n", 1)[1])  # fmt: skip
    assert as_json["issuerName"] == CONTERN.de and as_json["issuerNameNow"] == RENAMED.de
    assert as_json["body"]["namesAtAnchor"]["fr"] == CONTERN.fr
    assert as_json["body"]["kind"] == "commune" and as_json["authorised"] is True

    # A document anchored after the rename is issued under the new name, and only that one.
    renamed = verify(anvil, bodies, later.bundles[0])
    assert renamed.issuer_name() == RENAMED.fr and renamed.body is not None
    assert renamed.body.renamed() is None


def test_an_annulled_revocation_does_not_count(
    anvil: Anvil, bodies: Bodies, accounts: Accounts
) -> None:
    status_key = new_key(bodies.w3)
    body = bodies.register(
        Names(fr="Office social de Hesperange", de="", en="", lb=""),
        kind=Kind.SOCIAL_OFFICE, code="OS-HESP", status_key=status_key,
    )  # fmt: skip
    batch = anchor_documents(bodies, body.anchoring, DOCUMENTS)
    bundle = batch.bundles[2]
    receipt = bodies.revoke_document(
        body.id, batch.root, list(bundle.proof_bytes), bundle.leaf_bytes, 3, actor=status_key
    )
    revoked = verify(anvil, bodies, bundle)
    assert revoked.outcome is Outcome.INVALID
    assert [c.name for c in revoked.failed] == ["leafStatus"]
    assert [r.of for r in revoked.revocations] == ["document"]

    # The status key had leaked: the registrar marks it and annuls what it did.
    bodies.compromise(status_key.address, block_time(bodies.w3, receipt))
    bodies.annul(body.id, batch.root, bundle.leaf_bytes, 0)
    verdict = verify(anvil, bodies, bundle)
    assert verdict.outcome is Outcome.VALID, verdict.failed
    assert verdict.revocations == ()  # the annulled revocation is not listed
    assert verdict.body is not None and verdict.body.kind == "social_office"


@pytest.mark.parametrize("status", [BodyStatus.SUSPENDED, BodyStatus.RETIRED])
def test_a_body_suspended_or_retired_after_anchoring_leaves_its_documents_valid(
    anvil: Anvil,
    bodies: Bodies,
    contern: Body,
    batch: AnchoredBatch,
    tmp_path: Path,
    status: BodyStatus,
) -> None:
    bodies.set_status(contern.id, status)
    verdict = verify(anvil, bodies, batch.bundles[0])
    assert verdict.outcome is Outcome.VALID, verdict.failed
    assert verdict.authorised is True
    word = status.name.lower()
    assert verdict.body is not None and verdict.body.status == word
    out = cli(anvil, bodies, batch.bundles[0], tmp_path)
    assert out.startswith("0\nVALID — issued by Commune de Contern"), out
    assert f"the body is {word} today; documents it anchored while active stay valid" in out


def test_a_relayed_anchor_is_valid_and_its_transaction_checked(
    anvil: Anvil, bodies: Bodies, contern: Body, accounts: Accounts
) -> None:
    relayed = anchor_documents(bodies, contern.anchoring, DOCUMENTS, relayer=accounts.other)
    sender = bodies.w3.eth.get_transaction(relayed.receipt["transactionHash"])["from"]
    assert sender == accounts.other.address  # the relayer sent it, not the body's key
    verdict = verify(anvil, bodies, relayed.bundles[1])
    assert verdict.outcome is Outcome.VALID, verdict.failed
    transaction = verdict.check("transaction")
    assert transaction is not None and transaction.ok is True
    assert verdict.issuer == contern.anchoring.address.lower()


def test_the_verdicts_words_are_the_registrys_enums() -> None:
    """`anchor.verify.verdict` keeps the kinds and statuses without web3; they must agree."""
    from anchor.verify.verdict import BODY_KINDS, BODY_STATUSES

    assert list(BODY_KINDS) == [k.slug for k in Kind]
    assert list(BODY_STATUSES) == [s.name.lower() for s in BodyStatus]
    assert BodyStatus.ACTIVE.name.lower() == "active" and Kind.STATE_BODY.slug == "state_body"


def test_cli_refuses_a_language_it_does_not_speak(
    anvil: Anvil, bodies: Bodies, batch: AnchoredBatch, tmp_path: Path
) -> None:
    out = cli(anvil, bodies, batch.bundles[0], tmp_path, "--lang", "lb")
    assert out.startswith("64\n"), out
