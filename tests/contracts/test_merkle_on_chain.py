"""The Merkle format on chain (issue 3, ported to registry v2): the roots and proofs of
`anchor.merkle` and of the real `@openzeppelin/merkle-tree` pass OpenZeppelin's `MerkleProof` in
the registry, read through `status().included` and used by `revokeDocument`; any flipped bit
fails. The golden vectors (tests/vectors) give the same on-chain answers here.

Hypothesis draws random sets of (salt, digest) pairs up front (derandomized, so every run is the
same); one node process builds every tree with `StandardMerkleTree.of(values, ["bytes32",
"bytes32"])` (tests/js/oz_proofs.mjs); every root is anchored in one relayed call, and the checks
go to the node as one batch of `status` calls a tree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi.abi import encode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from web3 import Web3

from anchor.chain.records import ChangeKind
from anchor.merkle import build_tree
from anchor.merkle.hashing import fold_proof, leaf_hash
from tests.support.registry_v2 import World, assert_reverts, send

pytestmark = pytest.mark.chain

ROOT = Path(__file__).resolve().parents[2]
OZ_PROOFS = ROOT / "tests" / "js" / "oz_proofs.mjs"
VECTORS = ROOT / "tests" / "vectors"
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


_ARGS = ["address", "bytes32", "bytes32[]", "bytes32"]
_STATUS = bytes(Web3.keccak(text=f"status({','.join(_ARGS)})")[:4])


def included(
    client: httpx.Client, env: World, key: str, calls: list[tuple[bytes, list[bytes], bytes]]
) -> list[bool]:
    """`status(key, root, proof, leaf).included` for each call, as one JSON-RPC batch of raw
    eth_calls encoded with eth_abi (web3's encoding and decoding of thousands of calls would take
    many seconds)."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "eth_call",
            "params": [
                {
                    "to": env.registry.address,
                    "data": "0x" + (_STATUS + encode(_ARGS, [key, *c])).hex(),
                },
                "latest",
            ],
        }
        for i, c in enumerate(calls)
    ]
    response = client.post(env.w3.provider.endpoint_uri, json=requests)  # type: ignore[attr-defined]
    by_id = {r["id"]: r["result"] for r in response.json()}
    # The `Status` tuple is dynamic: word 0 is its offset, word 1 its first field, `included`.
    return [int(by_id[i][2 + 64 : 2 + 128], 16) == 1 for i in range(len(calls))]


def test_the_known_openzeppelin_root_verifies_on_chain(env: World) -> None:
    """Two values whose root was computed with @openzeppelin/merkle-tree 1.0.8."""
    tree = build_tree([(b"\x11" * 32, b"\x22" * 32), (b"\x33" * 32, b"\x44" * 32)])
    assert tree.root.hex() == "c05f469820eb45023db3ddbe6557ebe34bf758acf38d53073624dc337ef57a2b"
    assert tree.leaf(0).hex() == "430512f17360cbcc5c79d8c40984b7ce0ce7161c0b2d25997f5a3bf05c2a24b0"
    body = env.bodies[0]
    env.anchor(body.anchoring, tree.root, 2)
    for i in range(2):
        s = env.registry.status(body.anchoring.address, tree.root, tree.proof(i), tree.leaf(i))
        assert s.included
    # A one-leaf tree: the leaf is the root, the proof is empty.
    single = build_tree([(b"\x55" * 32, b"\x66" * 32)])
    assert single.root == single.leaf(0) and single.proof(0) == []
    env.anchor(body.anchoring, single.root, 1)
    assert env.registry.status(body.anchoring.address, single.root, [], single.root).included


