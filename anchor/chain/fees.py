"""The one fee policy: explicit transaction fees, never left to the node's suggestion.

* ``zero``: free-gas networks (Besu with ``--min-gas-price=0`` and ``zeroBaseFee``): a legacy
  transaction with ``gasPrice`` 0. `check_fee_mode` refuses it on a chain that charges a base fee.
* ``eip1559``: ``maxPriorityFeePerGas`` from the settings, ``maxFeePerGas`` twice the base fee
  plus the tip, capped.

A replacement (a stuck transaction, or one the node refused for its fee) is priced by
`replacement_fees`: at least the previous fees raised by 12.5% (geth and Besu want 10%), and at
least the first fees the chain's current base fee gives, so a transaction stored with a price the
node no longer accepts (a zero price after a switch to ``eip1559``) is fixed in one step.
`fee_fields` (deployments, `anchor up`, tests) and `fee_fields_for` (the same, from a base fee,
for callers with their own client) are the same policy with the mode read off the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from anchor.errors import ConfigError

if TYPE_CHECKING:  # the policy itself is pure: scripts may use it without the service's web3
    from web3 import Web3

FeeMode = Literal["zero", "eip1559"]

GWEI = 10**9
BUMP_NUMERATOR = 1125
BUMP_DENOMINATOR = 1000

#: How nodes say they refuse a transaction for its price (geth, Besu, anvil, Nethermind).
FEE_REFUSALS = (
    "max fee per gas less than block base fee",
    "fee cap less than block base fee",
    "feecap",
    "fee cap",
    "underpriced",
    "gas price below",
    "gas price too low",
    "gasprice is less than",
    "less than block base fee",
    "tip too low",
    "priority fee",
)

#: How nodes say the signer cannot pay for the gas.
FUNDS_REFUSALS = ("insufficient funds", "insufficient balance", "upfront cost")


@dataclass(frozen=True)
class Fees:
    """The fee fields of one transaction."""

    mode: FeeMode
    max_fee_per_gas: int = 0
    max_priority_fee_per_gas: int = 0

    def tx_fields(self) -> dict[str, int]:
        """The fields to put in the transaction dictionary."""
        if self.mode == "zero":
            return {"gasPrice": 0}
        return {
            "maxFeePerGas": self.max_fee_per_gas,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas,
        }

    def bumped(self, cap: int) -> Fees:
        """Fees for a replacement: both fields up by 12.5%, at least 1 wei, within ``cap``.

        On a free-gas network there is nothing to raise: the same fees come back.
        """
        if self.mode == "zero":
            return self
        tip = max(self.max_priority_fee_per_gas + 1, _bump(self.max_priority_fee_per_gas))
        fee = max(self.max_fee_per_gas + 1, _bump(self.max_fee_per_gas), tip)
        return Fees("eip1559", min(fee, max(cap, tip)), tip)


def _bump(value: int) -> int:
    return -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR)


def initial_fees(
    mode: FeeMode, base_fee: int, priority_fee_gwei: float, max_fee_gwei: float | None
) -> Fees:
    """The first fees of a transaction, from the latest base fee and the settings.

    ``max_fee_gwei`` None means no cap.
    """
    if mode == "zero":
        return Fees("zero")
    tip = int(priority_fee_gwei * GWEI)
    wanted = 2 * base_fee + tip
    cap = wanted if max_fee_gwei is None else int(max_fee_gwei * GWEI)
    return Fees("eip1559", max(tip, min(wanted, cap)), tip)


def replacement_fees(
    previous: Fees, mode: FeeMode, base_fee: int, priority_fee_gwei: float, max_fee_gwei: float
) -> Fees:
    """The fees of a transaction that replaces ``previous`` at the same nonce.

    Each field is the larger of the previous one raised by 12.5% and what the current base fee
    gives a new transaction (`initial_fees`), within the cap. In ``zero`` mode on a free-gas chain
    nothing can be raised and the same zero price comes back.
    """
    if mode == "zero":
        return Fees("zero")
    cap = int(max_fee_gwei * GWEI)
    fresh = initial_fees("eip1559", base_fee, priority_fee_gwei, max_fee_gwei)
    if previous.mode == "zero":
        return fresh  # a zero-price legacy transaction is replaced by any positive price
    bumped = previous.bumped(cap)
    tip = max(bumped.max_priority_fee_per_gas, fresh.max_priority_fee_per_gas)
    fee = max(bumped.max_fee_per_gas, fresh.max_fee_per_gas, tip)
    return Fees("eip1559", min(fee, max(cap, tip)), tip)


def stored_fees(
    gas_price: int | None, max_fee_per_gas: int | None, max_priority_fee_per_gas: int | None
) -> Fees:
    """The fees of a transaction as the outbox stored them (a zero gas price: ``zero`` mode)."""
    if gas_price is not None and max_fee_per_gas is None:
        return Fees("zero") if gas_price == 0 else Fees("eip1559", gas_price, gas_price)
    return Fees("eip1559", max_fee_per_gas or 0, max_priority_fee_per_gas or 0)


def latest_base_fee(w3: Web3) -> int:
    """The base fee of the latest block, 0 on a chain without one (pre-London, free gas)."""
    return int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)


def check_fee_mode(mode: FeeMode, base_fee: int, chain_id: int) -> None:
    """Refuse ``zero`` mode on a chain that charges a base fee, in one sentence (ConfigError)."""
    if mode == "zero" and base_fee > 0:
        raise ConfigError(
            f"ANCHOR_FEE_MODE=zero, but chain {chain_id} charges a base fee of {base_fee} wei "
            "per gas, so no zero-price transaction can be mined: set ANCHOR_FEE_MODE=eip1559"
        )


def fee_fields(w3: Web3, priority_fee_gwei: float = 1.0) -> dict[str, int]:
    """Explicit fee fields for a one-off transaction on the chain of ``w3`` (`fee_fields_for`)."""
    return fee_fields_for(latest_base_fee(w3), priority_fee_gwei)


def fee_fields_for(base_fee: int, priority_fee_gwei: float = 1.0) -> dict[str, int]:
    """Explicit fee fields for a one-off transaction: ``zero`` mode when ``base_fee`` is 0 (a
    free-gas chain), else EIP-1559 with a tip of ``priority_fee_gwei`` and twice the base fee
    plus the tip, uncapped."""
    mode: FeeMode = "zero" if base_fee == 0 else "eip1559"
    return initial_fees(mode, base_fee, priority_fee_gwei, None).tx_fields()


def is_fee_refusal(message: str) -> bool:
    """True when a node's error message refuses a transaction for its price."""
    lowered = message.lower()
    return any(k in lowered for k in FEE_REFUSALS)


def is_funds_refusal(message: str) -> bool:
    """True when a node's error message says the signer cannot pay for the gas."""
    lowered = message.lower()
    return any(k in lowered for k in FUNDS_REFUSALS)
