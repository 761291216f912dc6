"""Frozen values returned by the store; ORM objects never cross its boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from anchor.merkle.hashing import HASH_SIZE
from anchor.store import models as m
from anchor.types import BatchState, Digest, OutboxState, ReceiptState

__all__ = ["ApiKey", "Batch", "Integrator", "OutboxEntry", "Receipt", "pack_proof", "unpack_proof"]


def pack_proof(siblings: list[bytes] | tuple[bytes, ...]) -> bytes:
    """Concatenate 32-byte siblings, leaf level first, into the stored form."""
    return b"".join(siblings)


def unpack_proof(packed: bytes | None) -> tuple[bytes, ...]:
    """Split a stored proof into its 32-byte siblings (empty when there is none)."""
    if not packed:
        return ()
    return tuple(bytes(packed[i : i + HASH_SIZE]) for i in range(0, len(packed), HASH_SIZE))


@dataclass(frozen=True, slots=True)
class Integrator:
    """A client system that submits digests."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key, without its secret (only its SHA-256 is stored)."""

    id: int
    integrator_id: int
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: m.ApiKey) -> ApiKey:
        """Copy an ORM row."""
        return cls(
            row.id, row.integrator_id, row.prefix, tuple(row.scopes), row.created_at, row.revoked_at
        )


@dataclass(frozen=True, slots=True)
class Receipt:
    """One submitted digest and, once batched, its salt, leaf and proof.

    After erasure, ``state`` is ``erased`` and ``digest``, ``salt``, ``leaf`` and ``proof`` are
    gone (None / empty); the API answers 410 Gone.
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

    @property
    def is_erased(self) -> bool:
        """True once the receipt was erased on request."""
        return self.state is ReceiptState.ERASED

    @classmethod
    def of(cls, row: m.Receipt | Row[Any]) -> Receipt:
        """Copy an ORM row, or a Core row of the receipts table (same column names)."""
        return cls(
            id=row.id,
            integrator_id=row.integrator_id,
            digest=None if row.digest is None else Digest(bytes(row.digest)),
            state=ReceiptState(row.state),
            batch_id=row.batch_id,
            value_index=row.value_index,
            salt=None if row.salt is None else bytes(row.salt),
            leaf=None if row.leaf is None else bytes(row.leaf),
            proof=unpack_proof(row.proof),
            idempotency_key=row.idempotency_key,
            created_at=row.created_at,
            updated_at=row.updated_at,
            erased_at=row.erased_at,
        )


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
        )


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A signed transaction persisted before broadcast."""

    id: int
    batch_id: int
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
    def of(cls, row: m.Outbox) -> OutboxEntry:
        """Copy an ORM row."""
        return cls(
            id=row.id,
            batch_id=row.batch_id,
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
