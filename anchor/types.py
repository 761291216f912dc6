"""Frozen, validated values shared by the store, the intake and the API.

A `Digest` is the SHA-256 of a document, built once from its hex form and never carried around
as a loose string. The state enums are the explicit state machines of receipts, batches and
outbox rows; their values are the strings stored in the database. `FailureCause` names why a
batch went back to submission, is held, or failed: the value stored as its ``failure_reason`` and
the ``cause`` label of the submitter's metrics.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from anchor.errors import InvalidInputError

__all__ = [
    "IN_FLIGHT_OUTBOX_STATES",
    "LIVE_OUTBOX_STATES",
    "OPEN_STATUS_CHANGE_STATES",
    "REVOCATION_REASONS",
    "SUSPENSION_REASONS",
    "BatchState",
    "Digest",
    "FailureCause",
    "InvalidDigestError",
    "IssuerKind",
    "KeyPurpose",
    "OutboxState",
    "ReceiptState",
    "StatusChangeKind",
    "StatusChangeState",
    "reason_name",
    "suspension_reason_name",
]

DIGEST_SIZE = 32
_HEX_DIGITS = frozenset("0123456789abcdef")
_Bytes = bytes  # the builtin, before `Digest.bytes` shadows the name in the class body


class InvalidDigestError(InvalidInputError):
    """A digest is not 64 hexadecimal characters; the message says what is wrong.

    ``index`` is the position of the digest in a submitted list, when there is one.
    """

    def __init__(self, problem: str, index: int | None = None) -> None:
        self.problem = problem
        self.index = index
        loc: tuple[str | int, ...] = (
            ("body", "digests") if index is None else ("body", "digests", index)
        )
        super().__init__(problem if index is None else f"digest #{index}: {problem}", loc)

    def at(self, index: int) -> InvalidDigestError:
        """Return the same problem, located at position ``index`` of a submitted list."""
        return InvalidDigestError(self.problem, index)


class Digest:
    """The SHA-256 digest of a document: 32 bytes, shown as 64 lower-case hex characters."""

    __slots__ = ("_bytes",)
    _bytes: bytes

    def __init__(self, raw: _Bytes) -> None:
        """Wrap 32 raw bytes; use `Digest.from_hex` for text input."""
        if not isinstance(raw, bytes) or len(raw) != DIGEST_SIZE:
            raise InvalidDigestError(f"expected {DIGEST_SIZE} bytes, got {_describe_len(raw)}")
        object.__setattr__(self, "_bytes", raw)

    @classmethod
    def from_hex(cls, text: object) -> Self:
        """Parse 64 hex characters, with an optional ``0x`` prefix, in any letter case.

        Raise `InvalidDigestError` saying whether the type, the length or a character is wrong.
        """
        if not isinstance(text, str):
            raise InvalidDigestError(
                f"expected a string of 64 hex characters, got {type(text).__name__}"
            )
        body = text[2:] if text[:2] in ("0x", "0X") else text
        if len(body) == 2 * DIGEST_SIZE:  # the common case, in C: 64 hex digits are 32 bytes
            try:  # (not contextlib.suppress: its object cost a third of the call)
                raw = bytes.fromhex(body)  # skips whitespace: then fewer than 32 bytes
            except ValueError:
                raw = b""
            if len(raw) == DIGEST_SIZE:
                digest = object.__new__(cls)  # 32 bytes already: `__init__`'s checks hold
                object.__setattr__(digest, "_bytes", raw)
                return digest
        if len(body) != 2 * DIGEST_SIZE:
            raise InvalidDigestError(f"expected 64 hex characters, got {len(body)}")
        lower = body.lower()
        if not _HEX_DIGITS.issuperset(lower):
            position = next(i for i, char in enumerate(lower) if char not in _HEX_DIGITS)
            raise InvalidDigestError(f"non-hex character {body[position]!r} at position {position}")
        return cls(bytes.fromhex(lower))

    @property
    def bytes(self) -> _Bytes:
        """The 32 raw bytes."""
        return self._bytes

    @property
    def hex(self) -> str:
        """The 64 lower-case hex characters, without ``0x``."""
        return self._bytes.hex()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Digest is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        return f"Digest({self.hex!r})"

    def __str__(self) -> str:
        return self.hex


def _describe_len(raw: object) -> str:
    if isinstance(raw, bytes | bytearray | memoryview):
        return f"{len(raw)}"
    return type(raw).__name__


class ReceiptState(StrEnum):
    """Where one submitted digest stands."""

    PENDING = "pending"
    """Committed to the store, waiting for a batch."""
    BATCHED = "batched"
    """In a frozen batch: salt, leaf and proof are stored."""
    SUBMITTED = "submitted"
    """Its batch's transaction has been broadcast."""
    ANCHORED = "anchored"
    """Its batch's root is final on chain."""
    FAILED = "failed"
    """Its batch failed for a cause that cannot go away (see `FailureCause.permanent`)."""
    ERASED = "erased"
    """Salt, digest, leaf and proof deleted on request; the API answers 410 Gone."""


