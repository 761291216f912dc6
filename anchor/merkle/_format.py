"""Serialised forms of a tree: the ``standard-v1`` dump of ``@openzeppelin/merkle-tree`` and a
compact packed blob (pure: these functions take and return values, never touch files)."""

from __future__ import annotations

import struct
from array import array
from typing import Any

from anchor.errors import ProofError
from anchor.merkle.hashing import HASH_SIZE

FORMAT = "standard-v1"
LEAF_ENCODING = ["bytes32", "bytes32"]
BLOB_MAGIC = b"ANMT\x01"
_BLOB_HEADER = struct.Struct(">5sI")


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


def pack_blob(tree: bytes | bytearray, values: bytes, order: array[int]) -> bytes:
    """Return the compact blob: header, packed tree, packed values, big-endian leaf order."""
    n = len(order)
    be = array("I", order)
    if struct.pack("=I", 1)[0] == 1:  # little-endian host
        be.byteswap()
    return b"".join([_BLOB_HEADER.pack(BLOB_MAGIC, n), tree, values, be.tobytes()])


def unpack_blob(blob: bytes) -> tuple[bytes, bytes, array[int]]:
    """Split a blob made by `pack_blob` back into (tree, values, order), checking its size."""
    if len(blob) < _BLOB_HEADER.size:
        raise ProofError("tree blob is too short to hold a header")
    magic, n = _BLOB_HEADER.unpack_from(blob)
    if magic != BLOB_MAGIC:
        raise ProofError("tree blob has an unknown magic or version")
    tree_end = _BLOB_HEADER.size + (2 * n - 1) * HASH_SIZE
    values_end = tree_end + n * 2 * HASH_SIZE
    if n < 1 or len(blob) != values_end + 4 * n:
        raise ProofError(f"tree blob size {len(blob)} does not match its leaf count {n}")
    order = array("I", blob[values_end:])
    if struct.pack("=I", 1)[0] == 1:
        order.byteswap()
    return blob[_BLOB_HEADER.size : tree_end], blob[tree_end:values_end], order
