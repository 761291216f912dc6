"""Digest parsing and the state enums (no database)."""

from __future__ import annotations

import pytest

from anchor.errors import AnchorError
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
