"""What the operator scripts share: the manifest, the signing account, fees, roles, errors.

Runs inside brownie's own venv (`.venv-brownie`), which has brownie's web3 and safe-pysha3 but
not the `anchor` package installed: the project root is put on ``sys.path`` so that the modules
that need only web3 import (`anchor.errors`, `anchor.types`, `anchor.merkle.hashing`, the fee
policy `anchor.chain.fees`, the binding's `anchor.chain.registry.decode_revert`). Every check
that can fail raises `OperatorError` with one sentence; `command` turns it into that sentence on
stderr and exit status 1, instead of brownie's traceback. The arguments' convention is
`scripts/_args.py`'s; sending and reading the registry, with its custom errors turned into
sentences, is `scripts/_chain.py`'s.

Environment:
    ANCHOR_BROWNIE_ACCOUNT   brownie account id (``brownie accounts new <id>``) that signs;
                             its file must be mode 0600 (brownie writes 0644: chmod 600 it);
                             its password from ANCHOR_BROWNIE_ACCOUNT_PASSWORD_FILE (a file of
                             mode 0600), ANCHOR_BROWNIE_ACCOUNT_PASSWORD, or a prompt
    ANCHOR_DEPLOYER_KEY      or a 0x private key that signs, with a warning (development:
                             accounts[0] by default)
    ANCHOR_DEPLOYMENTS_DIR   folder of the manifests (default: <project>/deployments)
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from anchor.errors import AnchorError  # noqa: E402
from anchor.types import REVOCATION_REASONS, reason_name  # noqa: E402

ARTIFACT = ROOT / "anchor" / "chain" / "AnchorRegistry.json"
_ZERO32 = "0x" + "00" * 32
#: Role names as the operator spells them (docs/registry.md, "Roles").
ROLE_NAMES = ("admin", "registrar", "pauser", "revoker")
#: Revocation reason codes: the one table of `anchor.types` (docs/operations.md shows it).
REASONS = REVOCATION_REASONS

F = TypeVar("F", bound=Callable[..., Any])


class OperatorError(AnchorError):
    """A check of an operator script failed; the message is one sentence for the operator."""


def role_id(name: str) -> str:
    """Return the bytes32 identifier (0x hex) of a role named as in `ROLE_NAMES`."""
    from web3 import Web3

    key = str(name).strip().lower()
    if key == "admin":
        return _ZERO32
    if key in ROLE_NAMES:
        return "0x" + Web3.keccak(text=f"{key.upper()}_ROLE").hex().removeprefix("0x")
    raise OperatorError(f"unknown role {name!r}: use one of {', '.join(ROLE_NAMES)}.")


# --- manifest --------------------------------------------------------------------------------


def deployments_dir() -> Path:
    """Return the folder of the deployment manifests."""
    return Path(os.environ.get("ANCHOR_DEPLOYMENTS_DIR") or ROOT / "deployments")


def manifest_path(network_id: str) -> Path:
    """Return the manifest path of a brownie network id."""
    return deployments_dir() / f"{network_id}.json"


def artifact() -> tuple[dict[str, Any], str]:
    """Return the committed artifact and the 0x sha256 of its file."""
    raw = ARTIFACT.read_bytes()
    return json.loads(raw), "0x" + hashlib.sha256(raw).hexdigest()


def active_network() -> str:
    """Return the id of the network brownie is connected to."""
    from brownie import network

    active = network.show_active()
    if not active:
        raise OperatorError("brownie is not connected to a network: pass --network <id>.")
    return str(active)


def check_configured_chain() -> None:
    """Fail unless a live network's registered chain id is the one its node answers."""
    from brownie import chain
    from brownie._config import CONFIG

    if CONFIG.network_type != "live":
        return
    configured = CONFIG.active_network.get("chainid")
    if configured is not None and str(configured) != str(chain.id):
        raise OperatorError(
            f"network {active_network()!r} is registered with chain id {configured} but its "
            f"node answers chain id {chain.id}: check ANCHOR_RPC_URL and ANCHOR_CHAIN_ID, then "
            "run scripts/setup_networks.py again."
        )


