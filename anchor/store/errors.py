"""Errors of the store, all under `anchor.errors.StoreError`."""

from __future__ import annotations

from anchor.errors import StoreError

__all__ = [
    "IdempotencyConflict",
    "InvalidTransitionError",
    "NoIssuerError",
    "NotFoundError",
    "StoreError",
]


class IdempotencyConflict(StoreError):  # noqa: N818 (the name the API contract uses)
    """The Idempotency-Key was already used by this integrator for a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"Idempotency-Key {key!r} was already used with different digests; "
            "use a new key for a new request"
        )


class NotFoundError(StoreError):
    """The receipt, batch, outbox row or API key does not exist (or is another integrator's)."""


class InvalidTransitionError(StoreError):
    """The requested state change is not allowed from the current state."""

    def __init__(self, what: str, current: str, wanted: str) -> None:
        self.current = current
        self.wanted = wanted
        super().__init__(f"{what} is {current}; it cannot become {wanted}")


class NoIssuerError(StoreError):
    """The integrator belongs to no issuing body (made before bodies): it cannot submit."""

    def __init__(self, integrator_id: int) -> None:
        self.integrator_id = integrator_id
        super().__init__(
            f"integrator {integrator_id} belongs to no issuing body, so it cannot submit: "
            f"create a key with `anchor keys create --issuer ID --integrator-id {integrator_id}` "
            "(or `--issuer ID --new-integrator NAME`; the ids: `anchor issuers list`)"
        )
