"""Intake: durable commit, idempotency, malformed digests."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from anchor.service.intake import submit
from anchor.store import IdempotencyConflict, Store, StoreError
from anchor.store.engine import create_store_engine
from anchor.types import InvalidDigestError, ReceiptState
from tests.support.store import TEST_PEPPER, digest_hex, make_issuer, url_of


def _count_rows(url: str, table: str) -> int:
    """Count rows through a second, independent engine (another connection pool)."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_submit_commits_before_returning(store: Store, integrator_id: int) -> None:
    receipts = submit(store, [digest_hex(i) for i in range(5)], integrator_id)
    assert [r.state for r in receipts] == [ReceiptState.PENDING] * 5
    assert len({r.id for r in receipts}) == 5
    assert _count_rows(url_of(store), "receipts") == 5
    stored = store.get_receipt(receipts[2].id)
    assert stored is not None and stored.digest is not None
    assert stored.digest.hex == digest_hex(2)
    assert store.pending_count() == 5
    age = store.oldest_unanchored_age()
    assert age is not None and 0 <= age < 60


def test_digests_are_normalised(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, ["0x" + digest_hex(1).upper()], integrator_id)
    assert receipt.digest is not None and receipt.digest.hex == digest_hex(1)


def test_same_key_same_digests_returns_same_receipts(store: Store, integrator_id: int) -> None:
    digests = [digest_hex(i) for i in range(3)]
    first = submit(store, digests, integrator_id, idempotency_key="req-1")
    again = submit(store, [d.upper() for d in digests], integrator_id, idempotency_key="req-1")
    assert [r.id for r in again] == [r.id for r in first]
    assert _count_rows(url_of(store), "receipts") == 3


def test_same_key_other_digests_conflicts(store: Store, integrator_id: int) -> None:
    submit(store, [digest_hex(1)], integrator_id, idempotency_key="req-1")
    with pytest.raises(IdempotencyConflict, match="req-1") as info:
        submit(store, [digest_hex(2)], integrator_id, idempotency_key="req-1")
    assert isinstance(info.value, StoreError)
    assert _count_rows(url_of(store), "receipts") == 1


def test_keys_are_per_integrator(store: Store, integrator_id: int) -> None:
    other = store.create_integrator("Other", make_issuer(store, "Other", body_id=2)).id
    a = submit(store, [digest_hex(1)], integrator_id, idempotency_key="k")
    b = submit(store, [digest_hex(2)], other, idempotency_key="k")
    assert a[0].id != b[0].id


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("ab" * 31, "digest #1: expected 64 hex characters, got 62"),
        ("ab" * 33, "digest #1: expected 64 hex characters, got 66"),
        ("zz" + "ab" * 31, "digest #1: non-hex character 'z' at position 0"),
        (None, "digest #1: expected a string of 64 hex characters, got NoneType"),
    ],
)
def test_malformed_digest_stores_nothing(
    store: Store, integrator_id: int, bad: object, message: str
) -> None:
    with pytest.raises(InvalidDigestError, match=message) as info:
        submit(store, [digest_hex(0), bad, digest_hex(2)], integrator_id)  # type: ignore[list-item]
    assert info.value.index == 1
    assert _count_rows(url_of(store), "receipts") == 0


def test_empty_submission_is_rejected(store: Store, integrator_id: int) -> None:
    with pytest.raises(InvalidDigestError, match="no digests"):
        submit(store, [], integrator_id)


def test_unknown_integrator_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        submit(store, [digest_hex(1)], 999_999)


def test_concurrent_retries_with_one_key_get_one_answer(store: Store, integrator_id: int) -> None:
    import threading

    from anchor.store import open_store

    digests = [digest_hex(i) for i in range(20)]
    answers: list[list[str]] = []
    barrier = threading.Barrier(4)

    def retry() -> None:
        mine = open_store(url_of(store), key_pepper=TEST_PEPPER)
        try:
            barrier.wait()
            answers.append([r.id for r in submit(mine, digests, integrator_id, "same")])
        finally:
            mine.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
    assert _count_rows(url_of(store), "receipts") == 20


def test_receipt_ids_never_start_with_a_dash() -> None:
    """An id such as ``-abc`` would read as an option on a command line (`anchor proof ID`)."""
    from anchor.store.intake import new_receipt_id

    ids = [new_receipt_id() for _ in range(20_000)]  # about 1 in 64 drawn starts with "-"
    assert len(set(ids)) == len(ids)
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)


