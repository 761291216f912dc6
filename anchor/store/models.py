"""The ORM tables of the store (SQLAlchemy 2 typed declarative models).

States are explicit string columns checked by the database, never inferred from nulls. Hashes,
salts and raw transactions are raw bytes; times are timezone-aware UTC. The schema itself is
created by the Alembic migrations in ``anchor/store/migrations``; these models must match them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    literal_column,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from anchor.types import (
    LIVE_OUTBOX_STATES,
    OPEN_STATUS_CHANGE_STATES,
    BatchState,
    IssuerKind,
    KeyPurpose,
    OutboxState,
    ReceiptState,
    StatusChangeKind,
    StatusChangeState,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def state_check(column: str, values: Iterable[StrEnum]) -> str:
    """The SQL ``column IN (...)`` of some values of a str enum (a CHECK, an index predicate)."""
    return f"{column} IN ({', '.join(repr(str(v.value)) for v in values)})"


#: The predicate of the partial unique index on (signer, nonce): rows that hold their nonce.
LIVE_NONCE_PREDICATE = state_check("state", LIVE_OUTBOX_STATES)

#: The predicates of the partial indexes of ``receipts`` (migration 0007). A query meant to use
#: ``ix_receipts_pending`` must say ``state = 'pending'`` with the literal (`PENDING_ONLY`): a
#: bound parameter does not let SQLite's planner, nor a generic PostgreSQL plan, match it.
PENDING_PREDICATE = f"state = '{ReceiptState.PENDING.value}'"
BATCHED_PREDICATE = "batch_id IS NOT NULL"
UNBODIED_PREDICATE = "issuer_id IS NULL"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times; store UTC (naive UTC on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Issuer(Base):
    """An issuing body hosted by the service (a commune, a syndicate, a social office...)."""

    __tablename__ = "issuers"
    __table_args__ = (CheckConstraint(state_check("kind", IssuerKind), name="kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_de: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name_lb: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chain_body_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)


class IssuerKey(Base):
    """A key the service holds for a body: its address and its keystore file."""

    __tablename__ = "issuer_keys"
    __table_args__ = (CheckConstraint(state_check("purpose", KeyPurpose), name="purpose"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(42), unique=True)
    keystore: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Integrator(Base):
    """A software client (a municipality's or agency's system) that submits digests.

    It belongs to one body (``issuer_id``); rows made before migration 0003 have none and
    cannot submit.
    """

    __tablename__ = "integrators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issuer_id: Mapped[int | None] = mapped_column(
        ForeignKey("issuers.id"), nullable=True, index=True
    )


class ApiKey(Base):
    """An API key of an integrator; only the SHA-256 of the full secret is stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integrator_id: Mapped[int] = mapped_column(ForeignKey("integrators.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Batch(Base):
    """One Merkle tree, one root, one anchoring transaction."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint(state_check("state", BatchState), name="state"),
        Index(None, "state", "id"),
        Index(None, "issuer_id", "state"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    leaf_count: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    anchored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), nullable=True)


UNCHECKED_ON_POSTGRESQL = frozenset(
    {
        "fk_receipts_integrator_id_integrators",
        "fk_receipts_issuer_id_issuers",
        "fk_receipts_batch_id_batches",
    }
)
"""References of `Receipt` that a PostgreSQL store does not check (migration 0008: a trigger
query and a parent-row lock per receipt written, half of the database's CPU under load). The
models declare them, SQLite enforces them, and nothing deletes their parents."""


class Receipt(Base):
    """One submitted digest; salt, leaf and proof once batched; erasable."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint(state_check("state", ReceiptState), name="state"),
        # Partial indexes (migration 0007): a receipt is in each only while the query that
        # reads it can want it, so an intake insert writes one index entry besides the primary
        # key, and a batch's submitted/anchored moves write none.
        Index(
            "ix_receipts_pending",
            "issuer_id",
            "created_at",
            "id",
            sqlite_where=text(PENDING_PREDICATE),
            postgresql_where=text(PENDING_PREDICATE),
        ),
        Index(
            "ix_receipts_batched",
            "batch_id",
            "created_at",
            sqlite_where=text(BATCHED_PREDICATE),
            postgresql_where=text(BATCHED_PREDICATE),
        ),
        Index(
            "ix_receipts_unbodied",
            "integrator_id",
            sqlite_where=text(UNBODIED_PREDICATE),
            postgresql_where=text(UNBODIED_PREDICATE),
        ),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    integrator_id: Mapped[int] = mapped_column(ForeignKey("integrators.id"))
    digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), nullable=True)
    value_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    leaf: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    proof: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), nullable=True)