def load_manifest() -> dict[str, Any]:
    """Return the manifest of the active network, checked against the chain it is connected to."""
    from brownie import chain, web3

    network_id = active_network()
    check_configured_chain()
    path = manifest_path(network_id)
    if not path.exists():
        raise OperatorError(
            f"no deployment manifest for network {network_id!r} at {path}: "
            f"deploy first (brownie run scripts/deploy.py --network {network_id})."
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
        chain_id, address = int(manifest["chainId"]), str(manifest["address"])
    except (ValueError, KeyError, TypeError) as e:
        raise OperatorError(f"the manifest {path} is not a deployment manifest ({e}).") from e
    if chain_id != chain.id:
        raise OperatorError(
            f"wrong network: the manifest {path.name} is for chain id {chain_id} "
            f"but network {network_id!r} is chain id {chain.id}."
        )
    if len(web3.eth.get_code(address)) == 0:
        raise OperatorError(
            f"no contract at {address} on network {network_id!r} (chain reset since the "
            f"deployment recorded in {path.name}?)."
        )
    return manifest


def registry(manifest: dict[str, Any]) -> Any:
    """Return a brownie `Contract` for the registry of the manifest, with the committed ABI."""
    from brownie import Contract

    abi = artifact()[0]["abi"]
    return Contract.from_abi("AnchorRegistry", manifest["address"], abi, persist=False)


# --- account and fees ------------------------------------------------------------------------


def operator_account() -> Any:
    """Return the account that signs: ANCHOR_BROWNIE_ACCOUNT, ANCHOR_DEPLOYER_KEY, or accounts[0]
    on a development network."""
    from brownie import accounts, network

    if account_id := os.environ.get("ANCHOR_BROWNIE_ACCOUNT"):
        _check_account_file(account_id)
        password = _account_password()
        try:
            return (
                accounts.load(account_id, password=password)
                if password
                else accounts.load(account_id)
            )
        except (FileNotFoundError, ValueError) as e:
            raise OperatorError(f"cannot load brownie account {account_id!r}: {e}.") from e
    if key := os.environ.get("ANCHOR_DEPLOYER_KEY"):
        print(
            "warning: signing with the raw private key of ANCHOR_DEPLOYER_KEY, which any process "
            "of this user can read; for a real network use an encrypted brownie account "
            "(brownie accounts new <id>, then ANCHOR_BROWNIE_ACCOUNT=<id>).",
            file=sys.stderr,
        )
        try:
            return accounts.add(key.strip())
        except (ValueError, TypeError) as e:
            raise OperatorError("ANCHOR_DEPLOYER_KEY is not a valid private key.") from e
    if network.is_connected() and _is_development() and len(accounts) > 0:
        return accounts[0]
    raise OperatorError(
        f"no signing account for network {active_network()!r}: set ANCHOR_BROWNIE_ACCOUNT "
        "(a brownie account id) or ANCHOR_DEPLOYER_KEY (a private key)."
    )


def _check_account_file(account_id: str) -> None:
    """Refuse a brownie account file that its group or others can read.

    `brownie accounts new` writes the keystore with mode 0644; `chmod 600` it once.
    """
    from brownie._config import _get_data_folder

    from anchor.private_files import check_private

    path = Path(_get_data_folder()) / "accounts" / f"{account_id}.json"
    if not path.exists():
        raise OperatorError(
            f"there is no brownie account {account_id!r} at {path}: create it with "
            f"`brownie accounts new {account_id}`, then `chmod 600 {path}`."
        )
    try:
        check_private(path, "brownie account file")
    except AnchorError as e:
        raise OperatorError(f"{str(e).rstrip('.')}.") from e


def _account_password() -> str | None:
    """The brownie account's password: from a private file, the environment, or None (prompt)."""
    from anchor.private_files import read_private_text

    if path := os.environ.get("ANCHOR_BROWNIE_ACCOUNT_PASSWORD_FILE"):
        try:
            return read_private_text(Path(path), "password file").rstrip("\n")
        except AnchorError as e:
            raise OperatorError(f"{e}.") from e
    return os.environ.get("ANCHOR_BROWNIE_ACCOUNT_PASSWORD")


def _is_development() -> bool:
    from brownie._config import CONFIG

    return CONFIG.network_type == "development"


def fee_params() -> dict[str, int]:
    """Return explicit fee fields for brownie from the latest block's base fee.

    The one fee policy, `anchor.chain.fees.fee_fields_for`: a legacy transaction with gas price 0
    on a free-gas chain (base fee 0), else EIP-1559 with a 1 gwei tip and a max fee of twice the
    base fee plus the tip. Never the node's suggestion.
    """
    from brownie import web3

    return brownie_fees(int(web3.eth.get_block("latest").get("baseFeePerGas", 0) or 0))


def brownie_fees(base_fee: int) -> dict[str, int]:
    """The fields of `anchor.chain.fees.fee_fields_for` under brownie's names."""
    from anchor.chain.fees import fee_fields_for

    names = {
        "gasPrice": "gas_price",
        "maxFeePerGas": "max_fee",
        "maxPriorityFeePerGas": "priority_fee",
    }
    return {names[k]: v for k, v in fee_fields_for(base_fee).items()}


def tx(account: Any) -> dict[str, Any]:
    """Return the transaction parameters for brownie: sender and explicit fees."""
    return {"from": account, **fee_params()}


def require_role(contract: Any, role: str, account: Any) -> None:
    """Fail with one sentence unless ``account`` holds ``role`` (one of `ROLE_NAMES`)."""
    if not contract.hasRole(role_id(role), account):
        raise OperatorError(
            f"account {account} lacks the {role} role on the registry at {contract.address}."
        )


def prepare(role: str) -> tuple[Any, Any]:
    """Return (registry, signing account) once the account is known to hold ``role``."""
    contract = registry(load_manifest())
    account = operator_account()
    require_role(contract, role, account)
    return contract, account


def reason_text(code: int) -> str:
    """Return the name of a reason code."""
    return reason_name(code)


# --- entry points ----------------------------------------------------------------------------


def fail(message: str) -> NoReturn:
    """Print one sentence on stderr and exit with status 1."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def command(func: F) -> F:
    """Turn `OperatorError` and a reverted transaction into one sentence and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from brownie.exceptions import VirtualMachineError

        try:
            inspect.signature(func).bind(*args, **kwargs)
        except TypeError as e:
            fail(f"wrong arguments for {func.__name__}: {e} (run the help function).")
        try:
            return func(*args, **kwargs)
        except OperatorError as e:
            fail(str(e))
        except VirtualMachineError as e:
            fail(f"the registry rejected the transaction: {e.revert_msg or e}.")

    return wrapper  # type: ignore[return-value]


def check_function(script_file: str, names: Iterable[str], usage: str) -> None:
    """Show the usage and exit 1 when `brownie run` asks this script for an unknown function.

    brownie reports a missing function with a traceback; this runs at import, from the
    command line brownie was given, so the operator sees the usage instead.
    """
    argv = sys.argv
    if len(argv) < 3 or Path(argv[0]).name != "brownie" or argv[1] != "run":
        return
    positional: list[str] = []
    skip = False
    for token in argv[2:]:
        if skip:
            skip = False
        elif token == "--network":
            skip = True
        elif not token.startswith("-"):
            positional.append(token)
    if not positional or Path(positional[0]).with_suffix(".py").name != Path(script_file).name:
        return
    function = positional[1] if len(positional) > 1 else "main"
    if function not in set(names):
        print(f"error: unknown function {function!r}.\n\n{usage}", file=sys.stderr, flush=True)
        sys.exit(1)
