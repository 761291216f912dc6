"""What registry v2 holds, as frozen typed values: bodies, names, keys, anchors, status changes.

The enums mirror the contract's (`contracts/AnchorRegistry.sol`, docs/registry.md) value for
value; the dataclasses are built from the tuples its views return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3

#: The key validity the contract stores for "open-ended".
OPEN_ENDED = 2**64 - 1


class Kind(IntEnum):
    """What a body is."""

    COMMUNE = 0
    SYNDICATE = 1
    SOCIAL_OFFICE = 2
    CHILDCARE = 3
    STATE_BODY = 4
    OTHER = 5

    @property
    def slug(self) -> str:
        """The lower-case name used by the CLI, the store and JSON (``social_office``)."""
        return self.name.lower()

    @classmethod
    def from_slug(cls, slug: str) -> Kind:
        """The kind named ``slug``; ValueError naming the choices otherwise."""
        try:
            return cls[slug.upper().replace("-", "_")]
        except KeyError:
            choices = ", ".join(k.slug for k in cls)
            raise ValueError(f"unknown kind {slug!r}; choose one of {choices}") from None


class BodyStatus(IntEnum):
    """Where a body stands; UNKNOWN for an id never registered."""

    UNKNOWN = 0
    ACTIVE = 1
    SUSPENDED = 2
    RETIRED = 3


class Purpose(IntEnum):
    """What a key may do."""

    NONE = 0
    ANCHORING = 1
    STATUS = 2


class ChangeKind(IntEnum):
    """The kind of a status change; as a document's state, NONE means in force."""

    NONE = 0
    REVOKED = 1
    SUSPENDED = 2
    LIFTED = 3
    SUPERSEDED = 4
    EXTENDED = 5

    @property
    def word(self) -> str:
        """The lower-case name used in JSON (``suspended``)."""
        return self.name.lower()


#: The states a document may stand in, and the changes allowed from each (the contract's
#: ``_allowed``): nothing after a revocation or a supersession.
_ALLOWED: dict[ChangeKind, frozenset[ChangeKind]] = {
    ChangeKind.NONE: frozenset(
        {ChangeKind.REVOKED, ChangeKind.SUSPENDED, ChangeKind.SUPERSEDED, ChangeKind.EXTENDED}
    ),
    ChangeKind.SUSPENDED: frozenset(
        {ChangeKind.REVOKED, ChangeKind.LIFTED, ChangeKind.SUPERSEDED, ChangeKind.EXTENDED}
    ),
}


def allowed(state: ChangeKind, change: ChangeKind) -> bool:
    """True when ``change`` may be made to a document standing in ``state``."""
    return change in _ALLOWED.get(state, frozenset())


@dataclass(frozen=True)
class Names:
    """The display names of a body; ``lb`` may be empty."""

    fr: str
    de: str = ""
    en: str = ""
    lb: str = ""

    @classmethod
    def of(cls, raw: Sequence[Any]) -> Names:
        """From the contract's tuple."""
        return cls(str(raw[0]), str(raw[1]), str(raw[2]), str(raw[3]))

    def as_tuple(self) -> tuple[str, str, str, str]:
        """For the ABI."""
        return (self.fr, self.de, self.en, self.lb)

    def for_language(self, language: str) -> str:
        """The name in ``language`` (fr, de, en, lb), French when that one is empty."""
        return str(getattr(self, language, "") or self.fr)

    @property
    def empty(self) -> bool:
        """True when no name is set (before a body's registration)."""
        return not self.fr


@dataclass(frozen=True)
class BodyRecord:
    """A body as the registry holds it."""

    id: int
    kind: Kind
    status: BodyStatus
    registered_at: int
    code: str

    @classmethod
    def of(cls, raw: Sequence[Any]) -> BodyRecord:
        """From the contract's tuple."""
        return cls(int(raw[0]), Kind(raw[1]), BodyStatus(raw[2]), int(raw[3]), str(raw[4]))


@dataclass(frozen=True)
class KeyRecord:
    """A key as the registry holds it; ``body_id`` 0 when the address is no key."""

    body_id: int
    purpose: Purpose
    valid_from: int
    valid_until: int
    compromised_since: int
    body_active: bool

    @classmethod
    def of(cls, raw: Sequence[Any]) -> KeyRecord:
        """From the contract's tuple."""
        return cls(
            int(raw[0]), Purpose(raw[1]), int(raw[2]), int(raw[3]), int(raw[4]), bool(raw[5])
        )

    @property
    def registered(self) -> bool:
        """True when the address is a key of some body."""
        return self.body_id != 0

    def valid_at(self, timestamp: int) -> bool:
        """The contract's rule: within its validity and before its compromise time."""
        return self.valid_from <= timestamp < self.valid_until and (
            self.compromised_since == 0 or timestamp < self.compromised_since
        )


@dataclass(frozen=True)
class AnchorRecord:
    """What the registry holds of a root under a body; ``anchored_at`` 0 when never anchored."""

    key: ChecksumAddress
    anchored_at: int
    leaf_count: int

    @classmethod
    def of(cls, raw: Sequence[Any]) -> AnchorRecord:
        """From the contract's tuple."""
        return cls(Web3.to_checksum_address(raw[0]), int(raw[1]), int(raw[2]))

    @property
    def anchored(self) -> bool:
        """True when the root is anchored."""
        return self.anchored_at != 0


