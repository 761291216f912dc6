"""The page's issuing body in French, German and English, from the registry v2 only.

The name at issue, the kind and the official code, today's name after a rename, a key that was
not authorised (compromised) at anchoring, a suspended or retired body, an annulled revocation,
and a proof that carries another body's name.
"""

from __future__ import annotations

from typing import Any

import pytest

from anchor.chain.registry import BodyStatus, Kind, Names
from anchor.proof.compact import to_text
from tests.browser.test_verification_page import details_of, keep_screenshot, open_verdict
from tests.support.bodies import (
    CONTERN,
    CONTERN_CODE,
    Bodies,
    advance,
    anchor_documents,
    block_time,
    new_key,
)
from tests.support.browser import Anchored
from tests.support.cdp import Page
from tests.support.chain import Accounts
from tests.support.lookalike import deploy_lookalike, forged_bundle
from tests.support.server import Server

pytestmark = pytest.mark.browser

RENAMED = Names(fr="Commune de Contern-Moutfort", de="Gemeinde Contern-Moutfort",
                en="Municipality of Contern-Moutfort", lb="")  # fmt: skip
LUTINS = Names(fr="Crèche Les Lutins", de="Kinderkrippe Les Lutins",
               en="Les Lutins childcare centre", lb="")  # fmt: skip


def url(server: Server, fragment: str, lang: str) -> str:
    return f"{server.url}/verify?lang={lang}#{fragment}"


