"""Issuing bodies, their keys and integrators, batches per body, and relayed outbox rows."""

from __future__ import annotations

import pytest

from anchor.errors import InvalidInputError
from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import NewKey, NoIssuerError, NotFoundError, Store, StoreError
from anchor.types import BatchState, Digest, IssuerKind, KeyPurpose, OutboxState
from tests.support.store import digest_hex, make_issuer

SIGNER = "0x" + "11" * 20
TX1, TX2 = b"\x01" * 32, b"\x02" * 32


def _keys(tag: str) -> list[NewKey]:
    return [
        NewKey(KeyPurpose.ANCHORING, "0x" + tag * 40, f"keys/a{tag}.json"),
        NewKey(KeyPurpose.STATUS, "0x" + tag * 39 + "0", f"keys/s{tag}.json"),
    ]


def test_a_body_is_made_with_its_keys_and_listed(store: Store) -> None:
    issuer = store.create_issuer(
        IssuerKind.COMMUNE, " Commune de Contern ", _keys("a"), code="0301", name_lb="Conter"
    )
    assert issuer.name_fr == "Commune de Contern" and issuer.code == "0301"
    assert issuer.name_lb == "Conter" and issuer.name_de is None
    assert issuer.chain_body_id is None
    assert [k.purpose for k in issuer.keys] == [KeyPurpose.ANCHORING, KeyPurpose.STATUS]
    anchoring = issuer.key_for(KeyPurpose.ANCHORING)
    assert anchoring is not None and anchoring.keystore == "keys/aa.json"
    assert store.list_issuers() == [issuer]
    assert store.list_issuers(onboarded=True) == []
    onboarded = store.set_chain_body_id(issuer.id, 7)
    assert onboarded.chain_body_id == 7
    assert store.list_issuers(onboarded=True) == [onboarded]
    assert store.get_issuer(issuer.id) == onboarded
    with pytest.raises(InvalidInputError, match="body 7 on chain, not 8"):
        store.set_chain_body_id(issuer.id, 8)


def test_refusals_leave_nothing(store: Store) -> None:
    store.create_issuer(IssuerKind.COMMUNE, "Commune de Contern", _keys("a"), code="0301")
    with pytest.raises(InvalidInputError, match=r"code '0301' is taken by issuing body \d+"):
        store.create_issuer(IssuerKind.COMMUNE, "Other", _keys("b"), code="0301")
    with pytest.raises(InvalidInputError, match="non-empty French name"):
        store.create_issuer(IssuerKind.COMMUNE, "  ", _keys("c"))
    with pytest.raises(InvalidInputError, match="exists already"):
        store.create_issuer(IssuerKind.OTHER, "Same keys", _keys("a"))
    assert len(store.list_issuers()) == 1
    with pytest.raises(NotFoundError, match="no issuing body 999999"):
        store.create_integrator("Nobody's", 999999)


def test_retired_key_is_no_longer_the_body_key(store: Store) -> None:
    issuer = store.create_issuer(IssuerKind.CHILDCARE, "Crèche", _keys("a"))
    anchoring = issuer.key_for(KeyPurpose.ANCHORING)
    assert anchoring is not None
    retired = store.retire_issuer_key(anchoring.address)
    assert retired.retired_at is not None
    again = store.get_issuer(issuer.id)
    assert again is not None and again.key_for(KeyPurpose.ANCHORING) is None


def test_an_integrator_belongs_to_one_body(store: Store) -> None:
    body = make_issuer(store, "Commune A")
    other = make_issuer(store, "Commune B", body_id=2)
    legacy = store.create_integrator("Made before bodies")
    with pytest.raises(NoIssuerError, match="anchor keys create --issuer ID"):
        submit(store, [digest_hex(1)], legacy.id)
    # A digest taken before bodies existed (migration 0003 leaves it without one)...
    [old] = store.add_receipts([Digest.from_hex(digest_hex(9))], legacy.id, issuer_id=body)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE receipts SET issuer_id = NULL WHERE id = '{old.id}'")
    assert store.bind_integrator(legacy.id, body).issuer_id == body
    # ... becomes the body's when its integrator gets its body.
    assert store.get_receipt(old.id).issuer_id == body  # type: ignore[union-attr]
    assert store.bind_integrator(legacy.id, body).issuer_id == body  # idempotent
    with pytest.raises(InvalidInputError, match=f"belongs to issuing body {body}, not {other}"):
        store.bind_integrator(legacy.id, other)
    [receipt] = submit(store, [digest_hex(1)], legacy.id)
    assert receipt.issuer_id == body
    assert store.get_receipt(receipt.id).issuer_id == body  # type: ignore[union-attr]
    key_id, secret = store.create_api_key(legacy.id, ["submit"])
    key = store.authenticate(secret)
    assert key is not None and key.id == key_id and key.issuer_id == body


