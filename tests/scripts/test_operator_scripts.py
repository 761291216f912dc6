"""The brownie operator scripts end to end, run as programs from brownie's own venv.

The test starts its own anvil (free port, free gas as on a QBFT network), registers it as a live
brownie network through `scripts/setup_networks.py` in a temporary brownie data folder
(ANCHOR_BROWNIE_HOME, which brownie's venv turns into HOME: see tools/brownie_paths.py), and
writes manifests to a temporary ANCHOR_DEPLOYMENTS_DIR. Effects are checked on chain with the
service's web3 (`anchor.chain.registry.Registry`).

brownie takes about 1.5 s to start here; the error cases run one after the other.
ANCHOR_BROWNIE_PROJECT may name another checkout to run in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    REVOKER_ROLE,
    Registry,
    fee_fields,
    load_artifact,
)
from anchor.merkle.hashing import hash_pair, leaf_hash

pytestmark = [pytest.mark.brownie, pytest.mark.chain]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path(os.environ.get("ANCHOR_BROWNIE_PROJECT") or ROOT)
BVENV = ROOT / ".venv-brownie" / "bin"
CHAIN_ID = 31411
NETWORK = f"anchor-test-{os.getpid()}"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

if not (BVENV / "brownie").exists():
    pytest.skip(
        "brownie's venv .venv-brownie is absent: run `make brownie-setup`",
        allow_module_level=True,
    )


@dataclass(frozen=True)
class Result:
    """What a brownie invocation gave: exit status and output without colours."""

    code: int
    out: str
    err: str


@dataclass
class Env:
    """The test's chain, brownie environment and deployed registry."""

    anvil: Anvil
    w3: Web3
    env: dict[str, str]
    deployments: Path
    tmp: Path
    deploy: Result
    manifest: dict[str, object]

    def brownie(self, *args: str, **extra: str) -> Result:
        """Run `brownie run <args> --network <test network>` and return its result."""
        return _finish(self.start(*args, **extra))

    def start(self, *args: str, cwd: Path = PROJECT, **extra: str) -> subprocess.Popen[str]:
        """Start `brownie run <args>` in the background, in the project folder ``cwd``."""
        return subprocess.Popen(
            [str(BVENV / "brownie"), "run", *args, "--network", NETWORK],
            cwd=cwd,
            env={**self.env, **extra},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def registry(self) -> Registry:
        return Registry(self.w3, str(self.manifest["address"]))


def _finish(proc: subprocess.Popen[str], timeout: float = 240) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return Result(proc.returncode, _ANSI.sub("", out), _ANSI.sub("", err))


def _check_project_config() -> None:
    with (PROJECT / "brownie-config.yaml").open() as f:
        config = yaml.safe_load(f)
    if "dotenv" in config and not isinstance(config["dotenv"], str):
        pytest.fail("brownie-config.yaml: brownie 1.22 rejects `dotenv: null`; remove the line")
    if not all(isinstance(v, dict) for k, v in (config.get("networks") or {}).items()):
        pytest.fail(
            "brownie-config.yaml: brownie 1.22.2 (mypyc build) fails on a non-mapping entry "
            "under `networks:` such as `default: development`; remove it"
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """anvil, an isolated brownie HOME with the test network, and the registry deployed."""
    _check_project_config()
    tmp = tmp_path_factory.mktemp("brownie")
    home, deployments = tmp / "home", tmp / "deployments"
    home.mkdir()
    with Anvil(chain_id=CHAIN_ID, extra_args=["--block-base-fee-per-gas", "0"]) as node:
        base = {
            **os.environ,
            "ANCHOR_BROWNIE_HOME": str(home),
            "ANCHOR_DEPLOYMENTS_DIR": str(deployments),
            "ANCHOR_RPC_URL": node.url,
            "ANCHOR_DEPLOYER_KEY": dev_key(0),
            "NO_COLOR": "1",
        }
        for name in ("ANCHOR_BROWNIE_ACCOUNT", "ANCHOR_CHAIN_ID"):
            base.pop(name, None)
        setup = subprocess.run(
            [
                str(BVENV / "python"),
                str(ROOT / "scripts" / "setup_networks.py"),
                *("--live-id", NETWORK, "--chain-id", str(CHAIN_ID)),
            ],
            env=base,
            capture_output=True,
            text=True,
            check=False,
        )
        assert setup.returncode == 0, setup.stderr
        config = yaml.safe_load((home / ".brownie" / "network-config.yaml").read_text())
        live = [n for g in config["live"] for n in g["networks"] if n["id"] == NETWORK]
        assert live == [
            {
                "name": f"Anchor PoA ({NETWORK})",
                "id": NETWORK,
                "host": "$ANCHOR_RPC_URL",
                "chainid": CHAIN_ID,
            }
        ]
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        e = Env(node, w3, base, deployments, tmp, Result(0, "", ""), {})
        issuer = Account.from_key(dev_key(1)).address
        started = time.monotonic()
        e.deploy = e.brownie("scripts/deploy.py", "main", f"issuer={issuer}")
        print(f"deploy took {time.monotonic() - started:.1f} s")
        assert e.deploy.code == 0, e.deploy.out + e.deploy.err
        e.manifest = json.loads((deployments / f"{NETWORK}.json").read_text())
        try:
            yield e
        finally:
            shutil.rmtree(PROJECT / "build" / "brownie" / "deployments" / str(CHAIN_ID), True)


def send(w3: Web3, key: str, call: object) -> None:
    """Sign and send a contract call from the service side; fail on a revert."""
    account = Account.from_key(key)
    tx = call.build_transaction(  # type: ignore[attr-defined]
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1


def test_deploy_writes_a_checked_manifest(env: Env) -> None:
    # A good deployment prints no traceback (brownie's own deployment record used to fail).
    assert "Traceback" not in env.deploy.out + env.deploy.err, env.deploy.err
    assert "AnchorRegistry deployed at" in env.deploy.out
    # The raw key of ANCHOR_DEPLOYER_KEY works, with a warning (brownie accounts are the default).
    assert "warning: signing with the raw private key of ANCHOR_DEPLOYER_KEY" in env.deploy.err
    m = env.manifest
    artifact = load_artifact()
    admin = Account.from_key(dev_key(0)).address
    assert m["network"] == NETWORK
    assert m["chainId"] == CHAIN_ID
    assert m["deployer"] == m["admin"] == admin
    assert m["artifactSha256"] == artifact.sha256
    assert m["compiler"] == artifact.compiler_version
    assert m["contractVersion"] == "1.0.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(m["deployedAt"]))
    receipt = env.w3.eth.get_transaction_receipt(str(m["deploymentTx"]))
    assert receipt["contractAddress"] == m["address"]
    assert receipt["blockNumber"] == m["deploymentBlock"]
    assert env.w3.eth.get_transaction(str(m["deploymentTx"]))["gasPrice"] == 0  # free gas
    code = env.w3.eth.get_code(str(m["address"]))
    assert "0x" + code.hex().removeprefix("0x") == artifact.deployed_bytecode
    registry = env.registry
    assert registry.has_role(DEFAULT_ADMIN_ROLE, admin)
    assert registry.has_role(ISSUER_ROLE, Account.from_key(dev_key(1)).address)


def test_operator_scenario(env: Env) -> None:
    registry = env.registry
    issuer, revoker = (Account.from_key(dev_key(i)) for i in (1, 2))

    r = env.brownie("scripts/issuers.py", "grant", "revoker", revoker.address)
    assert r.code == 0, r.out + r.err
    assert registry.has_role(REVOKER_ROLE, revoker.address)

    r = env.brownie("scripts/issuers.py", "name", issuer.address, "Commune de Contern")
    assert r.code == 0, r.out + r.err
    assert registry.issuer_name(issuer.address) == "Commune de Contern"

    r = env.brownie("scripts/issuers.py", "list")
    assert r.code == 0, r.out + r.err
    lines = {line.split()[0] + " " + line.split()[1] for line in r.out.splitlines() if "0x" in line}
    assert f"issuer {issuer.address}" in lines
    assert f"revoker {revoker.address}" in lines
    assert f"admin {env.manifest['admin']}" in lines
    assert "name='Commune de Contern'" in r.out
    assert re.search(r"terms=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.\.now", r.out)

    # Two 2-leaf batches anchored by the issuer from the service side.
    salts = [bytes([i]) * 32 for i in (1, 2, 3, 4)]
    digests = [bytes([i + 16]) * 32 for i in (1, 2, 3, 4)]
    leaves = [leaf_hash(s, d) for s, d in zip(salts, digests, strict=True)]
    root_a, root_b = hash_pair(leaves[0], leaves[1]), hash_pair(leaves[2], leaves[3])
    for root in (root_a, root_b):
        send(env.w3, dev_key(1), registry.contract.functions.anchor(root, 2))
    bundle = env.tmp / "bundle.json"
    bundle.write_text(
        json.dumps(
            {
                "version": 1,
                "digest": "0x" + digests[0].hex(),
                "salt": "0x" + salts[0].hex(),
                "leaf": "0x" + leaves[0].hex(),
                "proof": ["0x" + leaves[1].hex()],
                "root": "0x" + root_a.hex(),
                "chainId": CHAIN_ID,
                "registry": env.manifest["address"],
            }
        )
    )
    # The issuer that anchored the root revokes one of its documents.
    r = env.brownie(
        "scripts/revoke.py", "document", str(bundle), "2", ANCHOR_DEPLOYER_KEY=dev_key(1)
    )
    assert r.code == 0, r.out + r.err
    doc = registry.document_revocation(root_a, leaves[0])
    assert (doc.revoked_by, doc.reason) == (issuer.address, 2) and doc.revoked_at > 0
    assert registry.document_revocation(root_a, leaves[1]).revoked_at == 0

    # The revoker (not the admin) revokes the other root.
    r = env.brownie(
        "scripts/revoke.py", "root", "0x" + root_b.hex(), "3", ANCHOR_DEPLOYER_KEY=dev_key(2)
    )
    assert r.code == 0, r.out + r.err
    rev = registry.root_revocation(root_b)
    assert (rev.revoked_by, rev.reason) == (revoker.address, 3)

    r = env.brownie("scripts/pause.py", "pause")
    assert r.code == 0, r.out + r.err
    assert registry.paused()
    r = env.brownie("scripts/pause.py", "unpause")
    assert r.code == 0, r.out + r.err
    assert not registry.paused()


def test_errors_are_one_sentence(env: Env) -> None:
    empty = env.tmp / "empty"
    empty.mkdir()
    wrong = env.tmp / "wrong"
    wrong.mkdir()
    (wrong / f"{NETWORK}.json").write_text(json.dumps({**env.manifest, "chainId": 999}))
    nobody = Account.from_key(dev_key(7)).address
    cases: Sequence[tuple[tuple[str, ...], dict[str, str], str]] = [
        (
            ("scripts/pause.py", "status"),
            {"ANCHOR_DEPLOYMENTS_DIR": str(empty)},
            f"error: no deployment manifest for network '{NETWORK}' at {empty / NETWORK}.json: "
            f"deploy first (brownie run scripts/deploy.py --network {NETWORK}).",
        ),
        (
            ("scripts/pause.py", "status"),
            {"ANCHOR_DEPLOYMENTS_DIR": str(wrong)},
            f"error: wrong network: the manifest {NETWORK}.json is for chain id 999 but network "
            f"'{NETWORK}' is chain id {CHAIN_ID}.",
        ),
        (
            ("scripts/pause.py", "pause"),
            {"ANCHOR_DEPLOYER_KEY": dev_key(7)},
            f"error: account {nobody} lacks the admin role on the registry at "
            f"{env.manifest['address']}.",
        ),
        (
            ("scripts/revoke.py", "root", "0x1234", "1"),
            {},
            "error: root '0x1234' is not 32 bytes of hex (0x and 64 hex digits).",
        ),
        (
            ("scripts/pause.py", "status"),
            {"ANCHOR_RPC_URL": ""},
            f"error: ANCHOR_RPC_URL is not set: network '{NETWORK}' connects to $ANCHOR_RPC_URL; "
            "export ANCHOR_RPC_URL=http://<node>:8545 (a JSON-RPC URL of the network).",
        ),
        (("scripts/issuers.py", "frobnicate"), {}, "error: unknown function 'frobnicate'."),
    ]
    # One after the other: brownie rewrites build/.../map.json at start, and a second brownie
    # reading it mid-write fails with a JSONDecodeError.
    for args, extra, expected in cases:
        r = env.brownie(*args, **extra)
        assert r.code == 1, (expected, r.out, r.err)
        assert expected in r.err.splitlines(), (expected, r.err)
        assert "Traceback" not in r.out + r.err
    assert "brownie run scripts/issuers.py grant ROLE ADDRESS" in r.err  # the usage, last case
    assert not env.registry.paused()


def test_a_brownie_account_file_others_can_read_is_refused(env: Env) -> None:
    """`brownie accounts new` writes 0644; the scripts sign only from a 0600 file, with the
    password from ANCHOR_BROWNIE_ACCOUNT_PASSWORD_FILE."""
    accounts = Path(env.env["ANCHOR_BROWNIE_HOME"]) / ".brownie" / "accounts"
    accounts.mkdir(parents=True, exist_ok=True)
    keystore = accounts / "anchor-admin.json"
    keystore.write_text(json.dumps(Account.encrypt(dev_key(0), "correct horse")))
    keystore.chmod(0o644)
    password = env.tmp / "admin-pw"
    password.write_text("correct horse\n")
    password.chmod(0o600)
    signer = {
        "ANCHOR_DEPLOYER_KEY": "",
        "ANCHOR_BROWNIE_ACCOUNT": "anchor-admin",
        "ANCHOR_BROWNIE_ACCOUNT_PASSWORD_FILE": str(password),
    }
    issuer = Account.from_key(dev_key(1)).address
    r = env.brownie("scripts/issuers.py", "grant", "issuer", issuer, **signer)
    assert r.code == 1, r.out + r.err
    assert (
        f"error: the brownie account file {keystore} is readable by other users (mode 644); "
        f"run `chmod 600 {keystore}`."
    ) in r.err.splitlines()
    keystore.chmod(0o600)
    r = env.brownie("scripts/issuers.py", "grant", "issuer", issuer, **signer)
    assert r.code == 0, r.out + r.err
    assert f"{issuer} already holds the issuer role; nothing sent" in r.out


def test_set_up_writes_nothing_outside_the_checkout(tmp_path: Path) -> None:
    """brownie's data folder and py-solc-x's folder are the checkout's, whatever HOME is: a
    second checkout can no longer re-point this one's compiler (it used to, via ~/.solcx)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "SOLCX_BINARY_PATH": str(home / ".solcx")}
    env.pop("ANCHOR_BROWNIE_HOME", None)
    probe = (
        "from brownie._config import DATA_FOLDER; import solcx; "
        "print(DATA_FOLDER); print(solcx.get_solcx_install_folder())"
    )
    done = subprocess.run(
        [str(BVENV / "python"), "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    data_folder, solcx_folder = done.stdout.split()
    assert data_folder == str(ROOT / ".brownie-home" / ".brownie")
    assert solcx_folder == str(ROOT / "build" / "solcx")
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "tools.toolchain", "install"],
        cwd=ROOT, env=env, capture_output=True, check=True,
    )  # fmt: skip
    registered = ROOT / "build" / "solcx" / "solc-v0.8.28"
    assert f'BASE_PATH="${{ANCHOR_SOLC_BASE_PATH:-{ROOT}}}"' in registered.read_text()
    assert list(home.iterdir()) == []


# The argument checks themselves, without brownie (web3 is in both venvs).


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.role_id("boss"), "unknown role 'boss': use one of admin, issuer, revoker."),
        (
            lambda c: c.parse_reason("70000"),
            "reason '70000' is not a code from 0 to 65535 (0 unspecified, 1 superseded, "
            "2 issued in error, 3 fraud, 4 withdrawn by the issuer).",
        ),
        (lambda c: c.parse_reason("-1"), None),
        (lambda c: c.parse_address("0x12"), None),
        (
            lambda c: c.parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267"),
            "address '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267' has a wrong checksum "
            "(a mistyped letter?).",
        ),
        (lambda c: c.parse_bytes32("0x" + "g" * 64, "root"), None),
    ],
)
def test_malformed_arguments(call: object, expected: str | None) -> None:
    from scripts import _common

    with pytest.raises(_common.OperatorError) as raised:
        call(_common)  # type: ignore[operator]
    if expected is not None:
        assert str(raised.value) == expected


def test_well_formed_arguments() -> None:
    from scripts import _common

    assert _common.role_id("Issuer") == "0x" + Web3.keccak(text="ISSUER_ROLE").hex().removeprefix(
        "0x"
    )
    assert _common.role_id("admin") == "0x" + "00" * 32
    assert _common.parse_reason("65535") == 65535
    lower = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    assert _common.parse_address(lower) == Web3.to_checksum_address(lower)
    assert _common.REASONS[3] == "fraud"


def test_script_fees_are_the_service_policy() -> None:
    from scripts import _common

    assert _common.brownie_fees(0) == {"gas_price": 0}
    assert _common.brownie_fees(7) == {"max_fee": 14 + 10**9, "priority_fee": 10**9}


def test_scripts_run_from_a_checkout_whose_path_has_a_dot(env: Env) -> None:
    """brownie turns a script's absolute path into a module name (`.../dot.test/...` used to
    fail with ModuleNotFoundError); tools/brownie_paths.py, installed in brownie's venv by
    `make brownie-setup`, maps such names back onto the real folders."""
    checkout = env.tmp / "dot.test" / "anchor.git"
    checkout.mkdir(parents=True)
    for name in ("scripts", "contracts", "anchor"):
        shutil.copytree(
            PROJECT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("brownie-config.yaml", "package.json"):
        shutil.copy(PROJECT / name, checkout / name)
    (checkout / "node_modules").symlink_to(PROJECT / "node_modules")
    for folder in ("build", "tests"):  # present in a real checkout (`make setup` makes build/)
        (checkout / folder).mkdir()
    deployments = env.tmp / "dot-deployments"
    deployments.mkdir()
    shutil.copy(env.deployments / f"{NETWORK}.json", deployments / f"{NETWORK}.json")
    r = _finish(
        env.start("scripts/pause.py", "status", cwd=checkout,
                  ANCHOR_DEPLOYMENTS_DIR=str(deployments))
    )  # fmt: skip
    assert r.code == 0, r.out + r.err
    assert "ModuleNotFoundError" not in r.out + r.err
    assert str(env.manifest["address"]) in r.out
