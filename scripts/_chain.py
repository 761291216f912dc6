"""Sending to the registry v2 and reading it back, for the operator scripts.

`send` replays every call with ``eth_call`` from the signing account first: when the registry
would revert, nothing is sent and the custom error (docs/registry.md) becomes one sentence,
such as "key 0x... already belongs to body 3." or "the admin transfer can be accepted from
2026-12-03T08:00:00Z.". An error without a sentence of its own is still named with its arguments.

Decoding uses the service's binding (`anchor.chain.registry.decode_revert`), which imports in
brownie's venv (web3 7 there too). The readers turn the registry's structs (docs/registry.md,
"Bodies", "Keys", "Status changes") into small frozen values, by position, so that they do not
depend on brownie's field names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anchor.chain.registry import decode_revert
from scripts import _common
from scripts._args import BODY_STATUSES, KINDS, LANGUAGES, PURPOSES, iso
from scripts._common import OperatorError

_PURPOSE_NAMES = {v: k for k, v in PURPOSES.items()}
_CHANGE_KINDS = ("none", "revoked", "suspended", "lifted", "superseded", "extended")


@dataclass(frozen=True)
class Body:
    """`bodyOf(id)`: id, kind, status, registeredAt, code."""

    id: int
    kind: int
    status: int
    registered_at: int
    code: str

    @property
    def kind_name(self) -> str:
        return KINDS[self.kind] if self.kind < len(KINDS) else str(self.kind)

    @property
    def status_name(self) -> str:
        return BODY_STATUSES[self.status] if self.status < len(BODY_STATUSES) else str(self.status)


@dataclass(frozen=True)
class Key:
    """`keyOf(address)`: bodyId, purpose, validFrom, validUntil, compromisedSince, bodyActive."""

    address: str
    body_id: int
    purpose: int
    valid_from: int
    valid_until: int
    compromised_since: int
    body_active: bool

    @property
    def purpose_name(self) -> str:
        return _PURPOSE_NAMES.get(self.purpose, "none")

    def valid_at(self, t: int) -> bool:
        """Whether the key is valid at ``t`` for its purpose (docs/registry.md, "Keys")."""
        fresh = self.compromised_since == 0 or t < self.compromised_since
        return self.body_active and self.valid_from <= t < self.valid_until and fresh

    def terms(self) -> str:
        """The key's validity and compromise time, as `list` prints them."""
        text = f"valid {iso(self.valid_from)}..{iso(self.valid_until)}"
        if self.compromised_since:
            text += f"  compromised since {iso(self.compromised_since)}"
        return text


@dataclass(frozen=True)
class Change:
    """One entry of `historyOf(bodyId, root, leaf)`: kind, reason, at, actor, annulled."""

    index: int
    kind: int
    reason: int
    at: int
    actor: str
    annulled: bool

    @property
    def kind_name(self) -> str:
        return _CHANGE_KINDS[self.kind] if self.kind < len(_CHANGE_KINDS) else str(self.kind)


def body_of(contract: Any, body_id: int) -> Body:
    """Return the body ``body_id``, or fail with one sentence when there is none."""
    if not 1 <= body_id <= int(contract.bodyCount()):
        raise OperatorError(
            f"there is no body {body_id} on the registry at {contract.address} "
            f"({int(contract.bodyCount())} bodies registered)."
        )
    b = contract.bodyOf(body_id)
    return Body(int(b[0]), int(b[1]), int(b[2]), int(b[3]), str(b[4]))


def key_of(contract: Any, address: str) -> Key:
    """Return what the registry knows of the key ``address`` (body id 0: unknown key)."""
    k = contract.keyOf(address)
    return Key(address, int(k[0]), int(k[1]), int(k[2]), int(k[3]), int(k[4]), bool(k[5]))


def known_key(contract: Any, address: str) -> Key:
    """Return the key ``address``, or fail with one sentence when no body has it."""
    key = key_of(contract, address)
    if key.body_id == 0:
        raise OperatorError(f"key {address} belongs to no body on the registry {contract.address}.")
    return key


def names_of(contract: Any, body_id: int) -> list[tuple[int, dict[str, str]]]:
    """Return the name versions of a body: (since, {fr, de, en, lb}), oldest first."""
    return [
        (int(v[0]), dict(zip(LANGUAGES, (str(n) for n in v[1]), strict=True)))
        for v in contract.namesOf(body_id)
    ]


def history_of(contract: Any, body_id: int, root: str, leaf: str) -> list[Change]:
    """Return the status changes of a document (``leaf``) or of the root itself (leaf 0)."""
    return [
        Change(i, int(c[0]), int(c[1]), int(c[2]), str(c[3]), bool(c[4]))
        for i, c in enumerate(contract.historyOf(body_id, root, leaf))
    ]


def now() -> int:
    """The latest block's time: the registry's idea of now."""
    from brownie import web3

    return int(web3.eth.get_block("latest")["timestamp"])


