"""Digest parsing and the state enums (no database)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.errors import AnchorError
from anchor.store.records import pack_proof, unpack_proof
from anchor.types import BatchState, Digest, InvalidDigestError, ReceiptState

HEX = "ab" * 32


def test_digest_normalises_prefix_and_case() -> None:
    d = Digest.from_hex("0X" + HEX.upper())
    assert d.hex == HEX
    assert d.bytes == bytes.fromhex(HEX)
    assert d == Digest.from_hex(HEX) and hash(d) == hash(Digest.from_hex("0x" + HEX))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (HEX[:-1], "expected 64 hex characters, got 63"),
        (HEX + "0", "expected 64 hex characters, got 65"),
        ("", "expected 64 hex characters, got 0"),
        ("0x", "expected 64 hex characters, got 0"),
        ("g" + HEX[1:], "non-hex character 'g' at position 0"),
        (HEX[:10] + " " + HEX[11:], "non-hex character ' ' at position 10"),
        (12, "expected a string of 64 hex characters, got int"),
    ],
)
def test_malformed_digest_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(InvalidDigestError, match=message) as info:
        Digest.from_hex(value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AnchorError)


def test_digest_is_immutable() -> None:
    d = Digest.from_hex(HEX)
    with pytest.raises(AttributeError):
        d._bytes = b"x"


def test_states_are_the_stored_strings() -> None:
    assert [s.value for s in ReceiptState] == [
        "pending",
        "batched",
        "submitted",
        "anchored",
        "failed",
        "erased",
    ]
    assert [s.value for s in BatchState] == ["frozen", "submitted", "anchored", "failed"]
    assert ReceiptState("pending") is ReceiptState.PENDING


_DIGEST_TEXT = re.compile(r"(0[xX])?[0-9a-fA-F]{64}")
_NEAR_HEX = st.sampled_from("0123456789abcdefABCDEFxX \t\n\u0660\uff10g")


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.text(_NEAR_HEX, min_size=60, max_size=68),
        st.builds(lambda p, h: p + h, st.sampled_from(["", "0x", "0X"]), st.text(_NEAR_HEX)),
        st.binary(min_size=32, max_size=32).map(bytes.hex),
    )
)
def test_digest_accepts_exactly_64_hex_digits_with_an_optional_prefix(text: str) -> None:
    """The C fast path (bytes.fromhex) accepts what the rule says and nothing else: not
    whitespace (which fromhex skips), not non-ASCII digits, not a 63- or 65-digit string."""
    if _DIGEST_TEXT.fullmatch(text):
        body = text[2:] if text[:2] in ("0x", "0X") else text
        assert Digest.from_hex(text).bytes == bytes.fromhex(body.lower())
    else:
        with pytest.raises(InvalidDigestError):
            Digest.from_hex(text)


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=40))
def test_a_stored_proof_unpacks_to_its_siblings(siblings: list[bytes]) -> None:
    packed = pack_proof(siblings)
    assert unpack_proof(packed) == tuple(siblings)
    assert unpack_proof(memoryview(packed)) == tuple(siblings)  # a driver's buffer
    assert all(type(s) is bytes for s in unpack_proof(memoryview(packed)))
    assert unpack_proof(None) == ()
