"""The test helpers themselves (tests/support/registry_v2.py): an assertion that cannot fail
proves nothing, so each one is shown to fail on the wrong error, arguments or events."""

from __future__ import annotations

import pytest

from tests.support.registry_v2 import (
    ZERO32,
    World,
    assert_logs,
    assert_mined_revert,
    assert_reverts,
    root_of,
    send,
    unpack_anchors,
)

pytestmark = pytest.mark.chain


def test_assert_reverts_tells_errors_and_arguments_apart(env: World) -> None:
    key = env.bodies[0].anchoring.address
    with pytest.raises(AssertionError, match="RegistryZeroRoot"):
        assert_reverts(env.fns.anchor(ZERO32, 1), key, "RegistryZeroLeafCount")
    root = root_of("helper")
    env.anchor(env.bodies[0].anchoring, root, 1)
    again = env.fns.anchor(root, 1)
    assert_reverts(again, key, "RegistryRootAlreadyAnchored", 1, root)
    with pytest.raises(AssertionError, match="RegistryRootAlreadyAnchored"):
        assert_reverts(again, key, "RegistryRootAlreadyAnchored", 2, root)
    with pytest.raises(AssertionError, match="expected a revert"):
        assert_reverts(env.fns.version(), key, "RegistryZeroRoot")


def test_assert_logs_catches_a_missing_an_extra_or_a_different_event(env: World) -> None:
    root = root_of("helper-logs")
    receipt = env.anchor(env.bodies[1].anchoring, root, 1)
    assert_logs(env.contract, receipt, ("RootAnchored", {"bodyId": 2, "root": root}))
    for expected in (
        (),
        (("RootAnchored", {"bodyId": 1, "root": root}),),
        (("RootAnchored", {"bodyId": 2, "root": root}),) * 2,
    ):
        with pytest.raises(AssertionError):
            assert_logs(env.contract, receipt, *expected)


def test_mined_reverts_and_packed_anchors(env: World) -> None:
    key = env.bodies[0].anchoring
    receipt = send(env.w3, key, env.fns.anchor(ZERO32, 1), expect_success=False)
    assert_mined_revert(env.w3, receipt, "RegistryZeroRoot")
    with pytest.raises(AssertionError):
        assert_mined_revert(env.w3, receipt, "RegistryZeroLeafCount")
    with pytest.raises(AssertionError, match="RegistryZeroRoot"):
        send(env.w3, key, env.fns.anchor(ZERO32, 1))
    assert unpack_anchors(b"\x00\x00\x00\x07" + b"\x01" * 32) == [(7, b"\x01" * 32)]
    with pytest.raises(AssertionError):
        unpack_anchors(b"\x00" * 35)
