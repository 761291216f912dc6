"""The relayed call's data encoded with eth-abi directly: byte for byte what the contract's ABI
encodes (web3's `encode_abi`), for no anchor, one, forty and the widest values."""

from __future__ import annotations

import os

import pytest
from eth_abi.exceptions import EncodingError
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from anchor.chain.registry import load_artifact
from anchor.chain.relay import ANCHOR_SIGNED_SELECTOR, anchor_signed_data

CONTRACT = Web3().eth.contract(abi=load_artifact().abi)

Anchor = tuple[bytes, int, bytes, bytes]


def by_web3(deadline: int, anchors: list[Anchor]) -> bytes:
    return bytes.fromhex(CONTRACT.encode_abi("anchorSigned", args=[deadline, anchors])[2:])


def random_anchor(leaf_count: int = 7) -> Anchor:
    return (os.urandom(32), leaf_count, os.urandom(32), os.urandom(32))


def test_the_selector_is_the_abis() -> None:
    assert by_web3(0, [])[:4] == ANCHOR_SIGNED_SELECTOR


@pytest.mark.parametrize("count", [0, 1, 2, 40])
def test_the_bytes_are_the_abis(count: int) -> None:
    anchors = [random_anchor(n + 1) for n in range(count)]
    assert anchor_signed_data(1_900_000_000, anchors) == by_web3(1_900_000_000, anchors)


def test_the_widest_values_encode_alike() -> None:
    anchors = [(b"\xff" * 32, 2**32 - 1, b"\xff" * 32, b"\x80" + b"\x00" * 31)]
    assert anchor_signed_data(2**64 - 1, anchors) == by_web3(2**64 - 1, anchors)


@settings(max_examples=50, deadline=None)
@given(
    deadline=st.integers(0, 2**64 - 1),
    anchors=st.lists(
        st.tuples(
            st.binary(min_size=32, max_size=32),
            st.integers(0, 2**32 - 1),
            st.binary(min_size=32, max_size=32),
            st.binary(min_size=32, max_size=32),
        ),
        max_size=5,
    ),
)
def test_any_call_encodes_alike(deadline: int, anchors: list[Anchor]) -> None:
    assert anchor_signed_data(deadline, anchors) == by_web3(deadline, anchors)


@pytest.mark.parametrize(
    ("deadline", "anchor"),
    [
        (2**64, (b"\x00" * 32, 1, b"\x00" * 32, b"\x00" * 32)),  # deadline past uint64
        (1, (b"\x00" * 32, 2**32, b"\x00" * 32, b"\x00" * 32)),  # leaf count past uint32
        (1, (b"\x00" * 32, -1, b"\x00" * 32, b"\x00" * 32)),  # a negative leaf count
    ],
)
def test_out_of_range_values_are_refused_not_truncated(deadline: int, anchor: Anchor) -> None:
    with pytest.raises(EncodingError):
        anchor_signed_data(deadline, [anchor])


@pytest.mark.parametrize("short", [0, 2, 3])
def test_a_word_that_is_not_32_bytes_is_refused_not_padded(short: int) -> None:
    anchor = [b"\x00" * 32, 1, b"\x00" * 32, b"\x00" * 32]
    anchor[short] = b"\x00" * 31
    with pytest.raises(ValueError, match="32 bytes"):
        anchor_signed_data(1, [(anchor[0], 1, anchor[2], anchor[3])])  # type: ignore[arg-type]
