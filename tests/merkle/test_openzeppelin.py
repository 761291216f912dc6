"""The tree against the real ``@openzeppelin/merkle-tree``, run through node (marker ``node``).

Each test sends many trees to one node process (tests/js/oz_tree.mjs) to stay fast.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from anchor.merkle import Pair, build_tree, load_dump, verify_proof

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / "tests" / "js" / "oz_tree.mjs"

if shutil.which("node") is None or not (ROOT / "node_modules/@openzeppelin/merkle-tree").is_dir():
    pytest.skip("node or @openzeppelin/merkle-tree is not installed", allow_module_level=True)


def run_oz(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["node", str(HELPER)],
        input=json.dumps({"jobs": jobs}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results: list[dict[str, Any]] = json.loads(out.stdout)["results"]
    return results


def hexed(pairs: list[Pair]) -> list[list[str]]:
    return [["0x" + s.hex(), "0x" + d.hex()] for s, d in pairs]


def random_pairs(rng: random.Random, n: int, dup_rate: float = 0.0) -> list[Pair]:
    pairs: list[Pair] = []
    for _ in range(n):
        if pairs and rng.random() < dup_rate:
            pairs.append(rng.choice(pairs))
        else:
            pairs.append((rng.randbytes(32), rng.randbytes(32)))
    return pairs


def assert_same(pairs: list[Pair], oz: dict[str, Any]) -> None:
    tree = build_tree(pairs)
    assert tree.dump() == oz["dump"]
    proofs = dict(tree.iter_proofs())
    ours = [["0x" + x.hex() for x in proofs[i]] for i in range(len(pairs))]
    assert ours == oz["proofs"]


def test_every_size_from_1_to_300() -> None:
    rng = random.Random(300)
    sets = [random_pairs(rng, n, dup_rate=0.05 if n % 7 == 0 else 0.0) for n in range(1, 301)]
    for pairs, oz in zip(sets, run_oz([{"of": hexed(p)} for p in sets]), strict=True):
        assert_same(pairs, oz)


def test_large_trees() -> None:
    rng = random.Random(20_000)
    sets = [random_pairs(rng, 5_000), random_pairs(rng, 20_000, dup_rate=0.01)]
    for pairs, oz in zip(sets, run_oz([{"of": hexed(p)} for p in sets]), strict=True):
        assert_same(pairs, oz)


def test_edge_cases() -> None:
    zero, ones = bytes(32), b"\xff" * 32
    sets = [
        [(zero, zero)],
        [(zero, zero), (zero, zero)],
        [(ones, ones), (zero, zero), (ones, zero), (zero, ones)],
        [(zero, ones)] * 7,
        [(bytes([i]) * 32, bytes([255 - i]) * 32) for i in range(17)],
    ]
    for pairs, oz in zip(sets, run_oz([{"of": hexed(p)} for p in sets]), strict=True):
        assert_same(pairs, oz)


def test_our_dumps_load_and_verify_in_openzeppelin() -> None:
    rng = random.Random(7)
    trees = [build_tree(random_pairs(rng, n, dup_rate=0.1)) for n in (1, 2, 3, 10, 129, 300)]
    results = run_oz([{"load": t.dump()} for t in trees])
    for tree, res in zip(trees, results, strict=True):
        assert res == {"ok": True, "root": "0x" + tree.root.hex(), "verified": True}


def test_openzeppelin_dumps_load_in_ours() -> None:
    rng = random.Random(8)
    sets = [random_pairs(rng, n, dup_rate=0.1) for n in (1, 2, 5, 64, 333)]
    for pairs, oz in zip(sets, run_oz([{"of": hexed(p)} for p in sets]), strict=True):
        tree = load_dump(oz["dump"])
        assert tree.dump() == oz["dump"]
        for i in range(len(pairs)):
            assert tree.value(i) == pairs[i]
            assert verify_proof(tree.root, tree.leaf(i), tree.proof(i))


def test_openzeppelin_rejects_our_tampered_dump() -> None:
    dump = build_tree(random_pairs(random.Random(9), 8)).dump()
    dump["tree"][3] = "0x" + "00" * 32
    (res,) = run_oz([{"load": dump}])
    assert res["ok"] is False
