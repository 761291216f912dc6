"""Initial schema: integrators, API keys, receipts, idempotency records, batches, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
LIVE = "state IN ('signed', 'broadcast', 'mined')"


def _check(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Create every table, index and constraint of the first schema."""
    op.create_table(
        "integrators",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integrators"),
        sa.UniqueConstraint("name", name="uq_integrators_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("integrator_id", sa.Integer, nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["integrator_id"], ["integrators.id"], name="fk_api_keys_integrator_id_integrators"
        ),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_integrator_id", "api_keys", ["integrator_id"])
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf_count", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("frozen_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("anchored_at", TS, nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
        sa.CheckConstraint(
            _check("state", ("frozen", "submitted", "anchored", "failed")), name="ck_batches_state"
        ),
    )
    op.create_index("ix_batches_state_id", "batches", ["state", "id"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("integrator_id", sa.Integer, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=True),
        sa.Column("value_index", sa.Integer, nullable=True),
        sa.Column("salt", sa.LargeBinary(32), nullable=True),
        sa.Column("leaf", sa.LargeBinary(32), nullable=True),
        sa.Column("proof", sa.LargeBinary, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("erased_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
        sa.ForeignKeyConstraint(
            ["integrator_id"], ["integrators.id"], name="fk_receipts_integrator_id_integrators"
        ),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name="fk_receipts_batch_id_batches"),
        sa.CheckConstraint(
            _check("state", ("pending", "batched", "submitted", "anchored", "failed", "erased")),
            name="ck_receipts_state",
        ),
    )
    op.create_index("ix_receipts_integrator_id", "receipts", ["integrator_id"])
    op.create_index("ix_receipts_batch_id", "receipts", ["batch_id"])
    op.create_index("ix_receipts_state_created_at", "receipts", ["state", "created_at"])
    op.create_table(
        "idempotency_records",
        sa.Column("integrator_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("receipt_ids", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("integrator_id", "key", name="pk_idempotency_records"),
        sa.ForeignKeyConstraint(
            ["integrator_id"],
            ["integrators.id"],
            name="fk_idempotency_records_integrator_id_integrators",
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("max_fee_per_gas", sa.BigInteger, nullable=True),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger, nullable=True),
        sa.Column("gas_price", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("broadcast_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name="fk_outbox_batch_id_batches"),
        sa.CheckConstraint(
            _check("state", ("signed", "broadcast", "mined", "replaced", "dropped")),
            name="ck_outbox_state",
        ),
    )
    op.create_index("ix_outbox_batch_id", "outbox", ["batch_id"])
    op.create_index("ix_outbox_tx_hash", "outbox", ["tx_hash"])
    op.create_index(
        "uq_outbox_live_nonce",
        "outbox",
        ["signer", "nonce"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    """Drop everything the upgrade created."""
    for table in ("outbox", "idempotency_records", "receipts", "batches", "api_keys"):
        op.drop_table(table)
    op.drop_table("integrators")
