"""The checks of a proof bundle that need no chain: the document, the leaf, the root."""

from __future__ import annotations

import hashlib
from pathlib import Path

from anchor.errors import ProofError
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.proof import ProofBundle
from anchor.proof.bundle import ProofBundleV2
from anchor.verify.verdict import Check

__all__ = ["offline_checks"]


def offline_checks(
    bundle: ProofBundle, *, document: bytes | Path | None = None, digest: str | None = None
) -> list[Check]:
    """The checks that need no chain: document digest, statement (version 2), leaf, root.

    For a version 2 bundle, the document (or ``digest``) is compared with the bundle's
    ``file``, and a ``statement`` check recomputes the statement digest from the type, the
    file, the facts and the private commitment: a changed fact fails it.
    """
    checks: list[Check] = []
    typed = isinstance(bundle, ProofBundleV2)
    file_digest = bundle.file if isinstance(bundle, ProofBundleV2) else bundle.digest
    if document is not None:
        data = document.read_bytes() if isinstance(document, Path) else document
        checks.append(
            _digest_check("0x" + hashlib.sha256(data).hexdigest(), file_digest, "document")
        )
    if digest is not None:
        checks.append(_digest_check(_normalise_digest(digest), file_digest, "given digest"))
    if document is None and digest is None:
        checks.append(
            Check("document", None, file_digest, None,
                  "no document was given, so only the proof itself was checked", required=False)
        )  # fmt: skip
    if isinstance(bundle, ProofBundleV2):
        checks.append(_statement_check(bundle))
    what = "statement digest" if typed else "digest"
    leaf = "0x" + leaf_hash(bundle.salt_bytes, bundle.digest_bytes).hex()
    leaf_ok = leaf == bundle.leaf
    checks.append(
        Check("leaf", leaf_ok, bundle.leaf, leaf,
              f"the leaf follows from the salt and the {what}" if leaf_ok else
              f"the leaf does not follow from the salt and the {what}")
    )  # fmt: skip
    root = "0x" + fold_proof(bundle.leaf_bytes, bundle.proof_bytes).hex()
    root_ok = root == bundle.root
    checks.append(
        Check("root", root_ok, bundle.root, root,
              "the proof folds the leaf into the root" if root_ok else
              "the proof does not fold the leaf into the root")
    )  # fmt: skip
    return checks


def _digest_check(computed: str, expected: str | None, what: str) -> Check:
    name = "document" if what == "document" else "digest"
    if expected is None:
        reason = f"the proof certifies no file, so the {what} cannot be matched with it"
        return Check(name, False, None, computed, reason)
    ok = computed == expected
    reason = (
        f"the {what} matches the digest in the proof"
        if ok
        else f"the {what} does not match the proof: it is not the document that was anchored"
    )
    return Check(name, ok, expected, computed, reason)


def _statement_check(bundle: ProofBundleV2) -> Check:
    """The statement digest recomputed from type, file, facts and private commitment."""
    computed = "0x" + bundle.statement().digest().hex()
    ok = computed == bundle.digest
    reason = (
        "the certified facts, type, file digest and private commitment make the digest in the proof"
        if ok
        else "the certified facts do not match the proof: the type, a fact, the file digest "
        "or the private commitment was changed after the document was anchored"
    )
    return Check("statement", ok, bundle.digest, computed, reason)


def _normalise_digest(digest: str) -> str:
    text = digest.strip().lower().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ProofError("the digest must be a SHA-256 digest: 64 hex digits")
    return "0x" + text
