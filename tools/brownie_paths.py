"""Let `brownie run` import a script from a checkout whose path has a dot in a folder name.

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


def install() -> None:
    """Append the finder to ``sys.meta_path`` once."""
    if not any(isinstance(f, DottedFolderFinder) for f in sys.meta_path):
        sys.meta_path.append(DottedFolderFinder())