def test_receipt_ids_drawn_together_are_the_same_kind() -> None:
    """The ids of one request come from one draw: 16 bytes each, URL-safe base64 of 22
    characters exactly as `base64.urlsafe_b64encode` writes them (no padding), none starting
    with "-"."""
    import base64

    from anchor.store.intake import new_receipt_ids

    ids = new_receipt_ids(20_000) + new_receipt_ids(1) + new_receipt_ids(2)
    assert len(set(ids)) == len(ids) == 20_003
    assert not any(i.startswith("-") for i in ids)
    for rid in ids:
        raw = base64.urlsafe_b64decode(rid + "==")
        assert len(raw) == 16 and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == rid
    assert new_receipt_ids(0) == []


def test_receipt_ids_begin_with_their_time_and_end_random() -> None:
    """The first 6 bytes are the time of making in milliseconds (so the ids of the same
    moments share their first characters and sit together in the primary key's index), the
    other 10 are drawn: two draws at the same millisecond share the 8 characters of the time
    and nothing after."""
    import base64
    from datetime import UTC, datetime, timedelta

    from anchor.store.intake import ID_TIME_BYTES, new_receipt_id, new_receipt_ids

    def millis(rid: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(rid + "==")[:ID_TIME_BYTES], "big")

    at = datetime(2026, 12, 3, 17, 30, 0, 123456, tzinfo=UTC)
    same = [*new_receipt_ids(500, at), new_receipt_id(at)]
    assert {millis(rid) for rid in same} == {int(at.timestamp() * 1000)}
    assert {rid[:8] for rid in same} == {same[0][:8]}
    assert len({rid[8:] for rid in same}) == len(same)  # 80 random bits each
    later = new_receipt_id(at + timedelta(milliseconds=1))
    assert millis(later) == millis(same[0]) + 1
    before = datetime.now(UTC)
    now = new_receipt_ids(3)
    after = datetime.now(UTC)
    assert all(
        int(before.timestamp() * 1000) <= millis(rid) <= int(after.timestamp() * 1000)
        for rid in now
    )
    # until 2109 the time's first six bits are zero: an id starts with "A", never "-"
    assert new_receipt_id(datetime(2109, 1, 1, tzinfo=UTC))[0] == "A"


def test_a_submission_ids_carry_its_creation_time(store: Store, integrator_id: int) -> None:
    """The ids of one request carry the ``created_at`` its receipts are stored with."""
    import base64

    from anchor.store.intake import ID_TIME_BYTES

    receipts = submit(store, [digest_hex(i) for i in range(5)], integrator_id)
    for receipt in receipts:
        raw = base64.urlsafe_b64decode(receipt.id + "==")
        stored = store.get_receipt(receipt.id)
        assert stored is not None
        millis = int(stored.created_at.timestamp() * 1000)
        assert int.from_bytes(raw[:ID_TIME_BYTES], "big") == millis


def test_more_rows_than_one_sqlite_statement_binds(store: Store, integrator_id: int) -> None:
    from anchor.store._sql import SQLITE_MAX_VARIABLES

    count = 2 * (SQLITE_MAX_VARIABLES // 8) + 3  # three statements of the multi-row insert
    receipts = submit(store, [digest_hex(i) for i in range(count)], integrator_id)
    assert store.pending_count() == count
    for i in (0, SQLITE_MAX_VARIABLES // 8, count - 1):
        stored = store.get_receipt(receipts[i].id)
        assert stored is not None and stored.digest == receipts[i].digest
        assert stored.digest is not None and stored.digest.hex == digest_hex(i)


@pytest.mark.parametrize("count", [0, 1, 62, 63, 64, 126, 1000])
def test_the_request_fingerprint_is_the_hash_of_all_its_digests(count: int) -> None:
    """Hashed in pieces under hashlib's GIL threshold, the fingerprint is still SHA-256 of the
    digests' bytes in order: records written before the pieces keep matching their replays."""
    import hashlib

    from anchor.store.intake import request_fingerprint
    from anchor.types import Digest

    digests = [Digest.from_hex(digest_hex(i)) for i in range(count)]
    whole = hashlib.sha256(b"".join(d.bytes for d in digests)).digest()
    assert request_fingerprint(digests) == whole
    assert request_fingerprint(digests[::-1]) != whole or count < 2
