"""Manage bodies' keys: add, rotate, retire, mark compromised, and annul what a compromised key did.

    brownie run scripts/keys.py add BODY 0xKEY PURPOSE [from=TIME] [until=TIME] --network NETWORK
    brownie run scripts/keys.py rotate 0xOLD 0xNEW [until=TIME] --network NETWORK
    brownie run scripts/keys.py retire 0xKEY --network NETWORK
    brownie run scripts/keys.py compromise 0xKEY SINCE --network NETWORK
    brownie run scripts/keys.py changes 0xKEY --network NETWORK
    brownie run scripts/keys.py annul BODY 0xROOT INDEX [leaf=0xLEAF] --network NETWORK
    brownie run scripts/keys.py annul_all 0xKEY --network NETWORK
    brownie run scripts/keys.py help

PURPOSE is anchoring (signs the body's roots) or status (changes the statuses of the body's
documents); a key address belongs to one body, once, forever. ``from`` defaults to now and
``until`` to open-ended. rotate adds NEW to the body of OLD, with OLD's purpose, valid from
now, and only then retires OLD, so the body is never without a valid key. retire ends a key's
validity now; what it anchored before stays authorised.

compromise marks a key compromised since SINCE (at most now; a compromise time may only move
earlier) and retires it: its anchors at or after SINCE are no longer authorised (citizens see
"not authorised"), earlier ones stay valid, and the status changes it made from SINCE on may be
annulled. changes lists every status change a key made, with its body, root, leaf and index,
and whether it can be annulled; annul annuls one (the index that changes or revoke.py history
prints; leaf= for a document, none for the root itself); annul_all annuls every change the key
made at or after its compromise time. Nothing is deleted: an annulled change stays in the
history, marked, and no longer counts. Times are ISO 8601 with a zone, Unix seconds, or now.

changes only reads; every other function is signed by the operator account
(ANCHOR_BROWNIE_ACCOUNT or ANCHOR_DEPLOYER_KEY; accounts[0] on development), which must hold
the registrar role.
"""

from __future__ import annotations

from typing import Any

from scripts import _args, _chain, _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def add(body: str, key: str, purpose: str, *specs: str) -> None:
    """Add ``key`` to body ``body`` for ``purpose`` (anchoring or status)."""
    body_id = _args.parse_body(body)
    address = _args.parse_address(key, "key")
    purpose_id = _args.parse_purpose(purpose)
    valid_from, valid_until = _args.validity(_args.options(specs, ("from", "until")))
    contract, registrar = _common.prepare("registrar")
    _usable_body(contract, body_id)
    _refuse_taken(contract, address)
    _chain.send(
        contract, "addKey", (body_id, address, purpose_id, valid_from, valid_until), registrar
    )
    print(
        f"added {purpose.strip().lower()} key {address} to body {body_id}: "
        f"{_terms(contract, address)}"
    )


@command
def rotate(old: str, new: str, *specs: str) -> None:
    """Add ``new`` with the body and purpose of ``old``, then retire ``old``."""
    old_address = _args.parse_address(old, "old key")
    new_address = _args.parse_address(new, "new key")
    _, valid_until = _args.validity(_args.options(specs, ("until",)))
    contract, registrar = _common.prepare("registrar")
    previous = _chain.known_key(contract, old_address)
    _usable_body(contract, previous.body_id)
    _refuse_taken(contract, new_address)
    args = (previous.body_id, new_address, previous.purpose, 0, valid_until)
    _chain.send(contract, "addKey", args, registrar)
    print(
        f"added {previous.purpose_name} key {new_address} to body {previous.body_id}: "
        f"{_terms(contract, new_address)}"
    )
    if previous.valid_until <= _chain.now():
        print(f"the old key {old_address} was already retired at {_args.iso(previous.valid_until)}")
        return
    _chain.send(contract, "retireKey", (old_address,), registrar)
    print(f"retired the old key {old_address}: {_terms(contract, old_address)}")


@command
def retire(key: str) -> None:
    """End the validity of ``key`` now."""
    address = _args.parse_address(key, "key")
    contract, registrar = _common.prepare("registrar")
    record = _chain.known_key(contract, address)
    if record.valid_until <= _chain.now():
        print(f"key {address} was already retired at {_args.iso(record.valid_until)}; nothing sent")
        return
    _chain.send(contract, "retireKey", (address,), registrar)
    print(f"retired key {address} of body {record.body_id}: {_terms(contract, address)}")


@command
def compromise(key: str, since: str) -> None:
    """Mark ``key`` compromised since ``since`` (and retire it)."""
    address = _args.parse_address(key, "key")
    moment = _args.parse_time(since, "since")
    contract, registrar = _common.prepare("registrar")
    record = _chain.known_key(contract, address)
    now = _chain.now()
    moment = moment or now
    if moment > now:
        raise OperatorError(
            f"a compromise time is at most now: {_args.iso(moment)} is after the chain's time "
            f"{_args.iso(now)}."
        )
    if record.compromised_since and record.compromised_since <= moment:
        raise OperatorError(
            f"key {address} is already marked compromised since "
            f"{_args.iso(record.compromised_since)}; a compromise time may only move earlier."
        )
    _chain.send(contract, "setKeyCompromised", (address, moment), registrar)
    print(
        f"marked {record.purpose_name} key {address} of body {record.body_id} compromised "
        f"since {_args.iso(moment)}"
    )
    if record.purpose_name == "anchoring":
        print(
            f"its anchors at or after {_args.iso(moment)} are no longer authorised; earlier ones "
            "stay valid"
        )
    else:
        print(
            f"annul what it changed since then: keys.py changes {address}, "
            f"keys.py annul_all {address}"
        )
    print(
        f"give body {record.body_id} a new {record.purpose_name} key: keys.py add "
        f"{record.body_id} 0xNEW {record.purpose_name}"
    )


