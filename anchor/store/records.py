"""Frozen values returned by the store; ORM objects never cross its boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row

from anchor.merkle.hashing import HASH_SIZE
from anchor.store import models as m
from anchor.types import BatchState, Digest, IssuerKind, KeyPurpose, OutboxState, ReceiptState

__all__ = [
    "ApiKey",
    "Batch",
    "Integrator",
    "Issuer",
    "IssuerKey",
    "OutboxEntry",
    "Receipt",
    "pack_proof",
    "unpack_proof",
]


def pack_proof(siblings: list[bytes] | tuple[bytes, ...]) -> bytes:
    """Concatenate 32-byte siblings, leaf level first, into the stored form."""
    return b"".join(siblings)


def unpack_proof(packed: bytes | None) -> tuple[bytes, ...]:
    """Split a stored proof into its 32-byte siblings (empty when there is none)."""
    if not packed:
        return ()
    data = bytes(packed)  # the same object when the driver gave bytes (a memoryview: copied once)
    return tuple([data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """A key the service holds for a body; ``keystore`` is relative to the data directory."""

    id: int
    issuer_id: int
    purpose: KeyPurpose
    address: str
    keystore: str
    created_at: datetime
    retired_at: datetime | None

    @classmethod
    def of(cls, row: m.IssuerKey) -> IssuerKey:
        """Copy an ORM row."""
        return cls(
            row.id,
            row.issuer_id,
            KeyPurpose(row.purpose),
            row.address,
            row.keystore,
            row.created_at,
            row.retired_at,
        )


@dataclass(frozen=True, slots=True)
class Issuer:
    """An issuing body, its names, its keys, and its id on chain once onboarded."""

    id: int
    kind: IssuerKind
    code: str | None
    name_fr: str
    name_de: str | None
    name_en: str | None
    name_lb: str | None
    created_at: datetime
    chain_body_id: int | None
    keys: tuple[IssuerKey, ...]

    def key_for(self, purpose: KeyPurpose) -> IssuerKey | None:
        """The newest key for ``purpose`` that is not retired, or None."""
        live = [k for k in self.keys if k.purpose is purpose and k.retired_at is None]
        return live[-1] if live else None

    @classmethod
    def of(cls, row: m.Issuer, keys: list[m.IssuerKey]) -> Issuer:
        """Copy an ORM row and its keys (oldest first)."""
        return cls(
            id=row.id,
            kind=IssuerKind(row.kind),
            code=row.code,
            name_fr=row.name_fr,
            name_de=row.name_de,
            name_en=row.name_en,
            name_lb=row.name_lb,
            created_at=row.created_at,
            chain_body_id=row.chain_body_id,
            keys=tuple(IssuerKey.of(k) for k in sorted(keys, key=lambda k: k.id)),
        )


@dataclass(frozen=True, slots=True)
class Integrator:
    """A client system that submits digests, for one body (None: made before bodies)."""

    id: int
    name: str
    created_at: datetime
    issuer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key, without its secret (only its SHA-256 is stored)."""

    id: int
    integrator_id: int
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    issuer_id: int | None = None
    """The body of the key's integrator (None: an integrator without a body cannot submit)."""

    @classmethod
    def of(cls, row: m.ApiKey, issuer_id: int | None = None) -> ApiKey:
        """Copy an ORM row, with the body of its integrator."""
        return cls(
            row.id,
            row.integrator_id,
            row.prefix,
            tuple(row.scopes),
            row.created_at,
            row.revoked_at,
            issuer_id,
        )


class Receipt(NamedTuple):
    """One submitted digest and, once batched, its salt, leaf and proof.

    After erasure, ``state`` is ``erased`` and ``digest``, ``salt``, ``leaf`` and ``proof`` are
    gone (None / empty); the API answers 410 Gone.

    A named tuple, immutable as the other records' frozen dataclasses: the intake makes one per
    digest of a request and the proof read one per GET, and a tuple of 14 fields is built in
    half a frozen dataclass's time or less (0.7 instead of 1.6-2.4 µs with keywords,
    bench/README.md).
    """

    id: str
    integrator_id: int
    digest: Digest | None
    state: ReceiptState
    batch_id: int | None
    value_index: int | None
    salt: bytes | None
    leaf: bytes | None
    proof: tuple[bytes, ...]
    idempotency_key: str | None
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None
    issuer_id: int | None = None

    @property
    def is_erased(self) -> bool:
        """True once the receipt was erased on request."""
        return self.state is ReceiptState.ERASED

    @classmethod
    def of(cls, row: m.Receipt | Row[Any], batch_state: str | None = None) -> Receipt:
        """Copy an ORM row, or a Core row of the receipts table (same column names); with
        ``batch_state``, the state of its batch (`receipt_state`)."""
        return cls(
            id=row.id,
            integrator_id=row.integrator_id,
            digest=None if row.digest is None else Digest(bytes(row.digest)),
            state=receipt_state(row.state, batch_state),
            batch_id=row.batch_id,
            value_index=row.value_index,
            salt=None if row.salt is None else bytes(row.salt),
            leaf=None if row.leaf is None else bytes(row.leaf),
            proof=unpack_proof(row.proof),
            idempotency_key=row.idempotency_key,
            created_at=row.created_at,
            updated_at=row.updated_at,
            erased_at=row.erased_at,
            issuer_id=row.issuer_id,
        )


