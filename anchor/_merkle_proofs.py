"""Streaming generation of every leaf's proof from a packed tree (pure, no I/O).

A proof is the list of siblings from the leaf up to (not including) the root, as
OpenZeppelin's ``getProof``; its packed form is their plain concatenation. Since a child's proof
is its sibling followed by its parent's proof, the proofs of a whole contiguous range of heap
nodes are built at once with C-level ``map``/slice operations, one heap level at a time, walking
the tree depth-first in blocks so that memory stays bounded by the block size.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator
from itertools import chain
from operator import add

from anchor.hashing import HASH_SIZE

_PAIR = struct.Struct("32s32s")
BLOCK = 512
"""Largest number of inner nodes expanded together (bounds the live proofs to ~2 * BLOCK)."""


def iter_packed_proofs(
    tree: bytes | bytearray, order: array[int], block: int = BLOCK
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(value_index, packed_proof)`` for every leaf, in an unspecified but fixed order.

    ``tree`` is the packed OpenZeppelin tree array and ``order[p]`` the value index held by
    the leaf at tree index ``n - 1 + p``.
    """
    n = len(order)
    if n == 1:
        yield order[0], b""
        return
    first_leaf = n - 1
    view = memoryview(tree)
    # Each task: an inclusive range [a, b] of inner nodes and the packed proofs of those nodes.
    stack: list[tuple[int, int, list[bytes]]] = [(0, 0, [b""])]
    while stack:
        a, b, parents = stack.pop()
        c0, c1 = 2 * a + 1, 2 * b + 2
        pairs = _PAIR.iter_unpack(view[c0 * HASH_SIZE : (c1 + 1) * HASH_SIZE])
        siblings = chain.from_iterable(map(reversed, pairs))
        repeated: list[bytes] = [b""] * (2 * len(parents))
        repeated[::2] = parents
        repeated[1::2] = parents
        proofs = list(map(add, siblings, repeated))
        inner = min(max(first_leaf - c0, 0), len(proofs))
        if inner < len(proofs):
            start = c0 + inner - first_leaf
            yield from zip(order[start : c1 + 1 - first_leaf], proofs[inner:], strict=True)
        # Push the inner children in blocks, last block first, so they pop in tree order.
        for lo in range((inner - 1) // block * block, -1, -block):
            hi = min(lo + block, inner)
            stack.append((c0 + lo, c0 + hi - 1, proofs[lo:hi]))


def proof_at(tree: bytes | bytearray, tree_index: int) -> list[bytes]:
    """Return the proof of the node at ``tree_index`` (siblings from the node up to the root)."""
    proof = []
    i = tree_index
    while i > 0:
        sibling = i + 1 if i % 2 else i - 1
        proof.append(bytes(tree[sibling * HASH_SIZE : (sibling + 1) * HASH_SIZE]))
        i = (i - 1) // 2
    return proof
