"""What the leaf of a typed document commits to: its statement (pure: no I/O).

The leaf stays OpenZeppelin's ``keccak256(keccak256(abi.encode(salt, digest)))`` with leaf
encoding ``["bytes32", "bytes32"]``. For a typed document (bundle version 2) the digest is not
the file's hash but the digest of its **statement**::

    digest    = SHA-256("anchor/statement/v2" 0x00 || JCS(statement))
    statement = {"type": id, "typeVersion": n, "facts": {public facts},
                 "file": "0x<SHA-256 of the file>"      (only when the document has a file),
                 "private": "0x<private commitment>"}   (only when it has private facts)
    private commitment = SHA-256(private_salt || JCS({private facts}))

JCS is the JSON Canonicalization Scheme (RFC 8785): keys sorted, no spaces, UTF-8, strings
escaped as ECMAScript's ``JSON.stringify``. Facts are strings in Unicode NFC, committed exactly
as given: a reader hashes the characters it holds and never normalises, so one changed
character (or the same text in NFD) gives another digest. ``private_salt`` is 32 random bytes
the issuer keeps and never puts in a bundle: a bundle holder cannot test guesses of the
private facts. See ``docs/proof-format.md``, section 7, for a worked example.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785

from anchor.merkle.hashing import leaf_hash
from anchor.proof.doctypes import DocumentType, ValidFacts

__all__ = [
    "STATEMENT_DOMAIN",
    "Statement",
    "canonical_json",
    "private_commitment",
    "statement_for",
]

#: The domain prefix of a statement digest: ASCII ``anchor/statement/v2`` then a zero byte.
STATEMENT_DOMAIN = b"anchor/statement/v2\x00"
#: Size of the private salt, the salt of the leaf and every digest.
SIZE = 32


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The RFC 8785 (JCS) bytes of a JSON object of strings, integers and such objects."""
    out: bytes = rfc8785.dumps(value)
    return out


def private_commitment(private_salt: bytes, private: Mapping[str, str]) -> bytes:
    """``SHA-256(private_salt || JCS(private))``: binds the private facts, reveals nothing."""
    if len(private_salt) != SIZE:
        raise ValueError("the private salt must be 32 bytes")
    return hashlib.sha256(private_salt + canonical_json(private)).digest()


@dataclass(frozen=True)
class Statement:
    """The statement of one typed document; its `digest` is the leaf's second value."""

    type_id: str
    type_version: int
    facts: Mapping[str, str]
    file: bytes | None = None
    private: bytes | None = None
    _canonical: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, value in (("file", self.file), ("private", self.private)):
            if value is not None and len(value) != SIZE:
                raise ValueError(f"the statement's {name} must be 32 bytes")
        object.__setattr__(self, "_canonical", canonical_json(self.to_object()))

    def to_object(self) -> dict[str, Any]:
        """The statement as the JSON object that is canonicalised."""
        obj: dict[str, Any] = {
            "type": self.type_id,
            "typeVersion": self.type_version,
            "facts": dict(self.facts),
        }
        if self.file is not None:
            obj["file"] = "0x" + self.file.hex()
        if self.private is not None:
            obj["private"] = "0x" + self.private.hex()
        return obj

    def canonical(self) -> bytes:
        """JCS(statement), the bytes after the domain prefix."""
        return self._canonical

    def digest(self) -> bytes:
        """``SHA-256(STATEMENT_DOMAIN || JCS(statement))``."""
        return hashlib.sha256(STATEMENT_DOMAIN + self._canonical).digest()

    def leaf(self, salt: bytes) -> bytes:
        """The Merkle leaf of this statement under the document's ``salt``."""
        return leaf_hash(salt, self.digest())


def statement_for(
    doctype: DocumentType,
    facts: ValidFacts,
    *,
    file_digest: bytes | None,
    private_salt: bytes | None,
) -> Statement:
    """The statement an issuer anchors for validated ``facts`` of ``doctype``.

    ``private_salt`` (32 random bytes, kept by the issuer) is needed when there are private
    facts. Raises ValueError for the generic bare-digest type, whose leaf commits to the file
    digest itself (bundle version 1).
    """
    if doctype.bare_digest:
        raise ValueError(f"the type {doctype.id} commits to the file digest alone, not a statement")
    commitment = None
    if facts.private:
        if private_salt is None:
            raise ValueError("private facts need a 32-byte private salt")
        commitment = private_commitment(private_salt, facts.private)
    return Statement(doctype.id, doctype.version, dict(facts.public), file_digest, commitment)
