"""The offline Solidity toolchain: solc-js behind a `solc`-compatible wrapper.

    python -m tools.toolchain install   # write build/bin/solc and register it with py-solc-x
    python -m tools.toolchain compile   # compile contracts/ and write the committed artifact
    python -m tools.toolchain check     # recompile and compare with the committed artifact

The compiler version, EVM version, optimizer settings and remappings are read from
`brownie-config.yaml`, the one place where they are pinned; brownie reads the same file.

Nothing is written outside the checkout: py-solc-x's folder is `build/solcx` (not `~/.solcx`,
which every checkout of the machine would share, each set-up re-pointing the others' compiler
at itself), and brownie's venv reads the same folder (`tools/brownie_paths.py`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import solcx
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = "AnchorRegistry"
SOURCE = Path("contracts") / f"{CONTRACT}.sol"
ARTIFACT = ROOT / "anchor" / "chain" / f"{CONTRACT}.json"
WRAPPER = ROOT / "build" / "bin" / "solc"
SOLCJS = ROOT / "node_modules" / "solc" / "solc.js"
#: py-solc-x's folder of registered compilers, for this checkout alone.
SOLCX_DIR = ROOT / "build" / "solcx"


class ToolchainError(Exception):
    """The toolchain is not set up, or the compiler failed."""


def compiler_config() -> dict[str, Any]:
    """Return the `compiler` section of brownie-config.yaml."""
    with (ROOT / "brownie-config.yaml").open() as f:
        config: dict[str, Any] = yaml.safe_load(f)["compiler"]
    return config


def pinned_version() -> str:
    """Return the pinned solc version, such as ``0.8.28``."""
    return str(compiler_config()["solc"]["version"])


def install_wrapper() -> Path:
    """Write the wrapper with this checkout's paths and register it with py-solc-x.

    Returns the path of the copy that py-solc-x (and so brownie) runs.
    """
    if not SOLCJS.exists():
        raise ToolchainError(f"{SOLCJS} is missing: run `npm ci` first")
    template = (ROOT / "tools" / "solc.in").read_text()
    script = template.replace("@SOLCJS@", str(SOLCJS)).replace("@BASE_PATH@", str(ROOT))
    WRAPPER.parent.mkdir(parents=True, exist_ok=True)
    WRAPPER.write_text(script)
    WRAPPER.chmod(WRAPPER.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    version = pinned_version()
    found = solcx.wrapper.get_solc_version(WRAPPER)
    if str(found) != version:
        raise ToolchainError(
            f"solc-js in node_modules is {found}, brownie-config.yaml pins {version}"
        )
    with _solcx_folder() as folder:
        # Replace any earlier registration, so that a moved checkout is picked up.
        stale = folder / f"solc-v{version}"
        if stale.exists():
            stale.unlink()
        env_path = os.environ.get("PATH", "")
        os.environ["PATH"] = f"{WRAPPER.parent}{os.pathsep}{env_path}"
        try:
            imported = solcx.import_installed_solc(solcx_binary_path=folder)
        finally:
            os.environ["PATH"] = env_path
        if not imported or str(imported[0]) != version:
            raise ToolchainError("py-solc-x did not register the solc-js wrapper")
        return Path(solcx.install.get_executable(version, solcx_binary_path=folder))


@contextmanager
def _solcx_folder() -> Iterator[Path]:
    """py-solc-x's folder is `SOLCX_DIR` meanwhile, whatever SOLCX_BINARY_PATH said."""
    SOLCX_DIR.mkdir(parents=True, exist_ok=True)
    before = os.environ.get("SOLCX_BINARY_PATH")
    os.environ["SOLCX_BINARY_PATH"] = str(SOLCX_DIR)
    try:
        yield SOLCX_DIR
    finally:
        if before is None:
            del os.environ["SOLCX_BINARY_PATH"]
        else:
            os.environ["SOLCX_BINARY_PATH"] = before


def standard_input() -> dict[str, Any]:
    """Return the standard-JSON input for the registry, with the pinned settings."""
    config = compiler_config()
    solc = config["solc"]
    source = (ROOT / SOURCE).read_text()
    return {
        "language": "Solidity",
        "sources": {SOURCE.as_posix(): {"content": source}},
        "settings": {
            "evmVersion": config["evm_version"],
            "optimizer": {
                "enabled": bool(solc["optimizer"]["enabled"]),
                "runs": int(solc["optimizer"]["runs"]),
            },
            "remappings": [str(r) for r in solc["remappings"]],
            "outputSelection": {
                "*": {
                    "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]
                }
            },
        },
    }


def compile_registry() -> dict[str, Any]:
    """Compile the registry with the registered wrapper and return the artifact."""
    if not WRAPPER.exists():
        install_wrapper()
    request = standard_input()
    try:
        output = solcx.compile_standard(request, solc_binary=WRAPPER, allow_paths=str(ROOT))
    except solcx.exceptions.SolcError as e:
        raise ToolchainError(f"solc failed: {e}") from e
    errors = [m for m in output.get("errors", []) if m.get("severity") == "error"]
    if errors:
        raise ToolchainError("\n".join(m["formattedMessage"] for m in errors))
    contract = output["contracts"][SOURCE.as_posix()][CONTRACT]
    metadata = json.loads(contract["metadata"])
    sources_hash = hashlib.sha256()
    for name in sorted(metadata["sources"]):
        sources_hash.update(name.encode() + b"\0" + metadata["sources"][name]["keccak256"].encode())
    return {
        "contractName": CONTRACT,
        "sourceName": SOURCE.as_posix(),
        "compiler": {"version": metadata["compiler"]["version"], "settings": request["settings"]},
        "sourceHash": "0x"
        + hashlib.sha256(request["sources"][SOURCE.as_posix()]["content"].encode()).hexdigest(),
        "sourcesHash": "0x" + sources_hash.hexdigest(),
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
    }


def write_artifact(artifact: dict[str, Any], path: Path = ARTIFACT) -> None:
    """Write the artifact as stable, diff-friendly JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n")


def check_artifact() -> list[str]:
    """Recompile and return the fields that differ from the committed artifact."""
    committed = json.loads(ARTIFACT.read_text())
    fresh = compile_registry()
    return [k for k in sorted(set(committed) | set(fresh)) if committed.get(k) != fresh.get(k)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.toolchain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["install", "compile", "check"])
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(f"solc {pinned_version()} (solc-js) registered at {install_wrapper()}")
        elif args.command == "compile":
            write_artifact(compile_registry())
            print(f"wrote {ARTIFACT.relative_to(ROOT)}")
        else:
            diff = check_artifact()
            if diff:
                print(
                    f"{ARTIFACT.relative_to(ROOT)} differs from a fresh compile in: "
                    + ", ".join(diff)
                )
                return 1
            print(f"{ARTIFACT.relative_to(ROOT)} matches a fresh compile")
    except (ToolchainError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
