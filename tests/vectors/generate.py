"""Generate the golden proof vectors in this folder (run once; the output is committed).

    .venv/bin/python tests/vectors/generate.py

Deterministic: documents, salts and trees follow from fixed labels, so a re-run writes the same
files. Trees are OpenZeppelin ``standard-v1`` trees built by `anchor.merkle` (itself cross-checked
against the JavaScript library). See README.md for the format of the files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from anchor.merkle import MerkleTree, build_tree
from anchor.merkle.hashing import fold_proof, keccak256, leaf_hash

HERE = Path(__file__).resolve().parent
SIZES = {"b1": 1, "b2": 2, "b3": 3, "b5": 5, "b7": 7, "b65536": 65_536}


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def document(batch: str, i: int) -> str:
    return f"Certificate {i} of batch {batch}"


def pair(batch: str, i: int) -> tuple[bytes, bytes]:
    salt = keccak256(f"salt {batch} {i}".encode())
    return salt, hashlib.sha256(document(batch, i).encode()).digest()


def build(batch: str) -> MerkleTree:
    return build_tree([pair(batch, i) for i in range(SIZES[batch])])


def flip(data: bytes, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[-1 - bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def vector(
    desc: str, batch: str, index: int, tree: MerkleTree, *, expected: dict[str, Any], **change: Any
) -> dict[str, Any]:
    salt, digest = pair(batch, index)
    v: dict[str, Any] = {
        "desc": desc,
        "batch": batch,
        "index": index,
        "document": document(batch, index),
        "digest": hx(digest),
        "salt": hx(salt),
        "leaf": hx(tree.leaf(index)),
        "proof": [hx(p) for p in tree.proof(index)],
        "root": hx(tree.root),
    }
    v.update(change)
    v["expected"] = expected
    check(v)
    return v


def check(v: dict[str, Any]) -> None:
    """Recompute every expected flag, so that a wrong hand-written expectation fails here."""
    e = v["expected"]
    b = [bytes.fromhex(p[2:]) for p in v["proof"]]
    sha = hx(hashlib.sha256(v["document"].encode()).digest())
    leaf = hx(leaf_hash(bytes.fromhex(v["salt"][2:]), bytes.fromhex(v["digest"][2:])))
    root = hx(fold_proof(bytes.fromhex(v["leaf"][2:]), b))
    assert e["document"] == (sha == v["digest"]), v["desc"]
    assert e["leaf"] == (leaf == v["leaf"]), v["desc"]
    assert e["root"] == (root == v["root"]), v["desc"]
    assert e["verdict"] == ("valid" if e["document"] and e["leaf"] and e["root"] else "invalid")


OK = {"document": True, "leaf": True, "root": True, "onchain": True, "verdict": "valid"}


def valid_vectors(trees: dict[str, MerkleTree]) -> list[dict[str, Any]]:
    cases = [
        ("b1", 0, "one-leaf batch: the proof is empty and the leaf is the root"),
        ("b2", 0, "two-leaf batch, first value"),
        ("b2", 1, "two-leaf batch, second value"),
        ("b3", 0, "three leaves (odd): first value"),
        ("b3", 1, "three leaves (odd): second value"),
        ("b3", 2, "three leaves (odd): last value"),
        ("b5", 0, "five leaves (odd): first value"),
        ("b5", 4, "five leaves (odd): last value"),
        ("b7", 0, "seven leaves (odd): first value"),
        ("b7", 6, "seven leaves (odd): last value"),
        ("b65536", 0, "65,536 leaves: 16-level proof, first value"),
        ("b65536", 40_000, "65,536 leaves: 16-level proof, a middle value"),
        ("b65536", 65_535, "65,536 leaves: 16-level proof, last value"),
    ]
    return [vector(d, b, i, trees[b], expected=OK) for b, i, d in cases]


def mutated_vectors(trees: dict[str, MerkleTree]) -> list[dict[str, Any]]:
    t7, t16 = trees["b7"], trees["b65536"]
    p7, p16 = t7.proof(3), t16.proof(12_345)
    bad_root = {**OK, "root": False, "onchain": False, "verdict": "invalid"}
    return [
        vector("a flipped bit in a sibling (7 leaves)", "b7", 3, t7, expected=bad_root,
               proof=[hx(p7[0]), hx(flip(p7[1])), hx(p7[2])]),
        vector("a flipped high bit in the last sibling of a 16-level proof", "b65536", 12_345,
               t16, expected=bad_root, proof=[hx(p) for p in p16[:-1]] + [hx(flip(p16[-1], 255))]),
        vector("a wrong leaf: another leaf of the same tree", "b7", 3, t7,
               expected={**bad_root, "leaf": False}, leaf=hx(t7.leaf(4))),
        vector("a wrong salt: the leaf does not follow (the chain, blind to salts, accepts)",
               "b7", 3, t7, expected={**OK, "leaf": False, "verdict": "invalid"},
               salt=hx(flip(pair("b7", 3)[0]))),
        vector("a truncated path: the last sibling removed", "b7", 3, t7, expected=bad_root,
               proof=[hx(p) for p in p7[:-1]]),
        vector("a truncated 16-level path: 15 siblings", "b65536", 12_345, t16,
               expected=bad_root, proof=[hx(p) for p in p16[:-1]]),
        vector("an extra trailing element after the path", "b7", 3, t7, expected=bad_root,
               proof=[hx(p) for p in p7] + [hx(keccak256(b"extra"))]),
        vector("the siblings in reverse order", "b7", 3, t7, expected=bad_root,
               proof=[hx(p) for p in reversed(p7)]),
        vector("an empty proof in a 7-leaf batch", "b7", 3, t7, expected=bad_root, proof=[]),
        vector("a root from another (anchored) batch", "b7", 3, t7, expected=bad_root,
               root=hx(trees["b3"].root)),
        vector("a digest mismatch: the document is not the one anchored", "b7", 3, t7,
               expected={**OK, "document": False, "verdict": "invalid"},
               document="Certificate 3 of batch b7, altered"),
    ]  # fmt: skip


def write(name: str, desc: str, body: dict[str, Any]) -> None:
    text = json.dumps({"desc": desc, **body}, indent=2) + "\n"
    (HERE / name).write_text(text, encoding="utf-8")


def main() -> None:
    trees = {b: build(b) for b in SIZES}
    write(
        "batches.json",
        "Batches whose roots the chain tests anchor; the vectors refer to them by name.",
        {"batches": {b: {"root": hx(t.root), "leafCount": len(t)} for b, t in trees.items()}},
    )
    write(
        "valid.json",
        "Valid proofs: each must verify offline and on chain.",
        {"vectors": valid_vectors(trees)},
    )
    write(
        "mutated.json",
        "Mutated proofs: each must be refused; `expected` says by which check.",
        {"vectors": mutated_vectors(trees)},
    )


if __name__ == "__main__":
    main()