# --- sending ---------------------------------------------------------------------------------


def send(contract: Any, function: str, args: tuple[Any, ...], account: Any) -> Any:
    """Send ``contract.function(*args)`` from ``account`` once ``eth_call`` shows it succeeds.

    A revert, in the replay or (for a race) in the transaction itself, becomes `OperatorError`
    with the error's sentence.
    """
    from brownie import web3
    from brownie.exceptions import VirtualMachineError
    from web3.exceptions import ContractLogicError

    data = getattr(contract, function).encode_input(*args)
    try:
        # "pending": the next block's context (its time), the one the transaction will see.
        tx = {"from": account.address, "to": contract.address, "data": data}
        web3.eth.call(tx, "pending")
    except ContractLogicError as e:
        raise OperatorError(explain(contract, e.data, str(e))) from e
    try:
        return getattr(contract, function)(*args, _common.tx(account))
    except VirtualMachineError as e:
        raise OperatorError(f"the registry rejected the transaction: {e.revert_msg or e}.") from e


def event_args(contract: Any, receipt: Any, event: str) -> list[dict[str, Any]]:
    """Return the arguments of each ``event`` the registry emitted in a brownie receipt."""
    from brownie import web3
    from web3.logs import DISCARD

    abi = _common.artifact()[0]["abi"]
    decoder = web3.eth.contract(address=contract.address, abi=abi).events[event]()
    raw = web3.eth.get_transaction_receipt(receipt.txid)
    return [dict(e["args"]) for e in decoder.process_receipt(raw, errors=DISCARD)]


def logs_of(contract: Any, event: str, from_block: int, chunk: int = 5_000) -> list[dict[str, Any]]:
    """Return the arguments of every ``event`` of the registry since ``from_block``, in order."""
    from brownie import web3
    from eth_utils.crypto import keccak

    abi = _common.artifact()[0]["abi"]
    item = next(i for i in abi if i.get("type") == "event" and i["name"] == event)
    topic = (
        "0x" + keccak(text=f"{event}({','.join(_type_string(i) for i in item['inputs'])})").hex()
    )
    decoder = web3.eth.contract(address=contract.address, abi=abi).events[event]()
    found: list[dict[str, Any]] = []
    start, head = from_block, int(web3.eth.block_number)
    while start <= head:
        end = min(start + chunk - 1, head)
        logs = web3.eth.get_logs(
            {"address": contract.address, "fromBlock": start, "toBlock": end, "topics": [topic]}
        )
        for log in sorted(logs, key=lambda x: (x["blockNumber"], x["logIndex"])):
            found.append(dict(decoder.process_log(log)["args"]))
        start = end + 1
    return found


