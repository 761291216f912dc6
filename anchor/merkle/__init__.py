"""PURE: hashing, the OpenZeppelin ``standard-v1`` tree, its proofs and its JSON dumps.

Nothing here imports web3, a database or an HTTP library; see docs/merkle.md. The tree
(`anchor.merkle.tree`, which needs numpy) is imported on first use of one of its names, so
that `anchor.merkle.hashing` alone stays light: the operator scripts import it in brownie's
virtual environment, which has no numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anchor.merkle.tree import (
        MerkleTree,
        Pair,
        build_tree,
        build_tree_packed,
        load_dump,
        split_proof,
        verify_proof,
    )

__all__ = [
    "MerkleTree",
    "Pair",
    "build_tree",
    "build_tree_packed",
    "load_dump",
    "split_proof",
    "verify_proof",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("anchor.merkle.tree"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
