"""Fast construction of the OpenZeppelin ``standard-v1`` tree in packed buffers (pure, no I/O).

The tree is one ``bytes`` object of ``(2n - 1) * 32`` bytes laid out exactly as the array of
``@openzeppelin/merkle-tree``: node ``i`` has children ``2i + 1`` and ``2i + 2``, ``tree[0]`` is
the root, and the ``n`` leaves fill indices ``n - 1 .. 2n - 2`` in *descending* order of their
sorted position (the smallest leaf hash sits at the very end).

Speed comes from keeping the per-hash Python work to one list-comprehension step around each
``keccak_256(...).digest()`` call (measured faster than ``map`` pipelines with this binding) and
from doing everything else (unpacking, sorting, joining) in C through ``struct`` and ``bytes``.
"""

from __future__ import annotations

import struct
import sys
from array import array

import numpy as np
import numpy.typing as npt
import sha3  # safe-pysha3

from anchor.merkle.hashing import HASH_SIZE

_keccak = sha3.keccak_256
_PAIR = struct.Struct("32s32s")
_CHUNK64 = struct.Struct("64s")
VALUE_SIZE = 2 * HASH_SIZE
MAX_LEAVES = 2**32 - 1
CHUNK = 1 << 16
"""Nodes handled per step when a whole level would need a list of objects."""


def hash_values(values: bytes) -> list[bytes]:
    """Return the leaf hash of every packed 64-byte ``salt ++ digest`` value, in input order."""
    k = _keccak
    return [k(k(c).digest()).digest() for (c,) in _CHUNK64.iter_unpack(values)]


