"""Partial indexes on ``receipts``: each holds a receipt only while a query can want it there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Before, every receipt sat in four secondary indexes for good: ``(state, created_at)``,
``(issuer_id, state, created_at)``, ``(batch_id)`` (NULL until batched) and
``(integrator_id)``. An intake insert wrote four index entries besides the primary key, a batch
close moved two of them and wrote a third, and each of the batch's later moves (submitted,
anchored) rewrote two more, for every receipt. The queries need much less:

- ``ix_receipts_pending (issuer_id, created_at, id) WHERE state = 'pending'``: the batcher's
  oldest pending receipts of a body, the backlogs, the pending counts. A receipt leaves it when
  it is batched (or erased) and never comes back.
- ``ix_receipts_batched (batch_id, created_at) WHERE batch_id IS NOT NULL``: a batch's
  receipts (its moves, the root lookup, the oldest unanchored receipt of each batch).
- ``ix_receipts_unbodied (integrator_id) WHERE issuer_id IS NULL``: the receipts that giving an
  integrator its body attaches (taken before bodies existed).

And ``batches`` is indexed by ``(issuer_id, state)`` instead of ``(issuer_id)``: the backlog
read asks at every worker step whether a body has a frozen batch waiting, and by body alone
that read every batch the body ever had.

So an intake insert writes one index entry besides the primary key, a batch close removes one
and writes one, and the later moves write none. Building the new indexes reads the table once
each: on a large PostgreSQL store, run the upgrade in a quiet moment (the indexes are built
inside the migration's transaction, which blocks writes to ``receipts`` meanwhile).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PARTIAL = (
    ("ix_receipts_pending", ["issuer_id", "created_at", "id"], "state = 'pending'"),
    ("ix_receipts_batched", ["batch_id", "created_at"], "batch_id IS NOT NULL"),
    ("ix_receipts_unbodied", ["integrator_id"], "issuer_id IS NULL"),
)
_FULL = (
    ("ix_receipts_state_created_at", ["state", "created_at"]),
    ("ix_receipts_issuer_id_state_created_at", ["issuer_id", "state", "created_at"]),
    ("ix_receipts_batch_id", ["batch_id"]),
    ("ix_receipts_integrator_id", ["integrator_id"]),
)


def upgrade() -> None:
    """Create the partial indexes, then drop the full ones they replace; ``batches`` by body
    and state."""
    for name, columns, where in _PARTIAL:
        predicate = text(where)
        op.create_index(
            name, "receipts", columns, sqlite_where=predicate, postgresql_where=predicate
        )
    for name, _ in _FULL:
        op.drop_index(name, table_name="receipts")
    op.create_index("ix_batches_issuer_id_state", "batches", ["issuer_id", "state"])
    op.drop_index("ix_batches_issuer_id", table_name="batches")


def downgrade() -> None:
    """The full indexes again, and no partial one."""
    op.create_index("ix_batches_issuer_id", "batches", ["issuer_id"])
    op.drop_index("ix_batches_issuer_id_state", table_name="batches")
    for name, columns in _FULL:
        op.create_index(name, "receipts", columns)
    for name, _, _ in _PARTIAL:
        op.drop_index(name, table_name="receipts")
