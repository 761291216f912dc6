"""PURE: the proof bundle (v1 and v2), compact forms, URL, QR code, schemas, document types and
statements.

Nothing here imports web3, a database or an HTTP library; see docs/proof-format.md.
"""

from __future__ import annotations

from anchor.proof.bundle import (
    BUNDLE_VERSION,
    BUNDLE_VERSIONS,
    MAX_ISSUER_NAME,
    MAX_PROOF_LENGTH,
    ProofBundle,
    ProofBundleV2,
    hex_to_bytes,
    parse_bundle,
)
from anchor.proof.doctypes import DocumentType, TypeRegistry, ValidFacts, load_types
from anchor.proof.statement import Statement, private_commitment, statement_for

__all__ = [
    "BUNDLE_VERSION",
    "BUNDLE_VERSIONS",
    "MAX_ISSUER_NAME",
    "MAX_PROOF_LENGTH",
    "DocumentType",
    "ProofBundle",
    "ProofBundleV2",
    "Statement",
    "TypeRegistry",
    "ValidFacts",
    "hex_to_bytes",
    "load_types",
    "parse_bundle",
    "private_commitment",
    "statement_for",
]
