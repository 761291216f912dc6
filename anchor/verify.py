"""Verify a proof bundle: against the document, by itself, and against the registry on chain.

`verify_bundle` returns a `Verdict`: ``valid``, ``invalid`` or ``indeterminate``, with every
`Check` it made, each saying what was expected, what was found and why it passed or failed.

Verdict rules (see ``docs/proof-format.md``):

* **invalid** when any required check fails: the document does not match the digest, the leaf
  does not follow from salt and digest, the proof does not fold to the root, there is no
  registry at that address on the bundle's chain, the root is not anchored there, or was
  anchored by another issuer or at another time, the issuer was not authorised then, the
  transaction contradicts the bundle, or the document or its batch is revoked;
* **indeterminate** when nothing failed but the registry could not be read: every RPC URL was
  unreachable, timed out, served another chain id or lagged behind the anchoring block, or the
  registry speaks an interface version this verifier does not know. An outage is never
  reported as invalid;
* **valid** otherwise.

The offline checks (document, leaf, root) run first; when one fails the chain is not consulted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from anchor.errors import ProofError
from anchor.hashing import fold_proof, leaf_hash
from anchor.proof import ProofBundle

__all__ = ["Check", "Outcome", "Verdict", "format_time", "offline_checks", "verify_bundle"]


class Outcome(StrEnum):
    """The verdict on a bundle."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """One check: ``ok`` is True (passed), False (failed) or None (could not be made).

    A check that is not ``required`` (the transaction receipt, the issuer's display name, the
    document when none was given) is reported but never changes the verdict by being None.
    """

    name: str
    ok: bool | None
    expected: str | None
    actual: str | None
    reason: str
    required: bool = True


@dataclass(frozen=True)
class Verdict:
    """The outcome, every check made, and what to show a citizen (issuer name, anchor time)."""

    outcome: Outcome
    checks: tuple[Check, ...]
    issuer_name: str | None = None
    issuer: str | None = None
    anchored_at: int | None = None
    chain_id: int | None = None
    rpc_url: str | None = field(default=None)

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed, required or not."""
        return tuple(c for c in self.checks if c.ok is False)

    def check(self, name: str) -> Check | None:
        """Return the check called ``name``, if it was made."""
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the verdict, display fields and every check."""
        return {
            "verdict": self.outcome.value,
            "issuerName": self.issuer_name,
            "issuer": self.issuer,
            "anchoredAt": self.anchored_at,
            "anchoredAtText": format_time(self.anchored_at) if self.anchored_at else None,
            "chainId": self.chain_id,
            "rpcUrl": self.rpc_url,
            "checks": [asdict(c) for c in self.checks],
        }


def outcome_of(checks: Sequence[Check]) -> Outcome:
    """Apply the verdict rules: a failed required check wins, then one not made, else valid."""
    required = [c for c in checks if c.required]
    if any(c.ok is False for c in required):
        return Outcome.INVALID
    if any(c.ok is None for c in required):
        return Outcome.INDETERMINATE
    return Outcome.VALID


def format_time(timestamp: int) -> str:
    """``3 March 2026 at 10:41 UTC`` for a Unix time."""
    t = datetime.fromtimestamp(timestamp, tz=UTC)
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"


def verify_bundle(
    bundle: ProofBundle,
    *,
    document: bytes | Path | None = None,
    digest: str | None = None,
    rpc_urls: Sequence[str],
    timeout: float = 10.0,
) -> Verdict:
    """Verify ``bundle``, optionally against the document (bytes or a file) or its digest.

    The RPC URLs are tried in turn, each call with ``timeout`` seconds; only when none can be
    used is the verdict indeterminate. Raises `ProofError` when ``digest`` is not 64 hex digits
    and `OSError` when the document file cannot be read.
    """
    from anchor._verify_chain import chain_checks  # web3 is loaded only when it is needed

    checks = offline_checks(bundle, document=document, digest=digest)
    if outcome_of(checks) is Outcome.INVALID:
        return Verdict(Outcome.INVALID, tuple(checks), bundle.issuer_name, bundle.issuer)
    reading = chain_checks(bundle, rpc_urls, timeout=timeout)
    checks += reading.checks
    return Verdict(
        outcome_of(checks),
        tuple(checks),
        issuer_name=reading.issuer_name or bundle.issuer_name,
        issuer=bundle.issuer,
        anchored_at=reading.anchored_at,
        chain_id=bundle.chain_id,
        rpc_url=reading.rpc_url,
    )


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
