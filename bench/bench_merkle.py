"""Benchmark: build the standard-v1 tree and every leaf's proof, side by side with peers.

Every peer runs in its own subprocess on the same leaves (salts and digests drawn from a seed,
written once to a temporary file of n * 64 bytes that each peer reads), must produce every
proof, and is timed from its input in memory to its last proof. Peak memory is each process's
peak RSS (``os.wait4``), interpreter and input included. The keccak floor is the cost of the
keccak calls alone with our binding (safe-pysha3): 2 per leaf + 1 per inner node.

    .venv/bin/python bench/bench_merkle.py                 # 10k, 100k, 1M
    .venv/bin/python bench/bench_merkle.py --sizes 100000  # one size
    .venv/bin/python bench/bench_merkle.py --quick         # 1k and 10k, for a smoke run

Peers: bench/requirements.txt (pip) and package.json (node).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "bench" / "js"
OZ_MAX = 100_000  # @openzeppelin/merkle-tree is too slow beyond this

# name -> (command prefix, max leaves or None, same root as OpenZeppelin expected)
PEERS: dict[str, tuple[list[str], int | None, bool]] = {
    "anchor (packed)": ([sys.executable, __file__, "--worker", "anchor"], None, True),
    "anchor (pairs)": ([sys.executable, __file__, "--worker", "anchor-pairs"], None, True),
    "keccak floor": ([sys.executable, __file__, "--worker", "floor"], None, False),
    "@openzeppelin/merkle-tree": (["node", str(JS / "oz.mjs")], OZ_MAX, True),
    "merkletreejs": (["node", str(JS / "merkletreejs.mjs")], None, False),
    "merkle-zeppelin": ([sys.executable, __file__, "--worker", "merkle-zeppelin"], None, True),
    "pymerkle": ([sys.executable, __file__, "--worker", "pymerkle"], None, False),
}


# -- workers (run in the child process) --------------------------------------------------------
def _read_pairs(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(data[o : o + 32], data[o + 32 : o + 64]) for o in range(0, len(data), 64)]


def work_anchor(data: bytes, pairs_api: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from anchor.merkle import build_tree, build_tree_packed

    pairs = _read_pairs(data) if pairs_api else None
    if pairs is not None:
        del data
    t0, c0 = time.perf_counter(), time.process_time()
    tree = build_tree(pairs) if pairs is not None else build_tree_packed(data)
    count = total = 0
    for _, packed in tree.iter_packed_proofs():
        count += 1
        total += len(packed)
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "root": "0x" + tree.root.hex(), "proofs": count, "proofBytes": total}  # fmt: skip


def work_floor(data: bytes) -> dict[str, Any]:
    import sha3

    k = sha3.keccak_256
    n = len(data) // 64
    chunk, leaf = data[:64], data[:32]
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):  # two calls per leaf: 64-byte value, then its 32-byte hash
        k(k(chunk).digest()).digest()
    for _ in range(n - 1):  # one call per inner node: 64 bytes
        k(chunk).digest()
    del leaf
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "root": "",
            "proofs": 0, "proofBytes": 0}  # fmt: skip


def work_merkle_zeppelin(data: bytes) -> dict[str, Any]:
    from merkle_zeppelin.merkle import MerkleTree

    pairs = _read_pairs(data)
    del data
    t0, c0 = time.perf_counter(), time.process_time()
    tree = MerkleTree(pairs, ["bytes32", "bytes32"])
    count = total = 0
    for value in pairs:
        total += 32 * len(tree.get_proofs(value) or [])
        count += 1
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "root": "0x" + tree.root.hex(), "proofs": count, "proofBytes": total}  # fmt: skip


def work_pymerkle(data: bytes) -> dict[str, Any]:
    from pymerkle import InmemoryTree

    values = [data[o : o + 64] for o in range(0, len(data), 64)]
    del data
    t0, c0 = time.perf_counter(), time.process_time()
    tree = InmemoryTree(algorithm="keccak_256")
    for value in values:
        tree.append_entry(value)
    size = tree.get_size()
    count = total = 0
    for index in range(1, size + 1):
        total += 32 * len(tree.prove_inclusion(index, size).path)
        count += 1
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "root": "0x" + tree.get_state().hex(), "proofs": count,
            "proofBytes": total}  # fmt: skip


def worker(name: str, path: str) -> None:
    data = Path(path).read_bytes()
    if name == "anchor":
        result = work_anchor(data, pairs_api=False)
    elif name == "anchor-pairs":
        result = work_anchor(data, pairs_api=True)
    elif name == "floor":
        result = work_floor(data)
    elif name == "merkle-zeppelin":
        result = work_merkle_zeppelin(data)
    elif name == "pymerkle":
        result = work_pymerkle(data)
    else:
        raise SystemExit(f"unknown worker {name}")
    print(json.dumps(result))


# -- driver ------------------------------------------------------------------------------------
def make_leaves(n: int, seed: str) -> bytes:
    """Return n deterministic (salt, digest) pairs packed as n * 64 bytes."""
    return hashlib.shake_256(f"anchor-bench:{seed}:{n}".encode()).digest(64 * n)


def run_peer(cmd: list[str], path: str, timeout: float) -> dict[str, Any]:
    proc = subprocess.Popen([*cmd, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return {"error": f"timeout > {timeout:.0f} s"}
        time.sleep(0.05)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    if status != 0:
        return {"error": f"failed: {err.decode(errors='replace').strip().splitlines()[-1:]}"}
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["rss"] = usage.ru_maxrss * 1024  # kilobytes on Linux
    return result


def bench_size(n: int, seed: str, timeout: float, peers: list[str]) -> None:
    data = make_leaves(n, seed)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        results = {}
        for name in peers:
            cmd, cap, _ = PEERS[name]
            if cap is not None and n > cap:
                results[name] = {"error": f"skipped (> {cap:,} leaves)"}
                continue
            results[name] = run_peer(cmd, f.name, timeout)
            print(f"  .. {name}: {results[name].get('seconds', results[name].get('error'))}",
                  file=sys.stderr, flush=True)  # fmt: skip
    print_table(n, results)


def print_table(n: int, results: dict[str, dict[str, Any]]) -> None:
    ours = results.get("anchor (packed)", {})
    oz_root = results.get("@openzeppelin/merkle-tree", {}).get("root") or ours.get("root")
    print(f"\n{n:,} leaves: build + every proof")
    print(f"{'peer':<27}{'wall s':>9}{'cpu s':>9}{'leaves/s':>11}{'peak RSS':>11}{'B/leaf':>7}"
          f"{'ratio':>8}  root")  # fmt: skip
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<27}  {r['error']}")
            continue
        if name != "keccak floor" and r["proofs"] != n:
            print(f"{name:<27}  produced {r['proofs']} proofs, not {n}")
            continue
        cpu = r["cpu"]
        if name == "keccak floor":
            ratio = f"{ours['cpu'] / cpu:.2f}x" if "cpu" in ours else "-"
        elif name == "anchor (packed)":
            ratio = "1.00x"
        else:
            ratio = f"{cpu / ours['cpu']:.2f}x" if "cpu" in ours else "-"
        root = (
            ("same as OZ" if r["root"] == oz_root else "differs (other layout)")
            if r["root"]
            else ""
        )
        mb = r["rss"] / 2**20
        print(f"{name:<27}{r['seconds']:>9.3f}{cpu:>9.3f}{n / cpu:>11,.0f}{mb:>9.1f}MB"
              f"{r['rss'] / n:>7.0f}{ratio:>8}  {root}")  # fmt: skip
    print(
        "ratio: peer cpu / our cpu; for 'keccak floor': our cpu / floor cpu. leaves/s uses cpu s."
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="comma-separated leaf counts"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only (1000,10000)")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per peer run")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peer names")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    sizes = [1000, 10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    peers = [p.strip() for p in args.peers.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, seed {args.seed!r}")
    for n in sizes:
        bench_size(n, args.seed, args.timeout, peers)


if __name__ == "__main__":
    main()
