"""The checks of a proof bundle that need no chain: the document, the leaf, the root."""

from __future__ import annotations

import hashlib
from pathlib import Path

from anchor.errors import ProofError
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.proof import ProofBundle
from anchor.verify.verdict import Check

__all__ = ["offline_checks"]


def offline_checks(
    bundle: ProofBundle, *, document: bytes | Path | None = None, digest: str | None = None
) -> list[Check]:
    """The checks that need no chain: document digest, leaf, and proof folding to the root."""
    checks: list[Check] = []
    if document is not None:
        data = document.read_bytes() if isinstance(document, Path) else document
        checks.append(_digest_check("0x" + hashlib.sha256(data).hexdigest(), bundle, "document"))
    if digest is not None:
        checks.append(_digest_check(_normalise_digest(digest), bundle, "given digest"))
    if document is None and digest is None:
        checks.append(
            Check("document", None, bundle.digest, None,
                  "no document was given, so only the proof itself was checked", required=False)
        )  # fmt: skip
    leaf = "0x" + leaf_hash(bundle.salt_bytes, bundle.digest_bytes).hex()
    leaf_ok = leaf == bundle.leaf
    checks.append(
        Check("leaf", leaf_ok, bundle.leaf, leaf,
              "the leaf follows from the salt and the digest" if leaf_ok else
              "the leaf does not follow from the salt and the digest")
    )  # fmt: skip
    root = "0x" + fold_proof(bundle.leaf_bytes, bundle.proof_bytes).hex()
    root_ok = root == bundle.root
    checks.append(
        Check("root", root_ok, bundle.root, root,
              "the proof folds the leaf into the root" if root_ok else
              "the proof does not fold the leaf into the root")
    )  # fmt: skip
    return checks


def _digest_check(computed: str, bundle: ProofBundle, what: str) -> Check:
    ok = computed == bundle.digest
    reason = (
        f"the {what} matches the digest in the proof"
        if ok
        else f"the {what} does not match the proof: it is not the document that was anchored"
    )
    return Check(
        "document" if what == "document" else "digest", ok, bundle.digest, computed, reason
    )


def _normalise_digest(digest: str) -> str:
    text = digest.strip().lower().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ProofError("the digest must be a SHA-256 digest: 64 hex digits")
    return "0x" + text
