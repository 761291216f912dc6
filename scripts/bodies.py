"""Onboard issuing bodies, rename them, change their status, and list them with their keys.

    brownie run scripts/bodies.py onboard KIND fr=NAME de=NAME en=NAME [lb=NAME] [code=CODE]
        [anchoring=0xKEY] [status=0xKEY] [from=TIME] [until=TIME] --network NETWORK
    brownie run scripts/bodies.py rename BODY [fr=NAME] [de=NAME] [en=NAME] [lb=NAME]
        [since=TIME] --network NETWORK
    brownie run scripts/bodies.py suspend BODY --network NETWORK
    brownie run scripts/bodies.py reactivate BODY --network NETWORK
    brownie run scripts/bodies.py retire BODY --network NETWORK
    brownie run scripts/bodies.py list --network NETWORK
    brownie run scripts/bodies.py show BODY --network NETWORK
    brownie run scripts/bodies.py help

KIND is commune, syndicate, social-office, childcare, state-body or other (social_office and
state_body too); CODE the body's official code (unique on the registry; may be left out). The
French name fr is required; de and en should be given (the page shows fr in their place, with a
warning here), lb is optional. Names are public on chain: use the body's official names, never
a person's. onboard registers the body (its id is printed: 1, 2, 3, ...), then adds its
anchoring key and its status key (the addresses `anchor issuers add` printed, or the body's
own), each valid from ``from`` (default now) until ``until`` (default open-ended); keys.py adds
others later. Naming each key by its purpose (anchoring=, status=) keeps the two from being
swapped.

rename adds a name version that applies from ``since`` (default now; never in the past, and
after the last version): citizens see, for each document, the name in force when it was
anchored. Languages left out keep their current name; ``lb=`` clears the Luxembourgish one.
suspend stops a body's anchoring and status changes until reactivate; retire is final.
BODY is a body id (list shows them). Times are ISO 8601 with a zone, Unix seconds, or now.

Every function but list and show is signed by the operator account (ANCHOR_BROWNIE_ACCOUNT or
ANCHOR_DEPLOYER_KEY; accounts[0] on development), which must hold the registrar role. list and
show print each body with its kind, code, status, name history, and keys with their purpose,
validity and compromise time.
"""

from __future__ import annotations

import sys
from typing import Any

from scripts import _args, _chain, _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""
_NAMES = ("fr", "de", "en", "lb")
#: What the registry keeps (`RegistryTooLong`): bytes of UTF-8.
MAX_NAME, MAX_CODE = 128, 32


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def onboard(kind: str, *specs: str) -> None:
    """Register a body with its names, code, anchoring key and status key."""
    kind_id = _args.parse_kind(kind)
    found = _args.options(specs, (*_NAMES, "code", "anchoring", "status", "from", "until"))
    names = {lang: (_args.one(found, lang) or "").strip() for lang in _NAMES}
    if not names["fr"]:
        raise OperatorError("the French name fr= is required (de=, en= and lb= are optional).")
    if missing := [lang for lang in ("de", "en") if not names[lang]]:
        print(
            f"warning: no {' and no '.join(m + '=' for m in missing)}: the verification page "
            "shows the French name instead (bodies.py rename adds them later).",
            file=sys.stderr,
        )
    code = (_args.one(found, "code") or "").strip()
    _check_lengths(names, code)
    keys = [
        (purpose, _args.parse_address(address, f"{purpose} key"))
        for purpose in ("anchoring", "status")
        if (address := _args.one(found, purpose)) is not None
    ]
    if len(keys) == 2 and keys[0][1] == keys[1][1]:
        raise OperatorError(
            f"the anchoring key and the status key must differ: {keys[0][1]} is given for both."
        )
    valid_from, valid_until = _args.validity(found)
    contract, registrar = _common.prepare("registrar")
    for _, address in keys:  # before anything is sent: a taken key would leave a body without it
        if (owner := _chain.key_of(contract, address).body_id) != 0:
            raise OperatorError(f"key {address} already belongs to body {owner}.")
    names_tuple = tuple(names[lang] for lang in _NAMES)
    receipt = _chain.send(contract, "registerBody", (kind_id, code, names_tuple), registrar)
    body_id = int(_chain.event_args(contract, receipt, "BodyRegistered")[0]["bodyId"])
    print(f"registered body {body_id}: {_args.KINDS[kind_id]} code={code!r} fr={names['fr']!r}")
    for purpose, address in keys:
        args = (body_id, address, _args.PURPOSES[purpose], valid_from, valid_until)
        try:
            _chain.send(contract, "addKey", args, registrar)
        except OperatorError as e:
            raise OperatorError(
                f"body {body_id} is registered but its {purpose} key {address} was not added: "
                f"{str(e).rstrip('.')}; add it with keys.py add {body_id} {address} {purpose}."
            ) from e
        print(f"added {purpose} key {address} to body {body_id}")


