"""Keccak-256 and the hashing rules of the decided Merkle format (pure: no I/O).

The format is OpenZeppelin ``StandardMerkleTree`` with leaf encoding ``["bytes32", "bytes32"]``:

* ``leaf = keccak256(keccak256(abi.encode(salt, digest)))``; ``abi.encode`` of two ``bytes32``
  values is their plain 64-byte concatenation;
* an inner node is ``keccak256`` of its two children sorted as unsigned integers.

The binding is safe-pysha3 (C, about 1 µs a call here), chosen by measurement over
eth-hash's pycryptodome backend (about 8 µs a call); see ``bench/``.
"""

from __future__ import annotations

from collections.abc import Iterable

import sha3  # safe-pysha3

HASH_SIZE = 32

_keccak = sha3.keccak_256


def keccak256(data: bytes) -> bytes:
    """Return the Keccak-256 hash (Ethereum's, not NIST SHA3-256) of ``data``."""
    out: bytes = _keccak(data).digest()
    return out


def leaf_hash(salt: bytes, digest: bytes) -> bytes:
    """Return the leaf of a (salt, digest) pair: keccak256(keccak256(salt ++ digest))."""
    if len(salt) != HASH_SIZE or len(digest) != HASH_SIZE:
        raise ValueError("salt and digest must be 32 bytes each")
    out: bytes = _keccak(_keccak(salt + digest).digest()).digest()
    return out


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Return the parent of two nodes: keccak256 of the pair sorted as unsigned integers."""
    out: bytes = _keccak(a + b).digest() if a <= b else _keccak(b + a).digest()
    return out


def fold_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """Fold a proof into the root it implies, as OpenZeppelin's ``MerkleProof.processProof``."""
    node = leaf
    for sibling in proof:
        if len(sibling) != HASH_SIZE:
            raise ValueError("every proof element must be 32 bytes")
        node = hash_pair(node, sibling)
    return node
