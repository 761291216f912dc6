"""The citizens' verification page in headless Chromium, against the real API and a real chain.

Each test anchors a small batch on the session's anvil node (see conftest.py), opens
``/verify#v1.<payload>`` served by `api.app.create_app`, and reads the verdict the page shows.
"""

from __future__ import annotations

import base64
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import encode_compact
from tests.support.bodies import CONTERN, CONTERN_CODE
from tests.support.browser import ISSUER_NAME, Anchored
from tests.support.cdp import Page
from tests.support.server import Server

pytestmark = pytest.mark.browser
LUXEMBOURG = ZoneInfo("Europe/Luxembourg")

FR_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
DE_MONTHS = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
EN_MONTHS = "January February March April May June July August September October November December"


def _read_verdict(page: Page) -> dict[str, Any]:
    return page.evaluate(
        """(() => {
          const box = document.getElementById("verdict");
          return {
            state: box.dataset.state,
            word: document.getElementById("verdict-text").textContent,
            summary: document.getElementById("verdict-summary").textContent,
            reasons: [...document.querySelectorAll("#verdict-reasons li")].map(
              (li) => ({key: li.dataset.reason, text: li.textContent})),
            facts: document.getElementById("facts").hidden ? null : Object.fromEntries(
              [...document.querySelectorAll("#facts-list dd")].map(
                (dd) => [dd.dataset.field, dd.textContent])),
            factLabels: [...document.querySelectorAll("#facts-list dt")].map(
              (dt) => dt.textContent),
            factsHeading: document.getElementById("facts").innerText,
            issuer: document.getElementById("issuer").hidden ? null : Object.fromEntries(
              [...document.querySelectorAll("#issuer-list dd")].map(
                (dd) => [dd.dataset.field, dd.textContent])),
            issuerText: document.getElementById("issuer").innerText,
            issuerStatus: document.getElementById("issuer-status").hidden ? null
              : document.getElementById("issuer-status").textContent,
            notice: document.getElementById("notice-card").hidden ? null
              : document.getElementById("notice").textContent,
            history: [...document.querySelectorAll("#history-list li")].map(
              (li) => ({kind: li.dataset.kind, text: li.textContent})),
            successor: [...document.querySelectorAll("#verdict-successor a")].map(
              (a) => ({href: a.href, text: a.textContent})),
            host: document.getElementById("host").textContent,
            retry: !document.getElementById("retry").hidden,
            lang: document.documentElement.lang,
            title: document.title,
          };
        })()"""
    )


def open_verdict(page: Page, url: str) -> dict[str, Any]:
    """Load ``url`` and return the verdict once it is no longer "checking"."""
    page.navigate(url)
    return wait_verdict(page)


def wait_verdict(page: Page) -> dict[str, Any]:
    """Wait until the page has decided, and return what it shows."""
    page.wait_until(
        "document.getElementById('verdict').dataset.state",
        check=lambda state: state not in (None, "checking"),
    )
    return _read_verdict(page)


def date_words(timestamp: int, months: str, day_end: str = "") -> str:
    """Day, month name and year of ``timestamp`` as the page shows them (Luxembourg's time)."""
    when = datetime.fromtimestamp(timestamp, LUXEMBOURG)
    return f"{when.day}{day_end} {months.split()[when.month - 1]} {when.year}"


def keep_screenshot(page: Page, name: str) -> None:
    """Save a phone-sized screenshot to $ANCHOR_SCREENSHOT_DIR, when set (for a visual check)."""
    if target := os.environ.get("ANCHOR_SCREENSHOT_DIR"):
        page.set_viewport(390, 844, scale=2, mobile=True)
        page.wait_until("window.innerWidth === 390")
        page.screenshot(Path(target) / f"{name}.png")


def text_of(bundle: ProofBundle, payload: bytes | None = None) -> str:
    raw = encode_compact(bundle) if payload is None else payload
    return "v1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def details_of(page: Page) -> dict[str, str]:
    """The technical details the page lists, by field."""
    details: dict[str, str] = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#details-list dd[data-field]')]"
        ".map((dd) => [dd.dataset.field, dd.textContent]))"
    )
    return details


