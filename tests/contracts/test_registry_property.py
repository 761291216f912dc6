"""Property: every @openzeppelin/merkle-tree proof verifies on chain; a flipped bit fails.

Hypothesis draws random sets of (salt, digest) pairs; all the examples are drawn first, then one
node process builds every tree with `StandardMerkleTree.of(values, ["bytes32", "bytes32"])`
(tests/js/oz_proofs.mjs), then each root is anchored on anvil and each proof checked with one
`verify` call, plus one call per mutation (a bit of a proof element, of the leaf, of the root).
Generation is derandomized, so the run is the same every time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from anchor.chain.registry import Registry
from anchor.merkle.hashing import fold_proof, leaf_hash
from tests.support.chain import Accounts, send

pytestmark = [pytest.mark.chain, pytest.mark.node]

ROOT = Path(__file__).resolve().parents[2]
OZ_PROOFS = ROOT / "tests" / "js" / "oz_proofs.mjs"
TREES = 20
MAX_LEAVES = 64

Pair = tuple[bytes, bytes]

_bytes32 = st.binary(min_size=32, max_size=32)
_values = st.integers(1, MAX_LEAVES).flatmap(
    lambda n: st.lists(st.tuples(_bytes32, _bytes32), min_size=n, max_size=n, unique=True)
)
#: A tree's values, and where to flip a bit: a bit index (0..255) and a proof element selector.
_case = st.tuples(_values, st.integers(0, 255), st.integers(0, MAX_LEAVES))


def draw_all(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Draw ``count`` examples of ``strategy`` up front, reproducibly (no database, fixed seed)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn


def oz_trees(trees: list[list[Pair]]) -> list[dict[str, Any]]:
    """Build every tree with @openzeppelin/merkle-tree in one node process."""
    node = shutil.which("node")
    assert node, "node is not on PATH"
    request = [[["0x" + s.hex(), "0x" + d.hex()] for s, d in values] for values in trees]
    done = subprocess.run(
        [node, str(OZ_PROOFS)], input=json.dumps(request), capture_output=True, text=True,
        cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(result) == len(trees)
    return result


def _b(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string.removeprefix("0x"))


def flip(value: bytes, bit: int) -> bytes:
    """``value`` with bit ``bit`` (0 = lowest bit of the first byte) inverted."""
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_every_openzeppelin_proof_verifies_on_chain_and_any_flipped_bit_fails(
    registry: Registry, accounts: Accounts
) -> None:
    cases = []
    seen: set[frozenset[Pair]] = set()
    for values, bit, selector in draw_all(_case, 3 * TREES):
        if frozenset(values) not in seen and len(cases) < TREES:  # a root is anchored once
            seen.add(frozenset(values))
            cases.append((values, bit, selector))
    built = oz_trees([values for values, _, _ in cases])

    w3, verify = registry.w3, registry.contract.functions.verify
    checked = mutated = 0
    for (values, bit, selector), tree in zip(cases, built, strict=True):
        root = _b(tree["root"])
        assert len(tree["leaves"]) == len(values)
        send(w3, accounts.issuer, registry.contract.functions.anchor(root, len(values)))
        expected: list[tuple[bool, str]] = []
        with w3.batch_requests() as batch:  # one eth_call per check, sent together per tree
            for (salt, digest), entry in zip(values, tree["leaves"], strict=True):
                leaf, proof = _b(entry["leaf"]), [_b(p) for p in entry["proof"]]
                # The library and the Python format agree before the chain is asked.
                assert leaf == leaf_hash(salt, digest)
                assert fold_proof(leaf, proof) == root
                what = f"leaf {leaf.hex()} of root {root.hex()}, bit {bit}"
                batch.add(verify(root, proof, leaf))
                expected.append((True, f"real proof of {what}"))
                if proof:
                    i = selector % len(proof)
                    batch.add(
                        verify(root, [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]], leaf)
                    )
                    expected.append((False, f"proof element {i} flipped, {what}"))
                batch.add(verify(root, proof, flip(leaf, bit)))
                expected.append((False, f"leaf flipped, {what}"))
                batch.add(verify(flip(root, bit), proof, leaf))
                expected.append((False, f"root flipped, {what}"))
            answers = batch.execute()
        assert len(answers) == len(expected)
        for answer, (want, label) in zip(answers, expected, strict=True):
            assert answer is want, label
        checked += len(values)
        mutated += len(expected) - len(values)
    assert len(cases) == TREES
    print(f"\n{len(cases)} trees, {checked} proofs verified on chain, {mutated} mutations rejected")
