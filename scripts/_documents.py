"""Documents named by their proof bundles, and who may change their statuses: for the
operator scripts that change statuses (`scripts/revoke.py`, `scripts/status.py`).

A proof bundle file is the JSON the service issued for a document (version 1 or 2): `root`,
`leaf` and `proof` as 0x hex, or the receipt of GET /v1/receipts/{id} that holds it as `proof`.
`read_bundle` checks that the proof leads from the leaf to the root; `check_bundle_target` that
the bundle's `chainId`, `registry` and `issuer` key, when it names them, are this network's and
a key of the body given; `status_account` that the signing account may change the body's
statuses. Each failed check is one sentence (`OperatorError`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anchor.merkle.hashing import fold_proof
from scripts import _args, _chain, _common
from scripts._common import OperatorError


def read_bundle(path: Path) -> tuple[str, str, Any, dict[str, Any]]:
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


def check_bundle_target(
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


def status_account(contract: Any, body_id: int, root_hex: str) -> Any:
    """Return the signing account once the root is anchored by the body and the account may
    change its statuses (the revoker role, or a status key of that body valid now)."""
    body = _chain.body_of(contract, body_id)
    if int(contract.anchorOf(body_id, root_hex)[1]) == 0:
        raise OperatorError(
            f"body {body_id} has not anchored the root {root_hex} on the registry "
            f"{contract.address}."
        )
    operator = _common.operator_account()
    if contract.hasRole(_common.role_id("revoker"), operator):
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
