"""The on-chain half of `anchor.verify`: read a trusted registry through the chain client.

The registry is one the caller trusts out of band (`anchor.trust`), never the address a proof
names: a proof naming another registry is invalid ("issued in another registry") before any node
is asked anything, so no code of an unknown contract ever runs during a verification.

The nodes are reached through `anchor.chain.client.ChainClient` (its timeout, no-retry, PoA and
failover policy). A node is *unusable* when it cannot be reached, times out, answers with another
chain id, is still behind the anchoring block, or fails in the middle of the reading; the client
then runs the whole reading again on the next URL, and only when every URL is unusable is the
reading indeterminate. A node that is usable answers for the chain: no code at the trusted
registry's address there, or a contract that is not a registry, is a definite answer (invalid),
not an outage. Readings may be reused for a few seconds through a `TTLCache` (the API's).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from anchor.chain.cache import TTLCache
from anchor.chain.client import (
    ChainClient,
    NodeUnusableError,
    NoUsableNodeError,
    is_transport_failure,
)
from anchor.chain.events import anchored_in
from anchor.chain.records import ChangeKind, DocumentState
from anchor.chain.registry import (
    REGISTRY_VERSION,
    Names,
    Purpose,
    Registry,
    Status,
    StatusChange,
)
from anchor.errors import ChainError, ConfigError
from anchor.proof.bundle import ProofBundle
from anchor.trust import TrustedRegistry
from anchor.types import reason_name, suspension_reason_name
from anchor.verify.verdict import (
    BodyNames,
    Check,
    DocumentLife,
    IssuingBody,
    Revocation,
    format_time,
)

V = TypeVar("V")
_NOT_A_REGISTRY = "not a registry"


@dataclass(frozen=True)
class ChainReading:
    """The chain checks, and what the registry says for display."""

    checks: list[Check]
    body: IssuingBody | None = None
    anchored_at: int | None = None
    authorised: bool | None = None
    rpc_url: str | None = None
    revocations: tuple[Revocation, ...] = ()
    life: DocumentLife | None = None


def chain_checks(
    bundle: ProofBundle,
    trusted: Sequence[TrustedRegistry],
    *,
    client: ChainClient | None = None,
    rpc_urls: Sequence[str] = (),
    timeout: float = 10.0,
    poa: bool = False,
    cache: TTLCache[object] | None = None,
    name_nodes: bool = True,
) -> ChainReading:
    """Check ``bundle`` against the registry of ``trusted`` it was issued in.

    Reads through ``client``, or a client of ``rpc_urls`` built for the trusted chain. The
    checks name each node by its URL, or with ``name_nodes=False`` as "node 1", "node 2"...
    (answers to the public). Raises `ConfigError` when ``trusted`` is empty: a proof cannot
    vouch for its own registry.
    """
    if not trusted:
        raise ConfigError("no trusted registry was given: a proof cannot name its own registry")
    chain_id = client.chain_id if client is not None else bundle.chain_id
    entries = [t if t.chain_id is not None else replace(t, chain_id=chain_id) for t in trusted]
    matching = [t for t in entries if t.names(bundle.chain_id, bundle.registry)]
    if not matching:
        return ChainReading([_another_registry(bundle, entries)])
    if client is None:
        client = ChainClient(rpc_urls, bundle.chain_id, poa=poa, timeout=timeout)
    if client.chain_id != bundle.chain_id:  # only a trusted entry for another chain gets here
        return ChainReading([_another_registry(bundle, entries)])
    cache = cache if cache is not None else TTLCache[object](0)
    try:
        reading = client.read(lambda w3: _read(w3, bundle, matching, cache))
    except NoUsableNodeError as e:
        if name_nodes:
            actual = "; ".join(f"{f.url} {f.reason}" for f in e.failures)
        else:
            actual = "; ".join(f"node {i} {f.reason}" for i, f in enumerate(e.failures, 1))
        reason = (
            f"no node of chain {bundle.chain_id} could be reached, so the registry could not be "
            "read; this says nothing against the document: try again later or with another node"
        )
        check = Check(
            "chain", None, f"a node of chain {bundle.chain_id}", actual or "no RPC URL was given",
            reason,
        )  # fmt: skip
        return ChainReading([check])
    if name_nodes or reading.rpc_url is None:
        return reading
    url = reading.rpc_url
    unnamed = [replace(c, reason=c.reason.replace(url, "the node")) for c in reading.checks]
    return replace(reading, checks=unnamed, rpc_url=None)


def _another_registry(bundle: ProofBundle, trusted: Sequence[TrustedRegistry]) -> Check:
    where = f"{bundle.registry} on chain {bundle.chain_id}"
    return Check(
        "registry", False, ", ".join(str(t) for t in trusted), where,
        f"the proof was issued in another registry ({where}), not in one this verifier trusts",
    )  # fmt: skip


def _cached(cache: TTLCache[object], key: Hashable, kind: type[V], read: Callable[[], V]) -> V:
    found = cache.get(key)
    if isinstance(found, kind):
        return found
    value = read()
    cache.put(key, value)
    return value


def _read(
    w3: Web3, bundle: ProofBundle, trusted: Sequence[TrustedRegistry], cache: TTLCache[object]
) -> ChainReading:
    """The whole reading on one node; transport errors and NodeUnusableError fail over."""
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    chain_id = bundle.chain_id
    head = _cached(cache, ("head", url), int, lambda: int(w3.eth.block_number))
    if head < bundle.block_number:
        head = int(w3.eth.block_number)
        cache.put(("head", url), head)
    if head < bundle.block_number:
        raise NodeUnusableError(
            f"is at block {head}, before the anchoring block {bundle.block_number}"
        )
    address = trusted[0].address
    registry = Registry(w3, address)

    def reading(checks: list[Check], status: Status | None = None) -> ChainReading:
        if status is None or not status.anchored:
            return ChainReading(checks, rpc_url=url)
        d, root = status.document, status.root_status
        revocations = []
        if d.state == ChangeKind.REVOKED:
            revocations.append(Revocation("document", d.since, d.reason, reason_name(d.reason)))
        if root.revoked:
            revocations.append(Revocation("batch", root.at, root.reason, reason_name(root.reason)))
        return ChainReading(
            checks,
            issuing_body(status),
            status.anchored_at,
            status.authorised,
            url,
            tuple(revocations),
            document_life(d),
        )

    checks = [Check("chain", True, str(chain_id), str(chain_id), f"{url} serves chain {chain_id}")]
    where = f"{address} on chain {chain_id}"
    version = _cached(cache, ("version", url, address), str, lambda: _version(w3, registry))
    if not version:
        checks.append(
            Check("registry", False, "an AnchorRegistry", "no contract", f"no registry at {where}")
        )
        return reading(checks)
    if version == _NOT_A_REGISTRY:
        checks.append(
            Check("registry", False, "an AnchorRegistry", "another contract",
                  f"the contract at {where} is not an anchor registry")
        )  # fmt: skip
        return reading(checks)
    major = REGISTRY_VERSION.split(".")[0]
    if version.split(".")[0] != major:
        checks.append(
            Check("registry", None, f"interface {major}.x", version,
                  f"the registry at {where} speaks interface {version}, "
                  f"which this verifier does not read")
        )  # fmt: skip
        return reading(checks)
    checks.append(Check("registry", True, f"interface {major}.x", version, f"registry at {where}"))
    key = ("status", address, bundle.issuer, bundle.root, bundle.leaf, tuple(bundle.proof))
    try:
        status = _cached(
            cache,
            key,
            Status,
            lambda: registry.status(
                Web3.to_checksum_address(bundle.issuer),
                bundle.root_bytes,
                bundle.proof_bytes,
                bundle.leaf_bytes,
            ),
        )
    except ChainError as e:
        if is_transport_failure(e):
            raise
        checks[-1] = Check("registry", False, "an AnchorRegistry", "another contract",
                           f"the contract at {where} is not an anchor registry")  # fmt: skip
        return reading(checks)
    checks += _status_checks(bundle, status)
    if status.anchored_at:
        checks.append(_authorisation_check(registry, status))
        checks.append(_period_check(trusted, status.anchored_at))
        tx_key = ("transaction", address, bundle.tx_hash, bundle.root, status.body_id,
                  status.key, bundle.block_number)  # fmt: skip
        transaction = _cached(
            cache, tx_key, Check, lambda: _transaction_check(w3, bundle, address, status)
        )
        checks.append(transaction)
    return reading(checks, status)


def issuing_body(status: Status) -> IssuingBody:
    """The body of a `Status` answer, in the verdict's terms (kind and status as words)."""
    return IssuingBody(
        body_id=status.body_id,
        kind=status.kind.slug,
        code=status.code,
        status=status.body_status.name.lower(),
        name_at_anchor=body_names(status.name_at_anchor),
        name_now=body_names(status.name_now),
    )


