"""Issuing bodies on a registry v2 for tests: deploy, register bodies and keys, anchor, rename,
suspend, compromise, revoke and annul, each with web3 and the named development accounts.

The deployer is the admin (delay 0) and grants itself ``REGISTRAR_ROLE``, and ``REVOKER_ROLE``
to the revoker account; `Bodies` then does what the syndicate's scripts do (docs/registry.md).
Fresh keys (`new_key`) get a balance from anvil, so that they can send their own transactions.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.registry import (
    REGISTRAR_ROLE,
    REVOKER_ROLE,
    BodyStatus,
    Kind,
    Names,
    Purpose,
    Registry,
    deploy_registry,
    sign_anchor,
)
from anchor.merkle import build_tree
from anchor.proof.bundle import ProofBundle
from tests.support.chain import Accounts, send

CONTERN = Names(
    fr="Commune de Contern", de="Gemeinde Contern", en="Municipality of Contern", lb="Gemeng Conter"
)
CONTERN_CODE = "LU-CONTERN"
#: A second body, whose key is the development account ``issuer2``.
SIGI = Names(fr="Syndicat SIGI", de="Syndikat SIGI", en="SIGI syndicate", lb="")


@dataclass(frozen=True)
class Body:
    """A body registered in a test: its id, first names, and its keys."""

    id: int
    names: Names
    anchoring: LocalAccount
    status_key: LocalAccount | None = None


def names_tuple(names: Names) -> tuple[str, str, str, str]:
    """The ABI form of the ``Names`` struct."""
    return (names.fr, names.de, names.en, names.lb)


def names_dict(names: Names) -> dict[str, str]:
    """The JSON form of ``names``, as the API answers it."""
    return dict(zip(("fr", "de", "en", "lb"), names_tuple(names), strict=True))


def new_key(w3: Web3) -> LocalAccount:
    """A fresh account with 100 ether on anvil."""
    key: LocalAccount = Account.create()
    w3.provider.make_request("anvil_setBalance", [key.address, hex(100 * 10**18)])  # type: ignore[arg-type]
    return key


def advance(w3: Web3, seconds: int) -> int:
    """Move the chain's clock ``seconds`` forward and mine a block; return its timestamp."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return int(w3.eth.get_block("latest")["timestamp"])


def block_time(w3: Web3, receipt: dict[str, Any]) -> int:
    """The timestamp of a receipt's block."""
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


class Bodies:
    """The registrar's and the revoker's actions on ``registry``, as web3 transactions."""

    def __init__(self, registry: Registry, registrar: LocalAccount, revoker: LocalAccount):
        self.registry = registry
        self.w3 = registry.w3
        self.registrar = registrar
        self.revoker = revoker
        self.functions = registry.contract.functions

    def register(
        self,
        names: Names,
        *,
        kind: Kind = Kind.COMMUNE,
        code: str = "",
        anchoring: LocalAccount | None = None,
        status_key: LocalAccount | None = None,
    ) -> Body:
        """Register a body of ``kind`` and its anchoring key (a fresh one unless given), and a
        status key."""
        send(self.w3, self.registrar, self.functions.registerBody(kind, code, names_tuple(names)))
        body_id = self.registry.body_count()
        key = anchoring or new_key(self.w3)
        self.add_key(body_id, key.address, Purpose.ANCHORING)
        if status_key is not None:
            self.add_key(body_id, status_key.address, Purpose.STATUS)
        return Body(body_id, names, key, status_key)

    def add_key(
        self, body_id: int, key: str, purpose: Purpose, valid_from: int = 0, valid_until: int = 0
    ) -> None:
        """Register ``key`` for ``body_id`` (0: from now, open-ended)."""
        call = self.functions.addKey(body_id, key, purpose, valid_from, valid_until)
        send(self.w3, self.registrar, call)

    def anchor(self, key: LocalAccount, root: bytes, leaf_count: int) -> dict[str, Any]:
        """A direct anchor: the body's key sends ``anchor(root, leafCount)`` itself."""
        return send(self.w3, key, self.functions.anchor(root, leaf_count))

    def rename(self, body_id: int, names: Names, since: int = 0) -> None:
        """A new name version from ``since`` (0: now)."""
        send(self.w3, self.registrar, self.functions.renameBody(body_id, names_tuple(names), since))

    def set_status(self, body_id: int, status: BodyStatus) -> None:
        """Suspend, reactivate or retire a body."""
        send(self.w3, self.registrar, self.functions.setBodyStatus(body_id, status))

    def compromise(self, key: str, since: int) -> None:
        """Mark ``key`` compromised from ``since`` (at most now)."""
        send(self.w3, self.registrar, self.functions.setKeyCompromised(key, since))

    def revoke_document(
        self,
        body_id: int,
        root: bytes,
        proof: list[bytes],
        leaf: bytes,
        reason: int,
        actor: LocalAccount | None = None,
    ) -> dict[str, Any]:
        """Revoke one document, as the revoker (or ``actor``, a status key of the body)."""
        call = self.functions.revokeDocument(body_id, root, proof, leaf, reason)
        return send(self.w3, actor or self.revoker, call)

    def revoke_root(
        self, body_id: int, root: bytes, reason: int, actor: LocalAccount | None = None
    ) -> dict[str, Any]:
        """Revoke a whole root, as the revoker (or ``actor``)."""
        call = self.functions.revokeRoot(body_id, root, reason)
        return send(self.w3, actor or self.revoker, call)

    def annul(self, body_id: int, root: bytes, leaf: bytes, index: int) -> None:
        """Annul status change ``index`` of (root, leaf) (``leaf`` zero for the root)."""
        send(self.w3, self.registrar, self.functions.annulStatusChange(body_id, root, leaf, index))


