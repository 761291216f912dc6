"""The compact encoding: exact round trips, recomputed leaf and root, clear errors on bad bytes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.errors import ProofError
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import (
    MAGIC,
    decode_compact,
    encode_compact,
    from_text,
    parse_verification_url,
    to_text,
    verification_url,
)

BASE = "https://verify.anchor.example.lu/verify"
b32 = st.binary(min_size=32, max_size=32)
b20 = st.binary(min_size=20, max_size=20)
u64 = st.integers(min_value=0, max_value=2**64 - 1)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def make_bundle(
    salt: bytes,
    digest: bytes,
    proof: list[bytes],
    *,
    name: str | None = "Commune de Contern",
    chain_id: int = 31337,
    block: int = 42,
    anchored_at: int = 1_772_534_460,
    registry: bytes = b"\x11" * 20,
    issuer: bytes = b"\x22" * 20,
    tx: bytes = b"\x33" * 32,
) -> ProofBundle:
    leaf = leaf_hash(salt, digest)
    return ProofBundle(
        version=1,
        digest=_hex(digest),
        salt=_hex(salt),
        leaf=_hex(leaf),
        proof=tuple(_hex(p) for p in proof),
        root=_hex(fold_proof(leaf, proof)),
        chain_id=chain_id,
        registry=_hex(registry),
        tx_hash=_hex(tx),
        block_number=block,
        issuer=_hex(issuer),
        anchored_at=anchored_at,
        issuer_name=name,
    )


@st.composite
def bundles(draw: st.DrawFn) -> ProofBundle:
    return make_bundle(
        draw(b32),
        draw(b32),
        draw(st.lists(b32, max_size=32)),
        name=draw(st.none() | st.text(min_size=1, max_size=128)),
        chain_id=draw(st.integers(min_value=1, max_value=2**64 - 1)),
        block=draw(u64),
        anchored_at=draw(st.integers(min_value=1, max_value=2**64 - 1)),
        registry=draw(b20),
        issuer=draw(b20),
        tx=draw(b32),
    )


@settings(max_examples=200, deadline=None)
@given(bundles())
def test_round_trip_bytes_text_and_url(bundle: ProofBundle) -> None:
    assert decode_compact(encode_compact(bundle)) == bundle
    assert from_text(to_text(bundle)) == bundle
    url = verification_url(bundle, BASE)
    assert url.startswith(BASE + "#v1.")
    assert parse_verification_url(url) == bundle


@settings(max_examples=100, deadline=None)
@given(bundles(), st.data())
def test_every_strict_prefix_is_refused(bundle: ProofBundle, data: st.DataObject) -> None:
    raw = encode_compact(bundle)
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    with pytest.raises(ProofError, match="truncated"):
        decode_compact(raw[:cut])


def sample() -> ProofBundle:
    return make_bundle(b"\x01" * 32, b"\x02" * 32, [b"\x03" * 32, b"\x04" * 32])


def test_leaf_and_root_are_recomputed_not_carried() -> None:
    bundle = sample()
    raw = encode_compact(bundle)
    assert bundle.leaf_bytes not in raw
    assert bundle.root_bytes not in raw
    flipped = bytearray(raw)
    flipped[-40] ^= 1  # inside the last proof element
    other = decode_compact(bytes(flipped))
    assert other.root != bundle.root
    assert other.leaf == bundle.leaf


def test_layout_size() -> None:
    # magic, flags, chainId (3), registry, txHash, block (1), issuer, time (5), digest, salt,
    # count, 2 x 32, name length (1) + 18
    assert len(encode_compact(sample())) == 1 + 1 + 3 + 20 + 32 + 1 + 20 + 5 + 32 + 32 + 1 + 64 + 19
    assert encode_compact(sample())[0] == MAGIC == 0xA1


def test_inconsistent_bundle_cannot_be_encoded() -> None:
    bad = sample().model_copy(update={"root": "0x" + "00" * 32})
    with pytest.raises(ProofError, match="does not fold"):
        encode_compact(bad)
    bad = sample().model_copy(update={"leaf": "0x" + "00" * 32})
    with pytest.raises(ProofError, match="leaf does not follow"):
        encode_compact(bad)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: b"\x7b" + r[1:], "not a compact proof: its first byte is 0x7b"),
        (lambda r: b"\xa3" + r[1:], "compact proof version 3 is not supported"),
        (lambda r: b"\xa2" + r[1:], "type length is not a minimal varint|not know"),
        (lambda r: r[:1] + b"\x81" + r[2:], "unknown flags 0x81"),
        (lambda r: r + b"\x00", "1 trailing byte"),
        (lambda r: r[:-1], "truncated: it ends inside issuerName"),
        (lambda r: b"", "truncated: it ends inside magic byte"),
        (lambda r: r[:2] + b"\x81\x00" + r[3:], "chainId is not a minimal varint"),
        (lambda r: r[:2] + b"\xff" * 10 + r[3:], "longer than a 64-bit varint"),
    ],
)
def test_bad_bytes_give_clear_errors(mutate: object, message: str) -> None:
    raw = encode_compact(make_bundle(b"\x01" * 32, b"\x02" * 32, [], chain_id=5))
    with pytest.raises(ProofError, match=message):
        decode_compact(mutate(raw))  # type: ignore[operator]


def test_too_many_proof_elements() -> None:
    raw = bytearray(encode_compact(make_bundle(b"\x01" * 32, b"\x02" * 32, [], name=None)))
    raw[-1] = 33
    with pytest.raises(ProofError, match="33 proof elements"):
        decode_compact(bytes(raw) + b"\x00" * 33 * 32)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("v3.AAAA", "compact proof version 3 is not supported"),
        ("v2.AAAA", "not decimal digits"),
        ("x1.AAAA", "starts with 'v1.'"),
        ("v1.AA+A", "not valid base64url"),
        ("v1.AAAAA", "not valid base64url"),
        ("v1.AB", "not canonical"),
    ],
)
def test_bad_text(text: str, message: str) -> None:
    with pytest.raises(ProofError, match=message):
        from_text(text)


def test_text_is_base64url_without_padding() -> None:
    text = to_text(sample())
    assert "=" not in text
    body = text.removeprefix("v1.")
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)) == encode_compact(sample())


def test_url_without_fragment_is_refused() -> None:
    with pytest.raises(ProofError, match="no #v1"):
        parse_verification_url(BASE)
    with pytest.raises(ValueError, match="fragment"):
        verification_url(sample(), BASE + "#x")