_ZERO32 = b"\x00" * 32
_NOBODY = Web3.to_checksum_address("0x" + "00" * 20)


@dataclass(frozen=True)
class StatusChange:
    """One status change; all zero (kind NONE) when there is none.

    ``until`` (EXTENDED) is 00:00 UTC of the document's new last valid day; the successor
    (SUPERSEDED) is the (root, leaf) of the document that replaces it.
    """

    kind: ChangeKind
    reason: int
    at: int
    actor: ChecksumAddress
    annulled: bool
    until: int = 0
    successor_root: bytes = _ZERO32
    successor_leaf: bytes = _ZERO32

    @classmethod
    def of(cls, raw: Sequence[Any]) -> StatusChange:
        """From the contract's tuple."""
        return cls(
            ChangeKind(raw[0]),
            int(raw[1]),
            int(raw[2]),
            Web3.to_checksum_address(raw[3]),
            bool(raw[4]),
            int(raw[5]),
            bytes(raw[6]),
            bytes(raw[7]),
        )

    @property
    def revoked(self) -> bool:
        """True for a revocation that counts (not annulled)."""
        return self.kind == ChangeKind.REVOKED and not self.annulled


@dataclass(frozen=True)
class DocumentState:
    """A document's history folded: its state (NONE in force, SUSPENDED, REVOKED, SUPERSEDED),
    the change that set it, its last validity extension (0 if none), its successor, and how many
    changes its history holds (annulled ones included)."""

    state: ChangeKind = ChangeKind.NONE
    reason: int = 0
    since: int = 0
    actor: ChecksumAddress = _NOBODY
    valid_until: int = 0
    successor_root: bytes = _ZERO32
    successor_leaf: bytes = _ZERO32
    changes: int = 0

    @classmethod
    def of(cls, raw: Sequence[Any]) -> DocumentState:
        """From the contract's tuple."""
        return cls(
            ChangeKind(raw[0]),
            int(raw[1]),
            int(raw[2]),
            Web3.to_checksum_address(raw[3]),
            int(raw[4]),
            bytes(raw[5]),
            bytes(raw[6]),
            int(raw[7]),
        )

    @classmethod
    def fold(cls, history: Sequence[StatusChange]) -> DocumentState:
        """The contract's ``documentState`` computed here: each change not annulled applies when
        allowed from the state reached so far, and is skipped otherwise."""
        state, reason, since, actor = ChangeKind.NONE, 0, 0, _NOBODY
        valid_until, successor_root, successor_leaf = 0, _ZERO32, _ZERO32
        for c in history:
            if c.annulled or not allowed(state, c.kind):
                continue
            if c.kind == ChangeKind.EXTENDED:
                valid_until = max(valid_until, c.until)
            elif c.kind == ChangeKind.LIFTED:
                state, reason, since, actor = ChangeKind.NONE, 0, 0, _NOBODY
            else:
                state, reason, since, actor = c.kind, c.reason, c.at, c.actor
                if c.kind == ChangeKind.SUPERSEDED:
                    successor_root, successor_leaf = c.successor_root, c.successor_leaf
        return cls(
            state, reason, since, actor, valid_until, successor_root, successor_leaf, len(history)
        )

    @property
    def in_force(self) -> bool:
        """True when neither suspended, revoked nor superseded."""
        return self.state == ChangeKind.NONE


@dataclass(frozen=True)
class RootEntry:
    """One change under a root: the document's leaf (zero: the root), its index in that
    document's history, the change."""

    leaf: bytes
    index: int
    change: StatusChange

    @classmethod
    def of(cls, raw: Sequence[Any]) -> RootEntry:
        """From the contract's tuple."""
        return cls(bytes(raw[0]), int(raw[1]), StatusChange.of(raw[2]))


@dataclass(frozen=True)
class Status:
    """The registry's answer for a (key, root, proof, leaf), read in one call."""

    included: bool
    anchored_at: int
    leaf_count: int
    key: ChecksumAddress
    authorised: bool
    body_id: int
    kind: Kind
    body_status: BodyStatus
    code: str
    name_at_anchor: Names
    name_now: Names
    document: DocumentState
    root_status: StatusChange

    @classmethod
    def of(cls, raw: Sequence[Any]) -> Status:
        """From the contract's tuple."""
        return cls(
            included=bool(raw[0]),
            anchored_at=int(raw[1]),
            leaf_count=int(raw[2]),
            key=Web3.to_checksum_address(raw[3]),
            authorised=bool(raw[4]),
            body_id=int(raw[5]),
            kind=Kind(raw[6]),
            body_status=BodyStatus(raw[7]),
            code=str(raw[8]),
            name_at_anchor=Names.of(raw[9]),
            name_now=Names.of(raw[10]),
            document=DocumentState.of(raw[11]),
            root_status=StatusChange.of(raw[12]),
        )

    @property
    def anchored(self) -> bool:
        """True when the key's body anchored the root."""
        return self.anchored_at != 0

    @property
    def renamed(self) -> bool:
        """True when the body's names changed since the anchor."""
        return self.anchored and self.name_now != self.name_at_anchor