def body_names(names: Names) -> BodyNames:
    """The binding's `Names` as the verdict's `BodyNames`."""
    return BodyNames(fr=names.fr, de=names.de, en=names.en, lb=names.lb)


def _version(w3: Web3, registry: Registry) -> str:
    """The registry's interface version; "" when there is no code, or _NOT_A_REGISTRY."""
    if len(w3.eth.get_code(registry.address)) == 0:
        return ""
    try:
        return registry.version()
    except ChainError as e:
        if is_transport_failure(e):
            raise
        return _NOT_A_REGISTRY


def _period_check(trusted: Sequence[TrustedRegistry], anchored_at: int) -> Check:
    periods = ", ".join(t.period for t in trusted)
    if any(t.covers(anchored_at) for t in trusted):
        return Check("trustPeriod", True, periods, str(anchored_at),
                     "the root was anchored while this verifier trusts the registry")  # fmt: skip
    return Check(
        "trustPeriod", False, periods, str(anchored_at),
        f"the root was anchored on {format_time(anchored_at)}, outside the period this verifier "
        f"trusts the registry for ({periods})",
    )  # fmt: skip


def _status_checks(bundle: ProofBundle, s: Status) -> list[Check]:
    """Body, anchoring, key, time, authorisation and statuses, from one ``status`` call."""
    if not s.body_id:
        return [
            Check("issuer", False, "a key of an issuing body", "unknown key",
                  f"the key {bundle.issuer} that the proof names as its issuer belongs to no "
                  "issuing body in this registry")
        ]  # fmt: skip
    if not s.anchored:
        who = f"{s.name_now.fr} (body {s.body_id})"  # no anchor, so no name at anchoring time
        return [
            Check("anchored", False, "anchored", "never anchored",
                  f"the root was never anchored by {who} in this registry")
        ]  # fmt: skip
    body = issuing_body(s)
    who = f"{body.name()} (body {body.body_id})"
    key = s.key.lower()
    checks = [
        Check("anchored", True, "anchored", "anchored", f"the root is anchored by {who}"),
        Check("inclusion", s.included, "true", str(s.included).lower(),
              "the registry confirms the proof" if s.included
              else "the registry's own Merkle check rejects the proof"),
        Check("issuer", key == bundle.issuer, bundle.issuer, key,
              "the root was anchored by the key named in the proof" if key == bundle.issuer
              else f"the root was anchored by the key {key}, not by {bundle.issuer}"),
        Check("anchoredAt", s.anchored_at == bundle.anchored_at, str(bundle.anchored_at),
              str(s.anchored_at),
              f"anchored on {format_time(s.anchored_at)}" if s.anchored_at == bundle.anchored_at
              else f"the root was anchored on {format_time(s.anchored_at)}, "
                   f"not on {format_time(bundle.anchored_at)} as the proof says"),
        _document_check(s.document),
        _status_change("rootStatus", "the whole batch of this document", s.root_status),
        Check("bodyStatus", True, None, body.status,
              f"{who} is active" if body.status == "active" else
              f"{who} is {body.status} today; documents it anchored while active stay valid",
              required=False),
    ]  # fmt: skip
    names = {bundle.issuer_name} - {"", None}
    known = set(astuple(body.name_at_anchor)) | set(astuple(body.name_now))
    if names and not names <= known:
        checks.append(
            Check("issuerName", False, body.name(), bundle.issuer_name,
                  f"the proof carries the issuer name {bundle.issuer_name!r}, which verifiers "
                  f"ignore: the registry names the body {body.name()!r}", required=False)
        )  # fmt: skip
    return checks


