"""Revoke one document (by its proof bundle) or a whole root of a body, with a reason code.

    brownie run scripts/revoke.py document BODY BUNDLE.json REASON --network NETWORK
    brownie run scripts/revoke.py root BODY 0xROOT REASON --network NETWORK
    brownie run scripts/revoke.py history BODY 0xROOT [leaf=0xLEAF] --network NETWORK
    brownie run scripts/revoke.py help

BODY is the id of the body that anchored the root (bodies.py list): a root is anchored per body.
REASON is a code from 0 to 65535; docs/operations.md defines the table:
    0 unspecified, 1 superseded, 2 issued in error, 3 fraud, 4 withdrawn by the issuer.
A revocation is public and stays in the history; only the registrar can annul one, and only
when it was made by a key marked compromised at or before its time (keys.py annul). The signing
account (ANCHOR_BROWNIE_ACCOUNT or ANCHOR_DEPLOYER_KEY; accounts[0] on development) must hold
the revoker role, or be a status key of that body valid now; an anchoring key never changes
statuses. pause.py pause does not stop revocations.

document reads the proof bundle that the service issued for the document: JSON with `root`,
`leaf` and `proof` as 0x hex, or the receipt of GET /v1/receipts/{id} that holds it. When the
bundle names a `chainId`, a `registry` or an `issuer` key, they must be those of
deployments/<network>.json and of a key of BODY. The proof must lead from the leaf to the root;
then the script calls revokeDocument. root calls revokeRoot: every document under the root is
revoked. history prints the status changes of a document (or of the root without leaf=), each
with the index that keys.py annul takes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anchor.merkle.hashing import fold_proof
from scripts import _args, _chain, _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def document(body: str, bundle_path: str, reason: str) -> None:
    """Revoke the document of the proof bundle ``bundle_path`` of body ``body`` with ``reason``."""
    body_id = _args.parse_body(body)
    code = _args.parse_reason(reason)
    root, leaf, proof, bundle = _read_bundle(Path(bundle_path))
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    _check_bundle_target(contract, bundle, manifest, bundle_path, body_id)
    operator = _prepare(contract, body_id, root, leaf)
    _chain.send(contract, "revokeDocument", (body_id, root, proof, leaf, code), operator)
    print(
        f"revoked document leaf {leaf} under root {root} of body {body_id}: "
        f"reason {code} ({_reason(code)})"
    )


@command
def root(body: str, root_hex: str, reason: str) -> None:
    """Revoke the whole root ``root_hex`` of body ``body`` with ``reason``."""
    body_id = _args.parse_body(body)
    code = _args.parse_reason(reason)
    value = _args.parse_bytes32(root_hex, "root")
    contract = _common.registry(_common.load_manifest())
    operator = _prepare(contract, body_id, value, _args.ZERO32)
    _chain.send(contract, "revokeRoot", (body_id, value, code), operator)
    print(f"revoked root {value} of body {body_id}: reason {code} ({_reason(code)})")


@command
def history(body: str, root_hex: str, *specs: str) -> None:
    """Print the status changes of a document (``leaf=``) or of the root itself."""
    body_id = _args.parse_body(body)
    value = _args.parse_bytes32(root_hex, "root")
    leaf_hex = _args.one(_args.options(specs, ("leaf",)), "leaf")
    leaf = _args.parse_bytes32(leaf_hex, "leaf") if leaf_hex else _args.ZERO32
    contract = _common.registry(_common.load_manifest())
    _chain.body_of(contract, body_id)
    what = "the root itself" if leaf == _args.ZERO32 else f"leaf {leaf}"
    changes = _chain.history_of(contract, body_id, value, leaf)
    print(f"body {body_id} root {value}, {what}: {len(changes)} status change(s)")
    for c in changes:
        note = "  ANNULLED" if c.annulled else ""
        print(
            f"  #{c.index} {c.kind_name} reason {c.reason} ({_reason(c.reason)}) at "
            f"{_args.iso(c.at)} by {c.actor}{note}"
        )


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
    root_hex = _args.parse_bytes32(bundle["root"], "bundle root")
    leaf_hex = _args.parse_bytes32(bundle["leaf"], "bundle leaf")
    if not isinstance(bundle["proof"], type([])):
        raise OperatorError(f"the proof in {path} is not a list of 0x hex strings.")
    proof = [_args.parse_bytes32(p, "proof element") for p in bundle["proof"]]
    folded = fold_proof(bytes.fromhex(leaf_hex[2:]), [bytes.fromhex(p[2:]) for p in proof])
    if "0x" + folded.hex() != root_hex:
        raise OperatorError(
            f"the proof in {path} leads from its leaf to 0x{folded.hex()}, "
            f"not to its root {root_hex}."
        )
    return root_hex, leaf_hex, proof, bundle


def _check_bundle_target(
    contract: Any, bundle: dict[str, Any], manifest: dict[str, Any], path: str, body_id: int
) -> None:
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
    if issuer := bundle.get("issuer"):
        key = _chain.key_of(contract, _args.parse_address(issuer, "bundle issuer"))
        if key.body_id != body_id:
            owner = f"body {key.body_id}" if key.body_id else "no body"
            raise OperatorError(
                f"the bundle {path} was anchored by key {key.address} of {owner}, not of "
                f"body {body_id}."
            )


def _prepare(contract: Any, body_id: int, root_hex: str, leaf: str) -> Any:
    """Return the signing account once the root is anchored by the body, the account allowed to
    change its statuses, and the document (or root) not revoked already."""
    body = _chain.body_of(contract, body_id)
    if int(contract.anchorOf(body_id, root_hex)[1]) == 0:
        raise OperatorError(
            f"body {body_id} has not anchored the root {root_hex} on the registry "
            f"{contract.address}."
        )
    operator = _common.operator_account()
    if contract.hasRole(_common.role_id("revoker"), operator):
        _refuse_revoked(contract, body_id, root_hex, leaf)
        return operator
    key = _chain.key_of(contract, operator.address)
    if key.body_id == body_id and key.purpose_name == "anchoring":
        raise OperatorError(
            f"account {operator.address} is an anchoring key of body {body_id}; anchoring keys "
            "never change statuses: sign with the body's status key or a revoker's account."
        )
    if key.body_id == body_id and key.purpose_name == "status":
        if body.status_name != "active":
            raise OperatorError(
                f"body {body_id} is {body.status_name}; its keys cannot change statuses "
                "(a revoker still can)."
            )
        if not key.valid_at(_chain.now()):
            raise OperatorError(_chain.explain_key(contract, operator.address))
        _refuse_revoked(contract, body_id, root_hex, leaf)
        return operator
    if key.body_id:
        raise OperatorError(
            f"account {operator.address} is a {key.purpose_name} key of body {key.body_id}, "
            f"not of body {body_id}, and lacks the revoker role."
        )
    raise OperatorError(
        f"account {operator.address} lacks the revoker role and is not a status key of "
        f"body {body_id}."
    )


def _refuse_revoked(contract: Any, body_id: int, root_hex: str, leaf: str) -> None:
    counted = [c for c in _chain.history_of(contract, body_id, root_hex, leaf) if not c.annulled]
    if counted and counted[-1].kind_name == "revoked":
        what = (
            f"the root {root_hex} of body {body_id}"
            if leaf == _args.ZERO32
            else f"the document {leaf} under root {root_hex} of body {body_id}"
        )
        raise OperatorError(f"{what} is already revoked (since {_args.iso(counted[-1].at)}).")


_common.check_function(__file__, ("main", "help", "document", "root", "history"), USAGE)
