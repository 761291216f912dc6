"""Verify a proof bundle: against the document, by itself, and against the registry on chain.

`verify_bundle` returns a `Verdict`: ``valid``, ``invalid`` or ``indeterminate``, with every
`Check` it made, each saying what was expected, what was found and why it passed or failed.

Verdict rules (see ``docs/proof-format.md``):

* **invalid** when any required check fails: the document does not match the digest, the leaf
  does not follow from salt and digest, the proof does not fold to the root, the proof was
  issued in a registry the caller does not trust (no node is asked anything then), there is no
  registry at the trusted address on its chain, the proof's issuer key belongs to no issuing
  body, the root is not anchored by that key's body, or was anchored by another key, at another
  time or outside the registry's period of trust, the key was not authorised then (e.g. it was
  anchored after the key's compromise time), the transaction contradicts the bundle, or the
  document or its batch is revoked (a revocation that was annulled does not count);
* **indeterminate** when nothing failed but the registry could not be read: every RPC URL was
  unreachable, timed out, served another chain id or lagged behind the anchoring block, or the
  registry speaks an interface version this verifier does not know. An outage is never
  reported as invalid;
* **valid** otherwise. A body suspended or retired after anchoring leaves it valid; its status
  is shown.

The issuing body (id, kind, code, its name at anchoring time and today) comes from the registry's
one ``status(key, root, proof, leaf)`` answer, never from the bundle: a bundle's ``issuerName`` is
ignored.

The offline checks (document, leaf, root) run first; when one fails the chain is not consulted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from anchor.proof import ProofBundle
from anchor.trust import TrustedRegistry
from anchor.verify.offline import offline_checks
from anchor.verify.validity import validity_check
from anchor.verify.verdict import (
    LANGUAGES,
    BodyNames,
    Check,
    DocumentLife,
    IssuingBody,
    Outcome,
    Revocation,
    Verdict,
    format_time,
    outcome_of,
)

if TYPE_CHECKING:
    from anchor.chain.cache import TTLCache
    from anchor.chain.client import ChainClient

__all__ = [
    "LANGUAGES",
    "BodyNames",
    "Check",
    "DocumentLife",
    "IssuingBody",
    "Outcome",
    "Revocation",
    "TrustedRegistry",
    "Verdict",
    "format_time",
    "offline_checks",
    "verify_bundle",
]


def verify_bundle(
    bundle: ProofBundle,
    *,
    trusted: Sequence[TrustedRegistry],
    document: bytes | Path | None = None,
    digest: str | None = None,
    rpc_urls: Sequence[str] = (),
    timeout: float = 10.0,
    poa: bool = False,
    client: ChainClient | None = None,
    cache: TTLCache[object] | None = None,
    name_nodes: bool = True,
) -> Verdict:
    """Verify ``bundle`` against the ``trusted`` registries, optionally with the document.

    ``trusted``: the registries known out of band (`anchor.trust`), never the one the bundle
    names. The chain is read through ``client``, or through a client of ``rpc_urls`` (tried in
    turn, each call bounded by ``timeout`` seconds, ``poa`` for proof-of-authority chains);
    only when none can be used is the verdict indeterminate. ``cache`` lets repeated
    verifications reuse registry readings for a few seconds. ``name_nodes=False`` keeps the
    nodes' URLs out of the checks ("node 1"...), for answers to the public. Raises `ProofError` when
    ``digest`` is not 64 hex digits, `OSError` when the document file cannot be read and
    `ConfigError` when ``trusted`` is empty.
    """
    from anchor.verify.chain import chain_checks  # web3 is loaded only when it is needed

    checks = offline_checks(bundle, document=document, digest=digest)
    if outcome_of(checks) is Outcome.INVALID:
        return Verdict(Outcome.INVALID, tuple(checks), issuer=bundle.issuer)
    reading = chain_checks(
        bundle,
        trusted,
        client=client,
        rpc_urls=rpc_urls,
        timeout=timeout,
        poa=poa,
        cache=cache,
        name_nodes=name_nodes,
    )
    checks += reading.checks
    life = reading.life
    if reading.anchored_at is not None:
        validity, life = validity_check(bundle, life)
        if validity is not None:
            checks.append(validity)
    return Verdict(
        outcome_of(checks),
        tuple(checks),
        issuer=bundle.issuer,
        anchored_at=reading.anchored_at,
        chain_id=bundle.chain_id,
        rpc_url=reading.rpc_url,
        body=reading.body,  # the registry's, never the proof's (DESIGN.md)
        authorised=reading.authorised,
        revocations=reading.revocations,
        life=life,
    )
