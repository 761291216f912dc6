"""Erasure on request: the receipt's secrets go, every other proof still verifies."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from anchor.merkle import verify_proof
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import IdempotencyConflict, NotFoundError, Store, open_store
from anchor.types import ReceiptState
from tests.support.store import digest_hex, make_issuer


def test_erase_keeps_every_other_proof_valid(store: Store, integrator_id: int) -> None:
    digests = [digest_hex(i) for i in range(5)]
    receipts = submit(store, digests, integrator_id, idempotency_key="erase-me")
    [batch_id] = close_batches(store, 5, 3600)
    victim = receipts[2].id
    erased = store.erase(victim, integrator_id=integrator_id)
    assert erased.is_erased and erased.erased_at is not None
    assert erased.digest is None and erased.salt is None and erased.leaf is None
    assert erased.proof == ()
    again = store.get_receipt(victim)
    assert again is not None and again.state is ReceiptState.ERASED
    assert store.erase(victim).erased_at == erased.erased_at  # idempotent

    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT digest, salt, leaf, proof FROM receipts WHERE id = :id"), {"id": victim}
        ).one()
        blobs = conn.execute(text("SELECT digest FROM receipts WHERE digest IS NOT NULL")).all()
    assert tuple(row) == (None, None, None, None)
    assert bytes.fromhex(digests[2]) not in {bytes(b[0]) for b in blobs}

    batch = store.get_batch(batch_id)
    assert batch is not None
    for r in store.batch_receipts(batch_id):
        if r.id == victim:
            continue
        assert r.salt is not None and r.digest is not None
        leaf = leaf_hash(r.salt, r.digest.bytes)
        assert fold_proof(leaf, r.proof) == batch.root
        assert verify_proof(batch.root, leaf, list(r.proof))

    # The batch moves on; the erased receipt stays erased.
    store.mark_batch_anchored(batch_id, b"\x01" * 32, 10, b"\x02" * 32)
    after = store.get_receipt(victim)
    assert after is not None and after.state is ReceiptState.ERASED
    others = [store.get_receipt(r.id) for r in receipts if r.id != victim]
    assert all(o is not None and o.state is ReceiptState.ANCHORED for o in others)

    # A retry of the original request can no longer bring the digest back.
    with pytest.raises(IdempotencyConflict):
        submit(store, digests, integrator_id, idempotency_key="erase-me")


def test_erase_pending_receipt_is_never_batched(store: Store, integrator_id: int) -> None:
    a, b = submit(store, [digest_hex(1), digest_hex(2)], integrator_id)
    store.erase(a.id)
    assert store.pending_count() == 1
    [batch_id] = close_batches(store, 1, 3600)
    assert [r.id for r in store.batch_receipts(batch_id)] == [b.id]


def test_erase_checks_owner(store: Store, integrator_id: int) -> None:
    [r] = submit(store, [digest_hex(1)], integrator_id)
    other = store.create_integrator("Other").id
    with pytest.raises(NotFoundError):
        store.erase(r.id, integrator_id=other)
    with pytest.raises(NotFoundError):
        store.erase("no-such-receipt")
    assert store.get_receipt(r.id, integrator_id=other) is None
    assert store.get_receipt(r.id, integrator_id=integrator_id) is not None


def test_nothing_of_an_erased_receipt_is_left_in_the_data_directory(tmp_path: Path) -> None:
    """Every file of the data directory, byte by byte: no salt, digest or Idempotency-Key of
    the erased receipt (SQLite with secure_delete and a WAL checkpoint), and every file 0600."""
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{data / 'anchor.db'}", migrate=True)
    try:
        integrator = store.create_integrator("Commune de Contern", make_issuer(store)).id
        key = "permis-jean-dupont-2026-0042"
        digests = [digest_hex(i) for i in range(50)]
        receipts = submit(store, digests, integrator, idempotency_key=key)
        close_batches(store, 50, 3600)
        victim = store.get_receipt(receipts[7].id)
        assert victim is not None and victim.salt is not None and victim.digest is not None
        secrets = {
            "salt": victim.salt,
            "salt hex": victim.salt.hex().encode(),
            "digest": victim.digest.bytes,
            "digest hex": victim.digest.hex.encode(),
            "key": key.encode(),
        }
        store.erase(victim.id)
        with pytest.raises(IdempotencyConflict):  # the retry is still recognised
            submit(store, digests, integrator, idempotency_key=key)
        # Read while the store is open, as a copy of a running service's data directory would be
        # (closing the last connection checkpoints the WAL by itself).
        files = [f for f in data.rglob("*") if f.is_file()]
        assert {f.name for f in files} >= {"anchor.db", "anchor.db-wal", "anchor.db.pepper"}
        for f in files:
            content = f.read_bytes()
            for what, needle in secrets.items():
                assert needle not in content, f"the {what} of the erased receipt is in {f.name}"
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    finally:
        store.close()
    # The receipts that were not erased are still there.
    assert bytes.fromhex(digests[8]) in (data / "anchor.db").read_bytes()


def _typed_secrets(store: Store, receipt_id: str) -> dict[str, bytes]:
    """Every stored value of a typed receipt that erasure must remove, raw and as hex/UTF-8."""
    receipt, facts = store.get_receipt(receipt_id), store.document_facts(receipt_id)
    assert receipt is not None and receipt.salt is not None and receipt.digest is not None
    assert facts is not None and facts.private_salt is not None
    assert facts.file_digest is not None and facts.commitment is not None
    found = {
        "salt": receipt.salt,
        "statement digest": receipt.digest.bytes,
        "private salt": facts.private_salt,
        "private salt hex": facts.private_salt.hex().encode(),
        "file digest": facts.file_digest,
        "commitment": facts.commitment,
    }
    for name, value in {**facts.facts, **facts.private}.items():
        found[f"fact {name}"] = value.encode()
    return found


def _own(secrets: dict[str, bytes], other: dict[str, bytes]) -> dict[str, bytes]:
    """The values of one document that another does not share (the facts every permit of the
    test has in common, such as the address, stay in the other rows)."""
    own = {what: value for what, value in secrets.items() if other.get(what) != value}
    assert {"fact reference", "fact works", "fact holder", "private salt"} <= set(own)
    return own


def _typed_permits(store: Store, integrator: int, key: str) -> list[str]:
    """50 building permits, each with its own reference, works and holder; batched."""
    from anchor.proof.doctypes import builtin_types
    from anchor.service.documents import new_document
    from anchor.types import Digest
    from tests.support.documents import PERMIT_FACTS, PERMIT_TYPE

    permit = builtin_types().get_type(PERMIT_TYPE)
    documents = [
        new_document(
            permit,
            {**PERMIT_FACTS, "reference": f"2026/{9000 + i}", "works": f"Travaux n\u00b0 {i}-zq"},
            {"holder": f"Holder {i:03d} Schmit-Wagner"},
            file_digest=Digest.from_hex(digest_hex(1000 + i)),
        )
        for i in range(50)
    ]
    receipts = store.add_documents(documents, integrator, key)
    close_batches(store, 50, 3600)
    return [r.id for r in receipts]


def test_nothing_of_an_erased_typed_document_is_left_in_the_data_directory(
    tmp_path: Path,
) -> None:
    """Every file of the data directory, byte by byte, after a typed receipt is erased: no
    fact, private fact, private salt, file digest, commitment, salt or statement digest."""
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{data / 'anchor.db'}", migrate=True)
    try:
        integrator = store.create_integrator("Commune de Contern", make_issuer(store)).id
        ids = _typed_permits(store, integrator, "permis-marie-schmit-2026-9007")
        kept = _typed_secrets(store, ids[8])
        secrets = _own(_typed_secrets(store, ids[7]), kept)
        secrets["key"] = b"permis-marie-schmit-2026-9007"
        store.erase(ids[7])
        files = [f for f in data.rglob("*") if f.is_file()]
        for f in files:
            content = f.read_bytes()
            for what, needle in secrets.items():
                assert needle not in content, f"the {what} of the erased document is in {f.name}"
    finally:
        store.close()
    content = (data / "anchor.db").read_bytes()
    assert kept["fact holder"] in content and kept["private salt"] in content  # the others stay


@pytest.mark.postgres
def test_nothing_of_an_erased_typed_document_is_left_in_the_postgres_table_files(
    pg_url: str,
) -> None:
    """PostgreSQL keeps an erased row's old version in the table files until they are
    rewritten: after the VACUUM FULL and CHECKPOINT that docs/store.md asks for, the files of
    ``document_facts``, ``receipts`` and ``idempotency_records`` (heap, TOAST and indexes,
    read with pg_read_binary_file as the server's superuser) hold nothing of the document."""
    store = open_store(pg_url, migrate=True, key_pepper=b"pepper of the store tests, 32 b.")
    try:
        integrator = store.create_integrator("Commune de Contern", make_issuer(store)).id
        ids = _typed_permits(store, integrator, "permis-marie-schmit-2026-9049")
        kept = _typed_secrets(store, ids[48])
        secrets = _own(_typed_secrets(store, ids[49]), kept)  # the newest row: lowest in a page

        autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")

        def table_files() -> bytes:
            with autocommit.connect() as conn:
                conn.exec_driver_sql("CHECKPOINT")
                paths = conn.exec_driver_sql(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() OR c.oid IN ("
                    "  SELECT reltoastrelid FROM pg_class k JOIN pg_namespace s "
                    "  ON s.oid = k.relnamespace WHERE s.nspname = current_schema())"
                ).scalars()
                blobs = [
                    conn.exec_driver_sql("SELECT pg_read_binary_file(%s)", (p,)).scalar_one()
                    for p in paths
                    if p is not None
                ]
            return b"".join(bytes(b) for b in blobs)

        assert secrets["fact holder"] in table_files()  # the scan does see the facts
        store.erase(ids[49])
        with autocommit.connect() as conn:
            conn.exec_driver_sql("VACUUM FULL document_facts, receipts, idempotency_records")
        content = table_files()
        for what, needle in secrets.items():
            assert needle not in content, f"the {what} of the erased document is in a table file"
        assert kept["fact holder"] in content and kept["private salt"] in content
    finally:
        store.close()
