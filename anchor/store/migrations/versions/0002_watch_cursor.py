"""The watcher's cursor: the next block of the registry's events to read.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``watch_cursors``: one row per watched registry."""
    op.create_table(
        "watch_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("next_block", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_watch_cursors"),
    )


def downgrade() -> None:
    """Drop ``watch_cursors``."""
    op.drop_table("watch_cursors")
