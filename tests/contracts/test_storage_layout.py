"""The storage words that `anchorSigned`'s assembly loop and `_record` read and write by hand,
read raw with `eth_getStorageAt` and compared with the packing the contract documents:

- `Key`: bodyId bits 0-31, purpose 32-39, validFrom 40-103, validUntil 104-167,
  compromisedSince 168-231, bodyActive 232-239, in the word at `_keys[key]`;
- `Anchor`: key bits 0-159, anchoredAt 160-223, leafCount 224-255, one word at
  `_anchors[bodyId][root]`, the next word untouched.

A reordered struct would make the assembly read or write the wrong bits while the Solidity
getters still agreed with each other; this test reads the words themselves.
"""

from __future__ import annotations

import pytest

from anchor.chain.registry import BodyStatus, Purpose
from anchor.merkle.hashing import keccak256
from tests.support.registry_v2 import MAX_UINT32, World, next_time, root_of, send, set_next_time

pytestmark = pytest.mark.chain


def _word(env: World, slot: bytes) -> int:
    position = int.from_bytes(slot, "big")
    return int.from_bytes(env.w3.eth.get_storage_at(env.registry.address, position), "big")


def _mapping_slot(key: bytes, base: int) -> bytes:
    return keccak256(key.rjust(32, b"\x00") + base.to_bytes(32, "big"))


def _find_base(env: World, key: bytes) -> int:
    """The declaration slot of the mapping that holds a non-zero word at ``key``."""
    found = [base for base in range(64) if _word(env, _mapping_slot(key, base))]
    assert len(found) == 1, found
    return found[0]


def test_the_key_word(env: World) -> None:
    body = env.bodies[1]
    key = env.add_key(body.id, Purpose.STATUS, "layout-status", next_time(env.w3, 1) + 7, 2**40 + 3)
    since = next_time(env.w3, 20)
    env.by_registrar(env.fns.setKeyCompromised(key.address, since - 5))
    env.by_registrar(env.fns.setBodyStatus(body.id, BodyStatus.SUSPENDED))
    address = bytes.fromhex(key.address[2:])
    base = _find_base(env, address)
    assert (_word(env, _mapping_slot(address, base)) >> 232) & 0xFF == 0  # bodyActive false
    env.by_registrar(env.fns.setBodyStatus(body.id, BodyStatus.ACTIVE))
    k = env.registry.key_of(key.address)
    expected = (
        k.body_id
        | (int(k.purpose) << 32)
        | (k.valid_from << 40)
        | (k.valid_until << 104)
        | (k.compromised_since << 168)
        | (int(k.body_active) << 232)
    )
    assert (k.body_id, k.purpose, k.compromised_since, k.body_active) == (
        body.id,
        Purpose.STATUS,
        since - 5,
        True,
    )
    assert _word(env, _mapping_slot(address, base)) == expected
    # The other keys live in the same mapping.
    for other in (body.anchoring, env.bodies[0].status):
        word = _word(env, _mapping_slot(bytes.fromhex(other.address[2:]), base))
        assert word & 0xFFFFFFFF == env.registry.key_of(other.address).body_id


def test_the_anchor_word_written_by_both_paths(env: World) -> None:
    body = env.bodies[2]
    direct, relayed = root_of("layout-direct"), root_of("layout-relayed")
    t1 = set_next_time(env.w3, 2**34 + 1)
    env.anchor(body.anchoring, direct, MAX_UINT32)
    deadline = env.deadline()
    item = env.sign(body.anchoring, relayed, 65_537, deadline)
    t2 = next_time(env.w3, 1)
    send(env.w3, env.relayer, env.relay_call(deadline, [item]))
    body_key = body.id.to_bytes(32, "big")
    bases = [b for b in range(64) if _word(env, keccak256(direct + _mapping_slot(body_key, b)))]
    assert len(bases) == 1, bases
    outer = _mapping_slot(body_key, bases[0])
    owner = int(body.anchoring.address, 16)
    for root, at, count in ((direct, t1, MAX_UINT32), (relayed, t2, 65_537)):
        slot = keccak256(root + outer)
        assert _word(env, slot) == owner | (at << 160) | (count << 224)
        assert _word(env, (int.from_bytes(slot, "big") + 1).to_bytes(32, "big")) == 0
