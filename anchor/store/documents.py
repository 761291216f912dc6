"""Typed documents: a receipt whose digest is a statement digest, and the facts behind it.

`DocumentsMixin.add_documents` commits one pending receipt per document (its digest the
statement digest, docs/proof-format.md section 7) and the document's row of ``document_facts``
(type, facts, private facts, private salt, file digest, private commitment) in ONE transaction,
shared with concurrent intakes (group commit), as `IntakeMixin.add_receipts` does. A retry with
the same Idempotency-Key and the same documents returns the same receipts; the same key with
other content raises `IdempotencyConflict`. The fingerprint of the content is keyed with the
idempotency pepper: it covers the private facts, which a plain hash would expose to guessing.

`Store.erase` deletes the row (see `anchor.store.receipts`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Row, Table, bindparam, insert, select
from sqlalchemy.engine.default import DefaultDialect

from anchor.errors import InvalidInputError
from anchor.proof.statement import canonical_json
from anchor.store import models as m
from anchor.store._base import NOT_ON_LOOP, StoreBase
from anchor.store.errors import NoIssuerError, StoreError
from anchor.store.intake import _add_in, body_of, commit_intake
from anchor.store.loop_pg import LoopStatement
from anchor.store.receipts import BATCH_PREFIX, Prefixed
from anchor.store.records import FOLLOWS_BATCH, Batch, Receipt
from anchor.types import BatchState, Digest

__all__ = ["DocumentFacts", "DocumentsMixin", "NewDocument", "ReceiptRead"]

_FACTS = cast(Table, m.DocumentFacts.__table__)
_RECEIPTS = m.RECEIPTS
_BATCHES = cast(Table, m.Batch.__table__)
_FOLLOWS_BATCH = [state.value for state in FOLLOWS_BATCH]
_ISSUERS = cast(Table, m.Issuer.__table__)
_SIZE = 32
FACTS_PREFIX = "facts__"

# GET /v1/receipts/{id}: the receipt, its batch and its facts in ONE prebuilt statement (its
# compiled form is cached by SQLAlchemy); batch and facts columns carry their prefixes.
_RECEIPT_READ = (
    select(
        *_RECEIPTS.c,
        *(c.label(BATCH_PREFIX + c.name) for c in _BATCHES.c),
        *(c.label(FACTS_PREFIX + c.name) for c in _FACTS.c),
        _ISSUERS.c.chain_body_id.label("batch_chain_body_id"),
    )
    .select_from(
        _RECEIPTS.outerjoin(_BATCHES, _BATCHES.c.id == _RECEIPTS.c.batch_id)
        .outerjoin(_FACTS, _FACTS.c.receipt_id == _RECEIPTS.c.id)
        .outerjoin(_ISSUERS, _ISSUERS.c.id == _BATCHES.c.issuer_id)
    )
    .where(_RECEIPTS.c.id == bindparam("receipt_id"))
)


def _frozen(values: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class NewDocument:
    """One typed document to take: what the service validated and computed for it.

    ``digest`` is the statement digest of the type, the public facts, the file digest and the
    private commitment; ``private_salt`` and ``commitment`` are set exactly when there are
    private facts. The store keeps these values as given; the service made them consistent.
    """

    type_id: str
    type_version: int
    facts: Mapping[str, str]
    private: Mapping[str, str]
    file_digest: bytes | None
    private_salt: bytes | None
    commitment: bytes | None
    digest: Digest

    def __post_init__(self) -> None:
        for name in ("file_digest", "private_salt", "commitment"):
            value = getattr(self, name)
            if value is not None and len(value) != _SIZE:
                raise InvalidInputError(f"the document's {name} must be 32 bytes")
        if bool(self.private) != (self.private_salt is not None) or bool(self.private) != (
            self.commitment is not None
        ):
            raise InvalidInputError(
                "a document has a private salt and a commitment exactly when it has private facts"
            )
        object.__setattr__(self, "facts", _frozen(self.facts))
        object.__setattr__(self, "private", _frozen(self.private))

    def content(self) -> dict[str, object]:
        """What a retry must repeat: type, facts, private facts, file (never the salt)."""
        content: dict[str, object] = {
            "type": self.type_id,
            "typeVersion": self.type_version,
            "facts": dict(self.facts),
            "private": dict(self.private),
        }
        if self.file_digest is not None:
            content["file"] = "0x" + self.file_digest.hex()
        return content


@dataclass(frozen=True)
class DocumentFacts:
    """The stored type and facts of a typed receipt (gone once the receipt is erased)."""

    receipt_id: str
    type_id: str
    type_version: int
    facts: Mapping[str, str] = field(repr=False)
    private: Mapping[str, str] = field(repr=False)
    private_salt: bytes | None = field(repr=False)
    file_digest: bytes | None
    commitment: bytes | None


class ReceiptRead(NamedTuple):
    """A receipt with its batch (None before batching) and its facts (None for a bare digest
    or once erased), as `DocumentsMixin.receipt_read` reads them together."""

    receipt: Receipt
    batch: Batch | None
    document: DocumentFacts | None
    body_id: int | None = None
    """The registry's id of the batch's body, as the store recorded it at onboarding (None
    before batching or onboarding): the chain's facts of the root are then one call away."""


