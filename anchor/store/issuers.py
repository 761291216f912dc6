"""Issuing bodies and the keys the service holds for them.

A body is created with its keys in ONE transaction (`IssuersMixin.create_issuer`): the keystore
files are written first by the caller (their names are relative to the data directory), so a
body never exists without its keys. ``chain_body_id`` is set once the worker finds the body's
anchoring key registered on chain (`set_chain_body_id`); it never changes afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor.errors import InvalidInputError
from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store.errors import NotFoundError
from anchor.store.records import Issuer, IssuerKey
from anchor.types import BatchState, IssuerKind, KeyPurpose

__all__ = ["IssuerGauges", "IssuersMixin", "NewKey"]

MAX_CODE = 32
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key to record with a new body: its purpose, address and keystore file name."""

    purpose: KeyPurpose
    address: str
    keystore: str


@dataclass(frozen=True, slots=True)
class IssuerGauges:
    """What the metrics show of one body: its pending digests and its batches by state."""

    issuer_id: int
    pending: int
    oldest_pending: datetime | None
    batches: dict[str, int]


def _text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidInputError(f"an issuing body needs a non-empty {what}")
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInputError(f"the {what} has {len(value)} characters; at most {limit}")
    return value


def _issuers(session: Session, rows: Sequence[m.Issuer]) -> list[Issuer]:
    ids = [r.id for r in rows]
    keys: dict[int, list[m.IssuerKey]] = defaultdict(list)
    if ids:
        for key in session.scalars(select(m.IssuerKey).where(m.IssuerKey.issuer_id.in_(ids))):
            keys[key.issuer_id].append(key)
    return [Issuer.of(row, keys[row.id]) for row in rows]


class IssuersMixin(StoreBase):
    """Issuing bodies and their keys; see `anchor.store.Store`."""

    def create_issuer(
        self,
        kind: IssuerKind,
        name_fr: str,
        keys: Sequence[NewKey],
        *,
        code: str | None = None,
        name_de: str | None = None,
        name_en: str | None = None,
        name_lb: str | None = None,
    ) -> Issuer:
        """Create a body with its keys; InvalidInputError for an empty name or a taken code."""
        fr = _text(name_fr, "French name", MAX_NAME, required=True)
        code = _text(code, "code", MAX_CODE)
        langs = (("German", name_de), ("English", name_en), ("Luxembourgish", name_lb))
        names = [_text(n, f"{lang} name", MAX_NAME) for lang, n in langs]
        self.check_code_free(code)
        with self._transaction() as session:
            row = m.Issuer(
                kind=IssuerKind(kind).value,
                code=code,
                name_fr=fr,
                name_de=names[0],
                name_en=names[1],
                name_lb=names[2],
                created_at=m.utcnow(),
            )
            session.add(row)
            try:
                session.flush()
                for key in keys:
                    session.add(
                        m.IssuerKey(
                            issuer_id=row.id,
                            purpose=key.purpose.value,
                            address=key.address,
                            keystore=key.keystore,
                            created_at=m.utcnow(),
                        )
                    )
                session.flush()
            except IntegrityError as e:
                raise InvalidInputError(
                    f"an issuing body with code {code!r} or one of these key addresses exists "
                    "already"
                ) from e
            return _issuers(session, [row])[0]

    def check_code_free(self, code: str | None) -> None:
        """InvalidInputError when another body has ``code``."""
        if code is None:
            return
        with self._reading() as session:
            taken = session.scalar(select(m.Issuer.id).where(m.Issuer.code == code))
        if taken is not None:
            raise InvalidInputError(
                f"the code {code!r} is taken by issuing body {taken}: codes are unique"
            )

    def get_issuer(self, issuer_id: int) -> Issuer | None:
        """The body with its keys, or None."""
        with self._reading() as session:
            row = session.get(m.Issuer, issuer_id)
            return None if row is None else _issuers(session, [row])[0]

    def list_issuers(self, *, onboarded: bool | None = None) -> list[Issuer]:
        """Every body with its keys, by id; only those onboarded (or not) when asked."""
        query = select(m.Issuer).order_by(m.Issuer.id)
        if onboarded is True:
            query = query.where(m.Issuer.chain_body_id.is_not(None))
        elif onboarded is False:
            query = query.where(m.Issuer.chain_body_id.is_(None))
        with self._reading() as session:
            return _issuers(session, list(session.scalars(query)))

    def set_chain_body_id(self, issuer_id: int, body_id: int) -> Issuer:
        """Record the body's id on chain (found by the worker); it never changes afterwards."""
        with self._transaction() as session:
            row = session.get(m.Issuer, issuer_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no issuing body {issuer_id}")
            if row.chain_body_id not in (None, body_id):
                raise InvalidInputError(
                    f"issuing body {issuer_id} is body {row.chain_body_id} on chain, not {body_id}"
                )
            row.chain_body_id = body_id
            session.flush()
            return _issuers(session, [row])[0]

    def retire_issuer_key(self, address: str) -> IssuerKey:
        """Stop using a key (idempotent: keeps the first time); NotFoundError if unknown."""
        with self._transaction() as session:
            row = session.scalar(select(m.IssuerKey).where(m.IssuerKey.address == address))
            if row is None:
                raise NotFoundError(f"no key {address} of an issuing body")
            if row.retired_at is None:
                row.retired_at = m.utcnow()
            return IssuerKey.of(row)

    def issuer_gauges(self) -> list[IssuerGauges]:
        """Every body's pending digests (count, oldest) and batch counts by state, by id."""
        pending = (
            select(m.Receipt.issuer_id, func.count(), func.min(m.Receipt.created_at))
            .where(m.PENDING_ONLY)
            .group_by(m.Receipt.issuer_id)
        )
        batches = select(m.Batch.issuer_id, m.Batch.state, func.count()).group_by(
            m.Batch.issuer_id, m.Batch.state
        )
        with self._reading() as session:
            ids = list(session.scalars(select(m.Issuer.id).order_by(m.Issuer.id)))
            waiting = {i: (int(n), oldest) for i, n, oldest in session.execute(pending)}
            states: dict[int, dict[str, int]] = defaultdict(dict)
            for issuer_id, state, count in session.execute(batches):
                if issuer_id is not None:
                    states[issuer_id][state] = int(count)
        return [
            IssuerGauges(
                i,
                waiting.get(i, (0, None))[0],
                waiting.get(i, (0, None))[1],
                {s.value: states[i].get(s.value, 0) for s in BatchState},
            )
            for i in ids
        ]
