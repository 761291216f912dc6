"""A superseded document's successor on the public root lookup: linked to its verification only
when this service holds the successor's receipt and its type is posted in public (a building
permit), never for a residence certificate, and no longer once the successor is erased."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor.chain.devchain import Anvil
from anchor.proof.doctypes import builtin_types
from anchor.service.batcher import close_batches
from anchor.types import ReceiptState
from tests.support.documents import PERMIT_FACTS, permit_request
from tests.support.service import make_env
from tests.support.statuses import Stack, headers

pytestmark = pytest.mark.chain


@pytest.fixture
def stack(tmp_path: Path, anvil: Anvil) -> Iterator[Stack]:
    env = make_env(tmp_path, anvil)
    made = Stack(env, tmp_path)
    yield made
    made.client.close()
    env.store.close()


def certificate(reference: str) -> dict[str, Any]:
    """A residence certificate with every required fact filled in."""
    doctype = builtin_types().get_type("lu.residence-certificate")

    def value(kind: str) -> str:
        return "2026-01-15" if kind == "date" else f"{reference} x"

    facts = {f.name: value(f.kind) for f in doctype.facts if f.required}
    facts["reference"] = reference
    private = {f.name: value(f.kind) for f in doctype.private_facts if f.required}
    return {"type": doctype.id, "facts": facts, "private": private}


def submit(stack: Stack, body: dict[str, Any]) -> str:
    r = stack.client.post("/v1/documents", json=body, headers=headers(stack.key))
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def anchor_all(stack: Stack, ids: list[str]) -> None:
    close_batches(stack.store, max_batch_size=len(ids), max_batch_age=3600)
    for _ in range(40):
        stack.submitter.step()
        stack.env.mine()
        receipts = [stack.store.get_receipt(i) for i in ids]
        if all(r is not None and r.state is ReceiptState.ANCHORED for r in receipts):
            return
    raise AssertionError("the documents were never anchored")


def receipt(stack: Stack, receipt_id: str) -> dict[str, Any]:
    r = stack.client.get(f"/v1/receipts/{receipt_id}", headers=headers(stack.key))
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def successor_of(stack: Stack, receipt_id: str) -> dict[str, Any] | None:
    """The ``successor`` the public root lookup gives for ``receipt_id``'s document."""
    proof = receipt(stack, receipt_id)["proof"]
    r = stack.client.get(f"/v1/roots/{proof['root']}", params={"key": proof["issuer"]})
    assert r.status_code == 200, r.text
    [document] = [d for d in r.json()["documents"] if d["leaf"] == proof["leaf"]]
    assert document["state"] == "superseded"
    found: dict[str, Any] | None = document["successor"]
    return found


def test_a_posted_successor_is_linked_and_a_private_one_is_not(stack: Stack) -> None:
    old_permit = submit(stack, permit_request())
    new_permit = submit(
        stack, permit_request(facts={**PERMIT_FACTS, "reference": "2026/0042-M1"}, digest=None)
    )
    old_cert, new_cert = submit(stack, certificate("RC-1")), submit(stack, certificate("RC-2"))
    anchor_all(stack, [old_permit, new_permit, old_cert, new_cert])
    changes = [
        (old_permit, stack.accepted(old_permit, {"change": "supersede", "successor": new_permit})),
        (old_cert, stack.accepted(old_cert, {"change": "supersede", "successor": new_cert})),
    ]
    stack.drive(*changes)

    linked = successor_of(stack, old_permit)
    assert linked is not None
    successor = receipt(stack, new_permit)
    assert linked["url"] == successor["verificationUrl"]
    assert "#v2." in linked["url"]
    assert (linked["root"], linked["leaf"]) == (successor["root"], successor["proof"]["leaf"])

    private = successor_of(stack, old_cert)
    assert private is not None and private["url"] is None  # not a posted type
    assert private["leaf"] == receipt(stack, new_cert)["proof"]["leaf"]

    # Erased on request: the link goes with it (the registry still names the successor).
    r = stack.client.delete(f"/v1/receipts/{new_permit}", headers=headers(stack.key))
    assert r.status_code == 200, r.text
    gone = successor_of(stack, old_permit)
    assert gone is not None and gone["url"] is None and gone["leaf"] == linked["leaf"]
