"""What the browser tests share besides fixtures: the body's name and an anchored batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anchor.chain.registry import Registry
from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import to_text
from tests.support.bodies import CONTERN, Bodies, Body

ISSUER_NAME = CONTERN.fr


@dataclass(frozen=True)
class Anchored:
    """A batch anchored on chain: its documents (files), their bundles and verification texts,
    and the body that anchored it."""

    files: list[Path]
    bundles: list[ProofBundle]
    registry: Registry
    bodies: Bodies
    body: Body

    def fragment(self, index: int = 0) -> str:
        """The ``v1.…`` text of document ``index``, for the URL fragment."""
        return to_text(self.bundles[index])
