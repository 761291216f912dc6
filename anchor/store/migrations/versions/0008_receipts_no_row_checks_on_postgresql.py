"""PostgreSQL: no foreign-key checks on the rows of ``receipts`` (its parents are never deleted).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

A foreign key on PostgreSQL is a trigger that runs one query per row written: each receipt the
intake inserts was checked against ``integrators`` and ``issuers``, and each receipt a batch
updates against ``batches``, with a ``FOR KEY SHARE`` lock on the parent row every time (one
integrator's or one body's row for a whole load, shared by every process that writes). Under
the 100-digest load of ``bench/bench_api_load.py`` these checks were half of the database
server's CPU: without them 0.72-0.80 instead of 1.39-1.73 ms a request during the intake, 30%
more requests a second, and a p50 a third lower (bench/README.md, session 13).

What they guarded cannot happen through the service: a receipt's integrator and body are the
authenticated caller's (their rows exist before any key does), its batch is the row inserted in
the same transaction just before, and no code deletes an integrator, a body or a batch
(docs/store.md, "Data model"). The ORM models still declare the references, and SQLite keeps
enforcing them: there the check is an index lookup in the same process, whose cost did not
show against the run-to-run spread of the same benchmark.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DROPPED = (
    ("fk_receipts_integrator_id_integrators", "integrator_id", "integrators"),
    ("fk_receipts_issuer_id_issuers", "issuer_id", "issuers"),
    ("fk_receipts_batch_id_batches", "batch_id", "batches"),
)
"""The foreign keys of ``receipts`` that PostgreSQL no longer checks: name, column, parent."""


def upgrade() -> None:
    """Drop the three foreign keys of ``receipts`` on PostgreSQL; nothing on SQLite."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _, _ in DROPPED:
        op.drop_constraint(name, "receipts", type_="foreignkey")


def downgrade() -> None:
    """The foreign keys again on PostgreSQL (checking every receipt: a long lock on a large
    store)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column, parent in DROPPED:
        op.create_foreign_key(name, "receipts", parent, [column], ["id"])
