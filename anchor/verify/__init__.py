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

from collections.abc import Sequence
from pathlib import Path

from anchor.proof import ProofBundle
from anchor.verify.offline import offline_checks
from anchor.verify.verdict import Check, Outcome, Verdict, format_time, outcome_of

__all__ = ["Check", "Outcome", "Verdict", "format_time", "offline_checks", "verify_bundle"]


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
    from anchor.verify.chain import chain_checks  # web3 is loaded only when it is needed

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