def _type_string(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_type_string(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def explain(contract: Any, data: object, fallback: str) -> str:
    """One sentence for the revert data ``data`` of the registry (its custom errors, decoded by
    the binding's `decode_revert` from the committed ABI); ``fallback`` names anything else."""
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    decoded = decode_revert(data) if isinstance(data, str | bytes) and data else None
    if decoded is None:
        text = fallback.removeprefix("execution reverted: ").rstrip(".")
        return f"the registry at {contract.address} refuses the transaction: {text}."
    name, args = decoded
    sentence = _SENTENCES.get(name)
    if sentence is not None:
        return sentence(contract, *args)
    shown = ", ".join(_show(a) for a in args)
    return f"the registry at {contract.address} refuses the transaction: {name}({shown})."


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _role_name(role: object) -> str:
    names = {_common.role_id(r): r for r in _common.ROLE_NAMES}
    return names.get(_show(role), _show(role))


def explain_key(contract: Any, key: str) -> str:
    """Say why ``key`` is not valid now."""
    k = key_of(contract, key)
    t = now()
    if not k.body_active:
        why = f"its body {k.body_id} is not active"
    elif k.compromised_since and t >= k.compromised_since:
        why = f"it is compromised since {iso(k.compromised_since)}"
    elif t < k.valid_from:
        why = f"it is valid only from {iso(k.valid_from)}"
    else:
        why = f"it was retired at {iso(k.valid_until)}"
    return f"key {key} is not valid now: {why}."


def _rename_in_past(_contract: Any, since: int) -> str:
    return (
        f"a new name applies from now or later, after the body's last name version: "
        f"{iso(int(since))} is too early (a rename never rewrites the past)."
    )


def _unauthorized(contract: Any, account: str, role: object) -> str:
    return (
        f"account {account} lacks the {_role_name(role)} role on the registry at "
        f"{contract.address}."
    )


def _bad_status(_contract: Any, body_id: int, status: int) -> str:
    wanted = BODY_STATUSES[int(status)] if int(status) < len(BODY_STATUSES) else str(status)
    return f"body {body_id} cannot be set to {wanted} from where it stands."


def _revoked(_contract: Any, body_id: int, root: bytes, leaf: bytes) -> str:
    if _show(leaf) == "0x" + "00" * 32:
        return f"the root {_show(root)} of body {body_id} is already revoked."
    return (
        f"the document {_show(leaf)} under root {_show(root)} of body {body_id} is already revoked."
    )


#: A document's state (`ChangeKind` of docs/registry.md) as a sentence says it.
_STATE_WORDS = {0: "in force", 1: "revoked", 2: "suspended", 4: "superseded"}

_Sentence = Callable[..., str]
#: One sentence per custom error of the registry (and of the OpenZeppelin parts it inherits).
_SENTENCES: dict[str, _Sentence] = {
    "AccessControlUnauthorizedAccount": _unauthorized,
    "AccessControlEnforcedDefaultAdminDelay": lambda _c, schedule: (
        f"the admin transfer can be accepted from {iso(int(schedule) + 1)}."
        if int(schedule)
        else "no admin transfer is pending."
    ),
    "AccessControlInvalidDefaultAdmin": lambda _c, account: (
        f"account {account} is not the pending admin (admin.py show)."
    ),
    "AccessControlEnforcedDefaultAdminRules": lambda _c: (
        "the admin role moves only by the two-step transfer: admin.py begin_transfer, then "
        "accept_transfer by the new admin after the delay."
    ),
    "EnforcedPause": lambda c: f"the registry {c.address} is paused: unpause it first.",
    "ExpectedPause": lambda c: f"the registry {c.address} is not paused.",
    "RegistryUnknownBody": lambda c, body_id: (
        f"there is no body {body_id} on the registry at {c.address}."
    ),
    "RegistryBodyRetired": lambda _c, body_id: (
        f"body {body_id} is retired; a retired body cannot be changed."
    ),
    "RegistryBadBodyStatus": _bad_status,
    "RegistryCodeTaken": lambda _c, code, body_id: (
        f"the official code {code!r} already belongs to body {body_id}."
    ),
    "RegistryEmptyName": lambda _c: "the French name (fr=) must not be empty.",
    "RegistryTooLong": lambda _c, length, most: (
        f"a name or the code is {length} bytes long; the registry keeps at most {most}."
    ),
    "RegistryRenameInPast": _rename_in_past,
    "RegistryKeyTaken": lambda _c, key, body_id: f"key {key} already belongs to body {body_id}.",
    "RegistryZeroKey": lambda _c: "a key cannot be the zero address.",
    "RegistryBadPurpose": lambda _c: "a key's purpose is anchoring or status.",
    "RegistryBadValidity": lambda _c, valid_from, valid_until: (
        f"the key would never be valid: until {iso(int(valid_until))} is not after from "
        f"{iso(int(valid_from))} (a from in the past means now)."
    ),
    "RegistryBadCompromiseTime": lambda _c, since: (
        f"the compromise time {iso(int(since))} is refused: it is at most now and may only "
        "move earlier than a time already set."
    ),
    "RegistryUnknownKey": lambda c, key: (
        f"key {key} belongs to no body on the registry {c.address}."
    ),
    "RegistryWrongPurpose": lambda c, key: (
        f"key {key} is a {key_of(c, key).purpose_name} key, not one for this."
    ),
    "RegistryKeyNotValid": explain_key,
    "RegistryUnauthorizedActor": lambda _c, account, body_id: (
        f"account {account} is neither a revoker nor a status key of body {body_id} valid now; "
        "anchoring keys never change statuses."
    ),
    "RegistryRootNotAnchored": lambda c, body_id, root: (
        f"body {body_id} has not anchored the root {_show(root)} on the registry {c.address}."
    ),
    "RegistryLeafNotInRoot": lambda _c, root, leaf: (
        f"the proof does not lead from the leaf {_show(leaf)} to the root {_show(root)}."
    ),
    "RegistryAlreadyRevoked": _revoked,
    "RegistryBadTransition": lambda _c, body_id, root, leaf, state, change: (
        f"the document {_show(leaf)} under root {_show(root)} of body {body_id} is "
        f"{_STATE_WORDS.get(int(state), str(state))}; it cannot be "
        f"{_CHANGE_KINDS[int(change)] if int(change) < len(_CHANGE_KINDS) else change} now."
    ),
    "RegistryUnknownSuccessor": lambda _c, root, leaf: (
        f"the successor {_show(leaf)} under root {_show(root)} is unknown: its body never "
        "anchored that root, the leaf is not in it, or it is the document itself."
    ),
    "RegistryBadValidityEnd": lambda _c, until: (
        f"the last valid day {iso(int(until))[:10]} is refused: it must be a whole UTC day, not "
        "passed, and after the last extension's."
    ),
    "RegistryNoSuchChange": lambda _c, index: f"there is no status change #{index} there.",
    "RegistryNotAnnullable": lambda _c, index: (
        f"status change #{index} cannot be annulled: it is annulled already, or its actor was "
        "not a key marked compromised at or before its time."
    ),
}
