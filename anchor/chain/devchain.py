"""A local anvil chain for development and tests, from the npm package `@foundry-rs/anvil`.

`Anvil` starts a node on 127.0.0.1 on a free port (anvil picks it: ``--port 0``), waits until it
answers, and stops it on exit. Nothing is started at import time. With a ``state_path`` the chain
is loaded from that file and written back every ``state_interval`` seconds (``--state-interval``)
as well as on a clean exit, so a crash (SIGKILL) loses seconds, not everything since the last
clean stop.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from web3 import Web3
from web3.types import RPCEndpoint

from anchor.errors import ChainError

#: anvil's well-known development mnemonic; its accounts are public test keys, never real.
DEV_MNEMONIC = "test test test test test test test test test test test junk"

_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")


def anvil_binary() -> Path:
    """Return the anvil binary: ``ANCHOR_ANVIL``, the npm package's native binary, or PATH."""
    if env := os.environ.get("ANCHOR_ANVIL"):
        return Path(env)
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = (
            base / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"
        )
        if candidate.exists():
            return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise ChainError("anvil is not installed: run `npm ci` in the project directory")


class Anvil:
    """A running anvil node; use as a context manager or call `start` and `stop`."""

    def __init__(
        self,
        *,
        chain_id: int = 31337,
        block_time: float | None = None,
        no_mining: bool = False,
        state_path: Path | None = None,
        state_interval: int = 2,
        accounts: int = 10,
        port: int = 0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.chain_id = chain_id
        self.args = [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(chain_id),
            "--accounts",
            str(accounts),
            "--mnemonic",
            DEV_MNEMONIC,
        ]
        if block_time is not None:
            self.args += ["--block-time", str(block_time)]
        if no_mining:
            self.args.append("--no-mining")
        if state_path is not None:
            self.args += ["--state", str(state_path), "--state-interval", str(state_interval)]
        self.args += list(extra_args)
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self._log: list[str] = []

    @property
    def url(self) -> str:
        """The HTTP JSON-RPC URL of the node."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Anvil:
        """Start the node and return once it listens."""
        self.process = subprocess.Popen(
            [str(anvil_binary()), *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl(2), async-signal-safe
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self._log.append(line)
            if match := _LISTENING.search(line):
                self.port = int(match.group(2))
                # Keep draining the pipe so that anvil never blocks on a full one.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise ChainError("anvil did not start: " + "".join(self._log[-5:]).strip())

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self._log.append(line)
            if len(self._log) > 200:
                del self._log[:100]

    def stop(self) -> None:
        """Stop the node (SIGTERM, then SIGKILL), saving its state when ``--state`` is set."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to the node when the process that started it dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def dev_key(index: int = 0) -> str:
    """Return the private key of anvil's development account ``index`` (public test keys)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return "0x" + bytes(account.key).hex()


#: What `fund_on_anvil` gives a key: enough for years of status changes on a development chain.
DEV_BALANCE = 10**20


def fund_on_anvil(w3: Web3, address: str, wei: int = DEV_BALANCE) -> None:
    """Give ``address`` a balance on a local anvil chain (``anvil_setBalance``): the bodies' keys
    ``anchor up`` makes pay their own gas there (status changes, direct anchors), while a
    production QBFT network runs free gas and needs none."""
    w3.provider.make_request(
        RPCEndpoint("anvil_setBalance"), [Web3.to_checksum_address(address), hex(wei)]
    )
