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
