"""The 202 body of a submission is written out by hand (`api.routes.receipts.submitted_json`):
it must be exactly the JSON of `SubmitResponse` for every receipt a submission can return."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from anchor.store.intake import new_receipt_id
from anchor.store.records import Receipt
from anchor.types import Digest, ReceiptState
from api.routes.receipts import submitted_json
from api.schemas import ReceiptOut, SubmitResponse


def receipt(rid: str, digest: Digest | None, state: ReceiptState) -> Receipt:
    now = datetime.now(UTC)
    return Receipt(rid, 1, digest, state, None, None, None, None, (), None, now, now, None, 1)


def model_json(receipts: list[Receipt]) -> bytes:
    out = [ReceiptOut(id=r.id, digest=r.digest.hex if r.digest else None, status=r.state)
           for r in receipts]  # fmt: skip
    return SubmitResponse(receipts=out).model_dump_json(by_alias=True).encode()


def test_new_and_replayed_receipts_as_the_model_writes_them() -> None:
    receipts = [receipt(new_receipt_id(), Digest(os.urandom(32)), state) for state in ReceiptState]
    receipts.append(receipt(new_receipt_id(), None, ReceiptState.ERASED))  # an erased replay
    assert submitted_json(receipts) == model_json(receipts)
    assert json.loads(submitted_json(receipts))["receipts"][-1]["digest"] is None


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5))
def test_any_id_still_makes_valid_json(ids: list[str]) -> None:
    # No such id is ever made; one outside [A-Za-z0-9_-] goes through json.dumps.
    receipts = [receipt(rid, Digest(bytes(32)), ReceiptState.PENDING) for rid in ids]
    assert json.loads(submitted_json(receipts)) == json.loads(model_json(receipts))
