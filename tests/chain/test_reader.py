"""`ChainReader` on registry v2: anchor facts of a batch (direct or relayed) for its proof, and
what the roots route reads of a root and a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor.chain.devchain import Anvil
from anchor.chain.reader import ChainReader
from anchor.chain.records import ChangeKind
from anchor.settings import load_settings
from tests.support.bodies import CONTERN, Bodies, Body, anchor_documents, new_key
from tests.support.chain import Accounts

pytestmark = pytest.mark.chain


def reader(tmp_path: Path, anvil: Anvil, bodies: Bodies) -> ChainReader:
    settings = load_settings(
        data_dir=tmp_path,
        rpc_urls=[anvil.url],
        chain_id=31337,
        registry_address=bodies.registry.address,
        registry_cache_ttl=0,
    )
    return ChainReader(settings)


@pytest.mark.parametrize("relayed", [False, True])
def test_anchor_facts_name_the_body_and_the_key_that_signed(
    tmp_path: Path, anvil: Anvil, bodies: Bodies, contern: Body, accounts: Accounts, relayed: bool
) -> None:
    relayer = accounts.other if relayed else None
    batch = anchor_documents(bodies, contern.anchoring, [b"a", b"b"], relayer=relayer)
    tx = bytes(batch.receipt["transactionHash"])
    facts = reader(tmp_path, anvil, bodies).anchor_facts(batch.root, b"\x01" * 32, tx)
    assert facts is not None
    assert facts.body_id == contern.id
    assert facts.issuer == contern.anchoring.address.lower()  # never the relayer
    assert facts.anchored_at == batch.bundles[0].anchored_at and facts.leaf_count == 2


def test_anchor_facts_of_a_transaction_that_did_not_anchor_the_root(
    tmp_path: Path, anvil: Anvil, bodies: Bodies, contern: Body
) -> None:
    one = anchor_documents(bodies, contern.anchoring, [b"a"])
    other = anchor_documents(bodies, contern.anchoring, [b"b"])
    chain = reader(tmp_path, anvil, bodies)
    tx = bytes(other.receipt["transactionHash"])
    assert chain.anchor_facts(one.root, b"\x02" * 32, tx) is None
    assert chain.anchor_facts(one.root, b"\x03" * 32, b"\x99" * 32) is None  # unknown tx


def test_read_root_by_key_lists_documents_with_a_history_without_a_leaf(
    tmp_path: Path, anvil: Anvil, bodies: Bodies, contern: Body, accounts: Accounts
) -> None:
    batch = anchor_documents(bodies, contern.anchoring, [b"a", b"b", b"c"])
    chain = reader(tmp_path, anvil, bodies)
    key = contern.anchoring.address
    reading = chain.read_root(batch.root, key)
    assert reading is not None and reading.documents == ()
    assert reading.status.name_at_anchor == CONTERN and reading.status.authorised
    assert chain.read_root(batch.root, accounts.issuer2.address) is None  # SIGI's key
    assert chain.read_root(batch.root, new_key(bodies.w3).address) is None  # no body's key

    revoked = batch.bundles[1]
    proof, leaf = list(revoked.proof_bytes), revoked.leaf_bytes
    bodies.revoke_document(contern.id, batch.root, proof, leaf, 2)
    reading = chain.read_root(batch.root, key)
    assert reading is not None
    (found,) = reading.documents
    assert found.leaf == leaf and found.state.state == ChangeKind.REVOKED
    assert found.state.reason == 2 and [c.kind for c in found.history] == [ChangeKind.REVOKED]
    # The state is the contract's own fold of the same history.
    assert found.state == bodies.registry.document_state(contern.id, batch.root, leaf)