def _authorisation_check(registry: Registry, s: Status) -> Check:
    """Whether the anchoring key was authorised then; when not, why (one more read)."""
    key, at = s.key.lower(), s.anchored_at
    when = format_time(at)
    if s.authorised:
        return Check("authorised", True, "true", "true",
                     f"the key {key} was authorised to anchor for its body on {when}")  # fmt: skip
    reason = f"not authorised: the key {key} could not anchor for its body on {when}"
    record = registry.key_of(Web3.to_checksum_address(key))
    if record.compromised_since and record.compromised_since <= at:
        reason = (
            f"not authorised: the key {key} is marked compromised since "
            f"{format_time(record.compromised_since)}, and it anchored the root at or after "
            f"that, on {when}"
        )
    elif record.purpose != Purpose.ANCHORING:
        reason = f"not authorised: the key {key} is not an anchoring key"
    elif not record.valid_from <= at < record.valid_until:
        reason = f"not authorised: the key {key} was not valid for anchoring on {when}"
    return Check("authorised", False, "true", "false", reason)


def document_life(d: DocumentState) -> DocumentLife:
    """The document's state as the verdict shows it (the type's validity end is added later)."""
    extended = day_of(d.valid_until) if d.valid_until else None
    superseded = d.state == ChangeKind.SUPERSEDED
    return DocumentLife(
        state="in_force" if d.in_force else d.state.word,
        since=d.since or None,
        reason=d.reason,
        reason_name=change_reason_name(d.state, d.reason),
        extended_until=extended,
        valid_until=extended,
        successor_root="0x" + d.successor_root.hex() if superseded else None,
        successor_leaf="0x" + d.successor_leaf.hex() if superseded else None,
    )


