"""Issuing bodies: issuers, their keys, the body of integrators, receipts and batches, and the
batches of an outbox transaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

An integrator, a receipt or a batch made before this revision has no body (``issuer_id`` NULL):
such an integrator cannot submit until it is given one, and such receipts and batches are not
batched or submitted by the multi-body worker. Every existing outbox row gets its one batch in
``outbox_batches``. The new columns are added with ``ALTER TABLE ... ADD COLUMN`` (their foreign
key inline), never by copying a table: ``receipts`` may hold millions of rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
KINDS = ("commune", "syndicate", "social_office", "childcare", "state_body", "other")
PURPOSES = ("anchoring", "status")


def _check(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _issuer_column(table: str) -> sa.Column[int]:
    return sa.Column(
        "issuer_id",
        sa.Integer,
        sa.ForeignKey("issuers.id", name=f"fk_{table}_issuer_id_issuers"),
        nullable=True,
    )


def upgrade() -> None:
    """Create ``issuers``, ``issuer_keys`` and ``outbox_batches``; add ``issuer_id`` columns."""
    op.create_table(
        "issuers",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.Column("name_fr", sa.String(200), nullable=False),
        sa.Column("name_de", sa.String(200), nullable=True),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("name_lb", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("chain_body_id", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_issuers"),
        sa.UniqueConstraint("code", name="uq_issuers_code"),
        sa.UniqueConstraint("chain_body_id", name="uq_issuers_chain_body_id"),
        sa.CheckConstraint(_check("kind", KINDS), name="ck_issuers_kind"),
    )
    op.create_table(
        "issuer_keys",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("issuer_id", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("keystore", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_issuer_keys"),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name="fk_issuer_keys_issuer_id_issuers"
        ),
        sa.UniqueConstraint("address", name="uq_issuer_keys_address"),
        sa.CheckConstraint(_check("purpose", PURPOSES), name="ck_issuer_keys_purpose"),
    )
    op.create_index("ix_issuer_keys_issuer_id", "issuer_keys", ["issuer_id"])
    for table in ("integrators", "batches", "receipts"):
        if op.get_bind().dialect.name == "sqlite":
            # SQLite adds a column with an inline REFERENCES, but alembic would copy the table.
            op.execute(f"ALTER TABLE {table} ADD COLUMN issuer_id INTEGER REFERENCES issuers (id)")
        else:
            op.add_column(table, _issuer_column(table))
    op.create_index("ix_integrators_issuer_id", "integrators", ["issuer_id"])
    op.create_index("ix_batches_issuer_id", "batches", ["issuer_id"])
    op.create_index(
        "ix_receipts_issuer_id_state_created_at", "receipts", ["issuer_id", "state", "created_at"]
    )
    op.create_table(
        "outbox_batches",
        sa.Column("outbox_id", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("outbox_id", "batch_id", name="pk_outbox_batches"),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_outbox_batches_outbox_id_outbox"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name="fk_outbox_batches_batch_id_batches"
        ),
    )
    op.create_index("ix_outbox_batches_batch_id", "outbox_batches", ["batch_id"])
    op.execute("INSERT INTO outbox_batches (outbox_id, batch_id) SELECT id, batch_id FROM outbox")


def downgrade() -> None:
    """Drop what the upgrade created (the ``issuer_id`` columns by copying their tables)."""
    op.drop_table("outbox_batches")
    op.drop_index("ix_receipts_issuer_id_state_created_at", "receipts")
    op.drop_index("ix_batches_issuer_id", "batches")
    op.drop_index("ix_integrators_issuer_id", "integrators")
    for table in ("receipts", "batches", "integrators"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_issuer_id_issuers", type_="foreignkey")
            batch.drop_column("issuer_id")
    op.drop_table("issuer_keys")
    op.drop_table("issuers")
