"""The gas of a relayed list of anchors: the node's estimate, or a guess checked by one call.

`eth_estimateGas` searches for the least gas that runs a call: a dozen executions of the whole
list on the node, about 80 ms for 40 anchors on anvil, the longest round trip of a send in a
block's window. The cost of `anchorSigned` is affine in the number of anchors (each one a
signature recovered, a root stored, its bytes in the event; calldata a word each), so once the
node has estimated lists of two sizes, `GasGauge` guesses the next list's gas from the line
through them (from the one estimate, pro rata, before that) and checks the guess with ONE
`eth_call` at that gas limit: a call that runs within a limit needs no more than it (it is the
check each step of the node's search makes). A guess that fails the check (out of gas, or any
error of the node), a guess above the caller's cap, and a list with no guess yet, get the
node's estimate. The caller adds its margin to what this returns, as it did to the estimate:
the margin is never taken from below the least gas the list needs.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["GUESS_SLACK", "GasGauge"]

#: The guess is the line's value times this (calldata's zero bytes cost less than others).
GUESS_SLACK = 1.02


class GasGauge:
    """Gas for relayed lists; see the module's docstring. One per relayer (a `Selector`)."""

    def __init__(self) -> None:
        self._points: dict[int, int] = {}  # anchors -> the node's latest estimate, two kept

    def guess(self, anchors: int) -> int | None:
        """The guessed gas of a list of ``anchors``, or None before any estimate."""
        if not self._points:
            return None
        if len(self._points) == 1:
            ((n, estimate),) = self._points.items()
            line = estimate * anchors / n
        else:
            (n1, e1), (n2, e2) = sorted(self._points.items())
            slope = (e2 - e1) / (n2 - n1)
            line = e1 + slope * (anchors - n1)
        return math.ceil(line * GUESS_SLACK)

    def gas_of(self, w3: Any, call: dict[str, Any], anchors: int, cap: int) -> int:
        """The gas of ``call`` (``from``, ``to``, ``data``) relaying ``anchors``: the guess when
        it is at most ``cap`` and the call runs within it, else the node's estimate (which
        raises web3's contract errors when the list reverts)."""
        guess = self.guess(anchors)
        if guess is not None and guess <= cap and _runs_within(w3, call, guess):
            return guess
        estimate = int(w3.eth.estimate_gas(call))
        self._points.pop(anchors, None)
        self._points[anchors] = estimate
        if len(self._points) > 2:
            del self._points[next(iter(self._points))]  # the oldest
        return estimate


def _runs_within(w3: Any, call: dict[str, Any], gas: int) -> bool:
    """True when the node runs ``call`` without error at the gas limit ``gas``."""
    answer = w3.provider.make_request("eth_call", [{**call, "gas": hex(gas)}, "latest"])
    return isinstance(answer, dict) and "error" not in answer and "result" in answer
