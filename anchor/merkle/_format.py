"""The serialised form of a tree: the ``standard-v1`` dump of ``@openzeppelin/merkle-tree``.

Pure: these functions take and return values, never touch files."""

from __future__ import annotations

from array import array
from typing import Any

from anchor.errors import ProofError
from anchor.merkle.hashing import HASH_SIZE

FORMAT = "standard-v1"
LEAF_ENCODING = ["bytes32", "bytes32"]


def to_hex(node: bytes | bytearray) -> str:
    """Return ``node`` as the lowercase ``0x`` hex string OpenZeppelin writes."""
    return "0x" + node.hex()


def from_hex(text: object, what: str) -> bytes:
    """Parse a ``0x``-prefixed 32-byte hex string, raising ProofError naming ``what``."""
    if not isinstance(text, str) or len(text) != 2 + 2 * HASH_SIZE or text[:2] not in ("0x", "0X"):
        raise ProofError(f"{what} must be a 0x-prefixed 32-byte hex string, got {text!r:.80}")
    try:
        return bytes.fromhex(text[2:])
    except ValueError as e:
        raise ProofError(f"{what} is not valid hex: {text!r:.80}") from e


def parse_dump(data: object) -> tuple[bytes, bytes, list[int]]:
    """Check the shape of a ``standard-v1`` dump; return (tree, values, treeIndex list), packed.

    Only the shape is checked here; the hashes are checked by the caller.
    """
    if not isinstance(data, dict):
        raise ProofError("a standard-v1 dump must be a JSON object")
    if data.get("format") != FORMAT:
        raise ProofError(f"unknown dump format {data.get('format')!r}, expected {FORMAT!r}")
    if data.get("leafEncoding") != LEAF_ENCODING:
        raise ProofError(
            f"unsupported leafEncoding {data.get('leafEncoding')!r}, expected {LEAF_ENCODING!r}"
        )
    tree, values = data.get("tree"), data.get("values")
    if not isinstance(tree, list) or not isinstance(values, list) or not values:
        raise ProofError("a dump needs a non-empty 'tree' list and a non-empty 'values' list")
    packed_tree = b"".join([from_hex(node, f"tree[{i}]") for i, node in enumerate(tree)])
    packed_values: list[bytes] = []
    tree_indices: list[int] = []
    for i, entry in enumerate(values):
        value = entry.get("value") if isinstance(entry, dict) else None
        index = entry.get("treeIndex") if isinstance(entry, dict) else None
        if not isinstance(value, list) or len(value) != 2:
            raise ProofError(f"values[{i}].value must be a [salt, digest] pair")
        if not isinstance(index, int) or isinstance(index, bool):
            raise ProofError(f"values[{i}].treeIndex must be an integer")
        packed_values.append(from_hex(value[0], f"values[{i}] salt"))
        packed_values.append(from_hex(value[1], f"values[{i}] digest"))
        tree_indices.append(index)
    return packed_tree, b"".join(packed_values), tree_indices


def make_dump(tree: bytes | bytearray, values: bytes, tree_index: array[int]) -> dict[str, Any]:
    """Return the ``standard-v1`` dump (JSON-able) of a packed tree and its packed values."""
    nodes = [to_hex(tree[i : i + HASH_SIZE]) for i in range(0, len(tree), HASH_SIZE)]
    entries = [
        {
            "value": [
                to_hex(values[j : j + HASH_SIZE]),
                to_hex(values[j + HASH_SIZE : j + 2 * HASH_SIZE]),
            ],
            "treeIndex": tree_index[i],
        }
        for i, j in enumerate(range(0, len(values), 2 * HASH_SIZE))
    ]
    return {"format": FORMAT, "leafEncoding": list(LEAF_ENCODING), "tree": nodes, "values": entries}