@pytest.mark.node
def test_every_proof_of_both_libraries_verifies_on_chain_and_any_flipped_bit_fails(
    env: World,
) -> None:
    cases: list[tuple[list[Pair], int, int]] = []
    seen: set[frozenset[Pair]] = set()
    for values, bit, selector in draw_all(_case, 3 * TREES):
        if frozenset(values) not in seen and len(cases) < TREES:  # a root is anchored once
            seen.add(frozenset(values))
            cases.append((values, bit, selector))
    built = oz_trees([values for values, _, _ in cases])
    body = env.bodies[1]
    key = body.anchoring.address

    # Both libraries agree before the chain is asked.
    for (values, _, _), oz in zip(cases, built, strict=True):
        ours = build_tree(values)
        assert ours.root == _b(oz["root"])
        for i, entry in enumerate(oz["leaves"]):
            assert ours.leaf(i) == _b(entry["leaf"]) == leaf_hash(*values[i])
            assert ours.proof(i) == [_b(p) for p in entry["proof"]]
            assert fold_proof(ours.leaf(i), ours.proof(i)) == ours.root

    deadline = env.deadline()
    items = [
        env.sign(body.anchoring, _b(oz["root"]), len(values), deadline)
        for (values, _, _), oz in zip(cases, built, strict=True)
    ]
    send(env.w3, env.relayer, env.relay_call(deadline, items))

    checked = mutated = revoked = 0
    client = httpx.Client(timeout=60)
    for (values, bit, selector), oz in zip(cases, built, strict=True):
        root = _b(oz["root"])
        calls: list[tuple[bytes, list[bytes], bytes]] = []
        expected: list[tuple[bool, str]] = []
        for entry in oz["leaves"]:
            leaf, proof = _b(entry["leaf"]), [_b(p) for p in entry["proof"]]
            what = f"leaf {leaf.hex()} of root {root.hex()}, bit {bit}"
            calls.append((root, proof, leaf))
            expected.append((True, f"real proof of {what}"))
            if proof:
                i = selector % len(proof)
                calls.append((root, [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]], leaf))
                expected.append((False, f"proof element {i} flipped, {what}"))
            calls.append((root, proof, flip(leaf, bit)))
            expected.append((False, f"leaf flipped, {what}"))
            calls.append((flip(root, bit), proof, leaf))
            expected.append((False, f"root flipped, {what}"))
        answers = included(client, env, key, calls)
        for answer, (want, label) in zip(answers, expected, strict=True):
            assert answer is want, label
        checked += len(values)
        mutated += len(expected) - len(values)

        if len(values) % 3:
            continue
        # The same proofs drive revokeDocument: a flipped one is refused, the real one revokes.
        revoked += 1
        entry = oz["leaves"][selector % len(values)]
        leaf, proof = _b(entry["leaf"]), [_b(p) for p in entry["proof"]]
        assert_reverts(
            env.fns.revokeDocument(body.id, root, proof, flip(leaf, bit), 1),
            env.revoker.address,
            "RegistryLeafNotInRoot",
            root,
            flip(leaf, bit),
        )
        send(env.w3, body.status, env.fns.revokeDocument(body.id, root, proof, leaf, 1))
        s = env.registry.status(key, root, proof, leaf)
        assert s.document.state == ChangeKind.REVOKED and s.document.actor == body.status.address
    client.close()
    assert len(cases) == TREES
    assert revoked >= 3, "a few trees should go through revokeDocument too"
    print(f"\n{len(cases)} trees, {checked} proofs verified on chain, {mutated} mutations rejected")


def test_the_golden_vectors_on_chain(env: World) -> None:
    batches = json.loads((VECTORS / "batches.json").read_text())["batches"]
    body = env.bodies[2]
    deadline = env.deadline()
    items = [
        env.sign(body.anchoring, _b(b["root"]), b["leafCount"], deadline) for b in batches.values()
    ]
    send(env.w3, env.relayer, env.relay_call(deadline, items))
    vectors = [
        *json.loads((VECTORS / "valid.json").read_text())["vectors"],
        *json.loads((VECTORS / "mutated.json").read_text())["vectors"],
    ]
    key = body.anchoring.address
    with env.w3.batch_requests() as batch:
        for v in vectors:
            batch.add(
                env.fns.status(key, _b(v["root"]), [_b(p) for p in v["proof"]], _b(v["leaf"]))
            )
        answers: list[Any] = batch.execute()
    for v, answer in zip(vectors, answers, strict=True):
        assert answer[0] is v["expected"]["onchain"], v["desc"]
