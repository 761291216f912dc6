"""Register the project's networks in brownie's network-config.yaml (its data folder).

brownie's data folder is ``~/.brownie``, and in `.venv-brownie` HOME is this checkout's
``.brownie-home`` (or ANCHOR_BROWNIE_HOME; see tools/brownie_paths.py), so the file edited is
``.brownie-home/.brownie/network-config.yaml``: never another checkout's.

    .venv-brownie/bin/python scripts/setup_networks.py [--live-id ID] [--rpc-url URL]
                                                        [--chain-id N] [--anvil PATH]

* `development` (and brownie's `anvil`) launch `anvil`, and the project's native anvil binary
  (node_modules/@foundry-rs/anvil-<os>-<arch>/bin) is put first on PATH for brownie's venv by a
  one-line `anchor_anvil.pth` in its site-packages: an `anvil` on PATH may be missing or another
  version, and brownie 1.22 cannot take an absolute path (it picks the launcher by the command's
  first word, `anvil`; `/.../anvil` is launched as ganache and fails).
* the live network `anchor-poa` (or --live-id) gets host `$ANCHOR_RPC_URL` written literally:
  brownie expands environment variables in `host` at each connection, so changing the variable
  is enough. brownie does not expand `chainid`, so the chain id is written as a number, from
  --chain-id or ANCHOR_CHAIN_ID; when neither is given the live network is left as it is.

Run by `make brownie-setup`; idempotent. Runs with brownie's venv (PyYAML) but does not import
brownie: the file is edited directly, after brownie's own default copy when there is none yet.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEV_IDS = ("development", "anvil")


def data_folder() -> Path:
    """Return brownie's data folder (brownie fixes it to ~/.brownie; HOME is the checkout's)."""
    return Path.home() / ".brownie"


def project_anvil() -> Path:
    """Return the anvil binary of the npm package `@foundry-rs/anvil`, or ANCHOR_ANVIL."""
    if env := os.environ.get("ANCHOR_ANVIL"):
        return Path(env).resolve()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    system = platform.system().lower()
    return ROOT / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"


def load_config(path: Path) -> dict[str, Any]:
    """Load network-config.yaml, copying brownie's default first when it is missing."""
    if not path.exists():
        spec = importlib.util.find_spec("brownie")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("error: brownie is not installed in this Python; use .venv-brownie.")
        default = Path(next(iter(spec.submodule_search_locations))) / "data" / "network-config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(default, path)
    with path.open() as f:
        config: dict[str, Any] = yaml.safe_load(f) or {}
    config.setdefault("development", [])
    config.setdefault("live", [])
    return config


def install_path_hook(anvil: Path) -> Path:
    """Write the .pth line that puts ``anvil``'s folder first on PATH in this (brownie's) venv."""
    if sys.prefix == sys.base_prefix:
        raise SystemExit("error: run this with brownie's venv: .venv-brownie/bin/python.")
    folder = str(anvil.parent)
    line = (
        "import os; p = os.environ.get('PATH', ''); "
        f"os.environ['PATH'] = {folder!r} + os.pathsep + p "
        f"if not p.startswith({folder!r}) else p\n"
    )
    pth = Path(sysconfig.get_paths()["purelib"]) / "anchor_anvil.pth"
    pth.write_text(line)
    return pth


def set_development(config: dict[str, Any]) -> None:
    """Make the anvil development networks launch `anvil` (found through the PATH hook)."""
    found = {n.get("id") for n in config["development"]}
    for net in config["development"]:
        if net.get("id") in DEV_IDS:
            net["cmd"] = "anvil"
    if "development" not in found:
        config["development"].insert(
            0,
            {
                "name": "Anvil",
                "id": "development",
                "cmd": "anvil",
                "host": "http://127.0.0.1",
                "cmd_settings": {"port": 8545, "accounts": 10, "base_fee": 0},
            },
        )


def set_live(config: dict[str, Any], network_id: str, host: str, chain_id: int) -> None:
    """Add or replace the live network ``network_id`` under the group "Anchor"."""
    for group in config["live"]:
        group["networks"] = [n for n in group.get("networks", []) if n.get("id") != network_id]
    config["live"] = [g for g in config["live"] if g.get("networks") or g.get("name") != "Anchor"]
    group = next((g for g in config["live"] if g.get("name") == "Anchor"), None)
    if group is None:
        group = {"name": "Anchor", "networks": []}
        config["live"].append(group)
    group["networks"].append(
        {"name": f"Anchor PoA ({network_id})", "id": network_id, "host": host, "chainid": chain_id}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live-id", default="anchor-poa", help="id of the live network")
    parser.add_argument(
        "--rpc-url", default="$ANCHOR_RPC_URL", help="host; default the literal $ANCHOR_RPC_URL"
    )
    parser.add_argument("--chain-id", default=os.environ.get("ANCHOR_CHAIN_ID"))
    parser.add_argument("--anvil", type=Path, default=project_anvil())
    args = parser.parse_args(argv)

    if not args.anvil.exists():
        print(f"error: anvil not found at {args.anvil}: run `npm ci` first.", file=sys.stderr)
        return 1
    path = data_folder() / "network-config.yaml"
    config = load_config(path)
    set_development(config)
    pth = install_path_hook(args.anvil.resolve())
    print(f"development: cmd anvil = {args.anvil.resolve()} (PATH hook {pth})")
    if args.chain_id in (None, ""):
        print(f"{args.live_id}: left as it is (set ANCHOR_CHAIN_ID or --chain-id to register it)")
    else:
        try:
            chain_id = int(str(args.chain_id), 0)
        except ValueError:
            print(f"error: chain id {args.chain_id!r} is not a number.", file=sys.stderr)
            return 1
        set_live(config, args.live_id, args.rpc_url, chain_id)
        print(f"{args.live_id}: host {args.rpc_url}, chain id {chain_id}")
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False, default_flow_style=False))
    tmp.replace(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
