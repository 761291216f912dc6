"""The brownie operator scripts end to end, run as programs from brownie's own venv: deployment,
the generic errors, the signing account, set-up, and the argument checks.

The chain, the isolated brownie data folder and the deployment are `tests/scripts/support.py`'s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import yaml
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import dev_key
from anchor.chain.registry import (
    DEFAULT_ADMIN_ROLE,
    PAUSER_ROLE,
    REGISTRAR_ROLE,
    REVOKER_ROLE,
    load_artifact,
)
from tests.scripts.support import (
    ADMIN,
    BVENV,
    CHAIN_ID,
    OUTSIDER,
    PAUSER,
    PROJECT,
    REGISTRAR,
    REVOKER,
    ROOT,
    Env,
    address,
    brownie_available,
    finish,
    make_env,
)

pytestmark = [pytest.mark.brownie, pytest.mark.chain]

if not brownie_available():
    pytest.skip(
        "brownie's venv .venv-brownie is absent: run `make brownie-setup`",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("brownie"))


def test_deploy_writes_a_checked_manifest(env: Env) -> None:
    # A good deployment prints no traceback (brownie's own deployment record used to fail).
    assert "Traceback" not in env.deploy.text, env.deploy.err
    assert "AnchorRegistry deployed at" in env.deploy.out
    # The raw key of ANCHOR_DEPLOYER_KEY works, with a warning (brownie accounts are the default).
    assert "warning: signing with the raw private key of ANCHOR_DEPLOYER_KEY" in env.deploy.err
    m = env.manifest
    artifact = load_artifact()
    admin = address(ADMIN)
    assert m["network"] == env.network
    assert m["chainId"] == CHAIN_ID
    assert m["deployer"] == m["admin"] == admin
    assert m["adminDelay"] == 172_800  # a live network: 2 days by default
    assert m["artifactSha256"] == artifact.sha256
    assert m["compiler"] == artifact.compiler_version
    assert m["contractVersion"] == "2.1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(m["deployedAt"]))
    receipt = env.w3.eth.get_transaction_receipt(str(m["deploymentTx"]))
    assert receipt["contractAddress"] == m["address"]
    assert receipt["blockNumber"] == m["deploymentBlock"]
    assert env.w3.eth.get_transaction(str(m["deploymentTx"]))["gasPrice"] == 0  # free gas
    # The runtime code is the artifact's but for EIP-712's immutable words, which hold what this
    # chain and address give; another address, or one byte changed elsewhere, does not match.
    from scripts.deploy import runtime_matches

    code = bytes(env.w3.eth.get_code(str(m["address"])))
    expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    assert code != expected
    assert runtime_matches(code, expected, str(m["address"]), CHAIN_ID)
    assert not runtime_matches(code, expected, address(OUTSIDER), CHAIN_ID)
    assert not runtime_matches(code, expected, str(m["address"]), CHAIN_ID + 1)
    tampered = bytearray(code)
    tampered[100] ^= 1
    assert not runtime_matches(bytes(tampered), expected, str(m["address"]), CHAIN_ID)
    registry = env.registry
    contract = registry.contract
    assert contract.functions.defaultAdmin().call() == admin
    assert contract.functions.defaultAdminDelay().call() == 172_800
    # The admin holds no other role; each role went to the account given for it, the revoker's
    # only because it was asked for.
    for role, holder in (
        (REGISTRAR_ROLE, REGISTRAR), (PAUSER_ROLE, PAUSER), (REVOKER_ROLE, REVOKER),
    ):  # fmt: skip
        assert registry.has_role(role, address(holder))
        assert not registry.has_role(role, admin)
    assert registry.has_role(DEFAULT_ADMIN_ROLE, admin)
    for line in ("granted registrar to", "granted pauser to", "granted revoker to"):
        assert line in env.deploy.out


def test_deploy_on_a_development_network_has_no_delay_and_grants_no_revoker(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """brownie's `development` network: delay 0 by default; no revoker unless asked; a delay
    given on a live network below 2 days is taken with a warning (checked in the same run)."""
    tmp = tmp_path_factory.mktemp("dev-deploy")
    for e in make_env(tmp, deploy_args=(f"registrar={address(REGISTRAR)}", "delay=60")):
        assert e.manifest["adminDelay"] == 60
        assert "warning: an admin delay of 60 s on the live network" in e.deploy.err
        assert e.registry.has_role(REGISTRAR_ROLE, address(REGISTRAR))
        assert not e.registry.has_role(REVOKER_ROLE, address(REVOKER))
        assert not e.registry.has_role(PAUSER_ROLE, address(PAUSER))
        r = e.brownie("scripts/deploy.py", "main")  # live network: the manifest is kept
        assert r.code == 1
        assert "move that manifest away to deploy another." in r.err
        # brownie's development network, moved to a free port in this test's brownie home (its
        # default 8545 may be another checkout's anvil): brownie launches anvil there.
        port = _free_port()
        config_path = Path(e.env["ANCHOR_BROWNIE_HOME"]) / ".brownie" / "network-config.yaml"
        config = yaml.safe_load(config_path.read_text())
        for group in config["development"]:
            if group["id"] == "development":
                group["host"] = f"http://127.0.0.1:{port}"
                group.setdefault("cmd_settings", {})["port"] = port
        config_path.write_text(yaml.safe_dump(config))
        deployments = tmp / "dev-deployments"
        dev = subprocess.run(
            [str(BVENV / "brownie"), "run", "scripts/deploy.py", "main", "--network",
             "development"],
            cwd=PROJECT, env={**e.env, "ANCHOR_DEPLOYMENTS_DIR": str(deployments),
                              "ANCHOR_DEPLOYER_KEY": ""},
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        assert dev.returncode == 0, dev.stdout + dev.stderr
        manifest = json.loads((deployments / "development.json").read_text())
        assert manifest["adminDelay"] == 0
        assert "granted" not in dev.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_errors_are_one_sentence(env: Env) -> None:
    empty = env.tmp / "empty"
    empty.mkdir()
    wrong = env.tmp / "wrong"
    wrong.mkdir()
    network = env.network
    (wrong / f"{network}.json").write_text(json.dumps({**env.manifest, "chainId": 999}))
    nobody = address(OUTSIDER)
    registry = env.manifest["address"]
    cases: Sequence[tuple[tuple[str, ...], dict[str, str], str]] = [
        (
            ("scripts/pause.py", "status"),
            {"ANCHOR_DEPLOYMENTS_DIR": str(empty)},
            f"error: no deployment manifest for network '{network}' at {empty / network}.json: "
            f"deploy first (brownie run scripts/deploy.py --network {network}).",
        ),
        (
            ("scripts/pause.py", "status"),
            {"ANCHOR_DEPLOYMENTS_DIR": str(wrong)},
            f"error: wrong network: the manifest {network}.json is for chain id 999 but network "
            f"'{network}' is chain id {CHAIN_ID}.",
        ),
        (
            ("scripts/pause.py", "pause"),
            {"ANCHOR_DEPLOYER_KEY": dev_key(OUTSIDER)},
            f"error: account {nobody} lacks the pauser role on the registry at {registry}.",
        ),
        (
            ("scripts/pause.py", "pause"),
            {},  # the admin holds no pauser role unless granted
            f"error: account {address(ADMIN)} lacks the pauser role on the registry at {registry}.",
        ),
        (
            ("scripts/revoke.py", "root", "1", "0x1234", "1"),
            {},
            "error: root '0x1234' is not 32 bytes of hex (0x and 64 hex digits).",
        ),
        (
            ("scripts/deploy.py", "main", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            {},
            "error: argument '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' is not NAME=VALUE "
            "(one of admin, delay, registrar, pauser, revoker).",
        ),
        (
            ("scripts/pause.py", "status"),
            {"ANCHOR_RPC_URL": ""},
            f"error: ANCHOR_RPC_URL is not set: network '{network}' connects to $ANCHOR_RPC_URL; "
            "export ANCHOR_RPC_URL=http://<node>:8545 (a JSON-RPC URL of the network).",
        ),
        (("scripts/bodies.py", "frobnicate"), {}, "error: unknown function 'frobnicate'."),
    ]
    # One after the other: brownie rewrites build/.../map.json at start, and a second brownie
    # reading it mid-write fails with a JSONDecodeError.
    for args, extra, expected in cases:
        env.fails(expected, *args, **extra)
    r = env.brownie("scripts/bodies.py", "frobnicate")
    assert "brownie run scripts/bodies.py onboard KIND" in r.err  # the usage follows
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
    revoker = address(REVOKER)
    r = env.brownie("scripts/admin.py", "grant", "revoker", revoker, **signer)
    assert r.code == 1, r.out + r.err
    assert (
        f"error: the brownie account file {keystore} is readable by other users (mode 644); "
        f"run `chmod 600 {keystore}`."
    ) in r.err.splitlines()
    keystore.chmod(0o600)
    r = env.brownie("scripts/admin.py", "grant", "revoker", revoker, **signer)
    assert r.code == 0, r.out + r.err
    assert f"{revoker} already holds the revoker role; nothing sent" in r.out


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
        (
            lambda c, a: c.role_id("issuer"),
            "unknown role 'issuer': use one of admin, registrar, pauser, revoker.",
        ),
        (
            lambda c, a: a.parse_reason("70000"),
            "reason '70000' is not a code from 0 to 65535 (0 unspecified, 1 superseded, "
            "2 issued in error, 3 fraud, 4 withdrawn by the issuer, 5 annulled by a court).",
        ),
        (lambda c, a: a.parse_reason("-1"), None),
        (lambda c, a: a.parse_address("0x12"), None),
        (
            lambda c, a: a.parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267"),
            "address '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267' has a wrong checksum "
            "(a mistyped letter?).",
        ),
        (lambda c, a: a.parse_bytes32("0x" + "g" * 64, "root"), None),
        (
            lambda c, a: a.parse_time("2026-12-01T08:00", "since"),
            "since '2026-12-01T08:00' has no time zone: add Z (UTC) or an offset such as +01:00.",
        ),
        (
            lambda c, a: a.parse_time("yesterday", "from"),
            "from 'yesterday' is not a time: use ISO 8601 with a zone (2026-12-01T08:00:00Z), "
            "Unix seconds, or now.",
        ),
        (
            lambda c, a: a.parse_kind("village"),
            "kind 'village' is not a body kind: use one of commune, syndicate, social-office, "
            "childcare, state-body, other.",
        ),
        (
            lambda c, a: a.parse_purpose("signing"),
            "purpose 'signing' is not a key purpose: use anchoring or status.",
        ),
        (lambda c, a: a.parse_body("0"), "body id '0' is not a whole number from 1 to 4294967295."),
        (
            lambda c, a: a.options(["fr=A", "fr=B"], ("fr", "de")),
            "option fr= is given twice.",
        ),
        (
            lambda c, a: a.options(["nl=A"], ("fr", "de")),
            "unknown option 'nl': use fr=, de=.",
        ),
        (
            lambda c, a: a.validity({"from": ["2027-01-01T00:00:00Z"], "until": ["1700000000"]}),
            "the key would never be valid: until 2023-11-14T22:13:20Z is not after from "
            "2027-01-01T00:00:00Z.",
        ),
        (
            lambda c, a: a.validity({"until": ["now"]}),
            "until 'now' is not a time to come: leave until= out for an open-ended key, or "
            "retire a key with keys.py retire.",
        ),
    ],
)
def test_malformed_arguments(call: object, expected: str | None) -> None:
    from scripts import _args, _common

    with pytest.raises(_common.OperatorError) as raised:
        call(_common, _args)  # type: ignore[operator]
    if expected is not None:
        assert str(raised.value) == expected


def test_well_formed_arguments() -> None:
    from scripts import _args, _common

    for role in ("registrar", "pauser", "revoker"):
        expected = Web3.keccak(text=f"{role.upper()}_ROLE").hex().removeprefix("0x")
        assert _common.role_id(role.capitalize()) == "0x" + expected
    assert _common.role_id("admin") == "0x" + "00" * 32
    assert _args.parse_reason("65535") == 65535
    lower = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    assert _args.parse_address(lower) == Web3.to_checksum_address(lower)
    assert _common.REASONS[3] == "fraud"
    assert _args.parse_time("2026-12-01T09:00:00+01:00", "t") == 1796112000
    assert _args.parse_time("2026-12-01T08:00:00Z", "t") == 1796112000
    assert _args.parse_time("1796112000", "t") == 1796112000
    assert _args.parse_time("now", "t") == 0
    assert _args.parse_kind("Social_Office") == 2
    assert _args.parse_kind("state-body") == 4
    assert _args.parse_purpose("status") == 2
    assert _args.options(["registrar=0x1", "registrar=0x2"], ("registrar",), repeat=("registrar",))
    assert _args.validity({}) == (0, 0)
    assert _args.iso(2**64 - 1) == "open-ended"


def test_revert_data_becomes_one_sentence() -> None:
    """The registry's custom errors, decoded from their ABI in the committed artifact."""
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    from scripts import _chain

    class Registry:
        address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

    def data(signature: str, types: list[str], values: list[object]) -> str:
        return "0x" + (keccak(text=signature)[:4] + encode(types, values)).hex()

    schedule = 1796112000
    assert _chain.explain(
        Registry(), data("AccessControlEnforcedDefaultAdminDelay(uint48)", ["uint48"], [schedule]),
        "",
    ) == "the admin transfer can be accepted from 2026-12-01T08:00:01Z."  # fmt: skip
    assert (
        _chain.explain(Registry(), data("RegistryBodyRetired(uint32)", ["uint32"], [7]), "")
        == "body 7 is retired; a retired body cannot be changed."
    )
    assert _chain.explain(Registry(), "0xdeadbeef", "execution reverted: custom error") == (
        f"the registry at {Registry.address} refuses the transaction: custom error."
    )


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
    name = f"{env.network}.json"
    shutil.copy(env.deployments / name, deployments / name)
    r = finish(
        env.start("scripts/pause.py", "status", cwd=checkout,
                  extra={"ANCHOR_DEPLOYMENTS_DIR": str(deployments)})
    )  # fmt: skip
    assert r.code == 0, r.out + r.err
    assert "ModuleNotFoundError" not in r.out + r.err
    assert str(env.manifest["address"]) in r.out
