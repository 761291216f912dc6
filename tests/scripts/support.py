"""What the operator-script tests share: their own anvil, brownie run as a program, a registry.

Each test module that uses the `env` fixture gets its own anvil (free port, free gas as on a
QBFT network, chain id `CHAIN_ID`), registered as a live brownie network through
`scripts/setup_networks.py` in a temporary brownie data folder (ANCHOR_BROWNIE_HOME, which
brownie's venv turns into HOME: see tools/brownie_paths.py), manifests in a temporary
ANCHOR_DEPLOYMENTS_DIR, and the registry deployed by `scripts/deploy.py` with the roles of
`ROLES`. Effects are checked on chain with the service's binding (`anchor.chain.registry`).

brownie takes about 1.5 s to start here. Its invocations run one after the other: brownie
rewrites build/.../map.json at start, and a second brownie reading it mid-write fails with a
JSONDecodeError. ANCHOR_BROWNIE_PROJECT may name another checkout to run in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import Registry, fee_fields
from anchor.merkle.hashing import hash_pair, leaf_hash

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path(os.environ.get("ANCHOR_BROWNIE_PROJECT") or ROOT)
BVENV = ROOT / ".venv-brownie" / "bin"
CHAIN_ID = 31411
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: anvil's development accounts by the role the deployment gives them (the admin is the deployer).
ADMIN, REGISTRAR, PAUSER, REVOKER, OUTSIDER = 0, 1, 2, 3, 7
ROLES = {"registrar": REGISTRAR, "pauser": PAUSER, "revoker": REVOKER}


def address(index: int) -> str:
    """The address of anvil's development account ``index``."""
    return str(Account.from_key(dev_key(index)).address)


def brownie_available() -> bool:
    return (BVENV / "brownie").exists()


