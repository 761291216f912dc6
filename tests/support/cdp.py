"""A small Chrome DevTools Protocol client for the browser tests: headless Chromium, one page.

It uses the system Chromium (Debian package ``chromium``; browser downloads fail here) and the
synchronous client of ``websockets`` (already installed with web3), so the tests need no browser
automation package. Only what the tests use is here: navigate, evaluate, wait, viewport, file
input and screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: Flags that work on this kind of machine (no GPU, no sandbox in containers, no phoning home).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


class CDPError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class _Session:
    """One DevTools WebSocket: send commands, collect the events that arrive meanwhile."""

    def __init__(self, ws_url: str) -> None:
        self.ws: ClientConnection = connect(ws_url, max_size=None, open_timeout=10)
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def send(self, method: str, timeout: float = 20.0, **params: Any) -> dict[str, Any]:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        message_id = next(self._ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline, f"{method}: no answer within {timeout} s")
            if message.get("id") == message_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_for_event(self, method: str, timeout: float = 20.0) -> dict[str, Any]:
        """Wait for an event of ``method`` (one already received counts) and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    self.events.remove(event)
                    return event
            message = self._receive(deadline, f"no {method} event within {timeout} s")
            if "method" in message:
                self.events.append(message)

    def _receive(self, deadline: float, failure: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CDPError(failure)
        try:
            message: dict[str, Any] = json.loads(self.ws.recv(timeout=remaining))
        except TimeoutError as e:
            raise CDPError(failure) from e
        return message


class Chromium:
    """A headless Chromium process with a fresh profile; stop it with `close`."""

    def __init__(self, binary: str, profile: Path, *, timeout: float = 20.0) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Chromium writes its port and browser endpoint to DevToolsActivePort in the profile.
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while len(port_file.read_text().split() if port_file.exists() else []) < 2:
            if self.process.poll() is not None:
                raise CDPError(f"chromium exited with status {self.process.returncode}")
            if time.monotonic() > deadline:
                self.close()
                raise CDPError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.port = int(port)
        self.browser = _Session(f"ws://127.0.0.1:{self.port}{path}")

    def new_page(self) -> Page:
        """Open a tab in a new browser context: its own storage, cache and cookies."""
        context = self.browser.send("Target.createBrowserContext")["browserContextId"]
        target = self.browser.send(
            "Target.createTarget", url="about:blank", browserContextId=context
        )["targetId"]
        return Page(self, f"ws://127.0.0.1:{self.port}/devtools/page/{target}", context)

    def close(self) -> None:
        """Stop the browser (terminate, then kill if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class Page(_Session):
    """One tab of its own browser context."""

    def __init__(self, browser: Chromium, ws_url: str, context: str) -> None:
        super().__init__(ws_url)
        self.browser = browser
        self.context = context
        self.send("Page.enable")
        self.send("Runtime.enable")

    def navigate(self, url: str, timeout: float = 20.0) -> None:
        """Load ``url`` and wait for its load event."""
        self.events.clear()
        result = self.send("Page.navigate", url=url)
        if "errorText" in result:
            raise CDPError(f"cannot load {url}: {result['errorText']}")
        if "loaderId" not in result:
            # Only the fragment changed (same document). Reload from the page itself once it
            # shows the new URL (the browser side may still hold the old one), so that every
            # load starts afresh.
            self.wait_until(f"location.href === {json.dumps(url)}", timeout)
            self.events.clear()
            self.evaluate("location.reload()")
        self.wait_for_event("Page.loadEventFired", timeout)

    def evaluate(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page (promises are awaited) and return its value."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"exception in page: {text}")
        return result["result"].get("value")

    def wait_until(
        self, expression: str, timeout: float = 20.0, check: Callable[[Any], bool] = bool
    ) -> Any:
        """Poll ``expression`` until ``check(value)`` holds; return the value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if check(value):
                return value
            time.sleep(0.05)
        raise CDPError(f"{expression!r} still {value!r} after {timeout} s")

    def set_viewport(
        self, width: int, height: int, *, scale: float = 1, mobile: bool = False
    ) -> None:
        """Emulate a screen of ``width`` x ``height`` CSS pixels."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=scale,
            mobile=mobile,
        )

    def set_files(self, selector: str, paths: list[Path]) -> None:
        """Choose ``paths`` in the file input at ``selector`` (fires its change event)."""
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise CDPError(f"no element matches {selector!r}")
        self.send("DOM.setFileInputFiles", nodeId=node, files=[str(p) for p in paths])

    def screenshot(self, path: Path, *, full_page: bool = True) -> None:
        """Save a PNG of the page."""
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        """Close the tab and drop its browser context."""
        self.ws.close()
        self.browser.browser.send("Target.disposeBrowserContext", browserContextId=self.context)