class BatchState(StrEnum):
    """Where one batch (one Merkle root) stands."""

    FROZEN = "frozen"
    """Tree built and stored, waiting for submission; its contents never change again."""
    SUBMITTED = "submitted"
    """A signed transaction from the outbox has been broadcast."""
    ANCHORED = "anchored"
    """Included at the configured depth on a canonical block."""
    FAILED = "failed"
    """Failed for a cause that cannot go away; `anchor batches retry` sends it back."""


class OutboxState(StrEnum):
    """Where one signed transaction of the outbox stands."""

    SIGNED = "signed"
    """Persisted, not yet known to be broadcast."""
    BROADCAST = "broadcast"
    """Sent to a node."""
    MINED = "mined"
    """Included in the block that anchored its batch."""
    REPLACED = "replaced"
    """Superseded by another transaction with the same nonce (fee bump)."""
    DROPPED = "dropped"
    """Dropped by the pool or reorganised away; its batch went back to submission."""


class IssuerKind(StrEnum):
    """The kind of an issuing body; the values are the slugs of the registry's ``Kind``."""

    COMMUNE = "commune"
    SYNDICATE = "syndicate"
    SOCIAL_OFFICE = "social_office"
    CHILDCARE = "childcare"
    STATE_BODY = "state_body"
    OTHER = "other"


class KeyPurpose(StrEnum):
    """What a body's key signs: anchors, or status changes (never both)."""

    ANCHORING = "anchoring"
    STATUS = "status"


class StatusChangeKind(StrEnum):
    """A change of a document's status an integrator asks for (``POST /v1/receipts/{id}/status``).

    The values are the API's ``change`` and the store's ``status_changes.kind``; each is one call
    of the registry (docs/registry.md, "A document's life").
    """

    SUSPEND = "suspend"
    """``suspendDocument``: in force -> suspended (liftable), with a suspension reason."""
    LIFT = "lift"
    """``liftSuspension``: suspended -> in force."""
    REVOKE = "revoke"
    """``revokeDocument``: in force or suspended -> revoked (final), with a revocation reason."""
    SUPERSEDE = "supersede"
    """``supersedeDocument``: in force or suspended -> superseded by a successor (final)."""
    EXTEND = "extend"
    """``extendValidity``: a new last valid day, later than the last extension's."""


class StatusChangeState(StrEnum):
    """Where one requested status change stands (the store's ``status_changes.state``)."""

    PENDING = "pending"
    """Stored (the API answered 202); not signed yet."""
    SENT = "sent"
    """Signed with the body's status key; the raw transaction is stored, broadcast or about to
    be; followed until its receipt is deep enough."""
    DONE = "done"
    """Mined and ``confirmations`` blocks deep on a canonical block: the chain shows it."""
    FAILED = "failed"
    """The registry refused it (a revert is final); ``error`` says why in one sentence."""


#: States of a status change not finished yet: at most one per document (receipt).
OPEN_STATUS_CHANGE_STATES = (StatusChangeState.PENDING, StatusChangeState.SENT)

