"""brownie's venv, kept to its checkout: its data folder, its compiler, and dotted paths.

`install(root)` runs at the start of every Python of `.venv-brownie` (a ``.pth`` line written
by `make brownie-setup`), before brownie is imported:

* brownie's data folder (accounts, network-config.yaml, its deployments database) is fixed by
  brownie 1.22 to ``Path.home() / ".brownie"``. HOME is set to ``ANCHOR_BROWNIE_HOME`` or else
  ``<root>/.brownie-home``, so the folder is ``<root>/.brownie-home/.brownie``: two checkouts on
  one machine never share (and never rewrite) each other's network-config.yaml.
* py-solc-x's folder is ``<root>/build/solcx`` (SOLCX_BINARY_PATH), where
  `python -m tools.toolchain install` registers this checkout's solc-js wrapper; the shared
  ``~/.solcx`` is never read or written.

and it lets `brownie run` import a script from a checkout whose path has a dot in a folder name,
and turns a live network whose host names an unset environment variable (``$ANCHOR_RPC_URL``)
into one ``error:`` sentence instead of brownie's traceback.

brownie 1.22 imports a script by turning its absolute path into a module name
(``/src/anchor.git/scripts/deploy.py`` -> ``src.anchor.git.scripts.deploy``), which Python
then reads as folders ``anchor`` and ``git``: the import fails with ModuleNotFoundError for any
checkout under a folder such as ``anchor.git`` or ``dot.test``. brownie is a compiled (mypyc)
build whose internals cannot be patched, so this module adds, at the END of ``sys.meta_path``
(after every normal finder has failed), a finder that maps such a name back onto the real
folders: ``src.anchor`` becomes a placeholder package when a folder ``anchor.<something>``
exists, and ``src.anchor.git`` the real folder ``anchor.git``.

`make brownie-setup` installs it in brownie's virtual environment with a ``.pth`` line; it is
never imported by the service.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType


class DottedFolderFinder(importlib.abc.MetaPathFinder):
    """Finds packages and modules whose folder names contain dots."""

    def __init__(self) -> None:
        #: placeholder package name -> (real parent folder, folder-name prefix so far)
        self._prefixes: dict[str, tuple[Path, str]] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for ``fullname`` when it names a dotted folder (or a prefix of one)."""
        parent, _, last = fullname.rpartition(".")
        if not parent:
            return None
        if parent in self._prefixes:
            folder, prefix = self._prefixes[parent]
            candidates = [(folder, f"{prefix}.{last}")]
        else:
            candidates = [(Path(p), last) for p in (path or [])]
        for folder, name in candidates:
            real = folder / name
            if real.is_dir():
                spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
                spec.submodule_search_locations = [str(real)]
                return spec
            source = real.with_name(name + ".py")
            if source.is_file() and parent in self._prefixes:
                loader = importlib.machinery.SourceFileLoader(fullname, str(source))
                return importlib.machinery.ModuleSpec(fullname, loader, origin=str(source))
            if folder.is_dir() and any(e.name.startswith(name + ".") for e in folder.iterdir()):
                self._prefixes[fullname] = (folder, name)
                spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
                spec.submodule_search_locations = []
                return spec
        return None


class UnsetHostCheck(importlib.abc.MetaPathFinder):
    """Before `brownie run` connects, refuse a network host that names an unset variable."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """Never a spec: only checks, once, when brownie's `run` command is imported."""
        if fullname == "brownie._cli.run":
            sys.meta_path.remove(self)
            if message := unset_host_variable(sys.argv):
                print(f"error: {message}", file=sys.stderr, flush=True)
                sys.exit(1)
        return None


def unset_host_variable(argv: Sequence[str]) -> str | None:
    """The sentence for a `--network` whose host names an unset variable, or None."""
    if "--network" not in argv[:-1]:
        return None
    network_id = argv[list(argv).index("--network") + 1]
    config = Path.home() / ".brownie" / "network-config.yaml"
    try:
        import yaml

        live = yaml.safe_load(config.read_text()).get("live") or []
    except (OSError, ImportError, AttributeError, ValueError):
        return None
    for group in live:
        for net in group.get("networks") or []:
            host = str(net.get("host", ""))
            if net.get("id") == network_id and host.startswith("$"):
                name = host.lstrip("$").strip("{}")
                if not os.environ.get(name):
                    return (
                        f"{name} is not set: network {network_id!r} connects to ${name}; "
                        f"export {name}=http://<node>:8545 (a JSON-RPC URL of the network)."
                    )
    return None


def install(root: str | None = None) -> None:
    """Keep brownie's state under the checkout ``root`` and append the finder once."""
    if root:
        folder = Path(root)
        os.environ["HOME"] = os.environ.get("ANCHOR_BROWNIE_HOME") or str(folder / ".brownie-home")
        os.environ["SOLCX_BINARY_PATH"] = str(folder / "build" / "solcx")
    if not any(isinstance(f, DottedFolderFinder) for f in sys.meta_path):
        sys.meta_path.append(DottedFolderFinder())
        sys.meta_path.insert(0, UnsetHostCheck())
