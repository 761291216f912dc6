"""`anchor batches list|retry`: where the batches stand, and sending failed ones back.

Only a permanent cause (an invalid batch, a root another issuer holds) ends a batch ``failed``;
a paused registry or a missing role holds batches frozen and the worker retries them by itself.
`retry` is for failed batches, such as those failed by a version that failed them for a pause:
it sends them back to submission with the same root and proofs. Both read an existing store and
never create one.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from anchor.cli._store import existing_store
from anchor.cli.output import EXIT_USAGE, fail
from anchor.store import Batch
from anchor.types import BatchState

app = typer.Typer(
    help="List the batches of the store, and send failed ones back to submission.",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL of the store (default: from ANCHOR_* settings)"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


def _batch_dict(batch: Batch) -> dict[str, object]:
    def hex_or_none(value: bytes | None) -> str | None:
        return None if value is None else "0x" + value.hex()

    return {
        "id": batch.id,
        "issuerId": batch.issuer_id,
        "state": str(batch.state),
        "leafCount": batch.leaf_count,
        "root": "0x" + batch.root.hex(),
        "reason": batch.failure_reason,
        "txHash": hex_or_none(batch.tx_hash),
        "blockNumber": batch.block_number,
        "blockHash": hex_or_none(batch.block_hash),
        "frozenAt": batch.frozen_at.isoformat(),
        "submittedAt": batch.submitted_at.isoformat() if batch.submitted_at else None,
        "anchoredAt": batch.anchored_at.isoformat() if batch.anchored_at else None,
    }


def _line(batch: Batch) -> str:
    where = f"block {batch.block_number}" if batch.block_number is not None else "-"
    reason = batch.failure_reason or "-"
    body = "-" if batch.issuer_id is None else f"issuer {batch.issuer_id}"
    return (
        f"{batch.id}\t{batch.state}\t{body}\t{batch.leaf_count} digests\t{where}\t{reason}\t"
        f"0x{batch.root.hex()[:16]}…"
    )


@app.command("list")
def list_batches(
    state: Annotated[
        list[BatchState] | None,
        typer.Option("--state", "-s", help="Only batches in this state (repeatable)"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first")] = 50,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List batches, newest first.

    Each line: id, state, issuing body, size, block, reason (why it waits, went back or failed),
    root.

    Examples:

        anchor batches list

        anchor batches list --state failed --state frozen

        anchor batches list --limit 500 --json | jq '.[] | select(.reason == "paused")'
    """
    with existing_store(database_url) as store:
        batches = store.list_batches(tuple(state or ()), limit)
    if as_json:
        typer.echo(json.dumps([_batch_dict(b) for b in batches]))
        return
    for batch in batches:
        typer.echo(_line(batch))


@app.command("retry")
def retry(
    batch_id: Annotated[
        int | None, typer.Argument(help="Id of a failed batch (see `anchor batches list`)")
    ] = None,
    all_failed: Annotated[bool, typer.Option(help="Send back every failed batch")] = False,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Send failed batches back to submission.

    Same root, same proofs: the worker anchors them (and holds them, without failing them,
    while the registry is paused or its role is missing).

    Examples:

        anchor batches retry 42

        anchor batches retry --all-failed
    """
    if (batch_id is None) == (not all_failed):
        raise fail("give either a batch id or --all-failed", EXIT_USAGE)
    with existing_store(database_url) as store:
        batches = store.retry_failed_batches(batch_id)
    if as_json:
        typer.echo(json.dumps([_batch_dict(b) for b in batches]))
        return
    if not batches:
        typer.echo("no failed batch")
    for batch in batches:
        typer.echo(f"batch {batch.id} sent back to submission ({batch.leaf_count} digests)")
