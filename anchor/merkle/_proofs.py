"""Streaming generation of every leaf's proof from a packed tree (pure, no I/O).

A proof is the list of siblings from the leaf up to (not including) the root, as
OpenZeppelin's ``getProof``; its packed form is their plain concatenation. The leaves are taken
in blocks of consecutive tree indices of the same depth. In the heap layout the ancestor of
node ``t`` ``l`` levels up is ``((t + 1) >> l) - 1`` and the sibling of node ``x`` is
``((x + 1) ^ 1) - 1``, so the sibling indices of a whole block come from one broadcast integer
expression; ``take`` gathers them into a ``(block, depth)`` array of 32-byte items whose rows
are the packed proofs, cut into ``bytes`` one at a time as they are consumed. Memory stays
bounded by the block size.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator
from operator import itemgetter

import numpy as np

from anchor.merkle.hashing import HASH_SIZE

BLOCK = 1024
"""Leaves whose proofs are gathered together (measured fastest: the block stays in cache)."""

_first = itemgetter(0)
_NODE = struct.Struct(f"{HASH_SIZE}s")

_Block = tuple[int, int, struct.Struct, memoryview]


def iter_packed_proofs(
    tree: bytes | bytearray, order: array[int], block: int = BLOCK
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(value_index, packed_proof)`` for every leaf, in tree order (leaf positions).

    ``tree`` is the packed OpenZeppelin tree array and ``order[p]`` the value index held by
    the leaf at tree index ``n - 1 + p``.
    """
    n = len(order)
    if n == 1:
        yield order[0], b""
        return
    for start, stop, proof, siblings in _blocks(tree, n, block):
        yield from zip(
            order[start - n + 1 : stop - n + 1],
            map(_first, proof.iter_unpack(siblings)),
            strict=True,
        )


def iter_leaf_proofs(
    tree: bytes | bytearray, order: array[int], block: int = BLOCK
) -> Iterator[tuple[int, bytes, bytes]]:
    """Yield ``(value_index, leaf, packed_proof)`` for every leaf, in the order of
    `iter_packed_proofs`; the leaves of a block are consecutive nodes, cut in one pass."""
    n = len(order)
    if n == 1:
        yield order[0], bytes(tree[:HASH_SIZE]), b""
        return
    with memoryview(tree) as view:
        for start, stop, proof, siblings in _blocks(tree, n, block):
            yield from zip(
                order[start - n + 1 : stop - n + 1],
                map(_first, _NODE.iter_unpack(view[start * HASH_SIZE : stop * HASH_SIZE])),
                map(_first, proof.iter_unpack(siblings)),
                strict=True,
            )


def _blocks(tree: bytes | bytearray, n: int, block: int) -> Iterator[_Block]:
    """Yield ``(start, stop, proof_struct, siblings)`` per block of leaves ``[start, stop)``
    (tree indices, one depth each): their proofs packed row after row in ``siblings``."""
    # One 32-byte void item per node: ``take`` copies whole items (much faster than fancy
    # indexing of a (nodes, 32) uint8 array, which copies a row's 32 bytes one by one).
    nodes = np.frombuffer(tree, dtype=f"V{HASH_SIZE}")
    first_leaf, end = n - 1, 2 * n - 1
    bottom = end.bit_length() - 1  # depth of the deepest level, which may be partly filled
    deep = (1 << bottom) - 1  # its first index; leaves before it sit one level higher
    for lo, hi, depth in (
        (first_leaf, max(first_leaf, deep), bottom - 1),
        (max(first_leaf, deep), end, bottom),
    ):
        proof = struct.Struct(f"{depth * HASH_SIZE}s")
        shifts = np.arange(depth, dtype=np.int64)
        for start in range(lo, hi, block):
            stop = min(start + block, hi)
            ancestors = np.arange(start + 1, stop + 1, dtype=np.int64)[:, None] >> shifts
            yield start, stop, proof, nodes.take((ancestors ^ 1) - 1).data


def proof_at(tree: bytes | bytearray, tree_index: int) -> list[bytes]:
    """Return the proof of the node at ``tree_index`` (siblings from the node up to the root)."""
    proof = []
    i = tree_index
    while i > 0:
        sibling = i + 1 if i % 2 else i - 1
        proof.append(bytes(tree[sibling * HASH_SIZE : (sibling + 1) * HASH_SIZE]))
        i = (i - 1) // 2
    return proof