class DocumentFacts(Base):
    """The type and facts of a typed document's receipt (migration 0004); deleted on erasure.

    ``facts`` and ``private_facts`` are RFC 8785 canonical JSON; the receipt's digest is the
    statement digest these make (docs/proof-format.md, section 7). ``private_salt`` is drawn
    by the service and never leaves the store.
    """

    __tablename__ = "document_facts"
    __table_args__ = (
        CheckConstraint("type_version BETWEEN 1 AND 65535", name="type_version"),
        CheckConstraint(
            "(private_facts IS NULL) = (private_salt IS NULL) "
            "AND (private_salt IS NULL) = (private_commitment IS NULL)",
            name="private",
        ),
    )
    receipt_id: Mapped[str] = mapped_column(ForeignKey("receipts.id"), primary_key=True)
    type_id: Mapped[str] = mapped_column(String(64))
    type_version: Mapped[int] = mapped_column(Integer)
    facts: Mapped[str] = mapped_column(Text)
    private_facts: Mapped[str | None] = mapped_column(Text, nullable=True)
    private_salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    file_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    private_commitment: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class IdempotencyRecord(Base):
    """The answer to one (integrator, Idempotency-Key): request fingerprint and receipt ids."""

    __tablename__ = "idempotency_records"
    integrator_id: Mapped[int] = mapped_column(ForeignKey("integrators.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    receipt_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """A signed anchoring transaction, persisted before it is broadcast.

    It carries the anchors of one batch (a body's key sending ``anchor``) or of many (the
    relayer's ``anchorSigned``): every batch is in `OutboxBatch`; ``batch_id`` is the lowest
    of them (the only one before migration 0003).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(state_check("state", OutboxState), name="state"),
        Index(
            "uq_outbox_live_nonce",
            "signer",
            "nonce",
            unique=True,
            sqlite_where=text(LIVE_NONCE_PREDICATE),
            postgresql_where=text(LIVE_NONCE_PREDICATE),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)
    signer: Mapped[str] = mapped_column(String(42))
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    max_fee_per_gas: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_priority_fee_per_gas: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    broadcast_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxBatch(Base):
    """A batch whose anchor an outbox transaction carries."""

    __tablename__ = "outbox_batches"
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True, index=True)


class WatchCursor(Base):
    """Where the watcher of one registry resumes: the next block whose events it reads."""

    __tablename__ = "watch_cursors"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: The predicate of the partial unique index on receipt_id: at most one open change a document.
OPEN_CHANGE_PREDICATE = state_check("state", OPEN_STATUS_CHANGE_STATES)


class StatusChange(Base):
    """A change of one document's status asked for by an integrator, and its transaction.

    ``reason`` for suspend and revoke, ``valid_until`` for extend, ``successor_*`` for
    supersede. ``signer``, ``nonce``, ``raw_tx`` and ``tx_hash`` are written together, before the
    transaction is broadcast (state ``sent``); ``block_number`` once it is done.
    """

    __tablename__ = "status_changes"
    __table_args__ = (
        CheckConstraint(state_check("kind", StatusChangeKind), name="kind"),
        CheckConstraint(state_check("state", StatusChangeState), name="state"),
        Index(None, "state", "created_at"),
        Index(
            "uq_status_changes_open_receipt",
            "receipt_id",
            unique=True,
            sqlite_where=text(OPEN_CHANGE_PREDICATE),
            postgresql_where=text(OPEN_CHANGE_PREDICATE),
        ),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("receipts.id"), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[int | None] = mapped_column(Integer, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    successor_id: Mapped[str | None] = mapped_column(ForeignKey("receipts.id"), nullable=True)
    successor_root: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    successor_leaf: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    signer: Mapped[str | None] = mapped_column(String(42), nullable=True)
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


RECEIPTS = cast(Table, Receipt.__table__)
"""The receipts table, for the Core bulk statements that skip the ORM unit of work."""

PENDING_ONLY = RECEIPTS.c.state == literal_column(repr(ReceiptState.PENDING.value))
"""``receipts.state = 'pending'`` with the literal, as `PENDING_PREDICATE` says: the criterion
that lets a query use ``ix_receipts_pending``."""
