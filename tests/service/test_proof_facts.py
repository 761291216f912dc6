"""`anchor_facts_once`: concurrent proof GETs of one fresh batch read its anchor facts once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, cast

from anchor.chain.reader import AnchorFacts, ChainReader
from anchor.service.proofs import anchor_facts_once
from anchor.store import Batch
from anchor.types import BatchState

FACTS = AnchorFacts(body_id=1, issuer="0xabc", anchored_at=1, leaf_count=3)


class _CachingChain:
    """A reader that caches like `ChainReader.anchor_facts` and counts its chain reads."""

    def __init__(self) -> None:
        self.reads: list[bytes] = []
        self.bodies: list[int | None] = []
        self.cache: dict[tuple[bytes, bytes | None], AnchorFacts] = {}

    def anchor_facts(
        self,
        root: bytes,
        block_hash: bytes | None,
        tx_hash: bytes | None = None,
        body_id: int | None = None,
    ) -> AnchorFacts | None:
        if (root, block_hash) in self.cache:
            return self.cache[root, block_hash]
        time.sleep(0.05)  # a chain round trip, long enough for every thread to arrive
        self.reads.append(root)
        self.bodies.append(body_id)
        self.cache[root, block_hash] = FACTS
        return FACTS


def _batch(root: bytes, block_hash: bytes = b"\x02" * 32) -> Batch:
    now = datetime.now(UTC)
    return Batch(
        id=1,
        root=root,
        leaf_count=3,
        state=BatchState.ANCHORED,
        created_at=now,
        frozen_at=now,
        submitted_at=now,
        anchored_at=now,
        tx_hash=b"\x03" * 32,
        block_number=10,
        block_hash=block_hash,
        failure_reason=None,
    )


def test_concurrent_reads_of_one_root_reach_the_chain_once() -> None:
    chain = _CachingChain()
    reader = cast(ChainReader, chain)
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(anchor_facts_once(reader, _batch(b"r" * 32)))
        )
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [FACTS] * 20
    assert chain.reads == [b"r" * 32]


def test_the_stores_body_id_reaches_the_reader() -> None:
    chain = _CachingChain()
    assert anchor_facts_once(cast(ChainReader, chain), _batch(b"b" * 32), 7) == FACTS
    assert chain.bodies == [7]  # the body is known: no transaction fetch to find it


def test_other_roots_and_a_reorged_block_are_read_afresh() -> None:
    chain = _CachingChain()
    reader = cast(ChainReader, chain)
    anchor_facts_once(reader, _batch(b"a" * 32))
    anchor_facts_once(reader, _batch(b"b" * 32))
    anchor_facts_once(reader, _batch(b"a" * 32, block_hash=b"\x09" * 32))
    assert chain.reads == [b"a" * 32, b"b" * 32, b"a" * 32]
