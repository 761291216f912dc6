"""PURE: the proof bundle, its compact form, the verification URL, the QR code and the schema.

Nothing here imports web3, a database or an HTTP library; see docs/proof-format.md.
"""

from __future__ import annotations

from anchor.proof.bundle import (
    BUNDLE_VERSION,
    MAX_ISSUER_NAME,
    MAX_PROOF_LENGTH,
    ProofBundle,
    hex_to_bytes,
    parse_bundle,
)

__all__ = [
    "BUNDLE_VERSION",
    "MAX_ISSUER_NAME",
    "MAX_PROOF_LENGTH",
    "ProofBundle",
    "hex_to_bytes",
    "parse_bundle",
]