@command
def rename(body: str, *specs: str) -> None:
    """Give body ``body`` a new name version, from ``since=`` on (default now)."""
    body_id = _args.parse_body(body)
    found = _args.options(specs, (*_NAMES, "since"))
    if not any(lang in found for lang in _NAMES):
        raise OperatorError("give at least one new name: fr=, de=, en= or lb=.")
    since_text = _args.one(found, "since")
    since = _args.parse_time(since_text, "since") if since_text is not None else 0
    contract, registrar = _common.prepare("registrar")
    _refuse_retired(_chain.body_of(contract, body_id))
    current = _chain.names_of(contract, body_id)[-1][1]
    names = {
        lang: (_args.one(found, lang) or "").strip() if lang in found else current[lang]
        for lang in _NAMES
    }
    if not names["fr"]:
        raise OperatorError("the French name (fr=) must not be empty.")
    _check_lengths(names, "")
    _chain.send(
        contract, "renameBody", (body_id, tuple(names[x] for x in _NAMES), since), registrar
    )
    when = _args.iso(since) if since else "now"
    shown = " ".join(f"{lang}={names[lang]!r}" for lang in _NAMES)
    print(f"renamed body {body_id} from {when}: {shown}")


@command
def suspend(body: str) -> None:
    """Suspend body ``body``: it cannot anchor, and its keys cannot change statuses."""
    _set_status(body, "suspended")


@command
def reactivate(body: str) -> None:
    """Make a suspended body ``body`` active again."""
    _set_status(body, "active")


@command
def retire(body: str) -> None:
    """Retire body ``body`` for good."""
    _set_status(body, "retired")


@command
def list() -> None:
    """Print every body with its names, keys and their terms."""
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    count = int(contract.bodyCount())
    print(f"registry {contract.address} on chain {manifest['chainId']}: {count} bodies")
    for body_id in range(1, count + 1):
        _print_body(contract, body_id)


@command
def show(body: str) -> None:
    """Print one body with its names, keys and their terms."""
    body_id = _args.parse_body(body)
    contract = _common.registry(_common.load_manifest())
    _print_body(contract, body_id)


def _set_status(body: str, wanted: str) -> None:
    body_id = _args.parse_body(body)
    contract, registrar = _common.prepare("registrar")
    record = _chain.body_of(contract, body_id)
    _refuse_retired(record)
    if record.status_name == wanted:
        print(f"body {body_id} is already {wanted}; nothing sent")
        return
    status = _args.BODY_STATUSES.index(wanted)
    _chain.send(contract, "setBodyStatus", (body_id, status), registrar)
    print(f"body {body_id} is now {wanted}")


def _check_lengths(names: dict[str, str], code: str) -> None:
    for lang in _NAMES:
        if (size := len(names[lang].encode())) > MAX_NAME:
            raise OperatorError(
                f"the name {lang}= is {size} bytes long; the registry keeps at most {MAX_NAME}."
            )
    if (size := len(code.encode())) > MAX_CODE:
        raise OperatorError(
            f"the code {code!r} is {size} bytes long; the registry keeps at most {MAX_CODE}."
        )


def _refuse_retired(body: _chain.Body) -> None:
    if body.status_name == "retired":
        raise OperatorError(f"body {body.id} is retired; a retired body cannot be changed.")


def _print_body(contract: Any, body_id: int) -> None:
    body = _chain.body_of(contract, body_id)
    print(
        f"body {body.id}  {body.kind_name}  code={body.code!r}  {body.status_name}  "
        f"registered {_args.iso(body.registered_at)}"
    )
    for since, names in _chain.names_of(contract, body_id):
        shown = " ".join(f"{lang}={names[lang]!r}" for lang in _NAMES)
        print(f"  name from {_args.iso(since)}: {shown}")
    for address in contract.keysOf(body_id):
        key = _chain.key_of(contract, str(address))
        print(f"  key {key.address}  {key.purpose_name:<9}  {key.terms()}")


_common.check_function(
    __file__,
    ("main", "help", "onboard", "rename", "suspend", "reactivate", "retire", "list", "show"),
    USAGE,
)
