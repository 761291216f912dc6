"""Typed documents: the statement, bundle v2, compact v2, the decimal text, the QR budget."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anchor.errors import ProofError
from anchor.merkle.hashing import leaf_hash
from anchor.proof.bundle import ProofBundle, ProofBundleV2, parse_bundle
from anchor.proof.compact import (
    decode_compact,
    encode_compact,
    from_text,
    parse_verification_url,
    to_text,
    verification_url,
)
from anchor.proof.compact2 import bytes_to_digits, digits_to_bytes
from anchor.proof.doctypes import builtin_types
from anchor.proof.qr import qr_version
from anchor.proof.schemas import PROOF_BUNDLE_V2, load_schema
from anchor.proof.statement import STATEMENT_DOMAIN, Statement, private_commitment
from anchor.verify.offline import offline_checks
from anchor.verify.verdict import Outcome, outcome_of
from tests.support.qr import scan_qr

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "typed.json").read_text())
EXAMPLE = VECTORS["valid"][0]
BASE_URL = "https://verify.anchor.example.lu/verify"


def example(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(EXAMPLE["bundle"]))
    data.update(change)
    return data


def test_the_statement_of_the_worked_example() -> None:
    bundle = parse_bundle(example())
    assert isinstance(bundle, ProofBundleV2) and isinstance(bundle, ProofBundle)
    statement = bundle.statement()
    assert statement.canonical().decode() == EXAMPLE["canonical"]
    expected = hashlib.sha256(STATEMENT_DOMAIN + EXAMPLE["canonical"].encode()).digest()
    assert statement.digest() == expected == bundle.digest_bytes
    assert leaf_hash(bundle.salt_bytes, expected) == bundle.leaf_bytes
    issuer = EXAMPLE["issuer"]
    salt = bytes.fromhex(issuer["privateSalt"][2:])
    assert "0x" + private_commitment(salt, issuer["privateFacts"]).hex() == bundle.private
    # The private salt is what keeps a guess from being tested: another salt, another value.
    assert private_commitment(bytes(32), issuer["privateFacts"]).hex() != bundle.private


def test_the_canonical_statement_is_jcs() -> None:
    s = Statement("t", 1, {"b": 'é\n"', "a": "\u2028", "B": "x"}, None, None)
    assert s.canonical() == (
        '{"facts":{"B":"x","a":"\u2028","b":"é\\n\\""},"type":"t","typeVersion":1}'.encode()
    )
    with pytest.raises(ValueError, match="32 bytes"):
        Statement("t", 1, {}, b"short", None)


def test_bundle_v2_round_trips_and_has_no_issuer_name() -> None:
    bundle = parse_bundle(example())
    again = parse_bundle(bundle.to_json())
    assert again == bundle
    assert "issuerName" not in bundle.to_dict()
    assert bundle.to_dict()["facts"] == EXAMPLE["bundle"]["facts"]
    with pytest.raises(ProofError, match="unknown field issuerName: a version 2 bundle never"):
        parse_bundle(example(issuerName="Commune de Contern"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "the proof bundle has an unknown field colour"),
        ({"type": "Lu Permit"}, "the proof bundle field type is malformed"),
        ({"type": None}, "the proof bundle field type is malformed"),
        ({"typeVersion": "1"}, "the proof bundle field typeVersion is malformed"),
        ({"typeVersion": 0}, "the proof bundle field typeVersion is malformed"),
        ({"facts": {"reference": 42}}, r"the proof bundle field facts\[reference\] is malformed"),
        ({"facts": {"Bad Name": "x"}}, "the proof bundle field facts is malformed: the fact name"),
        ({"facts": {"works": "x" * 1001}}, "longer than 1000 characters"),
        ({"facts": ["a"]}, "the proof bundle field facts is malformed"),
        ({"file": "0x12"}, "the proof bundle field file is malformed"),
        ({"private": 7}, "the proof bundle field private is malformed"),
        ({"version": 3}, "version 3 is not supported by this verifier; it reads versions 1 and 2"),
    ],
)
def test_malformed_v2_bundles_name_the_field(change: dict[str, Any], message: str) -> None:
    data = example(**change)
    with pytest.raises(ProofError, match=message):
        parse_bundle(data)
    missing = example()
    del missing["type"]
    with pytest.raises(ProofError, match="the proof bundle has no type field"):
        parse_bundle(missing)


def test_compact_v2_round_trips_and_recomputes_digest_leaf_root() -> None:
    bundle = parse_bundle(example())
    data = encode_compact(bundle)
    assert data.hex() == EXAMPLE["compactHex"] and data[0] == 0xA2
    assert decode_compact(data) == bundle
    assert to_text(bundle) == EXAMPLE["text"]
    assert from_text(EXAMPLE["text"]) == bundle
    url = verification_url(bundle, BASE_URL)
    assert url == f"{BASE_URL}#{EXAMPLE['text']}"
    assert parse_verification_url(url) == bundle
    for vector in VECTORS["valid"]:
        assert from_text(vector["text"]) == parse_bundle(vector["bundle"]), vector["desc"]


def test_a_compact_proof_cannot_carry_changed_facts_unnoticed() -> None:
    """Forged facts in a compact payload: the decoder rebuilds another leaf and root."""
    bundle = parse_bundle(example())
    data = bytearray(encode_compact(bundle))
    at = data.index(b"2026/0042")
    data[at + 8] = ord("3")
    forged = decode_compact(bytes(data))
    assert isinstance(forged, ProofBundleV2)
    assert forged.facts["reference"] == "2026/0043"
    assert forged.root != bundle.root and forged.leaf != bundle.leaf


def test_compact_v2_refuses_what_it_cannot_carry() -> None:
    bundle = parse_bundle(example())
    with pytest.raises(ProofError, match="digest does not follow from its facts"):
        encode_compact(parse_bundle(example(facts={**EXAMPLE["bundle"]["facts"], "parcel": "x"})))
    unknown = bundle.model_copy(update={"type_id": "lu.dog"})
    with pytest.raises(ProofError, match="not known here"):
        encode_compact(unknown)
    data = encode_compact(bundle)
    with pytest.raises(ProofError, match="1 trailing byte"):
        decode_compact(data + b"\x00")
    with pytest.raises(ProofError, match="truncated"):
        decode_compact(data[:-1])
    with pytest.raises(ProofError, match="unknown flags 0x07"):
        decode_compact(data[:1] + b"\x07" + data[2:])
    other_type = data.replace(b"\x12lu.building-permit\x01", b"\x06lu.dog\x01")
    with pytest.raises(ProofError, match=r"'lu\.dog' version 1, which this verifier does not know"):
        decode_compact(other_type)
    with pytest.raises(ProofError, match="must hold a version 2 payload"):
        from_text("v2." + bytes_to_digits(b"\xa1" + data[1:]))
    with pytest.raises(ProofError, match="must hold a version 1 payload"):
        import base64

        from_text("v1." + base64.urlsafe_b64encode(data).rstrip(b"=").decode())


@given(st.binary(max_size=200))
def test_digits_round_trip(data: bytes) -> None:
    digits = bytes_to_digits(data)
    assert digits.isdigit() or not data
    assert digits_to_bytes(digits) == data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12a", "not decimal digits"),
        ("1", "cannot have 1 digits"),
        ("1234", "cannot have 4 digits"),
        ("256", "out of range"),
        ("9" * 53, "out of range"),
    ],
)
def test_non_canonical_digits_are_refused(text: str, message: str) -> None:
    with pytest.raises(ProofError, match=message):
        digits_to_bytes(text)


def test_the_qr_budget_of_the_worked_example() -> None:
    """Issue 10: the permit from a batch of 1,024 fits version 25 at Q and 22 at M."""
    url = verification_url(parse_bundle(example()), BASE_URL)
    assert len(EXAMPLE["bundle"]["proof"]) == 10
    assert qr_version(url, "Q") <= 25
    assert qr_version(url, "M") <= 22


def test_offline_checks_of_a_typed_bundle() -> None:
    bundle = parse_bundle(example())
    file = bytes.fromhex(EXAMPLE["issuer"]["fileHex"])
    checks = offline_checks(bundle, document=file)
    assert [c.name for c in checks] == ["document", "statement", "leaf", "root"]
    assert outcome_of(checks) is Outcome.VALID
    forged = parse_bundle(example(facts={**EXAMPLE["bundle"]["facts"], "reference": "2026/0043"}))
    checks = offline_checks(forged)
    statement = next(c for c in checks if c.name == "statement")
    assert statement.ok is False
    assert statement.reason.startswith("the certified facts do not match the proof")
    assert outcome_of(checks) is Outcome.INVALID
    wrong_file = offline_checks(bundle, document=b"another file")
    assert wrong_file[0].ok is False and outcome_of(wrong_file) is Outcome.INVALID
    no_file = parse_bundle(VECTORS["valid"][1]["bundle"])
    checks = offline_checks(no_file, digest="00" * 32)
    assert checks[0].ok is False and "certifies no file" in checks[0].reason


def test_nfd_facts_do_not_verify() -> None:
    """Readers hash the characters they hold; only the issuer normalises (to NFC)."""
    facts = EXAMPLE["bundle"]["facts"]
    nfd = {**facts, "address": unicodedata.normalize("NFD", facts["address"])}
    bundle = parse_bundle(example(facts=nfd))
    assert isinstance(bundle, ProofBundleV2)
    assert bundle.statement().digest() != bundle.digest_bytes
    permit = builtin_types().get_type("lu.building-permit")
    assert permit.validate_facts(nfd, {"holder": "x"}).public == facts


def test_the_mixed_segment_qr_code_decodes_to_the_url(tmp_path: Path) -> None:
    """A real decoder (zbarimg) reads the byte + numeric segments back as the same URL."""
    from anchor.proof.qr import render_png

    url = verification_url(parse_bundle(example()), BASE_URL)
    path = tmp_path / "permit.png"
    path.write_bytes(render_png(url, box_size=4, level="Q"))
    assert scan_qr(path) == [url]


V2_VALIDATOR = jsonschema.Draft202012Validator(load_schema(PROOF_BUNDLE_V2))
V2_VALID = [v["bundle"] for v in VECTORS["valid"]] + [
    example(file=None, private=None),
    example(digest="0x" + "AB" * 32, facts={}),
    example(facts={f"f{i}": "x" * 1000 for i in range(32)}),
]
V2_INVALID = [
    example(issuerName="Commune de Contern"),
    example(version=1),
    example(type="Lu Permit"),
    example(typeVersion=0),
    example(typeVersion="1"),
    example(facts={"reference": 42}),
    example(facts={"Bad Name": "x"}),
    example(facts={"works": "x" * 1001}),
    example(facts={f"f{i}": "x" for i in range(33)}),
    example(file="0x12"),
    example(private=None, colour="red"),
    {k: v for k, v in example().items() if k != "facts"},
    {k: v for k, v in example().items() if k != "typeVersion"},
]


@pytest.mark.parametrize("data", V2_VALID)
def test_model_and_v2_schema_accept(data: dict[str, Any]) -> None:
    V2_VALIDATOR.validate({k: v for k, v in data.items() if v is not None})
    parse_bundle(data)


@pytest.mark.parametrize("data", V2_INVALID)
def test_model_and_v2_schema_refuse(data: dict[str, Any]) -> None:
    assert not V2_VALIDATOR.is_valid(data)
    with pytest.raises(ProofError):
        parse_bundle(data)


@given(st.data())
def test_any_changed_character_of_a_fact_breaks_the_statement(data: st.DataObject) -> None:
    facts = dict(EXAMPLE["bundle"]["facts"])
    name = data.draw(st.sampled_from(sorted(facts)))
    value = facts[name]
    at = data.draw(st.integers(0, len(value) - 1))
    char = data.draw(st.characters(exclude_characters=value[at], exclude_categories=("Cs",)))
    facts[name] = value[:at] + char + value[at + 1 :]
    bundle = parse_bundle(example(facts=facts))
    assert isinstance(bundle, ProofBundleV2)
    assert bundle.statement().digest() != bundle.digest_bytes


def test_verify_bundle_refuses_changed_facts_before_asking_any_node() -> None:
    from anchor.trust import parse_trusted_registry
    from anchor.verify import verify_bundle

    forged = parse_bundle(example(facts={**EXAMPLE["bundle"]["facts"], "works": "Démolition"}))
    trusted = [parse_trusted_registry(f"{EXAMPLE['bundle']['registry']}@24601")]
    verdict = verify_bundle(forged, trusted=trusted, rpc_urls=["http://127.0.0.1:9"])
    assert verdict.outcome is Outcome.INVALID
    failed = [c for c in verdict.checks if c.ok is False]
    assert [c.name for c in failed] == ["statement"]
    assert failed[0].reason.startswith("the certified facts do not match the proof")
    assert verdict.body is None and verdict.issuer_name() is None  # no node read, no name
