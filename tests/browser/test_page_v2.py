"""The page with typed documents (``#v2.`` building permits) in headless Chromium, end to end.

Real API (the session's, see conftest.py), real anvil chain with registry 2.1.0: the permits are
anchored by the body "Commune de Contern" and their status changes are sent by the revoker with
web3 (tests/browser/permits.py). Every state is checked in French, German and English; the
network log of the browser and the API's access log are searched for anything that would tell
which document is checked.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from anchor.chain.devchain import Anvil
from anchor.chain.registry import BodyStatus, Names
from anchor.proof.compact import encode_compact
from anchor.proof.compact2 import bytes_to_digits
from tests.browser.conftest import make_app
from tests.browser.permits import (
    Permit,
    anchor_permits,
    extend,
    lift,
    permit_facts,
    revoke,
    supersede,
    suspend,
)
from tests.browser.test_verification_page import (
    DE_MONTHS,
    EN_MONTHS,
    FR_MONTHS,
    LUXEMBOURG,
    date_words,
    keep_screenshot,
    open_verdict,
    wait_verdict,
)
from tests.support.bodies import CONTERN, CONTERN_CODE, Bodies, Body, advance
from tests.support.cdp import Page
from tests.support.server import Server

pytestmark = pytest.mark.browser
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""

MONTHS = {"fr": FR_MONTHS, "de": DE_MONTHS, "en": EN_MONTHS}
DAY_END = {"fr": "", "de": ".", "en": ""}
LABELS = {
    "fr": ["Numéro de l\u2019autorisation", "Date de la décision", "Nature des travaux",
           "Adresse du chantier", "Parcelle cadastrale",
           "Valable jusqu\u2019au (début des travaux au plus tard)"],
    "de": ["Nummer der Genehmigung", "Datum der Entscheidung", "Art der Arbeiten",
           "Adresse der Baustelle", "Katasterparzelle",
           "Gültig bis (spätester Beginn der Arbeiten)"],
    "en": ["Permit number", "Date of the decision", "Nature of the works", "Address of the site",
           "Cadastral parcel", "Valid until (latest start of the works)"],
}  # fmt: skip
COMPARE = {
    "fr": "Comparez-les avec l\u2019affiche / le document.",
    "de": "Vergleichen Sie sie mit dem Aushang / dem Dokument.",
    "en": "Compare them with the poster / the document.",
}
NOTICE = {
    "fr": "Les plans et le dossier de cette autorisation de bâtir",
    "de": "Die Pläne und die Akte dieser Baugenehmigung",
    "en": "The plans and the file of this building permit",
}
RECORDED = {
    "fr": "Enregistré dans le registre le",
    "de": "Im Register eingetragen am",
    "en": "Recorded in the registry on",
}
HOST = {"fr": ("Vous êtes sur ", " — vérifiez l\u2019adresse."),
        "de": ("Sie sind auf ", " — prüfen Sie die Adresse."),
        "en": ("You are on ", " — check the address.")}  # fmt: skip
WORDS = {
    "fr": {"valid": "VALIDE", "validUntil": "VALIDE JUSQU\u2019AU {}", "expired": "EXPIRÉ LE {}",
           "suspended": "SUSPENDU", "revoked": "RÉVOQUÉ", "superseded": "REMPLACÉ",
           "invalid": "NON VALIDE", "unavailable": "VÉRIFICATION IMPOSSIBLE POUR LE MOMENT"},
    "de": {"valid": "GÜLTIG", "validUntil": "GÜLTIG BIS {}", "expired": "ABGELAUFEN AM {}",
           "suspended": "AUSGESETZT", "revoked": "WIDERRUFEN", "superseded": "ERSETZT",
           "invalid": "UNGÜLTIG", "unavailable": "PRÜFUNG DERZEIT NICHT MÖGLICH"},
    "en": {"valid": "VALID", "validUntil": "VALID UNTIL {}", "expired": "EXPIRED ON {}",
           "suspended": "SUSPENDED", "revoked": "REVOKED", "superseded": "SUPERSEDED",
           "invalid": "INVALID", "unavailable": "CANNOT CHECK NOW"},
}  # fmt: skip
REASONS = {  # the reason codes in words: suspension 1, revocation 5
    "fr": ("suspendu par une juridiction (sursis à exécution)", "annulé par une juridiction"),
    "de": ("von einem Gericht ausgesetzt (Aussetzung der Vollziehung)",
           "von einem Gericht aufgehoben"),
    "en": ("suspended by a court (stay of execution)", "annulled by a court"),
}  # fmt: skip
HISTORY = {
    "fr": ("suspendu", "suspension levée", "validité prolongée"),
    "de": ("ausgesetzt", "Aussetzung aufgehoben", "Gültigkeit verlängert"),
    "en": ("suspended", "suspension lifted", "validity extended"),
}


def day_words(day: str, lang: str) -> str:
    """A calendar day as the page writes it in ``lang`` (31 décembre 2099, 31. Dezember 2099)."""
    d = dt.date.fromisoformat(day)
    return f"{d.day}{DAY_END[lang]} {MONTHS[lang].split()[d.month - 1]} {d.year}"


def luxembourg_today() -> dt.date:
    return dt.datetime.now(LUXEMBOURG).date()


def verify_url(server: Server, permit: Permit | str, lang: str | None = None) -> str:
    fragment = permit if isinstance(permit, str) else permit.fragment
    query = f"?lang={lang}" if lang else ""
    return f"{server.url}/verify{query}#{fragment}"


def test_every_state_in_three_languages(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    body, key = contern.id, contern.anchoring
    extended_to = (luxembourg_today() + dt.timedelta(days=400)).isoformat()
    docs = dict(
        zip(
            ["valid", "until", "expired", "extended", "lifted", "suspended", "revoked", "old"],
            anchor_permits(
                bodies,
                key,
                [
                    permit_facts("2026/0001"),
                    permit_facts("2026/0002", validUntil="2099-12-31"),
                    permit_facts("2026/0003", validUntil="2021-06-30"),
                    permit_facts("2026/0004", validUntil="2021-06-30"),
                    permit_facts("2026/0005"),
                    permit_facts("2026/0006"),
                    permit_facts("2026/0007"),
                    permit_facts("2026/0008"),
                ],
            ),
            strict=True,
        )
    )
    (new,) = anchor_permits(bodies, key, [permit_facts("2026/0108")])
    extend(bodies, body, docs["extended"], extended_to)
    suspended_at = suspend(bodies, body, docs["lifted"], 2)
    lifted_at = lift(bodies, body, docs["lifted"])
    since = suspend(bodies, body, docs["suspended"], 1)
    revoked_at = revoke(bodies, body, docs["revoked"], 5)
    supersede(bodies, body, docs["old"], new)

    expected_state = {
        "valid": ("valid", None),
        "until": ("validUntil", "2099-12-31"),
        "expired": ("expired", "2021-06-30"),
        "extended": ("validUntil", extended_to),  # the extension replaces the fact's end
        "lifted": ("valid", None),
        "suspended": ("suspended", None),
        "revoked": ("revoked", None),
        "old": ("superseded", None),
    }
    for lang in ("fr", "de", "en"):
        for name, permit in docs.items():
            v = open_verdict(page, verify_url(api_server, permit, lang))
            state, day = expected_state[name]
            word = WORDS[lang][state].format(day_words(day, lang) if day else "")
            assert (v["state"], v["word"], v["lang"]) == (state, word, lang), (name, v)
            # The certified facts, labelled in the page's language, in the type's order.
            shown = {k: val for k, val in permit.bundle.facts.items()}
            shown["decisionDate"] = day_words("2026-03-12", lang)
            if "validUntil" in shown:
                shown["validUntil"] = day_words(shown["validUntil"], lang)
            assert v["facts"] == shown, (name, v["facts"])
            assert v["factLabels"] == [
                label
                for label, fact in zip(LABELS[lang], permit_facts("x", validUntil="x"), strict=True)
                if fact in permit.bundle.facts
            ]
            assert COMPARE[lang] in v["factsHeading"]
            assert v["notice"] is not None and v["notice"].startswith(NOTICE[lang])
            # The issuer from the registry; the anchoring time labelled as what it is.
            assert v["issuer"]["name"] == CONTERN.for_language(lang)
            assert v["issuer"]["code"] == CONTERN_CODE
            at = permit.bundle.anchored_at
            assert date_words(at, MONTHS[lang], DAY_END[lang]) in v["issuer"]["anchoredAt"]
            assert RECORDED[lang] in v["issuerText"]
            before, after = HOST[lang]
            assert v["host"] == f"{before}127.0.0.1:{api_server.port}{after}"

        # The reasons and the history, with dates and reason codes in words.
        v = open_verdict(page, verify_url(api_server, docs["suspended"], lang))
        (reason,) = v["reasons"]
        assert reason["key"] == "reason.suspended" and REASONS[lang][0] in reason["text"]
        assert date_words(since, MONTHS[lang], DAY_END[lang]) in reason["text"]
        v = open_verdict(page, verify_url(api_server, docs["revoked"], lang))
        (reason,) = v["reasons"]
        assert reason["key"] == "reason.documentRevoked" and REASONS[lang][1] in reason["text"]
        assert date_words(revoked_at, MONTHS[lang], DAY_END[lang]) in reason["text"]
        v = open_verdict(page, verify_url(api_server, docs["old"], lang))
        (reason,) = v["reasons"]
        assert reason["key"] == "reason.superseded"
        assert date_words(new.bundle.anchored_at, MONTHS[lang], DAY_END[lang]) in reason["text"]
        assert v["successor"] == []  # the server gives no url for it: no link
        v = open_verdict(page, verify_url(api_server, docs["lifted"], lang))
        assert [h["kind"] for h in v["history"]] == ["suspended", "lifted"]
        assert v["history"][0]["text"].startswith(
            date_words(suspended_at, MONTHS[lang], DAY_END[lang])
        )
        assert HISTORY[lang][0] in v["history"][0]["text"]
        assert HISTORY[lang][1] in v["history"][1]["text"]
        assert date_words(lifted_at, MONTHS[lang], DAY_END[lang]) in v["history"][1]["text"]
        v = open_verdict(page, verify_url(api_server, docs["extended"], lang))
        (change,) = v["history"]
        assert change["kind"] == "extended" and HISTORY[lang][2] in change["text"]
        assert day_words(extended_to, lang) in change["text"]

    # The anchoring time is never called a posting date; no name comes from the URL.
    text = page.evaluate("document.body.innerText")
    assert "affiché" not in text.lower()


def test_the_successor_link_when_the_server_gives_its_address(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    """The answer's successor.url becomes a link "Vérifier le nouveau document". The server
    leaves the url null today (it reads the chain only), so the test adds one to the real
    answer through the browser's DevTools Fetch domain (the only mocked part)."""
    old, other = anchor_permits(
        bodies, contern.anchoring, [permit_facts("2026/0301"), permit_facts("2026/0302")]
    )
    (new,) = anchor_permits(bodies, contern.anchoring, [permit_facts("2026/0303")])
    supersede(bodies, contern.id, old, new)
    new_url = verify_url(api_server, new)
    page.send("Fetch.enable", patterns=[{"urlPattern": "*/v1/roots/*", "requestStage": "Response"}])
    page.navigate(verify_url(api_server, old))
    paused = page.wait_for_event("Fetch.requestPaused")["params"]
    raw = page.send("Fetch.getResponseBody", requestId=paused["requestId"])
    body = raw["body"]
    answer = json.loads(base64.b64decode(body).decode() if raw["base64Encoded"] else body)
    (document,) = [d for d in answer["documents"] if d["state"] == "superseded"]
    assert document["successor"]["url"] is None
    document["successor"]["url"] = new_url
    page.send(
        "Fetch.fulfillRequest",
        requestId=paused["requestId"],
        responseCode=200,
        responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
        body=base64.b64encode(json.dumps(answer).encode()).decode(),
    )
    v = wait_verdict(page)
    assert v["state"] == "superseded", v
    assert v["successor"] == [{"href": new_url, "text": "Vérifier le nouveau document"}]
    page.send("Fetch.disable")
    # The other document of the batch is untouched: no successor, no link.
    v = open_verdict(page, verify_url(api_server, other))
    assert (v["state"], v["successor"]) == ("valid", [])