#: Outbox states of a transaction not known to be mined: what the submitter follows.
IN_FLIGHT_OUTBOX_STATES = (OutboxState.SIGNED, OutboxState.BROADCAST)

#: Outbox states that hold their nonce: at most one row per (signer, nonce) among these.
LIVE_OUTBOX_STATES = (*IN_FLIGHT_OUTBOX_STATES, OutboxState.MINED)


class FailureCause(StrEnum):
    """Why a batch went back to submission, waits on hold, or failed; also a metric label.

    Only the `permanent` causes end a batch ``failed``: every other one is a condition that goes
    away (a pause, a role to grant, an account to fund, a node to repair) and holds the batch until
    it does.
    """

    RPC = "rpc"
    """No node could be used (transport error, wrong chain); the submitter fails over."""
    BROADCAST = "broadcast"
    """The node refused the transaction for a reason not recognised below."""
    FEE_TOO_LOW = "fee_too_low"
    """The node refused the transaction's fee; it is re-priced from the chain's fees."""
    INSUFFICIENT_FUNDS = "insufficient_funds"
    """The signer cannot pay for the gas; held until the account is funded."""
    PAUSED = "paused"
    """The registry is paused; held until it is unpaused."""
    MISSING_ROLE = "missing_role"
    """The signer lacks ISSUER_ROLE; held until it is granted."""
    GAS_LIMIT = "gas_limit"
    """An anchor needs more gas than ANCHOR_GAS_LIMIT; held until the setting is raised."""
    REVERTED = "reverted"
    """The registry refuses the anchor for an unrecognised reason; held, and logged."""
    NOT_ONBOARDED = "not_onboarded"
    """The body's anchoring key is not registered on chain yet; its digests wait."""
    KEY_NOT_VALID = "key_not_valid"
    """The body's anchoring key is not valid now (retired, compromised, not yet valid, or the
    body suspended or retired); that body waits, the others go on."""
    BAD_SIGNATURE = "bad_signature"
    """The registry does not accept the body's signature (an unknown signer, a key registered
    for another purpose, a malformed signature); that body waits, the others go on."""
    KEYSTORE = "keystore"
    """The body's keystore cannot be read (a missing file, a wrong password); that body waits."""
    INVALID_BATCH = "invalid_batch"
    """The registry refuses the root or the leaf count themselves: permanent."""
    ANCHORED_BY_ANOTHER_ISSUER = "anchored_by_another_issuer"
    """Another issuer holds the root on chain: permanent."""
    DROPPED = "dropped"
    """The transaction left the pool, or was mined and reverted; the batch goes out again."""
    REPLACED = "replaced"
    """Another transaction took the nonce; the batch goes out again."""
    REORG = "reorg"
    """The block of the transaction is no longer canonical; the batch goes out again."""

    @property
    def permanent(self) -> bool:
        """True for a cause that cannot go away, the only ones that end a batch ``failed``."""
        return self in (FailureCause.INVALID_BATCH, FailureCause.ANCHORED_BY_ANOTHER_ISSUER)


#: Revocation reason codes (the registry's ``uint16``); docs/operations.md holds the same table,
#: the operator scripts print it, and the verification page names each code in three languages.
REVOCATION_REASONS: dict[int, str] = {
    0: "unspecified",
    1: "superseded",
    2: "issued in error",
    3: "fraud",
    4: "withdrawn by the issuer",
    5: "annulled by a court",
}

#: Why a document was suspended (registry 2.1 ``suspendDocument``); 16 to 65535 are site-specific.
SUSPENSION_REASONS: dict[int, str] = {
    0: "unspecified",
    1: "suspended by a court",
    2: "suspended by the issuer",
}


def reason_name(code: int) -> str:
    """The name of a revocation reason code; codes not in the table are "site-specific"."""
    return REVOCATION_REASONS.get(code, "site-specific")


def suspension_reason_name(code: int) -> str:
    """The name of a suspension reason code; codes not in the table are "site-specific"."""
    return SUSPENSION_REASONS.get(code, "site-specific")
