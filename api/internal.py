"""The internal application: detailed readiness and Prometheus metrics, for operators only.

It shares the public application's store, chain reader and metrics, and is served by a second
uvicorn server on ``ANCHOR_INTERNAL_HOST:ANCHOR_INTERNAL_PORT`` (127.0.0.1 by default), started
and stopped with the public application's lifespan (so ``uvicorn --factory``, `anchor serve`
and `anchor up` all serve it). With several API processes each binds the port with
``SO_REUSEPORT``, and a scrape answers for one of them.
"""

from __future__ import annotations

import socket
import threading

import uvicorn
from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import internal


def create_internal_app(public: FastAPI) -> FastAPI:
    """The internal application over ``public``'s state (no OpenAPI, no docs)."""
    app = FastAPI(title="anchor (internal)", openapi_url=None, docs_url=None, redoc_url=None)
    for name in ("settings", "api_settings", "store", "chain", "metrics"):
        setattr(app.state, name, getattr(public.state, name))
    install_error_handlers(app)
    app.include_router(internal.router)
    return app


class InternalServer:
    """A uvicorn server of the internal application in a thread of its own.

    In its own thread uvicorn leaves the process's signal handlers to the public server. The
    socket is bound in `start`, so that a port already taken fails the start at once.
    """

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        """Serve ``app`` on ``host:port`` once started."""
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.host = host
        self.port = port
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self) -> None:
        """Bind the port and serve in a background thread; OSError if the port is taken."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="internal-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