@dataclass(frozen=True)
class World:
    """A deployed registry, the registrar's `Bodies`, and the two bodies of `deploy_with_bodies`."""

    registry: Registry
    bodies: Bodies
    contern: Body
    sigi: Body


def deploy_with_bodies(w3: Web3, accounts: Accounts) -> World:
    """A registry v2 with two bodies: "Commune de Contern" (key ``accounts.issuer``) and the
    syndicate SIGI (key ``accounts.issuer2``); the admin is registrar, ``revoker`` a revoker."""
    address, _ = deploy_registry(w3, accounts.admin, delay=0)
    registry = Registry(w3, address)
    functions = registry.contract.functions
    send(w3, accounts.admin, functions.grantRole(REGISTRAR_ROLE, accounts.admin.address))
    send(w3, accounts.admin, functions.grantRole(REVOKER_ROLE, accounts.revoker.address))
    bodies = Bodies(registry, accounts.admin, accounts.revoker)
    contern = bodies.register(
        CONTERN, kind=Kind.COMMUNE, code=CONTERN_CODE, anchoring=accounts.issuer
    )
    sigi = bodies.register(SIGI, kind=Kind.SYNDICATE, code="SIGI", anchoring=accounts.issuer2)
    return World(registry, bodies, contern, sigi)


@dataclass(frozen=True)
class AnchoredBatch:
    """Documents anchored in one root by a body's key: their bytes, bundles and the receipt."""

    documents: list[bytes]
    bundles: list[ProofBundle]
    root: bytes
    receipt: dict[str, Any]


def anchor_documents(
    bodies: Bodies,
    key: LocalAccount,
    documents: list[bytes],
    *,
    relayer: LocalAccount | None = None,
    issuer_name: str | None = None,
) -> AnchoredBatch:
    """Anchor ``documents`` in one tree under ``key``'s body and build their bundles.

    Direct (``key`` sends ``anchor``) or, with ``relayer``, relayed: ``key`` signs the EIP-712
    anchor and ``relayer`` sends ``anchorSigned``. ``issuer_name`` is written into the bundles,
    as a v1 service (or a forger) would; verifiers ignore it.
    """
    w3 = bodies.w3
    digests = [hashlib.sha256(d).digest() for d in documents]
    salts = [os.urandom(32) for _ in documents]
    tree = build_tree(list(zip(salts, digests, strict=True)))
    if relayer is None:
        receipt = bodies.anchor(key, tree.root, tree.leaf_count)
    else:
        deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3600
        signed = sign_anchor(
            key, w3.eth.chain_id, bodies.registry.address, tree.root, tree.leaf_count,
            relayer.address, deadline,
        )  # fmt: skip
        call = bodies.functions.anchorSigned(deadline, [signed.as_tuple()])
        receipt = send(w3, relayer, call)
    at = block_time(w3, receipt)
    bundles = [
        ProofBundle(
            version=1,
            digest="0x" + digest.hex(),
            salt="0x" + salt.hex(),
            leaf="0x" + tree.leaf(i).hex(),
            proof=tuple("0x" + p.hex() for p in tree.proof(i)),
            root="0x" + tree.root.hex(),
            chain_id=w3.eth.chain_id,
            registry=bodies.registry.address.lower(),
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            issuer=key.address.lower(),
            anchored_at=at,
            issuer_name=issuer_name,
        )
        for i, (salt, digest) in enumerate(zip(salts, digests, strict=True))
    ]
    return AnchoredBatch(list(documents), bundles, tree.root, receipt)