@command
def changes(key: str) -> None:
    """Print every status change made by ``key``, and whether it can be annulled."""
    address = _args.parse_address(key, "key")
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    record = _chain.key_of(contract, address)
    found = _changes_by(contract, manifest, address)
    print(f"key {address}: {len(found)} status change(s)")
    for body_id, root, leaf, change in found:
        if change.annulled:
            state = "annulled"
        elif _annullable(record, change):
            state = "annullable"
        else:
            state = "counts"
        target = "the root" if leaf == _args.ZERO32 else f"leaf {leaf}"
        print(
            f"  body {body_id} root {root} {target} #{change.index} {change.kind_name} "
            f"at {_args.iso(change.at)}: {state}"
        )


@command
def annul(body: str, root: str, index: str, *specs: str) -> None:
    """Annul the status change ``index`` of a document (``leaf=``) or of root ``root``."""
    body_id = _args.parse_body(body)
    root_hex = _args.parse_bytes32(root, "root")
    number = _args.parse_count(index, "index", high=2**256 - 1)
    leaf_text = _args.one(_args.options(specs, ("leaf",)), "leaf")
    leaf = _args.parse_bytes32(leaf_text, "leaf") if leaf_text else _args.ZERO32
    contract, registrar = _common.prepare("registrar")
    _chain.body_of(contract, body_id)
    history = _chain.history_of(contract, body_id, root_hex, leaf)
    if number >= len(history):
        raise OperatorError(
            f"there is no status change #{number} of {_target(body_id, root_hex, leaf)}: it has "
            f"{len(history)} (revoke.py history {body_id} {root_hex})."
        )
    change = history[number]
    if change.annulled:
        print(
            f"status change #{number} of {_target(body_id, root_hex, leaf)} is already "
            "annulled; nothing sent"
        )
        return
    actor = _chain.key_of(contract, change.actor)
    if not _annullable(actor, change):
        why = (
            f"its key is marked compromised only since {_args.iso(actor.compromised_since)}"
            if actor.compromised_since
            else "its actor is not a key marked compromised"
        )
        raise OperatorError(
            f"status change #{number} of {_target(body_id, root_hex, leaf)}, made by "
            f"{change.actor} at {_args.iso(change.at)}, cannot be annulled: {why}."
        )
    _chain.send(contract, "annulStatusChange", (body_id, root_hex, leaf, number), registrar)
    print(
        f"annulled status change #{number} ({change.kind_name}) of "
        f"{_target(body_id, root_hex, leaf)}"
    )


@command
def annul_all(key: str) -> None:
    """Annul every status change ``key`` made at or after its compromise time."""
    address = _args.parse_address(key, "key")
    manifest = _common.load_manifest()
    contract, registrar = _common.prepare("registrar")
    record = _chain.known_key(contract, address)
    if not record.compromised_since:
        raise OperatorError(
            f"key {address} is not marked compromised: first keys.py compromise {address} SINCE."
        )
    todo = [
        (body_id, root, leaf, change)
        for body_id, root, leaf, change in _changes_by(contract, manifest, address)
        if not change.annulled and _annullable(record, change)
    ]
    for body_id, root, leaf, change in todo:
        _chain.send(contract, "annulStatusChange", (body_id, root, leaf, change.index), registrar)
        print(
            f"annulled status change #{change.index} ({change.kind_name}) of "
            f"{_target(body_id, root, leaf)}"
        )
    print(
        f"annulled {len(todo)} status change(s) made by {address} since "
        f"{_args.iso(record.compromised_since)}"
    )


def _annullable(key: _chain.Key, change: _chain.Change) -> bool:
    return key.compromised_since != 0 and key.compromised_since <= change.at


def _target(body_id: int, root: str, leaf: str) -> str:
    if leaf == _args.ZERO32:
        return f"root {root} of body {body_id}"
    return f"leaf {leaf} under root {root} of body {body_id}"


def _changes_by(
    contract: Any, manifest: dict[str, Any], address: str
) -> list[tuple[int, str, str, _chain.Change]]:
    """Every status change whose actor is ``address``: (body id, root, leaf, change)."""
    found = []
    for event in _chain.logs_of(contract, "StatusChanged", int(manifest["deploymentBlock"])):
        if str(event["actor"]).lower() != address.lower():
            continue
        body_id, root, leaf = int(event["bodyId"]), _hex(event["root"]), _hex(event["leaf"])
        history = _chain.history_of(contract, body_id, root, leaf)
        found.append((body_id, root, leaf, history[int(event["index"])]))
    return found


def _hex(value: object) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value).lower()


def _usable_body(contract: Any, body_id: int) -> None:
    body = _chain.body_of(contract, body_id)
    if body.status_name == "retired":
        raise OperatorError(f"body {body_id} is retired; a retired body cannot be changed.")


def _refuse_taken(contract: Any, address: str) -> None:
    if (owner := _chain.key_of(contract, address).body_id) != 0:
        raise OperatorError(f"key {address} already belongs to body {owner}.")


def _terms(contract: Any, address: str) -> str:
    return _chain.key_of(contract, address).terms()


_common.check_function(
    __file__,
    ("main", "help", "add", "rotate", "retire", "compromise", "changes", "annul", "annul_all"),
    USAGE,
)
