"""`MerkleTree.iter_leaf_proofs`: each value's leaf and packed proof in one pass, as the batcher
stores them, equal to what the tree's other accessors give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.merkle import build_tree, verify_proof
from anchor.merkle._proofs import iter_leaf_proofs
from anchor.merkle.hashing import keccak256, leaf_hash

b32 = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(b32, b32), min_size=1, max_size=70))
def test_leaf_proofs_match_the_tree(pairs: list[tuple[bytes, bytes]]) -> None:
    tree = build_tree(pairs)
    streamed = list(tree.iter_leaf_proofs())
    assert sorted(i for i, _, _ in streamed) == list(range(len(pairs)))  # each value once
    assert [(i, p) for i, _, p in streamed] == list(tree.iter_packed_proofs())  # same order
    for index, leaf, packed in streamed:
        assert leaf == tree.leaf(index) == leaf_hash(*pairs[index])
        assert packed == b"".join(tree.proof(index))
        assert verify_proof(tree.root, leaf, tree.proof(index))


@pytest.mark.parametrize("block", [1, 3, 1024])
def test_block_size_does_not_change_the_stream(block: int) -> None:
    pairs = [(keccak256(b"s%d" % i), keccak256(b"d%d" % i)) for i in range(37)]
    tree = build_tree(pairs)
    assert list(iter_leaf_proofs(tree._tree, tree._order, block)) == list(tree.iter_leaf_proofs())


def test_one_value_is_its_own_root() -> None:
    tree = build_tree([(b"\x01" * 32, b"\x02" * 32)])
    assert list(tree.iter_leaf_proofs()) == [(0, tree.root, b"")]
    assert isinstance(tree.root, bytes)