@dataclass(frozen=True)
class Result:
    """What a brownie invocation gave: exit status and output without colours."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Env:
    """The test's chain, brownie environment and deployed registry."""

    anvil: Anvil
    w3: Web3
    env: dict[str, str]
    deployments: Path
    tmp: Path
    network: str
    deploy: Result = Result(0, "", "")
    manifest: dict[str, Any] = field(default_factory=dict)

    def brownie(self, *args: str, as_: int | str | None = None, **extra: str) -> Result:
        """Run `brownie run <args> --network <test network>`, signed by account ``as_`` (an
        anvil index or a private key; default the admin)."""
        if as_ is not None:
            extra["ANCHOR_DEPLOYER_KEY"] = dev_key(as_) if isinstance(as_, int) else as_
        return finish(self.start(*args, extra=extra))

    def ok(self, *args: str, as_: int | str | None = None, **extra: str) -> str:
        """Run brownie; assert it succeeded without a traceback; return its standard output."""
        r = self.brownie(*args, as_=as_, **extra)
        assert r.code == 0, r.text
        assert "Traceback" not in r.text, r.text
        return r.out

    def fails(self, expected: str, *args: str, as_: int | str | None = None, **extra: str) -> str:
        """Run brownie; assert it exits 1 with the one line ``expected`` on stderr."""
        r = self.brownie(*args, as_=as_, **extra)
        assert r.code == 1, (expected, r.out, r.err)
        assert "Traceback" not in r.text, r.text
        assert expected in r.err.splitlines(), (expected, r.err)
        return r.err

    def start(
        self, *args: str, cwd: Path = PROJECT, extra: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """Start `brownie run <args>` in the background, in the project folder ``cwd``, with the
        environment variables ``extra`` added."""
        return subprocess.Popen(
            [str(BVENV / "brownie"), "run", *args, "--network", self.network],
            cwd=cwd,
            env={**self.env, **(extra or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def registry(self) -> Registry:
        return Registry(self.w3, str(self.manifest["address"]))

    def rpc(self, method: str, *params: Any) -> Any:
        """Call an anvil JSON-RPC method (``evm_increaseTime``, ``evm_mine``, ...)."""
        return self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        """Move the chain's clock ``seconds`` forward and mine a block."""
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")


def finish(proc: subprocess.Popen[str], timeout: float = 240) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return Result(proc.returncode, _ANSI.sub("", out), _ANSI.sub("", err))


def check_project_config() -> None:
    with (PROJECT / "brownie-config.yaml").open() as f:
        config = yaml.safe_load(f)
    if "dotenv" in config and not isinstance(config["dotenv"], str):
        pytest.fail("brownie-config.yaml: brownie 1.22 rejects `dotenv: null`; remove the line")
    if not all(isinstance(v, dict) for k, v in (config.get("networks") or {}).items()):
        pytest.fail(
            "brownie-config.yaml: brownie 1.22.2 (mypyc build) fails on a non-mapping entry "
            "under `networks:` such as `default: development`; remove it"
        )


def make_env(tmp: Path, deploy_args: tuple[str, ...] | None = None) -> Iterator[Env]:
    """anvil, an isolated brownie HOME with the test network, and the registry deployed."""
    check_project_config()
    network = f"anchor-test-{os.getpid()}-{tmp.name}"
    home, deployments = tmp / "home", tmp / "deployments"
    home.mkdir()
    with Anvil(chain_id=CHAIN_ID, extra_args=["--block-base-fee-per-gas", "0"]) as node:
        base = {
            **os.environ,
            "ANCHOR_BROWNIE_HOME": str(home),
            "ANCHOR_DEPLOYMENTS_DIR": str(deployments),
            "ANCHOR_RPC_URL": node.url,
            "ANCHOR_DEPLOYER_KEY": dev_key(ADMIN),
            "NO_COLOR": "1",
        }
        for name in ("ANCHOR_BROWNIE_ACCOUNT", "ANCHOR_CHAIN_ID"):
            base.pop(name, None)
        setup = subprocess.run(
            [
                str(BVENV / "python"),
                str(ROOT / "scripts" / "setup_networks.py"),
                *("--live-id", network, "--chain-id", str(CHAIN_ID)),
            ],
            env=base,
            capture_output=True,
            text=True,
            check=False,
        )
        assert setup.returncode == 0, setup.stderr
        config = yaml.safe_load((home / ".brownie" / "network-config.yaml").read_text())
        live = [n for g in config["live"] for n in g["networks"] if n["id"] == network]
        assert live == [
            {
                "name": f"Anchor PoA ({network})",
                "id": network,
                "host": "$ANCHOR_RPC_URL",
                "chainid": CHAIN_ID,
            }
        ]
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        e = Env(node, w3, base, deployments, tmp, network)
        if deploy_args is None:
            deploy_args = tuple(f"{role}={address(i)}" for role, i in ROLES.items())
        e.deploy = e.brownie("scripts/deploy.py", "main", *deploy_args)
        assert e.deploy.code == 0, e.deploy.text
        e.manifest = json.loads((deployments / f"{network}.json").read_text())
        try:
            yield e
        finally:
            shutil.rmtree(PROJECT / "build" / "brownie" / "deployments" / str(CHAIN_ID), True)


def send(w3: Web3, key: str, call: Any) -> Any:
    """Sign and send a contract call from the service side; fail on a revert."""
    account = Account.from_key(key)
    tx = call.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    return receipt


@dataclass(frozen=True)
class Batch:
    """A 2-leaf batch: its root and the bundle of its first document."""

    root: bytes
    leaves: tuple[bytes, bytes]
    bundle: dict[str, Any]


def batch(seed: int, registry: str, issuer: str) -> Batch:
    """A batch of two documents, different for each ``seed``."""
    salts = [bytes([seed, i]) * 16 for i in (1, 2)]
    digests = [bytes([seed, i + 16]) * 16 for i in (1, 2)]
    leaves = (leaf_hash(salts[0], digests[0]), leaf_hash(salts[1], digests[1]))
    root = hash_pair(*leaves)
    bundle = {
        "version": 1,
        "digest": "0x" + digests[0].hex(),
        "salt": "0x" + salts[0].hex(),
        "leaf": "0x" + leaves[0].hex(),
        "proof": ["0x" + leaves[1].hex()],
        "root": "0x" + root.hex(),
        "chainId": CHAIN_ID,
        "registry": registry,
        "issuer": issuer,
    }
    return Batch(root, leaves, bundle)


def anchor(env: Env, key: str, seed: int) -> Batch:
    """Anchor a new 2-leaf batch directly from the anchoring key ``key``."""
    account = Account.from_key(key)
    b = batch(seed, str(env.manifest["address"]), account.address)
    send(env.w3, key, env.registry.contract.functions.anchor(b.root, 2))
    return b


def new_key() -> tuple[str, str]:
    """A fresh key: (private key, address). Free gas: it needs no funds."""
    account = Account.create()
    return "0x" + bytes(account.key).hex(), str(account.address)


def write(path: Path, data: object) -> str:
    path.write_text(json.dumps(data))
    return str(path)