def receipt_state(stored: str, batch_state: str | None) -> ReceiptState:
    """A receipt's state from its row's and its batch's: ``submitted`` or ``anchored`` while
    its batch is.

    The store rewrites a batch's receipts neither when the batch is submitted nor when it is
    anchored (a row update per receipt on the send path and on the finality path, the larger
    part of either mark's store time under the 100-digest load, bench/README.md): a receipt's
    row stays ``batched`` from its batch's freeze on, unless it fails or is erased, and reads
    as its batch stands. Rows that an earlier version moved to ``submitted`` or ``anchored``
    read the same way. Without ``batch_state`` (no batch read) the stored state is the state.
    """
    state = ReceiptState(stored)
    if batch_state is None or state not in FOLLOWS_BATCH:
        return state
    return _FROM_BATCH.get(batch_state, ReceiptState.BATCHED)


FOLLOWS_BATCH = (ReceiptState.BATCHED, ReceiptState.SUBMITTED, ReceiptState.ANCHORED)
"""The stored states that read as the batch stands (`receipt_state`)."""
_FROM_BATCH = {
    BatchState.SUBMITTED.value: ReceiptState.SUBMITTED,
    BatchState.ANCHORED.value: ReceiptState.ANCHORED,
    BatchState.FAILED.value: ReceiptState.FAILED,
}
"""What a batched receipt reads as while its batch is in one of these states; in any other
(frozen), ``batched``. (A failed batch's receipts are also written ``failed``.)"""


@dataclass(frozen=True, slots=True)
class Batch:
    """One Merkle root and where its anchoring stands."""

    id: int
    root: bytes
    leaf_count: int
    state: BatchState
    created_at: datetime
    frozen_at: datetime
    submitted_at: datetime | None
    anchored_at: datetime | None
    tx_hash: bytes | None
    block_number: int | None
    block_hash: bytes | None
    failure_reason: str | None
    issuer_id: int | None = None

    @classmethod
    def of(cls, row: m.Batch | Row[Any]) -> Batch:
        """Copy an ORM row, or a Core row of the batches table (same column names)."""
        return cls(
            id=row.id,
            root=bytes(row.root),
            leaf_count=row.leaf_count,
            state=BatchState(row.state),
            created_at=row.created_at,
            frozen_at=row.frozen_at,
            submitted_at=row.submitted_at,
            anchored_at=row.anchored_at,
            tx_hash=None if row.tx_hash is None else bytes(row.tx_hash),
            block_number=row.block_number,
            block_hash=None if row.block_hash is None else bytes(row.block_hash),
            failure_reason=row.failure_reason,
            issuer_id=row.issuer_id,
        )


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A signed transaction persisted before broadcast, and the batches whose anchors it carries
    (one for a body's own ``anchor``, many for the relayer's ``anchorSigned``), lowest id first."""

    id: int
    batch_ids: tuple[int, ...]
    nonce: int
    signer: str
    raw_tx: bytes
    tx_hash: bytes
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    gas_price: int | None
    state: OutboxState
    created_at: datetime
    broadcast_at: datetime | None

    @classmethod
    def of(cls, row: m.Outbox, batch_ids: list[int]) -> OutboxEntry:
        """Copy an ORM row and the ids of its batches."""
        return cls(
            id=row.id,
            batch_ids=tuple(sorted(batch_ids)),
            nonce=row.nonce,
            signer=row.signer,
            raw_tx=bytes(row.raw_tx),
            tx_hash=bytes(row.tx_hash),
            max_fee_per_gas=row.max_fee_per_gas,
            max_priority_fee_per_gas=row.max_priority_fee_per_gas,
            gas_price=row.gas_price,
            state=OutboxState(row.state),
            created_at=row.created_at,
            broadcast_at=row.broadcast_at,
        )
