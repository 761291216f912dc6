"""The exception hierarchy of anchor.

Every error raised on purpose by the package derives from `AnchorError`; library errors are
wrapped at the boundary with ``raise ... from e`` so that callers catch one family.
"""

from __future__ import annotations


class AnchorError(Exception):
    """Root of every error raised on purpose by anchor."""


class InvalidInputError(AnchorError, ValueError):
    """The caller's input is malformed or out of range; nothing was stored or sent.

    ``loc`` names the field at fault the way the API reports it (``("header",
    "idempotency-key")``, ``("body", "digests", 3)``), when there is one. The API answers 422.
    """

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        self.loc = loc
        super().__init__(message)


class ConfigError(AnchorError):
    """The settings are missing, malformed or inconsistent with the chain."""


class StoreError(AnchorError):
    """The store refused or failed an operation."""


class ChainError(AnchorError):
    """The chain could not be reached, or answered something unexpected."""


class ProofError(AnchorError):
    """A Merkle tree, a proof or a proof bundle is malformed or does not verify."""
