"""Unit and property tests of anchor.merkle and the ``anchor tree`` CLI (pure Python, fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from anchor.cli.tree import app
from anchor.errors import ProofError
from anchor.merkle import (
    MerkleTree,
    Pair,
    build_tree,
    build_tree_packed,
    load_dump,
    split_proof,
    verify_proof,
)
from anchor.merkle._proofs import iter_packed_proofs
from anchor.merkle.hashing import hash_pair, keccak256, leaf_hash

b32 = st.binary(min_size=32, max_size=32)
pair_lists = st.lists(st.tuples(b32, b32), min_size=1, max_size=40)


def pair(i: int) -> Pair:
    return keccak256(b"salt%d" % i), keccak256(b"digest%d" % i)


def all_proofs_verify(tree: MerkleTree) -> bool:
    return all(verify_proof(tree.root, tree.leaf(i), tree.proof(i)) for i in range(len(tree)))


def test_one_leaf_tree_is_its_leaf() -> None:
    tree = build_tree([pair(0)])
    assert tree.root == leaf_hash(*pair(0)) == tree.leaf(0)
    assert tree.proof(0) == []
    assert list(tree.iter_packed_proofs()) == [(0, b"")]
    assert tree.dump()["values"] == [{"value": ["0x" + x.hex() for x in pair(0)], "treeIndex": 0}]


def test_two_leaves() -> None:
    tree = build_tree([pair(0), pair(1)])
    a, b = leaf_hash(*pair(0)), leaf_hash(*pair(1))
    assert tree.root == hash_pair(a, b)
    assert tree.proof(0) == [b] and tree.proof(1) == [a]
    # sorted leaves sit at the end in reverse order: the smaller hash at index 2
    assert tree.tree_index(0) == (2 if a < b else 1)


def test_duplicates_are_allowed() -> None:
    tree = build_tree([pair(1), pair(2), pair(1), pair(1)])
    assert tree.leaf(0) == tree.leaf(2) == tree.leaf(3)
    assert len({tree.tree_index(i) for i in range(4)}) == 4
    assert all_proofs_verify(tree)


def test_rejects_bad_input() -> None:
    with pytest.raises(ProofError, match="zero"):
        build_tree([])
    with pytest.raises(ProofError, match="32 bytes"):
        build_tree([(b"\x00" * 31, b"\x00" * 32)])
    with pytest.raises(ProofError, match="pair"):
        build_tree([(b"\x00" * 32,)])  # type: ignore[list-item]
    with pytest.raises(ProofError, match="64 bytes"):
        build_tree_packed(b"\x00" * 65)
    with pytest.raises(ProofError):
        verify_proof(b"\x00" * 32, b"\x00" * 32, [b"\x00" * 31])
    with pytest.raises(IndexError):
        build_tree([pair(0)]).proof(1)


def test_packed_proofs_match_proofs() -> None:
    tree = build_tree([pair(i) for i in range(100)])
    streamed = dict(tree.iter_packed_proofs())
    assert sorted(streamed) == list(range(100))
    for i in range(100):
        assert split_proof(streamed[i]) == tree.proof(i)
    assert dict(tree.iter_proofs()) == {i: tree.proof(i) for i in range(100)}


def test_small_block_proof_walk_matches() -> None:
    tree = build_tree([pair(i) for i in range(1000)])
    blob_order = tree._order  # the walk must not depend on the block size
    assert dict(iter_packed_proofs(tree._tree, blob_order, block=3)) == dict(
        tree.iter_packed_proofs()
    )


@settings(max_examples=60, deadline=None)
@given(pairs=pair_lists, data=st.data())
def test_every_proof_verifies_and_any_change_fails(pairs: list[Pair], data: st.DataObject) -> None:
    tree = build_tree(pairs)
    assert all_proofs_verify(tree)
    for i, (salt, digest) in enumerate(pairs):
        assert verify_proof(tree.root, leaf_hash(salt, digest), tree.proof(i))
    i = data.draw(st.integers(0, len(pairs) - 1))
    leaf, proof = tree.leaf(i), tree.proof(i)
    if proof:  # flipped bit in a sibling
        j = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = bytearray(proof[j])
        bad[bit // 8] ^= 1 << (bit % 8)
        assert not verify_proof(tree.root, leaf, [*proof[:j], bytes(bad), *proof[j + 1 :]])
        assert not verify_proof(tree.root, leaf, proof[:-1])  # truncated path
    other = leaf_hash(salt=bytes(32), digest=b"\x01" * 32)
    assert not verify_proof(tree.root, other, proof)  # wrong leaf
    assert not verify_proof(tree.root, leaf, [*proof, tree.root])  # extra element
    another = build_tree([*pairs, pair(99)])
    assert not verify_proof(another.root, leaf, proof)  # root of another tree


@settings(max_examples=30, deadline=None)
@given(pairs=pair_lists)
def test_round_trips(pairs: list[Pair]) -> None:
    tree = build_tree(pairs)
    dump = tree.dump()
    assert load_dump(json.loads(json.dumps(dump))) == tree
    assert [tree.value(i) for i in range(len(pairs))] == pairs


def test_load_dump_reports_inconsistencies() -> None:
    good = build_tree([pair(i) for i in range(5)]).dump()
    cases = {
        "format": {**good, "format": "simple-v1"},
        "leafEncoding": {**good, "leafEncoding": ["bytes32"]},
        "nodes": {**good, "tree": good["tree"][:-1]},
        "hex string": {**good, "tree": [*good["tree"][:-1], "0x12"]},
        "hashes to": {**good, "tree": [*good["tree"][:-1], "0x" + "00" * 32]},
        "not the hash of its children": {**good, "tree": ["0x" + "00" * 32, *good["tree"][1:]]},
        "used by two": {
            **good,
            "values": [
                {**good["values"][0], "treeIndex": good["values"][1]["treeIndex"]},
                *good["values"][1:],
            ],
        },
        "not a leaf position": {
            **good,
            "values": [{**good["values"][0], "treeIndex": 0}, *good["values"][1:]],
        },
    }
    for reason, dump in cases.items():
        with pytest.raises(ProofError, match=reason):
            load_dump(dump)
    with pytest.raises(ProofError):
        load_dump([1, 2])


# -- CLI ------------------------------------------------------------------------------------
runner = CliRunner()


def write_pairs(path: Path, n: int) -> Path:
    path.write_text(json.dumps([["0x" + s.hex(), "0x" + d.hex()] for s, d in map(pair, range(n))]))
    return path


def test_cli_build_and_verify(tmp_path: Path) -> None:
    pairs_file = write_pairs(tmp_path / "pairs.json", 6)
    result = runner.invoke(app, ["build", str(pairs_file)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == build_tree(list(map(pair, range(6)))).dump()
    out = tmp_path / "dump.json"
    assert runner.invoke(app, ["build", str(pairs_file), "--output", str(out)]).exit_code == 0
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 0 and result.stdout.startswith("ok: root 0x")


@pytest.mark.parametrize(
    ("command", "content", "reason"),
    [
        ("build", "not json", "not valid JSON"),
        ("build", "[]", "non-empty"),
        ("build", '[["0x00", "0x00"]]', "32-byte hex"),
        ("build", '[["0x' + "zz" * 32 + '", "0x' + "00" * 32 + '"]]', "not valid hex"),
        ("verify", "{}", "inconsistent dump"),
        (
            "verify",
            '{"format": "standard-v1", "leafEncoding": ["bytes32", "bytes32"]}',
            "non-empty",
        ),
    ],
)
def test_cli_bad_input(tmp_path: Path, command: str, content: str, reason: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert reason in result.stderr


def test_cli_tampered_dump_and_missing_file(tmp_path: Path) -> None:
    dump = build_tree(list(map(pair, range(3)))).dump()
    dump["tree"][1] = "0x" + "11" * 32
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 1 and "inconsistent dump" in result.stderr
    result = runner.invoke(app, ["verify", str(tmp_path / "missing.json")])
    assert result.exit_code == 1 and "cannot read" in result.stderr


def test_cli_help_has_examples() -> None:
    for command in ("build", "verify"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout
