"""The on-chain half of `anchor.verify`: read the registry through the first usable node.

A node is *unusable* when it cannot be reached, times out, answers with another chain id, is
still behind the anchoring block, or fails in the middle of the reading; the next URL is then
tried from the start, and only when every URL is unusable is the reading indeterminate. A node
that is usable answers for the chain: no code at the registry address there, or a contract that
is not a registry, is a definite answer (invalid), not an outage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import requests
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    TransactionNotFound,
    Web3Exception,
)

from anchor.chain.registry import REGISTRY_VERSION, Registry, Status
from anchor.errors import ChainError
from anchor.proof.bundle import ProofBundle
from anchor.verify.verdict import Check, format_time

#: Errors meaning "this node cannot be used now", as opposed to an answer.
_TRANSPORT = (requests.RequestException, OSError, TimeoutError, Web3Exception)
_ROOT_ANCHORED = Web3.keccak(text="RootAnchored(bytes32,address,uint32,uint64)")


@dataclass(frozen=True)
class ChainReading:
    """The chain checks, and what the registry says for display."""

    checks: list[Check]
    issuer_name: str | None = None
    anchored_at: int | None = None
    rpc_url: str | None = None
    passed_over: list[str] = field(default_factory=list)


class _UnusableNodeError(Exception):
    """This node cannot answer now; try the next one."""


def chain_checks(bundle: ProofBundle, rpc_urls: Sequence[str], *, timeout: float) -> ChainReading:
    """Read the registry through the first usable URL; indeterminate when none is usable."""
    passed_over: list[str] = []
    for url in rpc_urls:
        try:
            return _read(bundle, url, timeout, passed_over)
        except _UnusableNodeError as e:
            passed_over.append(f"{url} {e}")
    actual = "; ".join(passed_over) if passed_over else "no RPC URL was given"
    reason = (
        f"no node of chain {bundle.chain_id} could be reached, so the registry could not be "
        "read; this says nothing against the document: try again later or with another node"
    )
    check = Check("chain", None, f"a node of chain {bundle.chain_id}", actual, reason)
    return ChainReading([check], passed_over=passed_over)


def _client(url: str, timeout: float) -> Web3:
    # No automatic retries: the caller's timeout holds per call, and failover is ours.
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
    )
    return Web3(provider)


def _read(bundle: ProofBundle, url: str, timeout: float, passed_over: list[str]) -> ChainReading:
    w3 = _client(url, timeout)
    chain_id = bundle.chain_id
    try:
        found = w3.eth.chain_id
        head = w3.eth.block_number
    except _TRANSPORT as e:
        raise _UnusableNodeError(f"did not answer ({_short(e)})") from e
    if found != chain_id:
        raise _UnusableNodeError(f"is on chain {found}, not {chain_id}")
    if head < bundle.block_number:
        raise _UnusableNodeError(
            f"is at block {head}, before the anchoring block {bundle.block_number}"
        )

    def reading(checks: list[Check], status: Status | None = None) -> ChainReading:
        name = status.issuer_name if status and status.issuer_name else None
        when = status.anchored_at if status and status.anchored_at else None
        return ChainReading(checks, name, when, url, passed_over)

    checks = [Check("chain", True, str(chain_id), str(found), f"{url} serves chain {chain_id}")]
    where = f"{bundle.registry} on chain {chain_id}"
    try:
        code = w3.eth.get_code(Web3.to_checksum_address(bundle.registry))
    except _TRANSPORT as e:
        raise _UnusableNodeError(f"failed to return the registry code ({_short(e)})") from e
    if len(code) == 0:
        checks.append(
            Check("registry", False, "an AnchorRegistry", "no contract", f"no registry at {where}")
        )
        return reading(checks)
    registry = Registry(w3, bundle.registry)
    try:
        version = registry.version()
        status = registry.status(bundle.root_bytes, bundle.proof_bytes, bundle.leaf_bytes)
    except ChainError as e:
        if isinstance(e.__cause__, ContractLogicError | BadFunctionCallOutput):
            checks.append(
                Check("registry", False, "an AnchorRegistry", "another contract",
                      f"the contract at {where} is not an anchor registry")
            )  # fmt: skip
            return reading(checks)
        raise _UnusableNodeError(f"failed to read the registry ({_short(e.__cause__ or e)})") from e
    major = REGISTRY_VERSION.split(".")[0]
    if version.split(".")[0] != major:
        checks.append(
            Check("registry", None, f"interface {major}.x", version,
                  f"the registry at {where} speaks interface {version}, "
                  f"which this verifier does not read")
        )  # fmt: skip
        return reading(checks)
    checks.append(Check("registry", True, f"interface {major}.x", version, f"registry at {where}"))
    checks += _status_checks(bundle, status)
    if status.anchored_at:
        checks.append(_transaction_check(w3, bundle))
    return reading(checks, status)


def _status_checks(bundle: ProofBundle, s: Status) -> list[Check]:
    """Anchoring, issuer, time, authorisation and revocation, from one ``status`` call."""
    if not s.anchored_at:
        return [
            Check("anchored", False, "anchored", "never anchored",
                  "the root was never anchored in this registry")
        ]  # fmt: skip
    issuer = s.issuer.lower()
    checks = [
        Check("anchored", True, "anchored", "anchored", "the root is anchored in the registry"),
        Check("inclusion", s.included, "true", str(s.included).lower(),
              "the registry confirms the proof" if s.included
              else "the registry's own Merkle check rejects the proof"),
        Check("issuer", issuer == bundle.issuer, bundle.issuer, issuer,
              "the root was anchored by the issuer named in the proof" if issuer == bundle.issuer
              else f"the root was anchored by {issuer}, not by {bundle.issuer}"),
        Check("anchoredAt", s.anchored_at == bundle.anchored_at, str(bundle.anchored_at),
              str(s.anchored_at),
              f"anchored on {format_time(s.anchored_at)}" if s.anchored_at == bundle.anchored_at
              else f"the root was anchored on {format_time(s.anchored_at)}, "
                   f"not on {format_time(bundle.anchored_at)} as the proof says"),
        Check("issuerAuthorised", s.issuer_authorised_at_anchor, "true",
              str(s.issuer_authorised_at_anchor).lower(),
              "the issuer was authorised when it anchored the root"
              if s.issuer_authorised_at_anchor
              else "the issuer was not authorised when it anchored the root"),
        _revocation("leafRevocation", "the document", s.leaf_revoked_at,
                    s.leaf_revocation_reason),
        _revocation("rootRevocation", "the whole batch of this document", s.root_revoked_at,
                    s.root_revocation_reason),
    ]  # fmt: skip
    if bundle.issuer_name and s.issuer_name and bundle.issuer_name != s.issuer_name:
        checks.append(
            Check("issuerName", False, bundle.issuer_name, s.issuer_name,
                  f"the proof names the issuer {bundle.issuer_name!r} but the registry names it "
                  f"{s.issuer_name!r}; the registry's name is shown", required=False)
        )  # fmt: skip
    return checks


def _revocation(name: str, what: str, revoked_at: int, reason: int) -> Check:
    if not revoked_at:
        return Check(name, True, "not revoked", "not revoked", f"{what} is not revoked")
    when = format_time(revoked_at)
    return Check(
        name, False, "not revoked", f"revoked at {revoked_at}, reason code {reason}",
        f"{what} was revoked on {when} (reason code {reason})",
    )  # fmt: skip


def _transaction_check(w3: Web3, bundle: ProofBundle) -> Check:
    """The anchoring transaction is in ``blockNumber`` and emitted RootAnchored for this root."""
    expected = f"RootAnchored in block {bundle.block_number}"
    try:
        receipt = w3.eth.get_transaction_receipt(HexBytes(bundle.tx_hash))
    except TransactionNotFound:
        return Check("transaction", None, expected, "unknown to the node",
                     "the node does not have the anchoring transaction, so it was not checked",
                     required=False)  # fmt: skip
    except _TRANSPORT as e:
        raise _UnusableNodeError(f"failed to return the transaction receipt ({_short(e)})") from e
    block = int(receipt["blockNumber"])
    topics = [
        HexBytes(_ROOT_ANCHORED),
        HexBytes(bundle.root_bytes),
        HexBytes(b"\x00" * 12 + bytes.fromhex(bundle.issuer[2:])),
    ]
    emitted = any(
        str(log["address"]).lower() == bundle.registry and list(log["topics"][:3]) == topics
        for log in receipt["logs"]
    )
    ok = receipt["status"] == 1 and block == bundle.block_number and emitted
    actual = f"{'RootAnchored' if emitted else 'no RootAnchored'} in block {block}"
    reason = (
        "the transaction anchored this root in the stated block"
        if ok
        else "the transaction in the proof did not anchor this root in the stated block"
    )
    return Check("transaction", ok, expected, actual, reason)


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:120]}" if text else type(error).__name__
