"""Change a document's status by its proof bundle: suspend, lift, revoke, supersede, extend.

    brownie run scripts/status.py suspend BODY BUNDLE.json REASON --network NETWORK
    brownie run scripts/status.py lift BODY BUNDLE.json --network NETWORK
    brownie run scripts/status.py revoke BODY BUNDLE.json REASON --network NETWORK
    brownie run scripts/status.py supersede BODY BUNDLE.json SUCCESSOR.json --network NETWORK
    brownie run scripts/status.py extend BODY BUNDLE.json YYYY-MM-DD --network NETWORK
    brownie run scripts/status.py show BODY BUNDLE.json --network NETWORK
    brownie run scripts/status.py help

BODY is the id of the body that anchored the document's root (bodies.py list). BUNDLE.json is
the proof bundle the service issued for the document (version 1 or 2), or the receipt of
GET /v1/receipts/{id} that holds it. docs/operations.md, "Changing a document's status", has
the reason tables:
    suspension 0 unspecified, 1 suspended by a court, 2 suspended by the issuer;
    revocation 0 unspecified, 1 superseded, 2 issued in error, 3 fraud,
               4 withdrawn by the issuer, 5 annulled by a court;
    16 to 65535 site-specific.
suspend: in force -> suspended (lift undoes it). revoke and supersede are final; supersede names
the successor by its own bundle, a document of the same body anchored already. extend: the
document is valid through that day (UTC), which must not have passed and must be after the
last extension's. show prints the document's state and its history.

The signing account (ANCHOR_BROWNIE_ACCOUNT or ANCHOR_DEPLOYER_KEY; accounts[0] on
development) must hold the revoker role, or be a status key of that body valid now; an
anchoring key never changes statuses. Every change is checked against the registry's
documentState first, then replayed with eth_call: a refusal is one sentence, exit status 1.
pause.py pause does not stop status changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from anchor.chain.lifecycle import DocumentRef, change_call, day_of, refusal
from anchor.chain.registry import ChangeKind, DocumentState
from anchor.types import REVOCATION_REASONS, SUSPENSION_REASONS, StatusChangeKind
from scripts import _args, _chain, _common, _documents
from scripts._common import OperatorError, command

USAGE = __doc__ or ""
_STATE_NAMES = {
    ChangeKind.NONE: "in force",
    ChangeKind.SUSPENDED: "suspended",
    ChangeKind.REVOKED: "revoked",
    ChangeKind.SUPERSEDED: "superseded",
}


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def suspend(body: str, bundle_path: str, reason: str) -> None:
    """Suspend the document of ``bundle_path`` with a suspension ``reason``."""
    code = _args.parse_reason(reason)
    _change(StatusChangeKind.SUSPEND, body, bundle_path, reason=code)
    print(f"  reason {code} ({_name(SUSPENSION_REASONS, code)})")


@command
def lift(body: str, bundle_path: str) -> None:
    """Lift the suspension of the document of ``bundle_path``."""
    _change(StatusChangeKind.LIFT, body, bundle_path)


@command
def revoke(body: str, bundle_path: str, reason: str) -> None:
    """Revoke the document of ``bundle_path`` with a revocation ``reason`` (final)."""
    code = _args.parse_reason(reason)
    _change(StatusChangeKind.REVOKE, body, bundle_path, reason=code)
    print(f"  reason {code} ({_name(REVOCATION_REASONS, code)})")


@command
def supersede(body: str, bundle_path: str, successor_path: str) -> None:
    """Supersede the document of ``bundle_path`` by the one of ``successor_path`` (final)."""
    _change(StatusChangeKind.SUPERSEDE, body, bundle_path, successor_path=successor_path)


@command
def extend(body: str, bundle_path: str, day: str) -> None:
    """Extend the validity of the document of ``bundle_path`` through ``day`` (UTC)."""
    _change(StatusChangeKind.EXTEND, body, bundle_path, valid_until=_parse_day(day))


@command
def show(body: str, bundle_path: str) -> None:
    """Print the document's state and its status changes."""
    body_id = _args.parse_body(body)
    root, leaf, _, bundle = _documents.read_bundle(Path(bundle_path))
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    _documents.check_bundle_target(contract, bundle, manifest, bundle_path, body_id)
    _chain.body_of(contract, body_id)
    state = DocumentState.of(contract.documentState(body_id, root, leaf))
    print(f"body {body_id} root {root} leaf {leaf}: {_describe(state)}")
    for change in contract.historyOf(body_id, root, leaf):
        kind = ChangeKind(int(change[0]))
        note = "  ANNULLED" if bool(change[4]) else ""
        print(f"  {kind.name.lower()} reason {int(change[1])} at {_args.iso(int(change[2]))} by "
              f"{change[3]}{note}")  # fmt: skip