def test_the_registrys_name_wins_over_the_name_in_the_proof(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    forged = anchored.bundles[0].model_copy(update={"issuer_name": "Ministère de l'Intérieur"})
    for lang, name, said in (
        ("fr", CONTERN.fr, "Émis par"),
        ("de", CONTERN.de, "Ausgestellt von"),
        ("en", CONTERN.en, "Issued by"),
    ):
        verdict = open_verdict(page, url(api_server, to_text(forged), lang))
        assert verdict["state"] == "valid", verdict
        assert verdict["summary"].startswith(f"{said} {name}. "), verdict
        assert verdict["issuer"]["name"] == name
        assert "Ministère" not in page.evaluate("document.body.textContent")
        assert details_of(page)["issuer"] == name


def test_kind_code_and_a_rename_after_anchoring(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    advance(anchored.bodies.w3, 10)
    anchored.bodies.rename(anchored.body.id, RENAMED)
    expected = {
        "fr": ("Émis par Commune de Contern. ", "Commune", "Commune de Contern-Moutfort",
               "Nom aujourd\u2019hui"),
        "de": ("Ausgestellt von Gemeinde Contern. ", "Gemeinde", "Gemeinde Contern-Moutfort",
               "Name heute"),
        "en": ("Issued by Municipality of Contern. ", "Municipality",
               "Municipality of Contern-Moutfort", "Name today"),
    }  # fmt: skip
    for lang, (summary, kind, renamed, label) in expected.items():
        verdict = open_verdict(page, url(api_server, anchored.fragment(0), lang))
        assert verdict["state"] == "valid", verdict
        assert verdict["summary"].startswith(summary), verdict
        issuer = verdict["issuer"]
        assert (issuer["kind"], issuer["code"]) == (kind, CONTERN_CODE), verdict
        assert issuer["renamed"] == renamed and label in verdict["issuerText"], verdict
        # The name at the time of issue comes first: the one the document was issued under.
        assert issuer["name"] == CONTERN.for_language(lang)
    keep_screenshot(page, "verify-renamed-phone")


def test_a_key_compromised_before_the_anchor_is_not_authorised(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    bundle = anchored.bundles[0]
    anchored.bodies.compromise(anchored.body.anchoring.address, bundle.anchored_at)
    expected = {
        "fr": ("NON VALIDE", "n\u2019était pas autorisée"),
        "de": ("UNGÜLTIG", "nicht dazu berechtigt"),
        "en": ("INVALID", "was not authorised to do so"),
    }
    for lang, (word, text) in expected.items():
        verdict = open_verdict(page, url(api_server, anchored.fragment(0), lang))
        assert (verdict["state"], verdict["word"]) == ("invalid", word), verdict
        assert [r["key"] for r in verdict["reasons"]] == ["reason.notAuthorised"]
        assert text in verdict["reasons"][0]["text"]
        assert verdict["issuer"] is None  # no body is vouched for under an invalid verdict
    keep_screenshot(page, "verify-not-authorised-phone")


SUSPENDED = {"fr": "suspendu aujourd\u2019hui", "de": "derzeit gesperrt", "en": "suspended today"}
RETIRED = {"fr": "a cessé son activité", "de": "Tätigkeit eingestellt", "en": "ceased its activity"}


@pytest.mark.parametrize(
    ("status", "field", "texts"),
    [(BodyStatus.SUSPENDED, "suspended", SUSPENDED), (BodyStatus.RETIRED, "retired", RETIRED)],
)
def test_a_body_suspended_or_retired_after_anchoring_is_shown_and_stays_valid(
    page: Page,
    api_server: Server,
    anchored: Anchored,
    status: BodyStatus,
    field: str,
    texts: dict[str, str],
) -> None:
    anchored.bodies.set_status(anchored.body.id, status)
    for lang, text in texts.items():
        verdict = open_verdict(page, url(api_server, anchored.fragment(1), lang))
        assert verdict["state"] == "valid", verdict
        assert text in verdict["issuerStatus"], verdict
    keep_screenshot(page, f"verify-{field}-phone")


def _lutins(bodies: Bodies, **register: Any) -> Any:
    body = bodies.register(LUTINS, kind=Kind.CHILDCARE, **register)
    return body, anchor_documents(bodies, body.anchoring, [b"Contrat d'accueil 2026-17"])


def test_a_childcare_centre_without_code(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    _, batch = _lutins(anchored.bodies)
    for lang, kind in (
        ("fr", "Crèche / Maison relais"),
        ("de", "Kinderkrippe / Maison relais"),
        ("en", "Childcare centre"),
    ):
        verdict = open_verdict(page, url(api_server, to_text(batch.bundles[0]), lang))
        assert verdict["state"] == "valid", verdict
        assert LUTINS.for_language(lang) in verdict["summary"]
        assert verdict["issuer"]["kind"] == kind and "code" not in verdict["issuer"]


def test_an_annulled_revocation_of_the_batch_does_not_count(
    page: Page, api_server: Server, anchored: Anchored
) -> None:
    status_key = new_key(anchored.bodies.w3)
    body, batch = _lutins(anchored.bodies, status_key=status_key)
    receipt = anchored.bodies.revoke_root(body.id, batch.root, 2, actor=status_key)
    anchored.bodies.compromise(status_key.address, block_time(anchored.bodies.w3, receipt))
    anchored.bodies.annul(body.id, batch.root, bytes(32), 0)
    verdict = open_verdict(page, url(api_server, to_text(batch.bundles[0]), "en"))
    assert verdict["state"] == "valid", verdict
    assert verdict["reasons"] == []


def test_a_proof_of_a_lookalike_registry_never_shows_its_name(
    page: Page, api_server: Server, anchored: Anchored, accounts: Accounts
) -> None:
    """The look-alike answers like a registry and names a ministry; the page asks this site's
    registry only, which never anchored the root, so the forger's name never shows."""
    w3 = anchored.bodies.w3
    lookalike = deploy_lookalike(w3, accounts.other, accounts.issuer.address)
    forged = forged_bundle(w3, lookalike, accounts)
    for lang in ("fr", "de", "en"):
        verdict = open_verdict(page, url(api_server, to_text(forged), lang))
        # This site's registry never anchored the root under the key the proof names.
        assert verdict["state"] == "invalid", verdict
        assert [r["key"] for r in verdict["reasons"]] == ["reason.notAnchored"]
        assert "Minist" not in page.evaluate("document.body.textContent")
