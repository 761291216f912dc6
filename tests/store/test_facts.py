"""Typed documents in the store: receipt and facts in one transaction, idempotency, erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from anchor.merkle.hashing import leaf_hash
from anchor.proof.doctypes import builtin_types
from anchor.proof.statement import private_commitment
from anchor.service.batcher import close_batches
from anchor.service.documents import new_document
from anchor.service.intake import submit
from anchor.store import IdempotencyConflict, NewDocument, Store
from anchor.types import Digest, ReceiptState
from tests.support.documents import PERMIT_DIGEST, PERMIT_FACTS, PERMIT_PRIVATE, PERMIT_TYPE

PERMIT = builtin_types().get_type(PERMIT_TYPE)


def permit(**facts: str) -> NewDocument:
    return new_document(
        PERMIT,
        {**PERMIT_FACTS, **facts},
        PERMIT_PRIVATE,
        file_digest=Digest.from_hex(PERMIT_DIGEST),
    )


def test_a_document_is_stored_with_its_facts_and_batched_by_its_statement(
    store: Store, integrator_id: int
) -> None:
    document = permit()
    [receipt] = store.add_documents([document], integrator_id)
    assert receipt.state is ReceiptState.PENDING and receipt.digest == document.digest
    facts = store.document_facts(receipt.id)
    assert facts is not None
    assert (facts.type_id, facts.type_version) == (PERMIT_TYPE, 1)
    assert dict(facts.facts) == PERMIT_FACTS and dict(facts.private) == PERMIT_PRIVATE
    assert facts.file_digest == bytes.fromhex(PERMIT_DIGEST)
    assert facts.private_salt is not None and len(facts.private_salt) == 32
    assert facts.commitment == private_commitment(facts.private_salt, PERMIT_PRIVATE)
    with store.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT facts FROM document_facts WHERE receipt_id = :id"), {"id": receipt.id}
        ).scalar_one()
    assert stored.startswith('{"address":"6, rue de l\'\u00c9tang')  # canonical JSON, keys sorted

    [batch_id] = close_batches(store, 1, 3600)
    batched = store.get_receipt(receipt.id)
    batch = store.get_batch(batch_id)
    assert batched is not None and batched.salt is not None and batch is not None
    assert batched.leaf == leaf_hash(batched.salt, document.digest.bytes) == batch.root
    assert batched.salt != facts.private_salt  # the Merkle salt is another secret


def test_each_document_draws_its_own_private_salt(store: Store, integrator_id: int) -> None:
    a, b = store.add_documents([permit(), permit()], integrator_id)
    fa, fb = store.document_facts(a.id), store.document_facts(b.id)
    assert fa is not None and fb is not None and fa.private_salt != fb.private_salt
    assert a.digest != b.digest  # another salt, another commitment, another statement


def test_a_bare_digest_has_no_facts(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [PERMIT_DIGEST], integrator_id)
    assert store.document_facts(receipt.id) is None


def test_same_key_same_content_same_receipt_other_content_conflict(
    store: Store, integrator_id: int
) -> None:
    [first] = store.add_documents([permit()], integrator_id, "permit-2026-0042")
    # A retry draws a new private salt; the content is the same, so is the answer.
    [again] = store.add_documents([permit()], integrator_id, "permit-2026-0042")
    assert again.id == first.id and again.digest == first.digest
    with pytest.raises(IdempotencyConflict):
        store.add_documents([permit(reference="2026/0043")], integrator_id, "permit-2026-0042")
    with pytest.raises(IdempotencyConflict):  # the key of a document is not one for digests
        submit(store, [PERMIT_DIGEST], integrator_id, idempotency_key="permit-2026-0042")
    with store.engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM document_facts")).scalar_one()
    assert count == 1


def test_the_fingerprint_does_not_expose_the_private_facts(
    store: Store, integrator_id: int
) -> None:
    """The idempotency record of a document is keyed: a guess of the holder's name cannot be
    tested against it without the pepper (which is not in the database)."""
    import hashlib

    from anchor.proof.statement import canonical_json

    document = permit()
    store.add_documents([document], integrator_id, "k")
    with store.engine.connect() as conn:
        fingerprint = bytes(
            conn.execute(text("SELECT fingerprint FROM idempotency_records")).scalar_one()
        )
    guess = canonical_json({"documents": [document.content()]})
    assert fingerprint not in {hashlib.sha256(guess).digest(), hashlib.sha256(b"").digest()}
    assert fingerprint == store.key_hasher.fingerprint(guess)


def test_erasure_deletes_the_facts(store: Store, integrator_id: int) -> None:
    [receipt, other] = store.add_documents([permit(), permit()], integrator_id, "erase-it")
    close_batches(store, 2, 3600)
    store.erase(receipt.id)
    assert store.document_facts(receipt.id) is None
    assert store.document_facts(other.id) is not None
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT COUNT(*) FROM document_facts WHERE receipt_id = :id"), {"id": receipt.id}
        ).scalar_one()
    assert rows == 0
    erased = store.get_receipt(receipt.id)
    assert erased is not None and erased.is_erased and erased.digest is None
    with pytest.raises(IdempotencyConflict):  # the retry cannot bring the facts back
        store.add_documents([permit(), permit()], integrator_id, "erase-it")


def test_a_document_of_an_integrator_without_a_body_is_refused(store: Store) -> None:
    from anchor.store import NoIssuerError

    lone = store.create_integrator("Without a body").id
    with pytest.raises(NoIssuerError):
        store.add_documents([permit()], lone)