def _change(
    kind: StatusChangeKind,
    body: str,
    bundle_path: str,
    *,
    reason: int | None = None,
    valid_until: date | None = None,
    successor_path: str | None = None,
) -> None:
    body_id = _args.parse_body(body)
    root, leaf, proof, bundle = _documents.read_bundle(Path(bundle_path))
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    _documents.check_bundle_target(contract, bundle, manifest, bundle_path, body_id)
    document = DocumentRef(body_id, _b(root), tuple(_b(p) for p in proof), _b(leaf))
    successor = None
    if successor_path is not None:
        s_root, s_leaf, s_proof, s_bundle = _documents.read_bundle(Path(successor_path))
        _documents.check_bundle_target(contract, s_bundle, manifest, successor_path, body_id)
        if (s_root, s_leaf) == (root, leaf):
            raise OperatorError(
                f"the successor {successor_path} is the document itself: name another one."
            )
        if int(contract.anchorOf(body_id, s_root)[1]) == 0:
            raise OperatorError(
                f"body {body_id} has not anchored the successor's root {s_root}: anchor the "
                "successor first."
            )
        successor = DocumentRef(body_id, _b(s_root), tuple(_b(p) for p in s_proof), _b(s_leaf))
    operator = _documents.status_account(contract, body_id, root)
    state = DocumentState.of(contract.documentState(body_id, root, leaf))
    root_revoked = any(
        c.kind_name == "revoked" and not c.annulled
        for c in _chain.history_of(contract, body_id, root, _args.ZERO32)
    )
    now = datetime.fromtimestamp(_chain.now(), UTC)
    why = refusal(kind, state, root_revoked=root_revoked, valid_until=valid_until, now=now)
    if why is not None:
        raise OperatorError(f"{why}.")
    name, args = change_call(
        kind, document, reason=reason, valid_until=valid_until, successor=successor
    )
    _chain.send(contract, name, args, operator)
    after = DocumentState.of(contract.documentState(body_id, root, leaf))
    print(f"{kind.value}: body {body_id} root {root} leaf {leaf} is now {_describe(after)}")


def _describe(state: DocumentState) -> str:
    text = _STATE_NAMES.get(ChangeKind(int(state.state)), str(state.state))
    if state.since:
        text += f" since {_args.iso(state.since)}"
    if state.state == ChangeKind.SUPERSEDED:
        successor = bytes(state.successor_root).hex(), bytes(state.successor_leaf).hex()
        text += f" by root 0x{successor[0]} leaf 0x{successor[1]}"
    if state.valid_until:
        text += f", valid through {day_of(state.valid_until).isoformat()}"
    return f"{text} ({state.changes} change(s))"


def _parse_day(text: str) -> date:
    value = str(text).strip()
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise OperatorError(
            f"day {value!r} is not a day written YYYY-MM-DD (the last day the document is valid)."
        ) from None


def _name(table: dict[int, str], code: int) -> str:
    return table.get(code, "site-specific")


def _b(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text[2:])


_common.check_function(
    __file__, ("main", "help", "suspend", "lift", "revoke", "supersede", "extend", "show"), USAGE
)
