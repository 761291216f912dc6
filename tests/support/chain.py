"""Chain helpers: the named development accounts and a send-and-wait for contract calls."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.registry import fee_fields


@dataclass(frozen=True)
class Accounts:
    """Named development accounts (anvil's public test keys)."""

    admin: LocalAccount
    issuer: LocalAccount
    revoker: LocalAccount
    other: LocalAccount
    issuer2: LocalAccount


def send(w3: Web3, account: LocalAccount, call: object) -> dict[str, object]:
    """Sign and send a contract call with ``account``; return the receipt (reverts raise)."""
    tx = call.build_transaction(  # type: ignore[attr-defined]
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30))