def _sort_keys(leaves: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """Return the stable ascending order of ``(n, 32)`` hashes compared as bytes.

    Bytes order is unsigned big-endian integer order, so the hashes sort as four big-endian
    ``uint64`` columns, the first one most significant. A stable sort on the first column does
    almost all the work; the rare runs that tie on it (equal hashes: duplicated values) are
    then sorted on all four columns by ``np.lexsort``, which is stable too.
    """
    first = leaves[:, :8].copy().view(">u8").ravel().astype(np.uint64)
    perm = np.argsort(first, kind="stable")
    ranked = first[perm]
    del first
    tie = np.zeros(len(perm), dtype=bool)
    same = ranked[1:] == ranked[:-1]
    tie[1:] |= same
    tie[:-1] |= same
    del ranked, same
    if tie.any():
        # The tied indices, taken in sorted position order: each run is contiguous, runs are in
        # ascending first-column order and, within a run, indices are ascending (stable). A
        # stable full-key sort of this subset keeps the runs in place and fixes each run.
        sub = perm[tie]
        cols = leaves[sub].view(">u8").astype(np.uint64)
        perm[tie] = sub[np.lexsort((cols[:, 3], cols[:, 2], cols[:, 1], cols[:, 0]))]
    return perm


def place_sorted_leaves(values: bytes) -> tuple[bytearray, array[int]]:
    """Hash and sort the leaves as OpenZeppelin does (stable sort by hash, ``sortLeaves: true``).

    Returns the tree (``2n - 1`` nodes, inner nodes still zero) with its leaf region written:
    tree index ``n - 1`` holds the largest leaf, the last index the smallest. Also returns, for
    each leaf position ``p`` (tree index ``n - 1 + p``), the value index whose leaf sits there.
    """
    n = len(values) // VALUE_SIZE
    k = _keccak
    tree = bytearray((2 * n - 1) * HASH_SIZE)
    nodes = np.frombuffer(tree, dtype=np.uint8).reshape(-1, HASH_SIZE)
    leaves = nodes[n - 1 :]
    # Hash into the leaf region in chunks (never a list of n objects), in input order first.
    step = CHUNK * VALUE_SIZE
    with memoryview(values) as view:
        for at in range(0, len(values), step):
            hashed = b"".join(
                [k(k(c).digest()).digest() for (c,) in _CHUNK64.iter_unpack(view[at : at + step])]
            )
            first = at // VALUE_SIZE
            leaves[first : first + len(hashed) // HASH_SIZE] = np.frombuffer(
                hashed, dtype=np.uint8
            ).reshape(-1, HASH_SIZE)
    # Stable ascending order, then reversed: position p holds the (n - 1 - p)-th smallest, and
    # equal hashes end up with the larger value index first, exactly as OpenZeppelin lays out.
    perm = _sort_keys(leaves)[::-1]
    items = leaves.reshape(-1).view(f"V{HASH_SIZE}")  # ``take`` of whole 32-byte items is fast
    items[:] = items.take(perm)
    order = array("I", perm.astype(np.uint32).tobytes())
    del nodes, leaves
    return tree, order


def level_bounds(n: int) -> list[tuple[int, int]]:
    """Return the inclusive index ranges of inner nodes, one per heap depth, deepest first."""
    last = n - 2
    bounds = []
    depth = (last + 1).bit_length() - 1
    while depth >= 0:
        lo = (1 << depth) - 1
        bounds.append((lo, min((1 << (depth + 1)) - 2, last)))
        depth -= 1
    return bounds


def hash_children(children: bytes | memoryview) -> bytes:
    """Return the packed parents of consecutive (left, right) children, each a sorted-pair hash."""
    k = _keccak
    return b"".join(
        [k(a + b).digest() if a <= b else k(b + a).digest() for a, b in _PAIR.iter_unpack(children)]
    )


def _ordered_pairs(children: npt.NDArray[np.uint8]) -> bytes:
    """Return ``(m, 2, 32)`` sibling pairs ``(a, b)`` packed as ``min(a, b) ++ max(a, b)``.

    The hashes compare as bytes, i.e. as four big-endian ``uint64`` columns; the first column
    decides unless it ties (then the first differing column decides).
    """
    raw = children.view(np.uint64).reshape(-1, 2, 4)  # native order: only moves bytes
    be = raw.byteswap() if sys.byteorder == "little" else raw
    a, b = be[:, 0], be[:, 1]
    swap = a[:, 0] > b[:, 0]
    tied = np.flatnonzero(a[:, 0] == b[:, 0])
    if len(tied):
        ta, tb = a[tied], b[tied]
        col = (ta != tb).argmax(axis=1)  # all equal: column 0, no swap, same bytes anyway
        rows = np.arange(len(tied))
        swap[tied] = ta[rows, col] > tb[rows, col]
    return np.where(swap[:, None, None], raw[:, ::-1], raw).tobytes()


def fill_inner_nodes(tree: bytearray) -> None:
    """Compute in place every inner node of a packed tree whose leaf region is already set."""
    n = (len(tree) // HASH_SIZE + 1) // 2
    if n < 2:
        return
    k = _keccak
    nodes = np.frombuffer(tree, dtype=np.uint8).reshape(-1, HASH_SIZE)
    for lo, hi in level_bounds(n):
        # Children of [lo, hi] are [2lo + 1, 2hi + 2], a contiguous run; go in chunks.
        for at in range(lo, hi + 1, CHUNK):
            stop = min(at + CHUNK, hi + 1)
            packed = _ordered_pairs(nodes[2 * at + 1 : 2 * stop + 1])
            parents = b"".join([k(c).digest() for (c,) in _CHUNK64.iter_unpack(packed)])
            nodes[at:stop] = np.frombuffer(parents, dtype=np.uint8).reshape(-1, HASH_SIZE)
    del nodes


def first_bad_node(tree: bytes) -> int | None:
    """Return the index of the first inner node that is not the hash of its children, if any."""
    n = (len(tree) // HASH_SIZE + 1) // 2
    view = memoryview(tree)
    for lo, hi in level_bounds(n):
        expected = hash_children(view[(2 * lo + 1) * HASH_SIZE : (2 * hi + 3) * HASH_SIZE])
        actual = view[lo * HASH_SIZE : (hi + 1) * HASH_SIZE]
        if expected != actual:
            for j in range(hi - lo + 1):
                if (
                    expected[j * HASH_SIZE : (j + 1) * HASH_SIZE]
                    != actual[j * HASH_SIZE : (j + 1) * HASH_SIZE]
                ):
                    return lo + j
    return None


def invert(order: array[int]) -> array[int]:
    """Return the value index -> tree index map of a leaf-position -> value index permutation."""
    n = len(order)
    tree_index = array("I", bytes(4 * n))
    base = n - 1
    for position, value_index in enumerate(order):
        tree_index[value_index] = base + position
    return tree_index
