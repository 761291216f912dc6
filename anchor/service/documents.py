"""Intake of typed documents: validate the facts against the type, then commit the statement.

`submit_document` checks a document against its type (`DocumentType.validate_facts`: an
unknown type or fact, a missing required fact, a malformed value are `InvalidInputError`
naming the field, and nothing is stored), draws the document's private salt (32 random bytes,
kept by the store, never put in a bundle) when it has private facts, computes its statement
digest (docs/proof-format.md, section 7) and has the store commit the receipt and its facts
before it returns. A document of the generic bare-digest type (``document``) is a plain
receipt of its file digest (bundle version 1).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from anchor.errors import InvalidInputError
from anchor.proof.doctypes import DocumentType, TypeRegistry
from anchor.proof.statement import SIZE, statement_for
from anchor.service.intake import MAX_KEY_LENGTH
from anchor.store import NewDocument, Receipt, Store
from anchor.types import Digest

__all__ = ["new_document", "submit_document"]


def new_document(
    doctype: DocumentType,
    facts: Mapping[str, object] | None,
    private: Mapping[str, object] | None = None,
    *,
    file_digest: Digest | None,
    loc: tuple[str | int, ...] = ("body",),
) -> NewDocument:
    """The document to store: its validated facts, a fresh private salt, its statement digest.

    Raises `InvalidInputError` naming the field under ``loc`` when the facts do not fit the
    type, and for the bare-digest type (which has no statement).
    """
    if doctype.bare_digest:
        raise InvalidInputError(
            f"the type {doctype.id} is a bare digest without facts: submit it to /v1/receipts",
            (*loc, "type"),
        )
    valid = doctype.validate_facts(facts, private, file_given=file_digest is not None, loc=loc)
    salt = secrets.token_bytes(SIZE) if valid.private else None
    file_bytes = None if file_digest is None else file_digest.bytes
    statement = statement_for(doctype, valid, file_digest=file_bytes, private_salt=salt)
    return NewDocument(
        type_id=doctype.id,
        type_version=doctype.version,
        facts=valid.public,
        private=valid.private,
        file_digest=file_bytes,
        private_salt=salt,
        commitment=statement.private,
        digest=Digest(statement.digest()),
    )


def submit_document(
    store: Store,
    types: TypeRegistry,
    type_id: object,
    facts: Mapping[str, object] | None,
    private: Mapping[str, object] | None,
    file_digest: Digest | None,
    integrator_id: int,
    idempotency_key: str | None = None,
    *,
    issuer_id: int | None = None,
) -> tuple[Receipt, DocumentType]:
    """Durably take one document of type ``type_id`` (its latest version); return its pending
    receipt and the type.

    Raise InvalidInputError (nothing stored) for an unknown type, facts that do not fit it, or
    a malformed Idempotency-Key; IdempotencyConflict when the key was used for other content;
    NoIssuerError for an integrator without a body; StoreError when the database fails.
    """
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"an Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            ("header", "idempotency-key"),
        )
    doctype = types.get_type(type_id, loc=("body", "type"))
    if doctype.bare_digest:
        if file_digest is None:
            raise InvalidInputError(
                f"a document of type {doctype.id} needs the SHA-256 digest of its file",
                ("body", "digest"),
            )
        if facts or private:
            raise InvalidInputError(
                f"a document of type {doctype.id} has no facts", ("body", "facts")
            )
        [receipt] = store.add_receipts(
            [file_digest], integrator_id, idempotency_key, issuer_id=issuer_id
        )
        return receipt, doctype
    document = new_document(doctype, facts, private, file_digest=file_digest)
    [receipt] = store.add_documents([document], integrator_id, idempotency_key, issuer_id=issuer_id)
    return receipt, doctype
