"""An index on ``batches.root``: the public root lookup finds a superseded document's successor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``GET /v1/roots/{root}`` links a superseded document of a posted type to its successor's
verification when the successor is one of this service's receipts; the successor is found by
its (root, leaf), which the registry gives. Without the index that lookup would read every
batch.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index."""
    op.create_index(op.f("ix_batches_root"), "batches", ["root"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(op.f("ix_batches_root"), table_name="batches")
