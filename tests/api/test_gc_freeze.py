"""The application's start-up heap is frozen out of the garbage collector while it serves
(`api.app.freeze_startup_heap`), and given back when it stops."""

from __future__ import annotations

import gc

from tests.support.api import MakeClient


def test_the_startup_heap_is_frozen_while_serving_and_given_back_after(
    make_client: MakeClient,
) -> None:
    client = make_client()
    assert gc.get_freeze_count() == 0
    with client:  # the lifespan runs: start-up, then the requests, then shutdown
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the modules, the app and its schemas
        assert client.get("/healthz").status_code == 200
        # nothing a request makes is frozen (frozen objects may still be freed by refcount)
        assert gc.get_freeze_count() <= frozen
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_made_while_serving_is_still_collected(make_client: MakeClient) -> None:
    class Node:
        """An object that refers to itself: only the cycle collector frees it."""

    with make_client():
        gc.collect()
        gc.disable()  # no automatic collection takes them first
        try:
            for _ in range(1000):
                node = Node()
                node.__dict__["self"] = node
            assert gc.collect() >= 1000  # unreachable cycles made after the freeze: collected
        finally:
            gc.enable()
