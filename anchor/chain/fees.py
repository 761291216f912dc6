"""Explicit transaction fees; never left to the node's suggestion.

* ``zero``: free-gas networks (Besu with ``--min-gas-price=0`` and ``zeroBaseFee``): a legacy
  transaction with ``gasPrice`` 0.
* ``eip1559``: ``maxPriorityFeePerGas`` from the settings, ``maxFeePerGas`` twice the base fee
  plus the tip, capped. A stuck transaction is replaced with both fields raised by at least 10%
  (the replacement rule of geth and Besu), here 12.5%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GWEI = 10**9
BUMP_NUMERATOR = 1125
BUMP_DENOMINATOR = 1000


@dataclass(frozen=True)
class Fees:
    """The fee fields of one transaction."""

    mode: Literal["zero", "eip1559"]
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
    mode: Literal["zero", "eip1559"], base_fee: int, priority_fee_gwei: float, max_fee_gwei: float
) -> Fees:
    """The first fees of a transaction, from the latest base fee and the settings."""
    if mode == "zero":
        return Fees("zero")
    tip = int(priority_fee_gwei * GWEI)
    cap = int(max_fee_gwei * GWEI)
    return Fees("eip1559", max(tip, min(2 * base_fee + tip, cap)), tip)
