"""A document's life on chain, for the service: which change makes sense now, and its call.

`refusal` says, in one sentence, why a requested change makes no sense for the state the
registry's ``documentState`` folds (and the root's own revocation): the API answers 409 with it
before storing anything. `change_call` is the registry function and its arguments for a change
(docs/registry.md, "A document's life"); `explain_revert` turns the registry's refusal of one
into one sentence, the ``error`` of a failed change. `day_start` is the contract's ``until``:
the Unix time of 00:00 UTC of the last valid day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from web3 import Web3

from anchor.chain.registry import ChangeKind, DocumentState, decode_revert
from anchor.types import StatusChangeKind

__all__ = [
    "DocumentRef",
    "change_call",
    "day_of",
    "day_start",
    "explain_revert",
    "refusal",
]

DAY = 86_400
_EPOCH = date(1970, 1, 1)

#: How a state reads in a sentence.
_STATE_WORDS = {
    ChangeKind.NONE: "in force",
    ChangeKind.SUSPENDED: "suspended",
    ChangeKind.REVOKED: "revoked",
    ChangeKind.SUPERSEDED: "superseded",
    ChangeKind.LIFTED: "in force",
    ChangeKind.EXTENDED: "in force",
}
_CHANGE_WORDS = {
    ChangeKind.REVOKED: "revoke",
    ChangeKind.SUSPENDED: "suspend",
    ChangeKind.LIFTED: "lift the suspension of",
    ChangeKind.SUPERSEDED: "supersede",
    ChangeKind.EXTENDED: "extend",
}


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document on chain: the body that anchored its root, the root, its proof and leaf."""

    body_id: int
    root: bytes
    proof: tuple[bytes, ...]
    leaf: bytes


def day_start(day: date) -> int:
    """The contract's ``until`` of a last valid day: Unix time of its 00:00 UTC."""
    return (day - _EPOCH).days * DAY


def day_of(until: int) -> date:
    """The day whose 00:00 UTC is ``until`` (the inverse of `day_start`)."""
    return _EPOCH + timedelta(days=until // DAY)


def refusal(
    kind: StatusChangeKind,
    state: DocumentState,
    *,
    root_revoked: bool,
    valid_until: date | None = None,
    now: datetime | None = None,
) -> str | None:
    """Why ``kind`` makes no sense for a document in ``state`` (None when it does).

    The contract's table: suspend from in force only; lift from suspended only; revoke,
    supersede and extend from in force or suspended; nothing after a revocation (of the
    document or of its root) or a supersession; an extension's day not passed and after the
    last extension's.
    """
    if root_revoked:
        return "the document's root is revoked, so its documents cannot change any more"
    if state.state in (ChangeKind.REVOKED, ChangeKind.SUPERSEDED):
        word = _STATE_WORDS[state.state]
        since = f" since {_iso(state.since)}" if state.since else ""
        return f"the document is {word}{since}; a {word} document cannot change any more"
    if kind is StatusChangeKind.SUSPEND and state.state == ChangeKind.SUSPENDED:
        return f"the document is suspended already (since {_iso(state.since)}); lift it first"
    if kind is StatusChangeKind.LIFT and state.state != ChangeKind.SUSPENDED:
        return "the document is not suspended, so there is no suspension to lift"
    if kind is StatusChangeKind.EXTEND and valid_until is not None:
        today = (now or datetime.now(UTC)).astimezone(UTC).date()
        if valid_until < today:
            return f"the day {valid_until.isoformat()} has passed; extend to today or later"
        if state.valid_until and day_start(valid_until) <= state.valid_until:
            last = day_of(state.valid_until).isoformat()
            return (
                f"the document is valid through {last} already; an extension must end after "
                "that day"
            )
    return None


def change_call(
    kind: StatusChangeKind,
    document: DocumentRef,
    *,
    reason: int | None = None,
    valid_until: date | None = None,
    successor: DocumentRef | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """The registry function of a change and its arguments (for ``contract.functions``)."""
    head = (document.body_id, document.root, list(document.proof), document.leaf)
    if kind is StatusChangeKind.SUSPEND:
        return "suspendDocument", (*head, int(reason or 0))
    if kind is StatusChangeKind.LIFT:
        return "liftSuspension", head
    if kind is StatusChangeKind.REVOKE:
        return "revokeDocument", (*head, int(reason or 0))
    if kind is StatusChangeKind.SUPERSEDE:
        if successor is None:
            raise ValueError("a supersession needs its successor")
        if successor.body_id != document.body_id:
            raise ValueError("a successor is a document of the same body")
        return "supersedeDocument", (
            *head, successor.root, list(successor.proof), successor.leaf
        )  # fmt: skip
    if valid_until is None:
        raise ValueError("an extension needs its last valid day")
    return "extendValidity", (*head, day_start(valid_until))


def explain_revert(data: object, fallback: str = "") -> str:
    """One sentence for the registry's refusal of a change (revert data ``data``)."""
    decoded = decode_revert(data) if isinstance(data, str | bytes) and data else None
    if decoded is None:
        text = fallback.removeprefix("execution reverted: ").strip().rstrip(".")
        return f"the registry refuses the change: {text or 'reverted without a reason'}"
    name, args = decoded
    sentence = _SENTENCES.get(name)
    if sentence is not None:
        try:
            return sentence(*args)
        except (TypeError, ValueError):
            pass
    shown = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in args)
    return f"the registry refuses the change: {name}({shown})"


def _iso(t: int) -> str:
    return datetime.fromtimestamp(int(t), UTC).isoformat().replace("+00:00", "Z")


def _kind_word(value: int, words: dict[ChangeKind, str]) -> str:
    try:
        return words[ChangeKind(int(value))]
    except (KeyError, ValueError):
        return str(value)


def _bad_transition(_body: int, _root: bytes, _leaf: bytes, state: int, change: int) -> str:
    return (
        f"the registry refuses to {_kind_word(change, _CHANGE_WORDS)} a document that is "
        f"{_kind_word(state, _STATE_WORDS)}"
    )


def _bad_validity(*args: int) -> str:
    until = int(args[-1])
    return (
        f"the registry refuses {day_of(until).isoformat()} as the last valid day: it is not a "
        "whole day, it has passed, or it is not after the last extension's"
    )


def _already_revoked(_body: int, _root: bytes, leaf: bytes) -> str:
    if leaf == bytes(32):
        return "the document's root is revoked already; its documents cannot change any more"
    return "the document is revoked already; a revoked document cannot change any more"


_SENTENCES: dict[str, Callable[..., str]] = {
    "RegistryBadTransition": _bad_transition,
    "RegistryAlreadyRevoked": _already_revoked,
    "RegistryBadValidityEnd": _bad_validity,
    "RegistryUnknownSuccessor": lambda _root, _leaf: (
        "the registry does not know the successor: its body never anchored its root, its leaf "
        "is not in that root, or it is the document itself"
    ),
    "RegistryUnauthorizedActor": lambda account, body_id: (
        f"the key {Web3.to_checksum_address(account)} may not change the statuses of body "
        f"{body_id}: it is not a status key of that body valid now (retired, compromised, or the "
        "body suspended)"
    ),
    "RegistryRootNotAnchored": lambda body_id, root: (
        f"body {body_id} has not anchored the root 0x{bytes(root).hex()}"
    ),
    "RegistryLeafNotInRoot": lambda _root, _leaf: (
        "the stored proof does not lead from the document's leaf to its root"
    ),
}