def change_reason_name(state: ChangeKind, code: int) -> str:
    """The name of a reason code for a document in ``state`` (suspension or revocation codes)."""
    if state == ChangeKind.SUSPENDED:
        return suspension_reason_name(code)
    return reason_name(code) if state == ChangeKind.REVOKED else ""


def day_of(timestamp: int) -> str:
    """The ISO date of 00:00 UTC ``timestamp`` (a validity end); past 9999, its Unix time."""
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return f"Unix time {timestamp}"


def _document_check(d: DocumentState) -> Check:
    """The document's own state: in force passes; suspended, revoked or superseded fails, with
    when and why (a change the registrar annulled does not count)."""
    name, expected = "leafStatus", "in force"
    if d.in_force:
        extended = f", its validity extended to {day_of(d.valid_until)}" if d.valid_until else ""
        return Check(name, True, expected, "in force", f"the document is in force{extended}")
    when = format_time(d.since)
    label = change_reason_name(d.state, d.reason)
    if d.state == ChangeKind.SUPERSEDED:
        successor = f"leaf 0x{d.successor_leaf.hex()} of root 0x{d.successor_root.hex()}"
        reason = f"the document was superseded on {when} by another document ({successor})"
        return Check(name, False, expected, f"superseded at {d.since}", reason)
    word = d.state.word
    return Check(name, False, expected, f"{word} at {d.since}, reason {d.reason} ({label})",
                 f"the document was {word} on {when} (reason {d.reason}: {label})")  # fmt: skip


def _status_change(name: str, what: str, change: StatusChange) -> Check:
    """The document's or the root's status: invalid when a revocation counts (one the registrar
    annulled, made by a key later found compromised, does not)."""
    if not change.revoked:
        return Check(name, True, "not revoked", "not revoked", f"{what} is not revoked")
    when, label = format_time(change.at), reason_name(change.reason)
    return Check(
        name, False, "not revoked", f"revoked at {change.at}, reason {change.reason} ({label})",
        f"{what} was revoked on {when} (reason {change.reason}: {label})",
    )  # fmt: skip


def _transaction_check(w3: Web3, bundle: ProofBundle, registry: str, s: Status) -> Check:
    """The transaction is in ``blockNumber`` and anchored this root for the key's body.

    A relayed anchor is sent by a relayer, not by the key: the sender is not checked; the key
    is the one the registry holds for the anchor (``status``), whose signature it verified.
    """
    expected = f"the anchor of this root by body {s.body_id} in block {bundle.block_number}"
    try:
        receipt = w3.eth.get_transaction_receipt(HexBytes(bundle.tx_hash))
    except TransactionNotFound:
        return Check("transaction", None, expected, "unknown to the node",
                     "the node does not have the anchoring transaction, so it was not checked",
                     required=False)  # fmt: skip
    block = int(receipt["blockNumber"])
    emitted = (s.body_id, bundle.root_bytes) in anchored_in(receipt["logs"], registry)
    ok = receipt["status"] == 1 and block == bundle.block_number and emitted
    actual = f"{'the anchor' if emitted else 'no anchor of this root'} in block {block}"
    reason = (
        "the transaction anchored this root in the stated block"
        if ok
        else "the transaction in the proof did not anchor this root in the stated block"
    )
    return Check("transaction", ok, expected, actual, reason)