def test_valid_proof_shows_valid_with_issuer_and_date(
    page: Page, api_server: Server, anchored: Anchored, tmp_path: Path
) -> None:
    bundle = anchored.bundles[0]
    verdict = open_verdict(page, f"{api_server.url}/verify#{anchored.fragment(0)}")

    assert verdict["state"] == "valid", verdict
    assert verdict["word"] == "VALIDE"
    assert verdict["lang"] == "fr"
    assert verdict["summary"] == f"Émis par {ISSUER_NAME}. Le document est en vigueur."
    assert verdict["reasons"] == []
    assert verdict["facts"] is None  # a version 1 proof certifies a file, no facts
    issuer = verdict["issuer"]
    assert issuer["name"] == ISSUER_NAME and "renamed" not in issuer
    assert issuer["kind"] == "Commune" and issuer["code"] == CONTERN_CODE
    assert date_words(bundle.anchored_at, FR_MONTHS) in issuer["anchoredAt"]
    assert "Enregistré dans le registre le" in verdict["issuerText"]
    details = details_of(page)
    assert details["issuer"] == ISSUER_NAME
    assert details["kind"] == "Commune" and details["code"] == CONTERN_CODE
    assert details["bodyId"] == str(anchored.body.id) and details["bodyStatus"] == "actif"
    assert details["key"] == bundle.issuer
    assert details["txHash"] == bundle.tx_hash
    assert details["blockNumber"] == str(bundle.block_number)
    assert details["registry"] == bundle.registry
    assert details["chainId"] == "31337"
    assert details["root"] == bundle.root
    assert details["leaf"] == bundle.leaf
    assert details["leafCount"] == "3"

    # On phones: nothing wider than the screen (long hex values wrap), and a screenshot.
    page.evaluate("document.getElementById('details').open = true")
    for width in (320, 390):
        page.set_viewport(width, 844, scale=2, mobile=True)
        page.wait_until(f"window.innerWidth === {width}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
    page.screenshot(tmp_path / "verify-valid-phone.png")
    keep_screenshot(page, "verify-valid-phone")


def test_every_document_of_the_batch_is_valid(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    for index in (1, 2):
        verdict = open_verdict(page, f"{api_server.url}/verify#{anchored.fragment(index)}")
        assert verdict["state"] == "valid", (index, verdict)


def test_tampered_proof_is_invalid_root_unknown(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    bundle = anchored.bundles[0]
    payload = bytearray(encode_compact(bundle))
    payload[len(payload) - 32] ^= 0x80  # a bit of the last proof sibling
    verdict = open_verdict(page, f"{api_server.url}/verify#{text_of(bundle, bytes(payload))}")

    assert verdict["state"] == "invalid", verdict
    assert verdict["word"] == "NON VALIDE"
    assert [r["key"] for r in verdict["reasons"]] == ["reason.notAnchored"]
    assert "racine inconnue" in verdict["reasons"][0]["text"]


def test_a_proof_naming_another_registry_is_invalid(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    """The page trusts this site's registry only: a proof naming another (its root anchored
    here all the same) is not recognised."""
    bundle = anchored.bundles[0]
    other = bundle.model_copy(update={"registry": "0x" + "42" * 20})
    verdict = open_verdict(page, f"{api_server.url}/verify?lang=en#{text_of(other)}")
    assert (verdict["state"], verdict["word"]) == ("invalid", "INVALID"), verdict
    assert [r["key"] for r in verdict["reasons"]] == ["reason.otherRegistry"]
    assert verdict["issuer"] is None


def test_malformed_fragment_is_invalid(page: Page, api_server: Server, anchored: Anchored) -> None:
    truncated = anchored.fragment(0)[:-10]
    verdict = open_verdict(page, f"{api_server.url}/verify#{truncated}")
    assert verdict["state"] == "invalid"
    assert [r["key"] for r in verdict["reasons"]] == ["reason.malformed"]


def test_revoked_document_is_revoked_with_date_and_reason(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    bundle = anchored.bundles[0]
    receipt = anchored.bodies.revoke_document(
        anchored.body.id, bundle.root_bytes, list(bundle.proof_bytes), bundle.leaf_bytes, 1
    )  # 1: superseded, "replaced by a new document" (docs/operations.md)
    revoked_at = anchored.registry.w3.eth.get_block(receipt["blockNumber"])["timestamp"]  # type: ignore[arg-type]

    verdict = open_verdict(page, f"{api_server.url}/verify#{anchored.fragment(0)}")
    assert verdict["state"] == "revoked", verdict
    assert verdict["word"] == "RÉVOQUÉ"
    assert [r["key"] for r in verdict["reasons"]] == ["reason.documentRevoked"]
    text = verdict["reasons"][0]["text"]
    assert "remplacé par un nouveau document" in text
    assert date_words(revoked_at, FR_MONTHS) in text
    keep_screenshot(page, "verify-revoked-phone")

    # The other documents of the batch are still valid.
    other = open_verdict(page, f"{api_server.url}/verify#{anchored.fragment(1)}")
    assert other["state"] == "valid", other


def test_revoked_batch_is_revoked(page: Page, api_server: Server, anchored: Anchored) -> None:
    bundle = anchored.bundles[1]
    anchored.bodies.revoke_root(anchored.body.id, bundle.root_bytes, 7)
    verdict = open_verdict(page, f"{api_server.url}/verify?lang=en#{anchored.fragment(1)}")
    assert verdict["state"] == "revoked"
    assert verdict["word"] == "REVOKED"
    assert [r["key"] for r in verdict["reasons"]] == ["reason.rootRevoked"]
    assert "Reason: code 7." in verdict["reasons"][0]["text"]


def test_api_down_cannot_check_now(
    page: Page, start_server: Any, anchored: Anchored, anvil: Any
) -> None:
    server = start_server(anvil.url, anchored.registry.address)
    page.navigate(f"{server.url}/verify")
    assert _read_verdict(page)["state"] == "none"
    server.stop()  # the API goes down after the page was served
    page.evaluate(f"location.hash = {anchored.fragment(0)!r}")

    verdict = wait_verdict(page)
    assert verdict["state"] == "unavailable", verdict
    assert verdict["word"] == "VÉRIFICATION IMPOSSIBLE POUR LE MOMENT"
    assert [r["key"] for r in verdict["reasons"]] == ["unavailable.network"]
    assert verdict["retry"]
    keep_screenshot(page, "verify-down-phone")


def test_chain_unreachable_cannot_check_now(
    page: Page, start_server: Any, anchored: Anchored
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    server = start_server(dead, anchored.registry.address)

    verdict = open_verdict(page, f"{server.url}/verify?lang=de#{anchored.fragment(0)}")
    assert verdict["state"] == "unavailable", verdict
    assert verdict["word"] == "PRÜFUNG DERZEIT NICHT MÖGLICH"
    assert [r["key"] for r in verdict["reasons"]] == ["unavailable.chain"]


def test_foreign_404_cannot_check_now(page: Page, api_server: Server, anchored: Anchored) -> None:
    """A 404 that is not the API's own (a proxy, the page deployed without the API) is no proof
    that the root is unknown: the page cannot check, it does not say invalid."""
    page.send("Fetch.enable", patterns=[{"urlPattern": "*/v1/roots/*"}])
    page.navigate(f"{api_server.url}/verify?lang=en#{anchored.fragment(0)}")
    paused = page.wait_for_event("Fetch.requestPaused")
    page.send(
        "Fetch.fulfillRequest",
        requestId=paused["params"]["requestId"],
        responseCode=404,
        responseHeaders=[{"name": "Content-Type", "value": "text/html"}],
        body=base64.b64encode(b"<h1>404 Not Found</h1>").decode(),
    )
    verdict = wait_verdict(page)
    assert verdict["state"] == "unavailable", verdict
    assert verdict["word"] == "CANNOT CHECK NOW"
    assert [r["key"] for r in verdict["reasons"]] == ["reason.unexpectedAnswer"]


def test_document_check_match_and_mismatch(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    verdict = open_verdict(page, f"{api_server.url}/verify?lang=en#{anchored.fragment(0)}")
    assert verdict["state"] == "valid"
    assert page.evaluate("document.getElementById('document').hidden") is False

    page.set_files("#file", [anchored.files[0]])
    page.wait_until(
        "document.getElementById('document-result').dataset.status",
        check=lambda s: s == "match",
    )
    verdict = _read_verdict(page)
    assert verdict["state"] == "valid"
    assert "The file you chose is this very document." in verdict["summary"]

    page.set_files("#file", [anchored.files[1]])  # another document of the same batch
    page.wait_until(
        "document.getElementById('document-result').dataset.status",
        check=lambda s: s == "mismatch",
    )
    verdict = _read_verdict(page)
    assert verdict["state"] == "invalid"
    assert [r["key"] for r in verdict["reasons"]] == ["reason.documentMismatch"]
    assert "does not match" in verdict["reasons"][0]["text"]
    assert anchored.files[1].name in verdict["reasons"][0]["text"]


def press_enter_on(page: Page, selector: str) -> None:
    """Focus ``selector`` and press Enter with the keyboard (no mouse)."""
    page.evaluate(f"document.querySelector({selector!r}).focus()")
    for kind in ("keyDown", "keyUp"):
        page.send(
            "Input.dispatchKeyEvent",
            type=kind,
            key="Enter",
            code="Enter",
            windowsVirtualKeyCode=13,
            **({"text": "\r"} if kind == "keyDown" else {}),
        )


def test_language_switch_fr_default_then_de_remembered_then_en(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    bundle = anchored.bundles[0]
    url = f"{api_server.url}/verify#{anchored.fragment(0)}"
    verdict = open_verdict(page, url)
    assert (verdict["lang"], verdict["word"]) == ("fr", "VALIDE")
    assert verdict["title"].startswith("VALIDE")

    press_enter_on(page, "button[data-lang=de]")
    page.wait_until("document.documentElement.lang", check=lambda lang: lang == "de")
    verdict = _read_verdict(page)
    assert verdict["word"] == "GÜLTIG"
    assert date_words(bundle.anchored_at, DE_MONTHS, ".") in verdict["issuer"]["anchoredAt"]
    assert f"Ausgestellt von {CONTERN.de}" in verdict["summary"]  # the registry's German name
    pressed = page.evaluate(
        "[...document.querySelectorAll('button[data-lang]')]"
        ".map((b) => b.dataset.lang + ':' + b.getAttribute('aria-pressed'))"
    )
    assert pressed == ["fr:false", "de:true", "en:false"]

    # The choice is remembered (localStorage) across a reload...
    verdict = open_verdict(page, url)
    assert (verdict["lang"], verdict["word"]) == ("de", "GÜLTIG")
    # ...and ?lang= wins over it.
    verdict = open_verdict(page, f"{api_server.url}/verify?lang=en#{anchored.fragment(0)}")
    assert (verdict["lang"], verdict["word"]) == ("en", "VALID")
    assert date_words(bundle.anchored_at, EN_MONTHS) in verdict["issuer"]["anchoredAt"]


def test_keyboard_order_and_live_verdict(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    """Tab reaches every control in reading order; the verdict is a polite live region."""
    open_verdict(page, f"{api_server.url}/verify#{anchored.fragment(0)}")
    assert page.evaluate(
        "(() => { const v = document.getElementById('verdict');"
        " return [v.getAttribute('role'), v.getAttribute('aria-live')]; })()"
    ) == ["status", "polite"]
    reached = []
    for _ in range(5):
        for kind in ("keyDown", "keyUp"):
            page.send(
                "Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9
            )
        reached.append(
            page.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.id || e.dataset.lang || e.tagName.toLowerCase(); })()"
            )
        )
    assert reached == ["fr", "de", "en", "file", "summary"]
    # The focused (visually hidden) file input shows its focus ring on its visible label.
    page.evaluate("document.getElementById('file').focus()")
    outline = page.evaluate(
        "getComputedStyle(document.querySelector('label[for=file]')).outlineStyle"
    )
    assert outline == "solid"


def test_page_decoder_agrees_with_python(page: Page, api_server: Server) -> None:
    """The page's decoder reads what anchor.proof.compact writes and refuses what it refuses."""
    from anchor.errors import ProofError
    from anchor.merkle.hashing import fold_proof, leaf_hash
    from anchor.proof.compact import from_text

    page.navigate(f"{api_server.url}/verify")
    cases: list[str] = []
    for n in (0, 1, 5, 32):
        salt, digest = os.urandom(32), os.urandom(32)
        proof = [os.urandom(32) for _ in range(n)]
        leaf = leaf_hash(salt, digest)
        bundle = ProofBundle(
            version=1,
            digest="0x" + digest.hex(),
            salt="0x" + salt.hex(),
            leaf="0x" + leaf.hex(),
            proof=tuple("0x" + p.hex() for p in proof),
            root="0x" + fold_proof(leaf, proof).hex(),
            chain_id=2**63 + n,
            registry="0x" + os.urandom(20).hex(),
            tx_hash="0x" + os.urandom(32).hex(),
            block_number=2**40 + n,
            issuer="0x" + os.urandom(20).hex(),
            anchored_at=1_772_534_460 + n,
            issuer_name="Ville d\u2019Esch-sur-Alzette \u2713" if n % 2 else None,
        )
        raw = encode_compact(bundle)
        cases += [
            text_of(bundle),
            text_of(bundle, raw + b"\x00"),  # trailing byte
            text_of(bundle, raw[:-1]),  # truncated
            text_of(bundle, b"\xa2" + raw[1:]),  # version 2
            text_of(bundle, raw[:1] + b"\x02" + raw[2:]),  # unknown flag
        ]
    cases += ["v1.oQ", "v1.o", "v1.oR", "v1.*", "v2.oQ", "x"]
    decoded = page.evaluate(
        f"""{cases!r}.map((text) => {{
          try {{
            const b = window.anchorVerify.fromText(text);
            return {{ok: true, leaf: b.leaf, root: b.root, digest: b.digest, salt: b.salt,
                     proof: b.proof, chainId: b.chainId.toString(), registry: b.registry,
                     txHash: b.txHash, blockNumber: b.blockNumber.toString(), issuer: b.issuer,
                     anchoredAt: b.anchoredAt.toString(), issuerName: b.issuerName}};
          }} catch (e) {{ return {{ok: false, error: e.name, version: e.version}}; }}
        }})"""
    )
    for text, got in zip(cases, decoded, strict=True):
        try:
            expected = from_text(text)
        except ProofError:
            assert got["ok"] is False, (text, got)
            assert got["error"] == "ProofFormatError"
            continue
        assert got["ok"], (text, got)
        assert got == {
            "ok": True,
            "leaf": expected.leaf,
            "root": expected.root,
            "digest": expected.digest,
            "salt": expected.salt,
            "proof": list(expected.proof),
            "chainId": str(expected.chain_id),
            "registry": expected.registry,
            "txHash": expected.tx_hash,
            "blockNumber": str(expected.block_number),
            "issuer": expected.issuer,
            "anchoredAt": str(expected.anchored_at),
            "issuerName": expected.issuer_name,
        }


def test_the_browsers_language_then_french(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    """Without ?lang or a saved choice the page speaks the browser's language when it has it,
    else French."""
    from tests.browser.conftest import browser_language

    url = f"{api_server.url}/verify#{anchored.fragment(0)}"
    browser_language(page, "de-LU,de;q=0.9")
    assert open_verdict(page, url)["lang"] == "de"
    browser_language(page, "pt-PT,lb;q=0.9")  # neither is on the page: French
    verdict = open_verdict(page, url)
    assert (verdict["lang"], verdict["word"]) == ("fr", "VALIDE")
