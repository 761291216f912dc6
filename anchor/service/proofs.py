"""Build the proof bundle of an anchored receipt from the store and the registry.

A bare digest's bundle is version 1 (`build_bundle`); a typed document's is version 2
(`typed_bundle`: the same anchoring fields with its type and facts, file digest and private
commitment, never the private salt or the private facts).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from anchor.chain.reader import AnchorFacts, ChainReader
from anchor.errors import ProofError, StoreError
from anchor.proof.bundle import BUNDLE_VERSION, BUNDLE_VERSION_TYPED, ProofBundle, ProofBundleV2
from anchor.proof.doctypes import TypeRegistry
from anchor.proof.statement import private_commitment
from anchor.store import Batch, DocumentFacts, Receipt

_LOCKS_KEPT = 4096
_locks: OrderedDict[tuple[bytes, bytes | None], threading.Lock] = OrderedDict()
_locks_guard = threading.Lock()


def anchor_facts_once(
    chain: ChainReader, batch: Batch, body_id: int | None = None
) -> AnchorFacts | None:
    """`ChainReader.anchor_facts` of ``batch``, read from the chain once under concurrent calls.

    The reader caches the facts of a root (they never change once final), but 50 concurrent
    GETs of a freshly anchored batch all missed that cache together and each read the chain.
    Callers for one (root, block hash) now queue on one lock: the first reads the chain, the
    others find the reader's cache filled. ``body_id``: the registry's id of the batch's body
    when the store knows it (then the anchoring transaction is not fetched to find it).
    """
    key = (batch.root, batch.block_hash)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.Lock()
            while len(_locks) > _LOCKS_KEPT:
                _locks.popitem(last=False)
    with lock:
        return chain.anchor_facts(batch.root, batch.block_hash, batch.tx_hash, body_id)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def build_bundle(
    receipt: Receipt, batch: Batch, facts: AnchorFacts, *, chain_id: int, registry: str
) -> ProofBundle:
    """The v1 bundle of ``receipt``, anchored in ``batch`` as ``facts`` read on chain.

    ``issuer`` is the body's key that signed the anchor (the registry's anchor record), and
    ``txHash`` the transaction that carried it, possibly a relayer's. No ``issuerName`` is
    written: verifiers take the body's name from the registry only. Raise StoreError when the
    store lacks a part of the proof (an inconsistent row).
    """
    if (
        receipt.digest is None
        or receipt.salt is None
        or receipt.leaf is None
        or batch.tx_hash is None
        or batch.block_number is None
    ):
        raise StoreError(f"receipt {receipt.id} is anchored but its proof is incomplete")
    return ProofBundle(
        version=BUNDLE_VERSION,
        digest=_hex(receipt.digest.bytes),
        salt=_hex(receipt.salt),
        leaf=_hex(receipt.leaf),
        proof=tuple(_hex(p) for p in receipt.proof),
        root=_hex(batch.root),
        chain_id=chain_id,
        registry=registry.lower(),
        tx_hash=_hex(batch.tx_hash),
        block_number=batch.block_number,
        issuer=facts.issuer,
        anchored_at=facts.anchored_at,
    )


def typed_bundle(bundle: ProofBundle, facts: DocumentFacts, types: TypeRegistry) -> ProofBundleV2:
    """The version 2 bundle of a typed receipt: ``bundle``'s anchoring fields and the stored
    type and facts (in the type's order), file digest and private commitment.

    Raises StoreError when the stored facts do not make the receipt's digest (an inconsistent
    row: never hand out a bundle that would not verify) or the type is no longer loaded.
    """
    doctype = types.get((facts.type_id, facts.type_version))
    if doctype is None:
        raise StoreError(
            f"receipt {facts.receipt_id} is of type {facts.type_id} version "
            f"{facts.type_version}, which this service no longer loads (ANCHOR_DOCTYPES_DIR)"
        )
    if facts.private and (
        facts.private_salt is None
        or private_commitment(facts.private_salt, dict(facts.private)) != facts.commitment
    ):
        raise StoreError(f"the private commitment of receipt {facts.receipt_id} is inconsistent")
    ordered = {
        spec.name: value for spec, value in doctype.ordered(facts.facts) if value is not None
    }
    data: dict[str, object] = {
        **bundle.to_dict(),
        "version": BUNDLE_VERSION_TYPED,
        "type": facts.type_id,
        "typeVersion": facts.type_version,
        "facts": ordered,
    }
    if facts.file_digest is not None:
        data["file"] = "0x" + facts.file_digest.hex()
    if facts.commitment is not None:
        data["private"] = "0x" + facts.commitment.hex()
    try:
        typed = ProofBundleV2.model_validate(data)
    except ProofError as e:
        raise StoreError(
            f"the stored facts of receipt {facts.receipt_id} make no bundle: {e}"
        ) from e
    if typed.statement().digest() != typed.digest_bytes:
        raise StoreError(f"the stored facts of receipt {facts.receipt_id} do not make its digest")
    return typed
