"""Typed documents (building permits) anchored on the test chain, and their status changes.

`anchor_permits` anchors permits in one root under a body's key, as the service would (salted
statement digests in an OpenZeppelin tree), and returns their version 2 bundles and ``v2.``
texts. The status changes are registry 2.1.0 transactions sent with web3 by the revoker.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from anchor.merkle import build_tree
from anchor.proof.bundle import ProofBundleV2
from anchor.proof.compact import to_text
from anchor.proof.statement import Statement, private_commitment
from tests.support.bodies import Bodies, block_time
from tests.support.chain import send

PERMIT = "lu.building-permit"


def permit_facts(reference: str, **changes: str | None) -> dict[str, str]:
    """The public facts of a building permit numbered ``reference``; None drops a fact."""
    facts = {
        "reference": reference,
        "decisionDate": "2026-03-12",
        "works": f"Construction d\u2019une maison unifamiliale ({reference})",
        "address": "6, rue de l\u2019\u00c9tang, L-5326 Contern",
        "parcel": f"Contern, section A, n\u00b0 {reference}",
    }
    facts.update({k: v for k, v in changes.items() if v is not None})
    for name in [k for k, v in changes.items() if v is None]:
        facts.pop(name, None)
    return facts


@dataclass(frozen=True)
class Permit:
    """One anchored permit: its bundle, its file, and its ``v2.`` text."""

    bundle: ProofBundleV2
    file: bytes

    @property
    def fragment(self) -> str:
        return to_text(self.bundle)

    @property
    def root(self) -> bytes:
        return self.bundle.root_bytes

    @property
    def leaf(self) -> bytes:
        return self.bundle.leaf_bytes

    @property
    def proof(self) -> list[bytes]:
        return list(self.bundle.proof_bytes)


def anchor_permits(bodies: Bodies, key: LocalAccount, facts: list[dict[str, str]]) -> list[Permit]:
    """Anchor one permit per ``facts`` in one root under ``key``'s body."""
    w3 = bodies.w3
    files = [f"%PDF-1.7\nAutorisation {f['reference']}\n".encode() * 20 for f in facts]
    statements = [
        Statement(
            PERMIT,
            1,
            dict(f),
            hashlib.sha256(file).digest(),
            private_commitment(os.urandom(32), {"holder": "Marie Schmit"}),
        )
        for f, file in zip(facts, files, strict=True)
    ]
    salts = [os.urandom(32) for _ in facts]
    tree = build_tree([(s, st.digest()) for s, st in zip(salts, statements, strict=True)])
    receipt = bodies.anchor(key, tree.root, tree.leaf_count)
    at = block_time(w3, receipt)
    permits = []
    for i, (salt, statement) in enumerate(zip(salts, statements, strict=True)):
        bundle = ProofBundleV2.model_validate(
            {
                "version": 2,
                "type": PERMIT,
                "typeVersion": 1,
                "facts": dict(statement.facts),
                "file": "0x" + (statement.file or b"").hex(),
                "private": "0x" + (statement.private or b"").hex(),
                "digest": "0x" + statement.digest().hex(),
                "salt": "0x" + salt.hex(),
                "leaf": "0x" + tree.leaf(i).hex(),
                "proof": ["0x" + p.hex() for p in tree.proof(i)],
                "root": "0x" + tree.root.hex(),
                "chainId": w3.eth.chain_id,
                "registry": bodies.registry.address.lower(),
                "txHash": "0x" + bytes(receipt["transactionHash"]).hex(),
                "blockNumber": int(receipt["blockNumber"]),
                "issuer": key.address.lower(),
                "anchoredAt": at,
            }
        )
        permits.append(Permit(bundle, files[i]))
    return permits


def _send(bodies: Bodies, call: Any) -> int:
    """Send ``call`` as the revoker; return the time of its block."""
    return block_time(bodies.w3, send(bodies.w3, bodies.revoker, call))


def suspend(bodies: Bodies, body_id: int, p: Permit, reason: int) -> int:
    return _send(bodies, bodies.functions.suspendDocument(body_id, p.root, p.proof, p.leaf, reason))


def lift(bodies: Bodies, body_id: int, p: Permit) -> int:
    return _send(bodies, bodies.functions.liftSuspension(body_id, p.root, p.proof, p.leaf))


def revoke(bodies: Bodies, body_id: int, p: Permit, reason: int) -> int:
    return _send(bodies, bodies.functions.revokeDocument(body_id, p.root, p.proof, p.leaf, reason))


def supersede(bodies: Bodies, body_id: int, p: Permit, by: Permit) -> int:
    call = bodies.functions.supersedeDocument(
        body_id, p.root, p.proof, p.leaf, by.root, by.proof, by.leaf
    )
    return _send(bodies, call)


def extend(bodies: Bodies, body_id: int, p: Permit, until_day: str) -> int:
    """Extend the validity through ``until_day`` (YYYY-MM-DD, 00:00 UTC of that day)."""
    import datetime as dt

    until = int(dt.datetime.fromisoformat(until_day).replace(tzinfo=dt.UTC).timestamp())
    return _send(bodies, bodies.functions.extendValidity(body_id, p.root, p.proof, p.leaf, until))
