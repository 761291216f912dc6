"""The offline Solidity toolchain: the solc-js wrapper reproduces the committed artifact.

The wrapper (`build/bin/solc`, written by `python -m tools.toolchain install`) is installed once
per session. A compile with solc-js takes a few seconds, hence the `slow` marks.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest

from tools import toolchain  # the checkout's root is on sys.path (pyproject: pythonpath)

ROOT = Path(__file__).resolve().parents[2]

#: node cuts piped output at 64 KiB; the wrapper must return more than that intact.
PIPE_LIMIT = 64 * 1024


@pytest.fixture(scope="session")
def solc() -> Path:
    """The installed wrapper, registered with py-solc-x."""
    toolchain.install_wrapper()
    assert toolchain.WRAPPER.exists()
    return toolchain.WRAPPER


def test_solc_version_is_the_pinned_one(solc: Path) -> None:
    done = subprocess.run(
        [str(solc), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "0.8.28" in done.stdout
    assert toolchain.pinned_version() == "0.8.28"


@pytest.mark.slow
def test_a_fresh_compile_reproduces_the_committed_artifact(solc: Path) -> None:
    committed = json.loads(toolchain.ARTIFACT.read_text())
    fresh = toolchain.compile_registry()
    for field in ("abi", "bytecode", "deployedBytecode"):
        assert fresh[field] == committed[field], f"{field} differs from a fresh compile"
    assert fresh == committed  # and so do the compiler, settings and source hashes


@pytest.mark.slow
def test_wrapper_drops_allow_paths_and_returns_big_output_intact(solc: Path) -> None:
    request = copy.deepcopy(toolchain.standard_input())
    # Ask for the ASTs and the assembly too: far more than node's 64 KiB pipe buffer.
    request["settings"]["outputSelection"] = {
        "*": {"": ["ast"], "*": ["abi", "evm.bytecode.object", "evm.assembly", "metadata"]}
    }
    done = subprocess.run(
        [str(solc), "--standard-json", "--allow-paths", "/tmp"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > PIPE_LIMIT
    output = json.loads(done.stdout)  # intact: no cut, no ">>> Cannot retry..." line before it
    errors = [m for m in output.get("errors", []) if m.get("severity") == "error"]
    assert errors == []
    source = toolchain.SOURCE.as_posix()
    assert output["sources"][source]["ast"]["nodeType"] == "SourceUnit"
    # The @openzeppelin imports resolved, through the remapping, under the wrapper's base path.
    assert "node_modules/@openzeppelin/contracts/access/AccessControl.sol" in output["sources"]
    bytecode = output["contracts"][source][toolchain.CONTRACT]["evm"]["bytecode"]["object"]
    assert "0x" + bytecode == json.loads(toolchain.ARTIFACT.read_text())["bytecode"]


def test_wrapper_drops_the_equals_form_of_allow_paths(solc: Path) -> None:
    done = subprocess.run(
        [str(solc), "--allow-paths=/tmp", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0.8.28" in done.stdout
