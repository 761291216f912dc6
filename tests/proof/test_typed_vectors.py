"""The golden vectors of typed documents (tests/vectors/typed.json) in Python, and their
leaves in the real ``@openzeppelin/merkle-tree`` (marker ``node``).

The same file is checked in Chromium by tests/browser/test_statement.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from anchor.merkle import build_tree
from anchor.proof.bundle import ProofBundleV2, parse_bundle
from anchor.proof.compact import from_text
from anchor.verify.offline import offline_checks
from anchor.verify.verdict import outcome_of

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "typed.json").read_text())
OZ_HELPER = ROOT / "tests" / "js" / "oz_tree.mjs"


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["desc"] for v in vectors]


def checks_of(bundle: dict[str, Any]) -> dict[str, Any]:
    checks = offline_checks(parse_bundle(bundle))
    flags: dict[str, Any] = {c.name: c.ok for c in checks if c.name != "document"}
    flags["verdict"] = outcome_of(checks).value
    return flags


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=ids(VECTORS["valid"]))
def test_valid_vectors(vector: dict[str, Any]) -> None:
    bundle = parse_bundle(vector["bundle"])
    assert isinstance(bundle, ProofBundleV2)
    assert bundle.statement().canonical().decode() == vector["canonical"]
    assert "0x" + bundle.statement().digest().hex() == vector["statementDigest"]
    assert checks_of(vector["bundle"]) == vector["expected"]
    assert from_text(vector["text"]) == bundle
    tree = build_tree([(bytes.fromhex(s[2:]), bytes.fromhex(d[2:])) for s, d in vector["batch"]])
    assert "0x" + tree.root.hex() == bundle.root


@pytest.mark.parametrize("vector", VECTORS["mutated"], ids=ids(VECTORS["mutated"]))
def test_mutated_vectors(vector: dict[str, Any]) -> None:
    flags = checks_of(vector["bundle"])
    assert flags == vector["expected"]
    assert flags[vector["refusedBy"]] is False
    if vector["refusedBy"] == "statement":
        check = next(
            c for c in offline_checks(parse_bundle(vector["bundle"])) if c.name == "statement"
        )
        assert check.reason.startswith("the certified facts do not match the proof")


def test_every_mutation_kind_is_covered() -> None:
    descs = " | ".join(ids(VECTORS["mutated"]))
    for kind in ("one character", "fact removed", "fact added", "type changed", "NFD",
                 "file digest changed", "private commitment changed"):  # fmt: skip
        assert kind in descs, kind


@pytest.mark.node
def test_openzeppelin_merkle_tree_accepts_the_v2_leaves() -> None:
    """StandardMerkleTree.of over the batches' (salt, statement digest) values gives the same
    leaves, roots and proofs, and StandardMerkleTree.verify accepts each typed document."""
    if shutil.which("node") is None or not (ROOT / "node_modules/@openzeppelin").is_dir():
        pytest.skip("node or @openzeppelin/merkle-tree is not installed")
    jobs = [{"of": v["batch"]} for v in VECTORS["valid"]]
    jobs += [{"load": build_tree_dump(v)} for v in VECTORS["valid"]]
    out = subprocess.run(
        ["node", str(OZ_HELPER)],
        input=json.dumps({"jobs": jobs}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    results = json.loads(out.stdout)["results"]
    count = len(VECTORS["valid"])
    for vector, of, load in zip(VECTORS["valid"], results[:count], results[count:], strict=True):
        bundle = vector["bundle"]
        index = next(i for i, (s, d) in enumerate(vector["batch"]) if s == bundle["salt"])
        assert vector["batch"][index][1] == bundle["digest"]
        dump = of["dump"]
        assert dump["tree"][0] == bundle["root"]
        assert dump["tree"][dump["values"][index]["treeIndex"]] == bundle["leaf"]
        assert of["proofs"][index] == bundle["proof"]
        assert load == {"ok": True, "root": bundle["root"], "verified": True}


def build_tree_dump(vector: dict[str, Any]) -> dict[str, Any]:
    pairs = [(bytes.fromhex(s[2:]), bytes.fromhex(d[2:])) for s, d in vector["batch"]]
    dump: dict[str, Any] = build_tree(pairs).dump()
    return dump
