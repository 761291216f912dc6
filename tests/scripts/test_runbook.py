"""Every script command of the runbook (docs/operations.md) and of the README names a function
the script has, with arguments that its signature takes: the examples stay runnable as the
scripts change. (The scripts themselves run end to end in the other files of this folder.)"""

from __future__ import annotations

import importlib
import inspect
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/operations.md", "README.md")
_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def commands(doc: str) -> list[tuple[str, str, list[str]]]:
    """(script, function, arguments) of every `brownie run scripts/...` line of the sh blocks."""
    found = []
    for block in _BLOCK.findall((ROOT / doc).read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            if "scripts/" not in line or line.lstrip().startswith("#"):
                continue
            words = shlex.split(line.split(" #", 1)[0])
            for i, word in enumerate(words):
                if re.fullmatch(r"scripts/\w+\.py", word) and "setup_networks" not in word:
                    rest = words[i + 1 :]
                    args = rest[: rest.index("--network")] if "--network" in rest else rest
                    found.append((word, args[0] if args else "main", args[1:]))
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_every_documented_command_fits_its_script(doc: str) -> None:
    found = commands(doc)
    assert found, f"no script command found in {doc}"
    for script, function, args in found:
        module = importlib.import_module(script.removesuffix(".py").replace("/", "."))
        func = getattr(module, function, None)
        assert callable(func), f"{doc}: {script} has no function {function!r}"
        positional = [a for a in args if "=" not in a or a.startswith("0x")]
        options = [a for a in args if a not in positional]
        target = inspect.unwrap(func)
        try:
            inspect.signature(target).bind(*positional, *options)
        except TypeError as e:
            pytest.fail(f"{doc}: {script} {function} {' '.join(args)}: {e}")


def test_the_runbook_covers_every_function() -> None:
    """Each function a script offers (but help and main) appears in the runbook's table."""
    text = (ROOT / "docs" / "operations.md").read_text()
    for name in ("deploy", "admin", "bodies", "keys", "revoke", "status", "pause"):
        module = importlib.import_module(f"scripts.{name}")
        offered = [
            f for f, v in vars(module).items()
            if inspect.isfunction(v) and not f.startswith("_") and v.__module__ == module.__name__
            and f not in ("help", "main", "immutable_words", "runtime_matches")
        ]  # fmt: skip
        row = next(line for line in text.splitlines() if line.startswith(f"| `scripts/{name}.py`"))
        for function in offered:
            assert f"`{function}" in row, f"docs/operations.md: scripts/{name}.py {function}"
