"""Fixtures of the browser tests: the real API on a free port, a real anchored root, Chromium.

The application is `api.app.create_app` with a SQLite test store and the session's anvil chain
and registry, served by uvicorn in a thread on 127.0.0.1. Each test anchors its own small batch
of documents under the body "Commune de Contern" inside the `registry` fixture's snapshot, so
tests do not see each other's roots (nor their renames, suspensions and compromised keys).
The browser is the system Chromium (Debian package ``chromium``), driven through the DevTools
protocol (`tests/support/cdp.py`); every test gets its own browser context (fresh localStorage).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor.chain.devchain import Anvil
from anchor.chain.registry import Registry
from tests.support.bodies import Bodies, Body, anchor_documents
from tests.support.browser import Anchored
from tests.support.cdp import Chromium, Page
from tests.support.server import Server

CHROMIUM = os.environ.get("ANCHOR_CHROMIUM", "/usr/bin/chromium")


def _chromium_binary() -> str:
    path = shutil.which(CHROMIUM)
    if path is None:
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: install the Debian package `chromium` "
            "(or set ANCHOR_CHROMIUM) to run the browser tests"
        )
    return path


def make_app(tmp: Path, rpc_url: str, registry_address: str) -> Any:
    """The real application with a fresh SQLite store, reading ``registry_address``."""
    from anchor.settings import load_settings
    from anchor.store import open_store
    from api.app import create_app
    from api.config import ApiSettings

    tmp.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        data_dir=tmp,
        rpc_urls=[rpc_url],
        chain_id=31337,
        registry_address=registry_address,
        rpc_timeout=3.0,
        public_base_url="http://127.0.0.1",
    )
    store = open_store(settings.resolved_database_url, migrate=True)
    # One browser at one address opens the page a few hundred times a session: above the
    # public limit a citizen's address has (120 a minute), which would answer 429.
    api_settings = ApiSettings(roots_limit="6000/minute")
    return create_app(settings=settings, store=store, api_settings=api_settings)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """One headless Chromium for the session, stopped at the end."""
    browser = Chromium(_chromium_binary(), tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


def browser_language(tab: Page, languages: str) -> None:
    """Make the tab's browser speak ``languages`` (navigator.languages, Accept-Language)."""
    agent = tab.send("Browser.getVersion")["userAgent"]
    tab.send("Emulation.setUserAgentOverride", userAgent=agent, acceptLanguage=languages)


@pytest.fixture
def page(chromium: Chromium) -> Iterator[Page]:
    """A tab in a fresh browser context (its own storage), closed after the test.

    Its browser speaks Luxembourgish French (a headless Chromium speaks American English
    otherwise, and the page follows the browser's language).
    """
    tab = chromium.new_page()
    browser_language(tab, "fr-LU,fr,de")
    yield tab
    tab.close()


@pytest.fixture(scope="session")
def api_server(
    tmp_path_factory: pytest.TempPathFactory, anvil: Anvil, deployed: Registry
) -> Iterator[Server]:
    """The real API, reading the session's registry on anvil."""
    server = Server(make_app(tmp_path_factory.mktemp("api"), anvil.url, deployed.address))
    yield server
    server.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[str, str], Server]]:
    """Start extra API servers (a down or chainless API); all are stopped after the test."""
    servers: list[Server] = []

    def start(rpc_url: str, registry_address: str) -> Server:
        server = Server(make_app(tmp_path / f"api{len(servers)}", rpc_url, registry_address))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def anchored(tmp_path: Path, bodies: Bodies, contern: Body) -> Anchored:
    """Three documents anchored by the body "Commune de Contern" in one root.

    The bundles carry no issuer name, as the service writes them now; a test that forges one
    adds it.
    """
    files = []
    for i, text in enumerate(["Permis de bâtir 2026/041", "Autorisation 17", "Certificat 9"]):
        path = tmp_path / f"document-{i}.pdf"
        path.write_bytes(f"%PDF-1.7\n{text}\n".encode() * 50)
        files.append(path)
    batch = anchor_documents(bodies, contern.anchoring, [p.read_bytes() for p in files])
    return Anchored(files, batch.bundles, bodies.registry, bodies, contern)
