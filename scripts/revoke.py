"""Revoke one document (by its proof bundle) or a whole root, with a reason code.

    brownie run scripts/revoke.py document BUNDLE.json REASON --network NETWORK
    brownie run scripts/revoke.py root 0xROOT REASON --network NETWORK
    brownie run scripts/revoke.py help

REASON is a code from 0 to 65535; docs/operations.md defines the table:
    0 unspecified, 1 superseded, 2 issued in error, 3 fraud, 4 withdrawn by the issuer.
Revocation is permanent. The operator account (ANCHOR_BROWNIE_ACCOUNT or ANCHOR_DEPLOYER_KEY;
accounts[0] on development) must hold the revoker role, or be the issuer that anchored the root
and still hold the issuer role.

document reads the proof bundle that the service issued for the document: JSON with `root`,
`leaf` and `proof` as 0x hex, or the receipt of GET /v1/receipts/{id} that holds it. When the
bundle names a `chainId` or a `registry`, they must be those of deployments/<network>.json. The
proof must lead from the leaf to the root; then the script calls revokeDocument. root calls
revokeRoot: every document under the root is revoked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anchor.merkle.hashing import fold_proof
from scripts import _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def document(bundle_path: str, reason: str) -> None:
    """Revoke the document of the proof bundle ``bundle_path`` with ``reason``."""
    code = _common.parse_reason(reason)
    root, leaf, proof, bundle = _read_bundle(Path(bundle_path))
    manifest = _common.load_manifest()
    _check_bundle_target(bundle, manifest, bundle_path)
    contract, operator = _prepare(manifest, root)
    if contract.documentRevocation(root, leaf)[1] != 0:
        raise OperatorError(f"the document with leaf {leaf} is already revoked under root {root}.")
    contract.revokeDocument(root, proof, leaf, code, _common.tx(operator))
    print(f"revoked document leaf {leaf} under root {root}: reason {code} ({_reason(code)})")


@command
def root(root_hex: str, reason: str) -> None:
    """Revoke the whole root ``root_hex`` with ``reason``."""
    code = _common.parse_reason(reason)
    value = _common.parse_bytes32(root_hex, "root")
    manifest = _common.load_manifest()
    contract, operator = _prepare(manifest, value)
    if contract.rootRevocation(value)[1] != 0:
        raise OperatorError(f"the root {value} is already revoked.")
    contract.revokeRoot(value, code, _common.tx(operator))
    print(f"revoked root {value}: reason {code} ({_reason(code)})")


def _reason(code: int) -> str:
    return _common.reason_text(code)


def _read_bundle(path: Path) -> tuple[str, str, Any, dict[str, Any]]:
    try:
        bundle = json.loads(path.read_text())
    except OSError as e:
        raise OperatorError(f"cannot read the proof bundle {path}: {e.strerror}.") from e
    except ValueError as e:
        raise OperatorError(f"the proof bundle {path} is not JSON ({e}).") from e
    if isinstance(bundle, dict) and isinstance(bundle.get("proof"), dict):
        bundle = bundle["proof"]  # a receipt of GET /v1/receipts/{id}: the bundle is its proof
    if not isinstance(bundle, dict) or not all(k in bundle for k in ("root", "leaf", "proof")):
        raise OperatorError(f"the proof bundle {path} lacks one of the fields root, leaf, proof.")
    root_hex = _common.parse_bytes32(bundle["root"], "bundle root")
    leaf_hex = _common.parse_bytes32(bundle["leaf"], "bundle leaf")
    if not isinstance(bundle["proof"], type([])):
        raise OperatorError(f"the proof in {path} is not a list of 0x hex strings.")
    proof = [_common.parse_bytes32(p, "proof element") for p in bundle["proof"]]
    folded = fold_proof(bytes.fromhex(leaf_hex[2:]), [bytes.fromhex(p[2:]) for p in proof])
    if "0x" + folded.hex() != root_hex:
        raise OperatorError(
            f"the proof in {path} leads from its leaf to 0x{folded.hex()}, "
            f"not to its root {root_hex}."
        )
    return root_hex, leaf_hex, proof, bundle


def _check_bundle_target(bundle: dict[str, Any], manifest: dict[str, Any], path: str) -> None:
    if "chainId" in bundle and str(bundle["chainId"]) != str(manifest["chainId"]):
        raise OperatorError(
            f"the bundle {path} is for chain id {bundle['chainId']}, "
            f"but this network is chain id {manifest['chainId']}."
        )
    registry = bundle.get("registry")
    if registry and str(registry).lower() != str(manifest["address"]).lower():
        raise OperatorError(
            f"the bundle {path} is for the registry {registry}, not {manifest['address']}."
        )


def _prepare(manifest: dict[str, Any], root_hex: str) -> tuple[Any, Any]:
    """Return (contract, operator) once the root is anchored, the registry not paused, and the
    operator allowed to revoke under the root."""
    contract = _common.registry(manifest)
    issuer, anchored_at, _ = contract.anchorOf(root_hex)
    if anchored_at == 0:
        raise OperatorError(
            f"the root {root_hex} is not anchored on the registry {contract.address}."
        )
    if contract.paused():
        raise OperatorError(f"the registry {contract.address} is paused: unpause it first.")
    operator = _common.operator_account()
    if contract.hasRole(_common.role_id("revoker"), operator):
        return contract, operator
    if issuer == operator.address and contract.hasRole(_common.role_id("issuer"), operator):
        return contract, operator
    raise OperatorError(
        f"account {operator.address} lacks the revoker role and is not the current issuer "
        f"that anchored root {root_hex}."
    )


_common.check_function(__file__, ("main", "help", "document", "root"), USAGE)
