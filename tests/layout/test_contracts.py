"""The layout contracts of pyproject.toml hold, and a wrong-way arrow or a cycle breaks them.

`lint-imports` runs on the tree as it is (all kept), then on a copy of it with one bad import
added: each copy must break the contract that forbids that import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "static", "*.json")
    for package in ("anchor", "api"):
        shutil.copytree(ROOT / package, tree / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("anchor/chain/registry.py", "import api.app", "anchor/ never imports api/"),
        ("anchor/store/_base.py", "import anchor.service.worker", "anchor's layers"),
        ("anchor/merkle/hashing.py", "import web3", "merkle/, proof/ and poster/ are pure"),
        ("anchor/errors.py", "import anchor.store", "the shared vocabulary"),
        ("anchor/service/metrics.py", "import anchor.cli", "anchor's layers"),
    ],
)
def test_a_wrong_way_arrow_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = _copy(tmp_path)
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout


def test_a_cycle_between_siblings_breaks_a_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    for module, line in (
        ("anchor/verify/offline.py", "import anchor.verify.chain"),
        ("anchor/verify/chain.py", "import anchor.verify.offline"),
    ):
        path = tree / module
        path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tree)
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any("no import cycles" in row for row in broken), result.stdout