def test_backlogs_say_how_many_wait_since_when_and_whether_a_frozen_batch_waits(
    store: Store,
) -> None:
    body_a, body_b = make_issuer(store, "A", body_id=1), make_issuer(store, "B", body_id=2)
    a = store.create_integrator("A", body_a).id
    b = store.create_integrator("B", body_b).id
    first_b = submit(store, [digest_hex(i) for i in range(3, 5)], b)
    first_a = submit(store, [digest_hex(i) for i in range(3)], a)
    [backlog_b, backlog_a] = store.backlogs()  # oldest first: B submitted first
    assert (backlog_b.issuer_id, backlog_b.pending, backlog_b.frozen_waiting) == (body_b, 2, False)
    assert (backlog_a.issuer_id, backlog_a.pending, backlog_a.frozen_waiting) == (body_a, 3, False)
    for backlog, receipts in ((backlog_a, first_a), (backlog_b, first_b)):
        created = [store.get_receipt(r.id).created_at for r in receipts]  # type: ignore[union-attr]
        assert backlog.oldest == min(created) and backlog.oldest.utcoffset() is not None
    assert len(close_batches(store, 2, 3600 * 24)) == 2  # one full batch each
    # A's frozen batch waits for submission and one of its digests is still pending; B has
    # none pending, so it has no backlog, frozen batch or not.
    [left] = store.backlogs()
    assert (left.issuer_id, left.pending, left.frozen_waiting) == (body_a, 1, True)


def test_batches_are_per_body_and_a_body_not_onboarded_waits(store: Store) -> None:
    body_a, body_b = make_issuer(store, "A", body_id=1), make_issuer(store, "B", body_id=2)
    a = store.create_integrator("A", body_a).id
    b = store.create_integrator("B", body_b).id
    waiting_body = make_issuer(store, "C", body_id=None)
    c = store.create_integrator("C", waiting_body).id
    submit(store, [digest_hex(i) for i in range(3)], a)
    submit(store, [digest_hex(i) for i in range(3, 5)], b)
    submit(store, [digest_hex(9)], c)
    assert [(x.issuer_id, x.pending) for x in store.backlogs()] == [(body_a, 3), (body_b, 2)]
    closed = close_batches(store, 100, 3600 * 24, now=None) + close_batches(store, 2, 3600)
    assert len(closed) == 2  # only B is full at size 2; A has 3 < 100 and is young
    batches = [store.get_batch(i) for i in closed]
    assert {(x.issuer_id, x.leaf_count) for x in batches if x} == {(body_a, 2), (body_b, 2)}
    # Back-pressure per body: A has a frozen batch waiting, so its last digest waits for more.
    assert close_batches(store, 2, 0.001, back_pressure=True) == []
    assert store.pending_count_of(body_a) == 1 and store.pending_count_of(waiting_body) == 1
    store.set_chain_body_id(waiting_body, 3)
    [late] = close_batches(store, 2, 0.001, back_pressure=True)
    assert store.get_batch(late).issuer_id == waiting_body  # type: ignore[union-attr]
    found = store.frozen_batches([body_b, waiting_body], 10)
    assert [x.issuer_id for x in found] == [body_b, waiting_body]


def test_a_relayed_row_carries_many_batches_and_is_mined_with_the_last(store: Store) -> None:
    a = store.create_integrator("A", make_issuer(store, "A", body_id=1)).id
    b = store.create_integrator("B", make_issuer(store, "B", body_id=2)).id
    submit(store, [digest_hex(1)], a)
    submit(store, [digest_hex(2)], b)
    first, second = close_batches(store, 1, 3600)
    entry = store.record_signed_tx([second, first], 0, SIGNER, b"raw", TX1, gas_price=0)
    assert entry.batch_ids == (first, second)
    with pytest.raises(StoreError, match="at least one batch"):
        store.record_signed_tx([], 1, SIGNER, b"raw", TX2)
    with pytest.raises(StoreError, match="live transaction with nonce 0"):
        store.record_signed_tx([first], 0, SIGNER, b"raw2", TX2)
    assert store.outbox_of_batch(first) == store.outbox_of_batch(second) == [entry]
    assert [e.batch_ids for e in store.live_outbox(SIGNER)] == [(first, second)]
    store.mark_broadcast(entry.id)
    for batch_id in (first, second):
        store.mark_batch_submitted(batch_id, TX1)
    store.mark_batch_anchored(first, TX1, 10, b"\xbb" * 32)
    assert store.outbox_of_batch(first)[0].state is OutboxState.BROADCAST  # second not yet
    store.mark_batch_anchored(second, TX1, 10, b"\xbb" * 32)
    assert store.outbox_of_batch(first)[0].state is OutboxState.MINED
    # A reorg sends both back: the row is dropped, a new one may take the nonce.
    store.return_batch_to_submission(first, "reorg")  # type: ignore[arg-type]
    assert store.outbox_of_batch(second)[0].state is OutboxState.DROPPED
    store.return_batch_to_submission(second, "reorg")  # type: ignore[arg-type]
    assert {store.get_batch(i).state for i in (first, second)} == {BatchState.FROZEN}  # type: ignore[union-attr]
    again = store.record_signed_tx([first, second], 0, SIGNER, b"raw3", TX2, gas_price=0)
    assert again.nonce == 0 and again.batch_ids == (first, second)


def test_kinds_are_the_registrys_slugs() -> None:
    from anchor.chain.registry import Kind

    pairs = {
        IssuerKind.COMMUNE: Kind.COMMUNE,
        IssuerKind.SYNDICATE: Kind.SYNDICATE,
        IssuerKind.SOCIAL_OFFICE: Kind.SOCIAL_OFFICE,
        IssuerKind.CHILDCARE: Kind.CHILDCARE,
        IssuerKind.STATE_BODY: Kind.STATE_BODY,
        IssuerKind.OTHER: Kind.OTHER,
    }
    assert list(pairs) == list(IssuerKind) and list(pairs.values()) == list(Kind)
    assert all(Kind.from_slug(kind.value) is chain for kind, chain in pairs.items())
