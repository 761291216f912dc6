"""Direct anchoring on registry v2 (`anchor(root, leafCount)` from a body's anchoring key) and
`hashAnchor`, the EIP-712 digest a relayed anchor is signed over."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError

from anchor.chain.eip712 import anchor_digest
from anchor.chain.registry import BodyStatus, Purpose
from tests.support.registry_v2 import (
    MAX_UINT32,
    ZERO32,
    ZERO_ADDRESS,
    World,
    assert_logs,
    assert_reverts,
    block_time,
    root_of,
    set_next_time,
)

pytestmark = pytest.mark.chain


@pytest.mark.parametrize("leaf_count", [1, 1000, MAX_UINT32])
def test_anchor_records_the_key_time_and_leaf_count_under_the_keys_body(
    env: World, leaf_count: int
) -> None:
    body = env.bodies[1]
    root = root_of(f"direct-{leaf_count}")
    receipt = env.anchor(body.anchoring, root, leaf_count)
    t = block_time(env.w3, receipt)
    assert_logs(env.contract, receipt, ("RootAnchored", {"bodyId": body.id, "root": root}))
    record = env.registry.anchor_of(body.id, root)
    assert (record.key, record.anchored_at, record.leaf_count, record.anchored) == (
        body.anchoring.address,
        t,
        leaf_count,
        True,
    )
    assert env.fns.anchorOf(body.id, root).call() == (body.anchoring.address, t, leaf_count)
    assert env.fns.isAuthorised(body.id, root).call() is True
    for other in (1, 3, 99):
        assert not env.registry.anchor_of(other, root).anchored
        assert env.fns.isAuthorised(other, root).call() is False


def test_every_field_of_the_anchor_slot_at_its_widest(env: World) -> None:
    """A timestamp past 2**32 and the largest leaf count read back intact (the packed slot)."""
    body = env.bodies[0]
    root = b"\xff" * 32
    t = set_next_time(env.w3, 2**33 + 12345)
    env.anchor(body.anchoring, root, MAX_UINT32)
    assert env.fns.anchorOf(body.id, root).call() == (body.anchoring.address, t, MAX_UINT32)
    s = env.registry.status(body.anchoring.address, root, [], root)
    assert (s.anchored_at, s.leaf_count, s.key, s.authorised) == (
        t,
        MAX_UINT32,
        body.anchoring.address,
        True,
    )


def test_two_bodies_anchor_the_same_root_independently(env: World) -> None:
    a, b = env.bodies[0], env.bodies[2]
    root = root_of("shared")
    ta = block_time(env.w3, env.anchor(a.anchoring, root, 2))
    tb = block_time(env.w3, env.anchor(b.anchoring, root, 5))
    assert env.fns.anchorOf(a.id, root).call() == (a.anchoring.address, ta, 2)
    assert env.fns.anchorOf(b.id, root).call() == (b.anchoring.address, tb, 5)
    assert env.registry.status(b.anchoring.address, root, [], root).leaf_count == 5


def test_anchor_rejects_a_root_its_body_already_anchored(env: World) -> None:
    body = env.bodies[0]
    root = root_of("once")
    receipt = env.anchor(body.anchoring, root, 3)
    second = env.add_key(body.id, Purpose.ANCHORING, "second-anchoring")
    for key in (body.anchoring, second):
        assert_reverts(
            env.fns.anchor(root, 9), key.address, "RegistryRootAlreadyAnchored", body.id, root
        )
    t = block_time(env.w3, receipt)
    assert env.fns.anchorOf(body.id, root).call() == (body.anchoring.address, t, 3)


def test_anchor_argument_checks(env: World) -> None:
    key = env.bodies[0].anchoring.address
    assert_reverts(env.fns.anchor(ZERO32, 1), key, "RegistryZeroRoot")
    assert_reverts(env.fns.anchor(root_of(1), 0), key, "RegistryZeroLeafCount")
    # The arguments are checked before the caller.
    assert_reverts(env.fns.anchor(ZERO32, 0), env.other.address, "RegistryZeroRoot")


def test_a_leaf_count_wider_than_uint32_is_refused_by_the_abi_decoder(env: World) -> None:
    selector = Web3.keccak(text="anchor(bytes32,uint32)")[:4]
    data = selector + encode(["bytes32", "uint256"], [root_of(1), 2**32])
    key = env.bodies[0].anchoring.address
    with pytest.raises(ContractLogicError):
        env.w3.eth.call({"to": env.registry.address, "from": key, "data": Web3.to_hex(data)})
    good = selector + encode(["bytes32", "uint256"], [root_of(1), 2**32 - 1])
    env.w3.eth.call({"to": env.registry.address, "from": key, "data": Web3.to_hex(good)})


@pytest.mark.parametrize("who", ["admin", "registrar", "pauser", "revoker", "relayer", "other"])
def test_anchor_rejects_an_account_that_is_no_key(env: World, who: str) -> None:
    account = getattr(env, who).address
    assert_reverts(env.fns.anchor(root_of(1), 1), account, "RegistryUnknownKey", account)


def test_a_status_key_cannot_anchor(env: World) -> None:
    key = env.bodies[2].status.address
    assert_reverts(env.fns.anchor(root_of(1), 1), key, "RegistryWrongPurpose", key)


@pytest.mark.parametrize("status", [BodyStatus.SUSPENDED, BodyStatus.RETIRED])
def test_anchor_rejects_a_key_of_a_body_not_active(env: World, status: BodyStatus) -> None:
    env.by_registrar(env.fns.setBodyStatus(2, status))
    key = env.bodies[1].anchoring.address
    assert_reverts(env.fns.anchor(root_of(1), 1), key, "RegistryKeyNotValid", key)


def test_hash_anchor_is_the_eip712_digest(env: World) -> None:
    for root, leaf_count, relayer, deadline in (
        (root_of("h1"), 1, env.relayer.address, 0),
        (root_of("h2"), MAX_UINT32, env.other.address, 2**64 - 1),
        (b"\x01" * 32, 77, ZERO_ADDRESS, 1_800_000_000),
    ):
        digest = env.registry.hash_anchor(root, leaf_count, relayer, deadline)
        assert digest == anchor_digest(
            env.chain_id, env.registry.address, root, leaf_count, relayer, deadline
        )
        # The digest of another registry (or chain) differs: a signature serves one registry.
        assert digest != anchor_digest(
            env.chain_id + 1, env.registry.address, root, leaf_count, relayer, deadline
        )
        signed = env.sign(env.bodies[0].anchoring, root, leaf_count, deadline, relayer)
        v = (int.from_bytes(signed.vs, "big") >> 255) + 27
        s = int.from_bytes(signed.vs, "big") & ((1 << 255) - 1)
        recovered = Account._recover_hash(digest, vrs=(v, int.from_bytes(signed.r, "big"), s))
        assert recovered == env.bodies[0].anchoring.address


def test_the_eip712_domain(env: World) -> None:
    """ERC-5267: the domain a wallet or a KMS shows when it signs a relayed anchor."""
    fields, name, version, chain_id, contract, salt, extensions = env.fns.eip712Domain().call()
    assert (fields, name, version, chain_id, contract, salt, list(extensions)) == (
        b"\x0f",  # name, version, chainId, verifyingContract
        "AnchorRegistry",
        "2",
        env.chain_id,
        env.registry.address,
        ZERO32,
        [],
    )
