"""Version 2 bundles of building permits made here, as the service would anchor them.

A real Merkle tree of ``leaves`` statements (the permit among neighbours), its root and proof
from `anchor.merkle`; chain facts (registry, transaction, block, issuer, time) are fixed values:
the renderer reads them, it does not check them against a chain.
"""

from __future__ import annotations

import hashlib

from anchor.merkle.tree import build_tree
from anchor.proof.bundle import ProofBundleV2
from anchor.proof.doctypes import builtin_types
from anchor.proof.statement import statement_for

BASE_URL = "https://verify.anchor.example.lu/verify"
FACTS = {
    "reference": "2026/0042",
    "decisionDate": "2026-03-12",
    "works": "Construction d\u2019une maison unifamiliale avec garage, œuvre n° 5 — façade",
    "address": "6, rue de l\u2019Étang, L-5326 Contern",
    "parcel": "Contern, section A, n° 123/4567",
    "validUntil": "2027-03-12",
}
ANCHORED_AT = 1_772_534_460  # 2026-03-03 10:41 UTC


def _h(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def permit_bundle(facts: dict[str, str] | None = None, *, leaves: int = 5) -> ProofBundleV2:
    """The permit of ``facts`` (default FACTS) as the third leaf of a tree of ``leaves``."""
    permit = builtin_types().get_type("lu.building-permit")
    valid = permit.validate_facts(facts or FACTS, {"holder": "Marie Schmit"})
    statement = statement_for(permit, valid, file_digest=_h("file"), private_salt=_h("private"))
    salt = _h("salt " + valid.public["reference"])
    index = min(2, leaves - 1)
    pairs = [(_h(f"s{i}"), _h(f"d{i}")) for i in range(leaves)]
    pairs[index] = (salt, statement.digest())
    tree = build_tree(pairs)
    return ProofBundleV2(
        version=2,
        type_id=permit.id,
        type_version=permit.version,
        facts=valid.public,
        file="0x" + statement.file.hex() if statement.file else None,
        private="0x" + statement.private.hex() if statement.private else None,
        digest="0x" + statement.digest().hex(),
        salt="0x" + salt.hex(),
        leaf="0x" + tree.leaf(index).hex(),
        proof=tuple("0x" + p.hex() for p in tree.proof(index)),
        root="0x" + tree.root.hex(),
        chain_id=24_601,
        registry="0x" + _h("registry")[:20].hex(),
        tx_hash="0x" + _h("tx").hex(),
        block_number=12_345_678,
        issuer="0x" + _h("issuer")[:20].hex(),
        anchored_at=ANCHORED_AT,
    )
