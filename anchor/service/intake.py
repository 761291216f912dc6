"""Intake: validate digests, then have the store commit them before anyone is told "202".

`submit` validates every digest and the Idempotency-Key first (nothing is stored if one is
malformed: `InvalidInputError`, 422 at the API), then `Store.add_receipts` writes all receipts
and the idempotency record in ONE transaction and returns only after the commit. A retry with
the same Idempotency-Key and the same digests (same order) returns the same receipts; the same
key with different digests raises `IdempotencyConflict`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from anchor.errors import InvalidInputError
from anchor.store import Receipt, Store
from anchor.types import Digest, InvalidDigestError

__all__ = ["MAX_KEY_LENGTH", "parse_digests", "submit", "submit_later"]

MAX_KEY_LENGTH = 255


def parse_digests(digests: Sequence[str | Digest]) -> list[Digest]:
    """Parse every digest; raise InvalidDigestError naming the first bad one's index and problem."""
    if isinstance(digests, str | bytes):
        raise InvalidDigestError("expected a list of digests, got a single value")
    if not digests:
        raise InvalidDigestError("no digests given: submit at least one")
    parsed: list[Digest] = []
    for index, value in enumerate(digests):
        if isinstance(value, Digest):
            parsed.append(value)
            continue
        try:
            parsed.append(Digest.from_hex(value))
        except InvalidDigestError as e:
            raise e.at(index) from None
    return parsed


def submit(
    store: Store,
    digests: Sequence[str | Digest],
    integrator_id: int,
    idempotency_key: str | None = None,
    *,
    issuer_id: int | None = None,
) -> list[Receipt]:
    """Durably take ``digests`` for the integrator; return one pending receipt per digest.

    The receipts belong to the integrator's body (``issuer_id`` when the caller already knows
    it, as the API does from the key); an integrator without one gets `NoIssuerError`.

    Raise InvalidInputError (nothing stored) for a malformed digest or Idempotency-Key,
    IdempotencyConflict when the key was used for different digests, StoreError when the
    database fails.
    """
    parsed = _checked(digests, idempotency_key)
    return store.add_receipts(parsed, integrator_id, idempotency_key, issuer_id=issuer_id)


def submit_later(
    store: Store,
    digests: Sequence[str | Digest],
    integrator_id: int,
    idempotency_key: str | None,
    *,
    issuer_id: int,
) -> asyncio.Future[list[Receipt]]:
    """`submit` for an event loop (call it on the running loop): validate now (the same errors,
    raised at once), then return a future of the loop that gets the receipts after their commit
    (`Store.add_receipts_later`)."""
    parsed = _checked(digests, idempotency_key)
    return store.add_receipts_later(parsed, integrator_id, idempotency_key, issuer_id=issuer_id)


def _checked(digests: Sequence[str | Digest], idempotency_key: str | None) -> list[Digest]:
    parsed = parse_digests(digests)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"an Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            ("header", "idempotency-key"),
        )
    return parsed
