"""The Merkle tree of a batch: OpenZeppelin ``StandardMerkleTree`` over (salt, digest) pairs.

Pure (no I/O, no web3). For the same values this module gives the same root, the same tree
array and the same proofs as ``StandardMerkleTree.of(values, ["bytes32", "bytes32"])`` of
``@openzeppelin/merkle-tree`` (``sortLeaves: true``), and it reads and writes that library's
``standard-v1`` dump, so a tree dumped by one loads and verifies in the other.

The tree lives in packed buffers (one ``bytes`` of ``(2n - 1) * 32`` bytes, the values as
``n * 64`` bytes, the leaf order as a ``uint32`` array), never one Python object per node.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from anchor.errors import ProofError
from anchor.merkle import _format as fmt
from anchor.merkle._build import (
    MAX_LEAVES,
    VALUE_SIZE,
    fill_inner_nodes,
    first_bad_node,
    hash_values,
    invert,
    place_sorted_leaves,
)
from anchor.merkle._proofs import iter_leaf_proofs, iter_packed_proofs, proof_at
from anchor.merkle.hashing import HASH_SIZE, fold_proof

__all__ = [
    "MerkleTree",
    "Pair",
    "build_tree",
    "build_tree_packed",
    "load_dump",
    "split_proof",
    "verify_proof",
]

Pair = tuple[bytes, bytes]
"""A (salt, digest) value, 32 bytes each; its leaf is keccak256(keccak256(salt ++ digest))."""


class MerkleTree:
    """An immutable ``standard-v1`` tree with its values. Build it with `build_tree`."""

    __slots__ = ("_order", "_tree", "_tree_index", "_values")

    def __init__(self, tree: bytes | bytearray, values: bytes, order: array[int]) -> None:
        """Wrap packed buffers that the caller has already checked; use the builders instead.

        ``tree`` may be the builder's own ``bytearray`` (no copy: peak memory); it is never
        mutated nor handed out, every accessor returns ``bytes``.
        """
        self._tree = tree
        self._values = values
        self._order = order
        self._tree_index: array[int] | None = None

    # -- basic accessors -------------------------------------------------------------------
    @property
    def root(self) -> bytes:
        """The 32-byte root (``tree[0]``), the value anchored on chain."""
        return bytes(self._tree[:HASH_SIZE])

    @property
    def leaf_count(self) -> int:
        """The number of values (leaves), duplicates included."""
        return len(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"MerkleTree(root=0x{self.root.hex()}, leaf_count={self.leaf_count})"

    def value(self, value_index: int) -> Pair:
        """Return the (salt, digest) pair given as the ``value_index``-th input."""
        start = self._check_index(value_index) * VALUE_SIZE
        return (
            self._values[start : start + HASH_SIZE],
            self._values[start + HASH_SIZE : start + VALUE_SIZE],
        )

    def tree_index(self, value_index: int) -> int:
        """Return the position of the value's leaf in the tree array (OZ ``treeIndex``)."""
        return self._value_to_tree()[self._check_index(value_index)]

    def leaf(self, value_index: int) -> bytes:
        """Return the leaf hash of the ``value_index``-th input pair."""
        t = self.tree_index(value_index)
        return bytes(self._tree[t * HASH_SIZE : (t + 1) * HASH_SIZE])

    def node(self, tree_index: int) -> bytes:
        """Return the node at ``tree_index`` of the tree array (0 is the root)."""
        if not 0 <= tree_index < 2 * self.leaf_count - 1:
            raise IndexError(f"tree index {tree_index} out of range")
        return bytes(self._tree[tree_index * HASH_SIZE : (tree_index + 1) * HASH_SIZE])

    # -- proofs -------------------------------------------------------------------------------
    def proof(self, value_index: int) -> list[bytes]:
        """Return the proof of the ``value_index``-th input pair (siblings, leaf level first)."""
        return proof_at(self._tree, self.tree_index(value_index))

    def iter_packed_proofs(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(value_index, packed_proof)`` for every value, the fast streaming form.

        ``packed_proof`` is the concatenation of the 32-byte siblings, leaf level first. The
        order of the values is fixed but unspecified (it follows the tree); every value index
        appears exactly once.
        """
        return iter_packed_proofs(self._tree, self._order)

    def iter_leaf_proofs(self) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield ``(value_index, leaf, packed_proof)`` for every value, in the order of
        `iter_packed_proofs`: what the batcher stores for each receipt, in one pass."""
        return iter_leaf_proofs(self._tree, self._order)

    def iter_proofs(self) -> Iterator[tuple[int, list[bytes]]]:
        """Yield ``(value_index, proof)`` for every value, in the order of `iter_packed_proofs`."""
        for value_index, packed in self.iter_packed_proofs():
            yield value_index, split_proof(packed)

    # -- serialised forms ---------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """Return the ``standard-v1`` dump, as ``StandardMerkleTree.dump()`` writes it."""
        return fmt.make_dump(self._tree, self._values, self._value_to_tree())

    @classmethod
    def load_dump(cls, data: object) -> MerkleTree:
        """Load and fully check a ``standard-v1`` dump; raise ProofError saying what is wrong."""
        return load_dump(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MerkleTree):
            return NotImplemented
        return (self._tree, self._values, self._order) == (other._tree, other._values, other._order)

    def __hash__(self) -> int:
        return hash(self.root)

    # -- internals ----------------------------------------------------------------------------
    def _check_index(self, value_index: int) -> int:
        if not 0 <= value_index < len(self._order):
            raise IndexError(f"value index {value_index} out of range 0..{len(self._order) - 1}")
        return value_index

    def _value_to_tree(self) -> array[int]:
        if self._tree_index is None:
            self._tree_index = invert(self._order)
        return self._tree_index


def split_proof(packed: bytes) -> list[bytes]:
    """Split a packed proof into its 32-byte siblings; raise ProofError on a ragged length."""
    if len(packed) % HASH_SIZE:
        raise ProofError(f"a packed proof must be a multiple of 32 bytes, got {len(packed)}")
    return [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]


def build_tree(pairs: Sequence[Pair]) -> MerkleTree:
    """Build the tree of (salt, digest) pairs, as ``StandardMerkleTree.of(pairs, [bytes32 x2])``.

    Raise ProofError on an empty input or on a salt or digest that is not 32 bytes.
    """
    if not pairs:
        raise ProofError("cannot build a Merkle tree of zero values")
    if set(map(len, pairs)) != {2}:
        raise ProofError("every value must be a (salt, digest) pair")
    flat = list(chain.from_iterable(pairs))
    if set(map(len, flat)) != {HASH_SIZE} or not all(isinstance(x, bytes) for x in flat):
        raise ProofError("every salt and digest must be 32 bytes")
    return build_tree_packed(b"".join(flat))


def build_tree_packed(values: bytes) -> MerkleTree:
    """Build the tree of values packed as ``salt ++ digest`` (64 bytes each), the fast path."""
    values = bytes(values)
    if not values or len(values) % VALUE_SIZE:
        raise ProofError("packed values must be a non-empty multiple of 64 bytes")
    if len(values) // VALUE_SIZE > MAX_LEAVES:
        raise ProofError(f"a tree holds at most {MAX_LEAVES} values")
    tree, order = place_sorted_leaves(values)
    fill_inner_nodes(tree)
    return MerkleTree(tree, values, order)


def load_dump(data: object) -> MerkleTree:
    """Load and fully check a ``standard-v1`` dump (any leaf order OpenZeppelin accepts).

    Every value must hash to the leaf at its ``treeIndex``, the ``treeIndex`` values must be
    the leaf positions, one each, and every inner node must be the hash of its children.
    """
    tree, values, tree_indices = fmt.parse_dump(data)
    n = len(tree_indices)
    if len(tree) != (2 * n - 1) * HASH_SIZE:
        raise ProofError(f"a tree of {n} values must have {2 * n - 1} nodes, not {len(tree) // 32}")
    order = array("I", bytes(4 * n))
    seen = bytearray(n)
    for value_index, t in enumerate(tree_indices):
        p = t - (n - 1)
        if not 0 <= p < n:
            raise ProofError(f"values[{value_index}].treeIndex {t} is not a leaf position")
        if seen[p]:
            raise ProofError(f"values[{value_index}].treeIndex {t} is used by two values")
        seen[p] = 1
        order[p] = value_index
    _check_hashes(tree, values, order)
    return MerkleTree(tree, values, order)


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Return whether ``proof`` folds ``leaf`` into ``root`` (OpenZeppelin ``MerkleProof.verify``).

    Raise ProofError when the root, the leaf or a proof element is not 32 bytes.
    """
    if len(root) != HASH_SIZE or len(leaf) != HASH_SIZE:
        raise ProofError("root and leaf must be 32 bytes each")
    try:
        return fold_proof(leaf, proof) == root
    except ValueError as e:
        raise ProofError(str(e)) from e


def _check_hashes(tree: bytes, values: bytes, order: array[int]) -> None:
    n = len(order)
    leaves = hash_values(values)
    expected = b"".join(map(leaves.__getitem__, order))
    region = tree[(n - 1) * HASH_SIZE :]
    if expected != region:
        for p, value_index in enumerate(order):
            at = (n - 1 + p) * HASH_SIZE
            if tree[at : at + HASH_SIZE] != leaves[value_index]:
                raise ProofError(
                    f"values[{value_index}] hashes to 0x{leaves[value_index].hex()} "
                    f"but tree[{n - 1 + p}] holds 0x{tree[at : at + HASH_SIZE].hex()}"
                )
    bad = first_bad_node(tree)
    if bad is not None:
        raise ProofError(
            f"tree[{bad}] is not the hash of its children tree[{2 * bad + 1}], tree[{2 * bad + 2}]"
        )