def _json(values: Mapping[str, str]) -> str:
    return canonical_json(dict(values)).decode("utf-8")


def _facts_of(text: str | None, receipt_id: str) -> Mapping[str, str]:
    if text is None:
        return _frozen({})
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise StoreError(f"the facts of receipt {receipt_id} are not JSON") from e
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise StoreError(f"the facts of receipt {receipt_id} are not an object of strings")
    return _frozen(value)


_NAMES = {
    "": tuple(c.name for c in _RECEIPTS.c),
    BATCH_PREFIX: tuple(c.name for c in _BATCHES.c),
    FACTS_PREFIX: tuple(c.name for c in _FACTS.c),
}


def _fields(values: Mapping[Any, Any], prefix: str = "") -> Row[Any]:
    """The columns of one table in a row of `_RECEIPT_READ` (labelled with ``prefix``), by
    their own names as attributes, for `Receipt.of`, `Batch.of` and `_document_of` (a
    namespace: four times cheaper to read than a mapping behind ``__getattr__``)."""
    return cast(Row[Any], SimpleNamespace(**{n: values[prefix + n] for n in _NAMES[prefix]}))


def _read_of(values: Mapping[Any, Any], integrator_id: int) -> ReceiptRead | None:
    """The `ReceiptRead` of a row of `_RECEIPT_READ`; None when it is someone else's receipt."""
    if values["integrator_id"] != integrator_id:
        return None
    batch = None
    if values[BATCH_PREFIX + "id"] is not None:
        batch = Batch.of(_fields(values, BATCH_PREFIX))
    document = None
    if values[FACTS_PREFIX + "receipt_id"] is not None:
        document = _document_of(_fields(values, FACTS_PREFIX))
    body_id = values["batch_chain_body_id"]
    return ReceiptRead(
        Receipt.of(_fields(values), values[BATCH_PREFIX + "state"]),
        batch,
        document,
        None if body_id is None else int(body_id),
    )


def _document_of(row: Row[Any]) -> DocumentFacts:
    """The record of a ``document_facts`` row (or of its prefixed columns in a joined row)."""
    receipt_id = row.receipt_id
    return DocumentFacts(
        receipt_id=receipt_id,
        type_id=row.type_id,
        type_version=row.type_version,
        facts=_facts_of(row.facts, receipt_id),
        private=_facts_of(row.private_facts, receipt_id),
        private_salt=None if row.private_salt is None else bytes(row.private_salt),
        file_digest=None if row.file_digest is None else bytes(row.file_digest),
        commitment=None if row.private_commitment is None else bytes(row.private_commitment),
    )