def test_a_transplanted_qr_code_shows_the_facts_of_its_own_document(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    """A genuine code of permit A glued on the poster of permit B: the page shows A's facts
    (genuine and valid), which a neighbour sees differ from B's poster."""
    a, b = anchor_permits(
        bodies,
        contern.anchoring,
        [
            permit_facts("2026/0401", address="1, rue Principale, L-5310 Contern"),
            permit_facts("2026/0402", address="9, rue de Moutfort, L-5310 Contern"),
        ],
    )
    v = open_verdict(page, verify_url(api_server, a))
    assert v["state"] == "valid", v
    assert v["facts"]["reference"] == "2026/0401" == a.bundle.facts["reference"]
    assert v["facts"]["address"] == a.bundle.facts["address"]
    for fact in ("reference", "address", "parcel", "works"):
        assert v["facts"][fact] != b.bundle.facts[fact]
        assert b.bundle.facts[fact] not in page.evaluate("document.body.innerText")


def test_a_forged_fact_is_invalid_facts_changed(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    (permit,) = anchor_permits(bodies, contern.anchoring, [permit_facts("2026/0042")])
    raw = encode_compact(permit.bundle)
    # The reference is the type's first fact: its first occurrence in the payload is it.
    forged = "v2." + bytes_to_digits(raw.replace(b"2026/0042", b"2026/0043", 1))
    for lang, text in (
        ("fr", "Les faits indiqués ou la preuve ont été modifiés"),
        ("de", "Die angegebenen Angaben oder der Nachweis wurden verändert"),
        ("en", "The facts shown or the proof were changed"),
    ):
        v = open_verdict(page, verify_url(api_server, forged, lang))
        assert (v["state"], v["word"]) == ("invalid", WORDS[lang]["invalid"]), v
        assert [r["key"] for r in v["reasons"]] == ["reason.factsChanged"]
        assert v["reasons"][0]["text"].startswith(text)
        assert v["facts"] is None and v["issuer"] is None  # nothing shown as certified
    # The genuine one is valid.
    assert open_verdict(page, verify_url(api_server, permit))["state"] == "valid"


def test_dead_api_and_unreachable_chain_cannot_check_now(
    page: Page, start_server: Any, bodies: Bodies, contern: Body
) -> None:
    (permit,) = anchor_permits(bodies, contern.anchoring, [permit_facts("2026/0500")])
    server = start_server(bodies.registry.w3.provider.endpoint_uri, bodies.registry.address)
    page.navigate(f"{server.url}/verify")
    server.stop()  # the API goes down after the page was served
    page.evaluate(f"location.hash = {permit.fragment!r}")
    v = wait_verdict(page)
    assert (v["state"], v["word"]) == ("unavailable", WORDS["fr"]["unavailable"]), v
    assert [r["key"] for r in v["reasons"]] == ["unavailable.network"] and v["retry"]

    with socket.socket() as s:  # a port nothing listens on: the chain is unreachable
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    chainless = start_server(dead, bodies.registry.address)
    for lang in ("fr", "de", "en"):
        v = open_verdict(page, verify_url(chainless, permit, lang))
        assert (v["state"], v["word"]) == ("unavailable", WORDS[lang]["unavailable"]), v
        assert [r["key"] for r in v["reasons"]] == ["unavailable.chain"] and v["retry"]
        assert v["facts"] is None


def _secrets(permit: Permit) -> list[str]:
    """What would tell which document is checked: leaf, digest, salt, file, private, facts."""
    b = permit.bundle
    values = [b.leaf, b.digest, b.salt, b.file or "", b.private or ""]
    out = []
    for value in values:
        out += [value.lower(), value[2:].lower()]
    for fact in b.facts.values():
        out += [fact, urllib.parse.quote(fact), urllib.parse.quote_plus(fact)]
    out.append(permit.fragment[3:40])  # the proof's digits
    return [s for s in out if s]


def test_the_browser_sends_the_root_only(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    """Every request the page makes (the DevTools network log) carries neither the leaf, the
    digest, the salt nor a fact: the server learns which batch is checked, not which document."""
    permit, _ = anchor_permits(
        bodies, contern.anchoring, [permit_facts("2026/0601"), permit_facts("2026/0602")]
    )
    page.send("Network.enable")
    page.events.clear()
    v = open_verdict(page, verify_url(api_server, permit))
    assert v["state"] == "valid", v
    page.evaluate("1")  # collect the events that arrived meanwhile
    requests = [e["params"] for e in page.events if e["method"] == "Network.requestWillBeSent"]
    extra = [
        e["params"] for e in page.events if e["method"] == "Network.requestWillBeSentExtraInfo"
    ]
    page.send("Network.disable")
    urls = [r["request"]["url"] for r in requests]
    root = permit.bundle.root
    assert f"{api_server.url}/v1/roots/{root}?key={permit.bundle.issuer}" in urls, urls
    assert f"{api_server.url}/v1/document-types" in urls, urls  # the whole list, no type named
    assert all(u.startswith(api_server.url) for u in urls), urls  # no third party
    # What goes on the wire: the URL (the fragment never does: the browser keeps it apart, in
    # request.urlFragment), the headers as sent, and a body.
    sent = [
        [r["request"]["url"], r["request"]["headers"], r["request"].get("postData")]
        for r in requests
    ] + [x["headers"] for x in extra]
    assert extra, "no request headers recorded"
    assert not any("#" in u for u in urls), urls
    everything = json.dumps(sent, ensure_ascii=False)
    for secret in _secrets(permit):
        assert secret not in everything, secret
    assert root in everything  # what the server does learn


@pytest.fixture
def logged_server(
    tmp_path_factory: pytest.TempPathFactory, anvil: Anvil, bodies: Bodies
) -> Iterator[tuple[Server, list[str]]]:
    """The API served by uvicorn with its access log on (INFO), every log line captured."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record) + " " + json.dumps(record.__dict__, default=str))

    handler = Keep()
    names = ("uvicorn.access", "uvicorn.error", "uvicorn", "anchor", "api", "")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG if lg.name != "root" else logging.INFO)
    app = make_app(tmp_path_factory.mktemp("logged"), anvil.url, bodies.registry.address)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="info", access_log=True, log_config=None, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    holder = Server.__new__(Server)  # a `Server` view of it for the helpers (url, port)
    holder.port = sock.getsockname()[1]
    holder.url = f"http://127.0.0.1:{holder.port}"
    yield holder, lines
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_no_access_log_line_holds_a_leaf_or_a_digest(
    page: Page, logged_server: tuple[Server, list[str]], bodies: Bodies, contern: Body
) -> None:
    server, lines = logged_server
    permit, _ = anchor_permits(
        bodies, contern.anchoring, [permit_facts("2026/0701"), permit_facts("2026/0702")]
    )
    v = open_verdict(page, verify_url(server, permit))
    assert v["state"] == "valid", v
    access = [line for line in lines if "/v1/roots/" in line]
    assert access, lines  # the access log is on and captured: the root's request is there
    for secret in _secrets(permit):
        for line in lines:
            assert secret not in line, (secret, line)


def test_phone_width_keyboard_and_headings(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    long = "Transformation et agrandissement " * 8
    (permit,) = anchor_permits(
        bodies, contern.anchoring, [permit_facts("2026/0800", works=long.strip())]
    )
    page.send("Page.enable")
    page.send("Page.addScriptToEvaluateOnNewDocument", source=WATCH_CSP)
    assert open_verdict(page, verify_url(api_server, permit))["state"] == "valid"
    assert page.evaluate("window.__violations") == []  # statement.js and all under the CSP
    headings = page.evaluate(
        "[...document.querySelectorAll('h1, h2')].filter((h) => !h.closest('[hidden]'))"
        ".map((h) => h.tagName + ':' + h.textContent)"
    )
    assert headings == [
        "H1:Vérifier un document officiel",
        "H2:Les faits certifiés",
        "H2:Émetteur (selon le registre)",
        "H2:À savoir",
        "H2:Vérifier le fichier du document",
    ], headings
    assert page.evaluate(
        "(() => { const v = document.getElementById('verdict');"
        " return [v.getAttribute('role'), v.getAttribute('aria-live')]; })()"
    ) == ["status", "polite"]
    page.evaluate("document.getElementById('details').open = true")
    for width in (320, 390):
        page.set_viewport(width, 844, scale=2, mobile=True)
        page.wait_until(f"window.innerWidth === {width}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
    keep_screenshot(page, "verify-permit-phone")


def test_the_permits_file_checked_on_the_device(
    page: Page, api_server: Server, bodies: Bodies, contern: Body, tmp_path: Any
) -> None:
    """A typed document's file is compared with the SHA-256 its statement certifies."""
    a, b = anchor_permits(
        bodies, contern.anchoring, [permit_facts("2026/0901"), permit_facts("2026/0902")]
    )
    mine, other = tmp_path / "permit-a.pdf", tmp_path / "permit-b.pdf"
    mine.write_bytes(a.file)
    other.write_bytes(b.file)
    open_verdict(page, verify_url(api_server, a, "en"))
    page.set_files("#file", [mine])
    page.wait_until(
        "document.getElementById('document-result').dataset.status", check=lambda s: s == "match"
    )
    page.set_files("#file", [other])
    page.wait_until(
        "document.getElementById('document-result').dataset.status",
        check=lambda s: s == "mismatch",
    )
    v = wait_verdict(page)
    assert v["state"] == "invalid" and [r["key"] for r in v["reasons"]] == [
        "reason.documentMismatch"
    ]


def test_a_body_renamed_and_suspended_since_its_permit_stays_valid(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    """The name at the time of issue first, today's beside it; the body's suspension is shown
    and its earlier permit stays valid."""
    (permit,) = anchor_permits(bodies, contern.anchoring, [permit_facts("2026/1001")])
    advance(bodies.w3, 10)
    renamed = Names("Commune de Contern-Moutfort", "Gemeinde Contern-Moutfort", "Contern-Moutfort")
    bodies.rename(contern.id, renamed)
    bodies.set_status(contern.id, BodyStatus.SUSPENDED)
    for lang, status in (
        ("fr", "Cet émetteur est suspendu aujourd\u2019hui."),
        ("de", "Dieser Aussteller ist derzeit gesperrt."),
        ("en", "This issuer is suspended today."),
    ):
        v = open_verdict(page, verify_url(api_server, permit, lang))
        assert v["state"] == "valid", v
        assert v["issuer"]["name"] == CONTERN.for_language(lang)
        assert v["issuer"]["renamed"] == renamed.for_language(lang)
        assert v["issuerStatus"].startswith(status), v["issuerStatus"]
        assert v["facts"]["reference"] == "2026/1001"


def test_a_rate_limited_check_cannot_be_done_now(
    page: Page, api_server: Server, bodies: Bodies, contern: Body
) -> None:
    """The API's 429 (too many checks from one address) is an outage, never "invalid"; the
    429 is answered through DevTools, the limit being raised for these tests (conftest.py)."""
    (permit,) = anchor_permits(bodies, contern.anchoring, [permit_facts("2026/1101")])
    page.send("Fetch.enable", patterns=[{"urlPattern": "*/v1/roots/*"}])
    page.navigate(verify_url(api_server, permit, "en"))
    paused = page.wait_for_event("Fetch.requestPaused")["params"]
    page.send(
        "Fetch.fulfillRequest",
        requestId=paused["requestId"],
        responseCode=429,
        responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
        body=base64.b64encode(b'{"detail": "too many requests from this address"}').decode(),
    )
    v = wait_verdict(page)
    assert (v["state"], v["word"]) == ("unavailable", "CANNOT CHECK NOW"), v
    assert [r["key"] for r in v["reasons"]] == ["unavailable.busy"] and v["retry"]
    page.send("Fetch.disable")
