"""The registry's anchoring events in a transaction receipt: which (body, root) pairs it anchored.

A direct ``anchor`` emits ``RootAnchored(uint32 indexed bodyId, bytes32 indexed root)``; one
relayed ``anchorSigned`` call emits one ``RootsAnchored(address indexed relayer, bytes anchors)``
whose ``anchors`` packs ``(uint32 bodyId, bytes32 root)``, 36 bytes each (docs/registry.md). The
key and the leaf count are not in the events: `Registry.anchor_of` holds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from web3 import Web3

__all__ = ["ROOTS_ANCHORED", "ROOT_ANCHORED", "anchored_in"]

ROOT_ANCHORED = bytes(Web3.keccak(text="RootAnchored(uint32,bytes32)"))
ROOTS_ANCHORED = bytes(Web3.keccak(text="RootsAnchored(address,bytes)"))
_PACKED = 36


def anchored_in(logs: Iterable[Mapping[str, Any]], registry: str) -> list[tuple[int, bytes]]:
    """The (body id, root) pairs that ``registry``'s events in ``logs`` anchored, in order.

    Logs of other contracts, and malformed ones, are left out.
    """
    address = registry.lower()
    found: list[tuple[int, bytes]] = []
    for log in logs:
        topics = [bytes(t) for t in log["topics"]]
        if str(log["address"]).lower() != address or not topics:
            continue
        if topics[0] == ROOT_ANCHORED and len(topics) == 3:
            found.append((int.from_bytes(topics[1], "big"), topics[2]))
        elif topics[0] == ROOTS_ANCHORED:
            try:
                (packed,) = decode(["bytes"], bytes(log["data"]))
            except DecodingError:
                continue
            if len(packed) % _PACKED:
                continue
            for i in range(0, len(packed), _PACKED):
                found.append((int.from_bytes(packed[i : i + 4], "big"), packed[i + 4 : i + 36]))
    return found
