"""The proof bundle model: normalisation, clear errors, JSON round trip, schema agreement."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jsonschema
import pytest

from anchor.errors import ProofError
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.proof.bundle import ProofBundle, parse_bundle
from anchor.proof.schemas import load_schema


def h(label: str) -> bytes:
    """32 deterministic bytes for a label."""
    return hashlib.sha256(label.encode()).digest()


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def bundle_dict(proof_length: int = 3, **overrides: Any) -> dict[str, Any]:
    """A consistent bundle as a JSON object (leaf and root follow from salt, digest, proof)."""
    salt, digest = h("salt"), h("digest")
    proof = [h(f"sibling {i}") for i in range(proof_length)]
    leaf = leaf_hash(salt, digest)
    data: dict[str, Any] = {
        "version": 1,
        "digest": hx(digest),
        "salt": hx(salt),
        "leaf": hx(leaf),
        "proof": [hx(p) for p in proof],
        "root": hx(fold_proof(leaf, proof)),
        "chainId": 31337,
        "registry": hx(h("registry")[:20]),
        "txHash": hx(h("tx")),
        "blockNumber": 42,
        "issuer": hx(h("issuer")[:20]),
        "anchoredAt": 1_772_534_460,
        "issuerName": "Commune de Contern",
    }
    data.update(overrides)
    return data


def sample_bundle(proof_length: int = 3, **overrides: Any) -> ProofBundle:
    return ProofBundle.model_validate(bundle_dict(proof_length, **overrides))


VALIDATOR = jsonschema.Draft202012Validator(load_schema())


def test_round_trip_json() -> None:
    bundle = sample_bundle()
    assert parse_bundle(bundle.to_json()) == bundle
    assert ProofBundle.from_json(bundle.to_json(indent=None).encode()) == bundle
    assert json.loads(bundle.to_json())["chainId"] == 31337


def test_hex_is_normalised_to_lower_case() -> None:
    data = bundle_dict()
    data["digest"] = "0x" + data["digest"][2:].upper()
    data["registry"] = "0x" + data["registry"][2:].upper()
    bundle = parse_bundle(data)
    assert bundle.digest == bundle_dict()["digest"]
    assert bundle.registry == bundle_dict()["registry"]


def test_issuer_name_is_optional_and_omitted_when_absent() -> None:
    data = bundle_dict()
    del data["issuerName"]
    bundle = parse_bundle(data)
    assert bundle.issuer_name is None
    assert "issuerName" not in json.loads(bundle.to_json())


def test_bundle_is_frozen() -> None:
    bundle = sample_bundle()
    with pytest.raises(Exception, match="frozen"):
        bundle.root = bundle.leaf


def test_python_names_are_accepted() -> None:
    data = bundle_dict()
    data["chain_id"] = data.pop("chainId")
    assert parse_bundle(data).chain_id == 31337


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"version": 3},
            "proof bundle version 3 is not supported by this verifier; it reads versions 1 and 2",
        ),
        ({"version": "1"}, "version must be the integer 1"),
        ({"version": True}, "version must be the integer 1"),
        ({"digest": "0x1234"}, "field digest is malformed"),
        ({"salt": "ab" * 32}, "field salt is malformed"),
        ({"proof": ["0x" + "00" * 31]}, r"field proof\[0\] is malformed"),
        ({"registry": "0x" + "00" * 32}, "field registry is malformed"),
        ({"chainId": "31337"}, "field chainId is malformed"),
        ({"chainId": 0}, "field chainId is malformed"),
        ({"anchoredAt": 0}, "field anchoredAt is malformed"),
        ({"blockNumber": -1}, "field blockNumber is malformed"),
        ({"issuerName": ""}, "field issuerName is malformed"),
        ({"extra": 1}, "unknown field extra"),
    ],
)
def test_malformed_bundles_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        parse_bundle(bundle_dict(**change))


def test_missing_field_is_named() -> None:
    data = bundle_dict()
    del data["txHash"]
    with pytest.raises(ProofError, match="has no txHash field"):
        parse_bundle(data)


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "{}"])
def test_not_a_bundle(text: str) -> None:
    with pytest.raises(ProofError):
        parse_bundle(text)


# -- the model and the JSON Schema accept and refuse the same documents ---------------------

VALID: list[dict[str, Any]] = [
    bundle_dict(),
    bundle_dict(proof_length=0),
    bundle_dict(proof_length=32),
    {k: v for k, v in bundle_dict().items() if k != "issuerName"},
    bundle_dict(digest="0x" + "AB" * 32, issuer="0x" + "Ab" * 20),
    bundle_dict(blockNumber=0, chainId=2**64 - 1, anchoredAt=2**64 - 1),
]
INVALID: list[dict[str, Any]] = [
    bundle_dict(version=2),
    bundle_dict(version="1"),
    bundle_dict(proof_length=33),
    bundle_dict(digest="0x" + "ab" * 31),
    bundle_dict(digest="ab" * 32),
    bundle_dict(digest="0x" + "zz" * 32),
    bundle_dict(registry="0x" + "ab" * 21),
    bundle_dict(proof="0x" + "ab" * 32),
    bundle_dict(chainId=0),
    bundle_dict(chainId=2**64),
    bundle_dict(chainId="1"),
    bundle_dict(blockNumber=-1),
    bundle_dict(anchoredAt=0),
    bundle_dict(issuerName=""),
    bundle_dict(issuerName="x" * 129),
    bundle_dict(issuerName=7),
    bundle_dict(unknown=True),
    {k: v for k, v in bundle_dict().items() if k != "root"},
    {k: v for k, v in bundle_dict().items() if k != "version"},
]


@pytest.mark.parametrize("data", VALID)
def test_model_and_schema_accept(data: dict[str, Any]) -> None:
    VALIDATOR.validate(data)
    parse_bundle(data)


@pytest.mark.parametrize("data", INVALID)
def test_model_and_schema_refuse(data: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(data)
    with pytest.raises(ProofError):
        parse_bundle(data)


def test_written_bundles_match_the_schema() -> None:
    VALIDATOR.validate(json.loads(sample_bundle().to_json()))
