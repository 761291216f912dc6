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

import sha3  # safe-pysha3

from anchor.errors import ProofError
from anchor.hashing import HASH_SIZE

_keccak = sha3.keccak_256
_PAIR = struct.Struct("32s32s")
_CHUNK64 = struct.Struct("64s")
_INDEX = struct.Struct(">I")
_KEYED_LEAF = struct.Struct("32s4x")
_KEYED_INDEX = struct.Struct(">32xI")
VALUE_SIZE = 2 * HASH_SIZE
MAX_LEAVES = 2**32 - 1
CHUNK = 1 << 16
"""Nodes handled per step when a whole level would need a list of objects."""


def hash_values(values: bytes) -> list[bytes]:
    """Return the leaf hash of every packed 64-byte ``salt ++ digest`` value, in input order."""
    k = _keccak
    return [k(k(c).digest()).digest() for (c,) in _CHUNK64.iter_unpack(values)]


def _big_endian_indices(n: int) -> bytes:
    """Return ``0 .. n - 1`` packed as big-endian uint32 (so byte order sorts like the ints)."""
    idx = array("I", range(n))
    if idx.itemsize != 4:  # pragma: no cover - every supported platform has a 4-byte "I"
        raise ProofError("this platform has no 4-byte unsigned array type")
    if sys.byteorder == "little":
        idx.byteswap()
    return idx.tobytes()


def place_sorted_leaves(values: bytes) -> tuple[bytearray, array[int]]:
    """Hash and sort the leaves as OpenZeppelin does (stable sort by hash, ``sortLeaves: true``).

    Returns the tree (``2n - 1`` nodes, inner nodes still zero) with its leaf region written:
    tree index ``n - 1`` holds the largest leaf, the last index the smallest. Also returns, for
    each leaf position ``p`` (tree index ``n - 1 + p``), the value index whose leaf sits there.
    """
    n = len(values) // VALUE_SIZE
    k = _keccak
    # Leaf hash ++ big-endian value index: sorting these bytes sorts by hash, then by value
    # index, which is exactly the stable order of JavaScript's Array.prototype.sort.
    keyed = [
        k(k(c).digest()).digest() + i
        for (c,), (i,) in zip(
            _CHUNK64.iter_unpack(values),
            struct.iter_unpack("4s", _big_endian_indices(n)),
            strict=True,
        )
    ]
    keyed.sort(reverse=True)  # keys are unique (they end with the index): reverse is exact
    # Pack the records chunk by chunk from the end, freeing the objects as they go, so that
    # the list of n objects and the tree are never alive together (peak memory).
    parts: list[bytes] = []
    for start in reversed(range(0, n, CHUNK)):
        parts.append(b"".join(keyed[start:]))
        del keyed[start:]
    parts.reverse()
    tree = bytearray((2 * n - 1) * HASH_SIZE)
    order = array("I")
    at = (n - 1) * HASH_SIZE
    for j, part in enumerate(parts):
        parts[j] = b""
        leaves = b"".join([leaf for (leaf,) in _KEYED_LEAF.iter_unpack(part)])
        tree[at : at + len(leaves)] = leaves
        at += len(leaves)
        order.extend([i for (i,) in _KEYED_INDEX.iter_unpack(part)])
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


def fill_inner_nodes(tree: bytearray) -> None:
    """Compute in place every inner node of a packed tree whose leaf region is already set."""
    n = (len(tree) // HASH_SIZE + 1) // 2
    step = CHUNK * HASH_SIZE
    with memoryview(tree) as view:
        for lo, hi in level_bounds(n):
            # Children of [lo, hi] are [2lo + 1, 2hi + 2], a contiguous run; go in chunks.
            start, end = lo * HASH_SIZE, (hi + 1) * HASH_SIZE
            for at in range(start, end, step):
                stop = min(at + step, end)
                children = view[2 * at + HASH_SIZE : 2 * stop + HASH_SIZE]
                view[at:stop] = hash_children(children)
                children.release()


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
