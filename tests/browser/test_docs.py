"""/docs in headless Chromium: Swagger UI renders from the vendored files under its CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import DEAD_RPC
from tests.support.cdp import Page
from tests.support.server import Server

from .conftest import make_app

pytestmark = pytest.mark.browser

WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def docs_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(make_app(tmp_path, DEAD_RPC, "0x5FbDB2315678afecb367f032d93F642f64180aa3"))
    yield server
    server.stop()


def test_swagger_ui_renders_without_csp_violations(page: Page, docs_server: Server) -> None:
    page.send("Page.addScriptToEvaluateOnNewDocument", source=WATCH_CSP)
    page.navigate(f"{docs_server.url}/docs")
    count = page.wait_until("document.querySelectorAll('.opblock').length", check=lambda n: n > 10)
    assert count >= 11
    assert page.evaluate("document.querySelector('.info .title').textContent").startswith("anchor")
    page.evaluate("document.querySelector('.opblock-summary-control').click()")
    page.wait_until("document.querySelector('.opblock-body .try-out__btn') !== null")
    page.evaluate("document.querySelector('.opblock-body .try-out__btn').click()")
    page.wait_until("document.querySelectorAll('.execute').length > 0")
    assert page.evaluate("window.__violations") == []
    external = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(u => !u.startsWith(location.origin))"
    )
    assert external == []
