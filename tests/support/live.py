"""A real uvicorn server of the API in a child process, on a free port of 127.0.0.1.

`live_server` binds the socket itself and hands its descriptor to the child (no race for the
port); the child migrates the store named by its environment, prints the recursion limit it
runs with, and serves until the context ends. Run as a module it is that child.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DEAD_RPC = "http://127.0.0.1:1"


@dataclass(frozen=True)
class LiveServer:
    """A running child server: its base URL and process."""

    url: str
    process: subprocess.Popen[str]
    recursion_limit: int

    def alive(self) -> bool:
        """The process runs and answers /healthz."""
        if self.process.poll() is not None:
            return False
        return httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200


def wait_ready(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    timeout: float = 60.0,
    what: str = "the API",
) -> None:
    """Wait until ``url``/readyz answers 200; fail with ``log`` if ``process`` dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} never became ready:\n" + log.read_text())


@contextmanager
def live_server(data_dir: Path, **env: str) -> Iterator[LiveServer]:
    """Serve the API from a child process until the block ends; ``env`` adds ANCHOR_* values."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("ANCHOR_")} | {
        "ANCHOR_DATA_DIR": str(data_dir),
        "ANCHOR_RPC_URLS": DEAD_RPC,
        "ANCHOR_RPC_TIMEOUT": "1",
    }
    child_env |= env
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.live", str(sock.fileno())],
        cwd=ROOT,
        env=child_env,
        pass_fds=[sock.fileno()],
        stdout=subprocess.PIPE,
        text=True,
    )
    sock.close()
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("recursion-limit "), line
        server = LiveServer(f"http://127.0.0.1:{port}", process, int(line.split()[1]))
        deadline = time.monotonic() + 30
        while True:
            try:
                if server.alive():
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _serve(fd: int) -> None:
    import uvicorn

    from anchor.settings import get_settings
    from anchor.store import open_store
    from api.app import create_app

    settings = get_settings()
    open_store(settings.resolved_database_url, migrate=True).close()
    app = create_app(settings)
    print(f"recursion-limit {sys.getrecursionlimit()}", flush=True)
    uvicorn.run(app, fd=fd, log_level="warning")


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