class DocumentsMixin(StoreBase):
    """Typed documents' intake and facts; see `anchor.store.Store`."""

    def add_documents(
        self,
        documents: Sequence[NewDocument],
        integrator_id: int,
        idempotency_key: str | None = None,
        *,
        issuer_id: int | None = None,
    ) -> list[Receipt]:
        """Commit one pending receipt and its facts per document (in order); return them after
        the commit.

        Same rules as `add_receipts`: the integrator's body (``issuer_id``, else read here;
        NoIssuerError without one), IdempotencyConflict when the key was used for other
        content, StoreError when the database fails or the key stays contended.
        """
        if not documents:
            raise InvalidInputError("no documents given: submit at least one", ("body",))
        body = issuer_id if issuer_id is not None else body_of(self, integrator_id)
        if body is None:
            raise NoIssuerError(integrator_id)
        owner = (integrator_id, body)
        key = idempotency_key
        token = None if key is None else self.key_hasher.token(integrator_id, key)
        fingerprint = (
            bytes(32)  # unused without a key: no record is written
            if token is None
            else self.key_hasher.fingerprint(
                canonical_json({"documents": [d.content() for d in documents]})
            )
        )
        digests = [d.digest for d in documents]

        def facts_rows(conn: Connection, ids: list[str]) -> None:
            conn.execute(
                insert(_FACTS),
                [
                    {
                        "receipt_id": rid,
                        "type_id": d.type_id,
                        "type_version": d.type_version,
                        "facts": _json(d.facts),
                        "private_facts": _json(d.private) if d.private else None,
                        "private_salt": d.private_salt,
                        "file_digest": d.file_digest,
                        "private_commitment": d.commitment,
                    }
                    for rid, d in zip(ids, documents, strict=True)
                ],
            )

        return commit_intake(
            self,
            lambda conn, deferred: _add_in(
                conn, deferred, digests, owner, token, fingerprint, key, facts_rows
            ),
        )

    def document_facts(self, receipt_id: str) -> DocumentFacts | None:
        """The type and facts of a typed receipt; None for a bare digest or an erased one."""
        with self._reading() as session:
            row = (
                session.connection()
                .execute(select(_FACTS).where(_FACTS.c.receipt_id == receipt_id))
                .first()
            )
        return None if row is None else _document_of(row)

    def receipt_read(self, receipt_id: str, integrator_id: int) -> ReceiptRead | None:
        """The integrator's receipt, its batch and its facts, in ONE read; None if the receipt
        is unknown or someone else's.

        The read path of ``GET /v1/receipts/{id}`` (and its QR code and poster): one prebuilt
        Core select (the receipt left-joined to its batch and to its row of facts) on a
        read-only connection, no session and no ORM objects.
        """
        if self._sqlite_statement is None and self._loop_engine is not None:
            dialect = cast(type[DefaultDialect], type(self.engine.dialect))
            named = dialect(paramstyle="named")  # the driver's own named style, ``:receipt_id``
            self._sqlite_statement = LoopStatement.of(_RECEIPT_READ, self.engine, named)
        if self._sqlite_statement is not None:
            on_loop = self._fetch_on_loop(self._sqlite_statement, {"receipt_id": receipt_id})
            if on_loop is not NOT_ON_LOOP:
                return None if on_loop is None else _read_of(on_loop, integrator_id)
        with self._guard(), self._read_engine().connect() as conn:
            found = conn.execute(_RECEIPT_READ, {"receipt_id": receipt_id}).first()
        return None if found is None else _read_of(found._mapping, integrator_id)

    async def receipt_read_async(self, receipt_id: str, integrator_id: int) -> ReceiptRead | None:
        """`receipt_read` awaited on the event loop, on PostgreSQL (`Store.reads_async`): the
        same select and the same row mapping, in one round trip on the loop's own connection
        (`anchor.store.loop_pg`). Raise StoreError when the server fails or does not answer
        within `anchor.store.loop_pg.LOOP_READ_TIMEOUT_S`."""
        loop_reads = self._loop_pg
        if loop_reads is None:
            raise StoreError(f"a {self.dialect} store makes no async reads")
        statement = self._loop_statement
        if statement is None:
            statement = self._loop_statement = LoopStatement.of(_RECEIPT_READ, self.engine)
        found = await loop_reads.fetch_one(statement, {"receipt_id": receipt_id})
        return None if found is None else _read_of(found, integrator_id)

    def receipt_by_leaf(self, root: bytes, leaf: bytes) -> tuple[Receipt, Batch] | None:
        """The anchored, not erased receipt of this service at (root, leaf), with its batch; None
        when the service holds none (the public root lookup links a superseded document to its
        successor with it). One joined select, through the index on ``batches.root``."""
        query = (
            select(*_RECEIPTS.c, *(c.label(BATCH_PREFIX + c.name) for c in _BATCHES.c))
            .join(_BATCHES, _BATCHES.c.id == _RECEIPTS.c.batch_id)
            .where(_BATCHES.c.root == root, _RECEIPTS.c.leaf == leaf)
            .where(_BATCHES.c.state == BatchState.ANCHORED.value)
            .where(_RECEIPTS.c.state.in_(_FOLLOWS_BATCH))
            .where(_RECEIPTS.c.erased_at.is_(None))
            .limit(1)
        )
        with self._reading() as session:
            row = session.connection().execute(query).first()
        if row is None:
            return None
        batch = Batch.of(cast(Row[Any], Prefixed(row)))
        return Receipt.of(row, batch.state.value), batch
