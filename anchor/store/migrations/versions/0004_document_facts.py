"""Typed documents: the facts of a receipt, in a table of their own.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A receipt of a typed document (``POST /v1/documents``) has one row in ``document_facts``: its
type and type version, its public facts and private facts (each the RFC 8785 canonical JSON of
an object of strings), the private salt the service drew for it (32 bytes, kept here and never
put in a bundle), the SHA-256 of its file when it has one, and the commitment to its private
facts. The receipt's own ``digest`` is then the statement digest (docs/proof-format.md, section
7). A receipt without such a row is a bare digest (bundle version 1). Erasure deletes the row.
Nothing of ``receipts`` changes: existing rows are bare digests.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``document_facts``."""
    op.create_table(
        "document_facts",
        sa.Column("receipt_id", sa.String(32), nullable=False),
        sa.Column("type_id", sa.String(64), nullable=False),
        sa.Column("type_version", sa.Integer, nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("private_facts", sa.Text, nullable=True),
        sa.Column("private_salt", sa.LargeBinary(32), nullable=True),
        sa.Column("file_digest", sa.LargeBinary(32), nullable=True),
        sa.Column("private_commitment", sa.LargeBinary(32), nullable=True),
        sa.PrimaryKeyConstraint("receipt_id", name="pk_document_facts"),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name="fk_document_facts_receipt_id_receipts"
        ),
        sa.CheckConstraint(
            "type_version BETWEEN 1 AND 65535", name="ck_document_facts_type_version"
        ),
        sa.CheckConstraint(
            "(private_facts IS NULL) = (private_salt IS NULL) "
            "AND (private_salt IS NULL) = (private_commitment IS NULL)",
            name="ck_document_facts_private",
        ),
    )


def downgrade() -> None:
    """Drop ``document_facts``."""
    op.drop_table("document_facts")
