"""Status changes of documents asked for by integrators, and their signed transactions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

One row per change an integrator asked for (``POST /v1/receipts/{id}/status``): suspend, lift,
revoke, supersede or extend one document (one receipt) of a body. The worker signs it with the
body's status key, stores the raw transaction BEFORE broadcasting it (like the anchoring
outbox), and follows it to a receipt: ``pending`` -> ``sent`` -> ``done``, or ``failed`` with the
registry's reason. A partial unique index keeps at most one open (pending or sent) change per
receipt, so two requests racing for one document cannot both be acknowledged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
KINDS = ("suspend", "lift", "revoke", "supersede", "extend")
STATES = ("pending", "sent", "done", "failed")
OPEN = "state IN ('pending', 'sent')"


def _check(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Create ``status_changes`` and its indexes."""
    op.create_table(
        "status_changes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=False),
        sa.Column("issuer_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Integer, nullable=True),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.Column("successor_id", sa.String(32), nullable=True),
        sa.Column("successor_root", sa.LargeBinary(32), nullable=True),
        sa.Column("successor_leaf", sa.LargeBinary(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("signer", sa.String(42), nullable=True),
        sa.Column("nonce", sa.BigInteger, nullable=True),
        sa.Column("raw_tx", sa.LargeBinary, nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_status_changes"),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name="fk_status_changes_receipt_id_receipts"
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name="fk_status_changes_issuer_id_issuers"
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"], ["receipts.id"], name="fk_status_changes_successor_id_receipts"
        ),
        sa.CheckConstraint(_check("kind", KINDS), name="ck_status_changes_kind"),
        sa.CheckConstraint(_check("state", STATES), name="ck_status_changes_state"),
    )
    op.create_index("ix_status_changes_receipt_id", "status_changes", ["receipt_id"])
    op.create_index("ix_status_changes_state_created_at", "status_changes", ["state", "created_at"])
    op.create_index(
        "uq_status_changes_open_receipt",
        "status_changes",
        ["receipt_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    """Drop ``status_changes``."""
    op.drop_table("status_changes")
