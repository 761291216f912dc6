"""The page's statement.js in headless Chromium, on the golden vectors of typed documents.

A small local server serves the real static files (``/static/vendor/sha3.min.js``,
``/static/verify/statement.js``), the vectors and the shipped type files, and a page that
loads the two scripts under the verification page's Content-Security-Policy. Every valid
vector must decode from its ``#v2.`` text to the same bundle, canonical statement, statement
digest, leaf and root as in Python; every mutated one must fail the check it names.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from anchor.proof.doctypes import BUILTIN_DIR
from tests.support.cdp import Chromium, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "static"
VECTORS = ROOT / "tests" / "vectors" / "typed.json"
CHROMIUM = os.environ.get("ANCHOR_CHROMIUM", "/usr/bin/chromium")
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>statement.js</title>
<script src="/static/vendor/sha3.min.js"></script>
<script src="/static/verify/statement.js"></script></head><body></body></html>"""


def _types() -> bytes:
    types = {}
    for path in sorted(BUILTIN_DIR.glob("*.v*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        types[f"{data['id']}.v{data['version']}"] = data
    return json.dumps(types).encode()


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        found = self.routes.get(self.path)
        if found is None:
            self.send_error(404)
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    js = "text/javascript; charset=utf-8"
    _Handler.routes = {
        "/": ("text/html; charset=utf-8", PAGE),
        "/static/vendor/sha3.min.js": (js, (STATIC / "vendor" / "sha3.min.js").read_bytes()),
        "/static/verify/statement.js": (js, (STATIC / "verify" / "statement.js").read_bytes()),
        "/vectors.json": ("application/json", VECTORS.read_bytes()),
        "/types.json": ("application/json", _types()),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def tab(origin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    binary = shutil.which(CHROMIUM)
    if binary is None:
        pytest.skip(f"Chromium not found at {CHROMIUM}: install the Debian package `chromium`")
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-statement"))
    page = browser.new_page()
    try:
        page.navigate(origin + "/")
        page.wait_until("typeof window.ANCHOR_STATEMENT === 'object'")
        yield page
    finally:
        page.close()
        browser.close()


RUN = """(async () => {
  const S = window.ANCHOR_STATEMENT;
  const V = await (await fetch("/vectors.json")).json();
  const types = await (await fetch("/types.json")).json();
  const valid = [];
  for (const v of V.valid) {
    const b = await S.fromText(v.text, types);
    const c = await S.checkBundle(v.bundle);
    valid.push({
      desc: v.desc,
      canonical: S.canonicalize(S.statementOf(v.bundle)),
      digest: await S.statementDigest(v.bundle),
      leaf: S.leafHash(v.bundle.salt, v.bundle.digest),
      decoded: {digest: b.digest, leaf: b.leaf, root: b.root, facts: b.facts, file: b.file,
                private: b.private, type: b.type, typeVersion: b.typeVersion, salt: b.salt,
                proof: b.proof, registry: b.registry, txHash: b.txHash,
                chainId: String(b.chainId), blockNumber: String(b.blockNumber),
                anchoredAt: String(b.anchoredAt), issuer: b.issuer},
      checks: {statement: c.statement, leaf: c.leaf, root: c.root},
      digits: S.bytesToDigits(S.digitsToBytes(v.text.slice(3))) === v.text.slice(3),
    });
  }
  const mutated = [];
  for (const m of V.mutated) {
    const c = await S.checkBundle(m.bundle);
    mutated.push({desc: m.desc, statement: c.statement, leaf: c.leaf, root: c.root});
  }
  const errors = [];
  for (const text of ["v2.12a", "v2.1", "v2.256", "v3.000", "v1.oQ", "v2."]) {
    try { await S.fromText(text, types); errors.push([text, null]); }
    catch (e) { errors.push([text, e.name + ": " + e.message]); }
  }
  return {valid, mutated, errors};
})()"""


@pytest.fixture(scope="module")
def results(tab: Page) -> dict[str, Any]:
    out: dict[str, Any] = tab.evaluate(RUN)
    return out


def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return data


def test_valid_vectors_in_chromium(results: dict[str, Any]) -> None:
    vectors = _vectors()["valid"]
    assert len(results["valid"]) == len(vectors)
    for got, vector in zip(results["valid"], vectors, strict=True):
        bundle = vector["bundle"]
        assert got["canonical"] == vector["canonical"], vector["desc"]
        assert got["digest"] == vector["statementDigest"] == bundle["digest"], vector["desc"]
        assert got["leaf"] == bundle["leaf"], vector["desc"]
        assert got["checks"] == {"statement": True, "leaf": True, "root": True}
        assert got["digits"] is True
        decoded = got["decoded"]
        for key in ("digest", "leaf", "root", "facts", "type", "typeVersion", "salt", "proof",
                    "registry", "txHash", "issuer"):  # fmt: skip
            assert decoded[key] == bundle[key], (vector["desc"], key)
        assert decoded["file"] == bundle.get("file") and decoded["private"] == bundle.get("private")
        for key in ("chainId", "blockNumber", "anchoredAt"):
            assert decoded[key] == str(bundle[key])
        # The facts come out in the type's order, as the page will list them.
        assert list(decoded["facts"]) == list(bundle["facts"])


def test_mutated_vectors_in_chromium(results: dict[str, Any]) -> None:
    vectors = _vectors()["mutated"]
    assert len(results["mutated"]) == len(vectors)
    for got, vector in zip(results["mutated"], vectors, strict=True):
        expected = {k: vector["expected"][k] for k in ("statement", "leaf", "root")}
        assert {k: got[k] for k in expected} == expected, vector["desc"]


def test_malformed_texts_are_refused_in_chromium(results: dict[str, Any]) -> None:
    errors = dict(results["errors"])
    assert "not decimal digits" in errors["v2.12a"]
    assert "cannot have 1 digits" in errors["v2.1"]
    assert "out of range" in errors["v2.256"]
    assert "unsupported version 3" in errors["v3.000"]
    assert "unsupported version 1" in errors["v1.oQ"]  # the page reads v1 with verify.js
    assert "truncated inside magic byte" in errors["v2."]
    assert all(e.startswith("ProofFormatError") for e in errors.values())
