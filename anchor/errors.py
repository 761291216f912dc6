"""The exception hierarchy of anchor.

Every error raised on purpose by the package derives from `AnchorError`; library errors are
wrapped at the boundary with ``raise ... from e`` so that callers catch one family.
"""

from __future__ import annotations


class AnchorError(Exception):
    """Root of every error raised on purpose by anchor."""


class ConfigError(AnchorError):
    """The settings are missing, malformed or inconsistent with the chain."""


class StoreError(AnchorError):
    """The store refused or failed an operation."""


class ChainError(AnchorError):
    """The chain could not be reached, or answered something unexpected."""


class SubmissionError(ChainError):
    """A transaction could not be built, signed, broadcast or confirmed."""


class ProofError(AnchorError):
    """A Merkle tree, a proof or a proof bundle is malformed or does not verify."""


class CompileError(AnchorError):
    """The Solidity compiler failed or its output does not match the committed artifact."""
