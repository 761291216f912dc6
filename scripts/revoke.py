"""Revoke one document (by its proof bundle) or a whole root of a body, with a reason code.

    brownie run scripts/revoke.py document BODY BUNDLE.json REASON --network NETWORK
    brownie run scripts/revoke.py root BODY 0xROOT REASON --network NETWORK
    brownie run scripts/revoke.py history BODY 0xROOT [leaf=0xLEAF] --network NETWORK
    brownie run scripts/revoke.py help

BODY is the id of the body that anchored the root (bodies.py list): a root is anchored per body.
REASON is a code from 0 to 65535; docs/operations.md defines the table:
    0 unspecified, 1 superseded, 2 issued in error, 3 fraud, 4 withdrawn by the issuer,
    5 annulled by a court; 16 to 65535 site-specific. scripts/status.py suspends, lifts,
    supersedes and extends.
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

from pathlib import Path
from typing import Any

from scripts import _args, _chain, _common, _documents
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
    root, leaf, proof, bundle = _documents.read_bundle(Path(bundle_path))
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    _documents.check_bundle_target(contract, bundle, manifest, bundle_path, body_id)
    operator = _documents.status_account(contract, body_id, root)
    _refuse_revoked(contract, body_id, root, leaf)
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
    operator = _documents.status_account(contract, body_id, value)
    _refuse_revoked(contract, body_id, value, _args.ZERO32)
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
