"""Fuzzing the proof parsers (bundle JSON, compact bytes and text, verification URLs): any input
either parses into a valid bundle or raises `ProofError`, never another exception."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor.errors import ProofError
from anchor.proof.bundle import ProofBundle, parse_bundle
from anchor.proof.compact import (
    decode_compact,
    encode_compact,
    from_text,
    parse_verification_url,
    to_text,
)
from anchor.proof.compact2 import bytes_to_digits
from tests.proof.test_bundle import bundle_dict
from tests.proof.test_compact import bundles

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
FIELDS = list(bundle_dict())


def parses_or_refuses(parse: Any, value: Any) -> ProofBundle | None:
    try:
        bundle = parse(value)
    except ProofError as e:
        assert str(e), "a refusal says why"
        return None
    assert isinstance(bundle, ProofBundle)
    assert parse_bundle(bundle.to_json()) == bundle  # what parses, round-trips
    return bundle


@FUZZ
@given(json_values)
def test_any_json_value_parses_or_is_refused(value: Any) -> None:
    parses_or_refuses(parse_bundle, value)


@FUZZ
@given(st.sampled_from(FIELDS), json_values, st.booleans())
def test_any_single_field_change_parses_or_is_refused(field: str, value: Any, drop: bool) -> None:
    data = bundle_dict()
    if drop:
        del data[field]
    else:
        data[field] = value
    parses_or_refuses(parse_bundle, data)


@FUZZ
@given(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_any_json_text_parses_or_is_refused(raw: bytes) -> None:
    parses_or_refuses(parse_bundle, raw)
    parses_or_refuses(parse_bundle, raw.decode("utf-8", "replace"))


@FUZZ
@given(st.binary(max_size=700))
def test_any_bytes_decode_or_are_refused(raw: bytes) -> None:
    bundle = parses_or_refuses(decode_compact, raw)
    if bundle is not None:
        assert encode_compact(bundle) == raw  # one payload per bundle


@FUZZ
@given(bundles(), st.data())
def test_mutated_payloads_decode_or_are_refused(bundle: ProofBundle, data: st.DataObject) -> None:
    raw = bytearray(encode_compact(bundle))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    extra = data.draw(st.binary(max_size=8))
    parses_or_refuses(decode_compact, bytes(raw) + extra)
    text = "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    parses_or_refuses(from_text, text)


@FUZZ
@given(st.text(max_size=400), st.sampled_from(["", "#", "#v1.", "#v2.", "https://x/verify#v1."]))
def test_any_text_or_url_parses_or_is_refused(text: str, prefix: str) -> None:
    parses_or_refuses(from_text, prefix + text)
    parses_or_refuses(parse_verification_url, prefix + text)


@FUZZ
@given(bundles(), st.text(st.characters(exclude_characters="#"), max_size=40))
def test_urls_around_a_valid_payload(bundle: ProofBundle, junk: str) -> None:
    payload = to_text(bundle)
    assert parse_verification_url(f"https://x/verify?q={junk}#{payload}") == bundle
    parses_or_refuses(parse_verification_url, f"https://x/verify#{payload}{junk}")
    parses_or_refuses(parse_verification_url, f"https://x/verify#{junk}{payload}")


def test_json_corner_cases() -> None:
    for text in ("NaN", "[1e999]", '{"version": 1e400}', '"\\ud800"', "{" * 30 + "}" * 30):
        parses_or_refuses(parse_bundle, text)
    assert json.loads("1e999") == float("inf")


# -- version 2 (typed documents) --------------------------------------------------------------

TYPED = json.loads((Path(__file__).parents[1] / "vectors" / "typed.json").read_text())["valid"]
V2_PAYLOADS = [bytes.fromhex(v["compactHex"]) for v in TYPED]
V2_FIELDS = list(TYPED[0]["bundle"])


@FUZZ
@given(st.sampled_from(V2_PAYLOADS), st.data())
def test_mutated_v2_payloads_decode_or_are_refused(payload: bytes, data: st.DataObject) -> None:
    raw = bytearray(payload)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    raw = raw[:cut] + data.draw(st.binary(max_size=8))
    bundle = parses_or_refuses(decode_compact, bytes(raw))
    if bundle is not None:
        assert encode_compact(bundle) == bytes(raw)  # one payload per bundle
    parses_or_refuses(from_text, "v2." + bytes_to_digits(bytes(raw)))


@FUZZ
@given(st.text(st.sampled_from("0123456789"), max_size=700), st.text(max_size=3))
def test_any_digits_parse_or_are_refused(digits: str, junk: str) -> None:
    parses_or_refuses(from_text, "v2." + digits)
    parses_or_refuses(from_text, "v2." + digits + junk)
    parses_or_refuses(parse_verification_url, "https://x/verify#v2." + digits)


@FUZZ
@given(st.sampled_from([*V2_FIELDS, "issuerName"]), json_values, st.booleans())
def test_any_single_v2_field_change_parses_or_is_refused(
    field: str, value: Any, drop: bool
) -> None:
    data = json.loads(json.dumps(TYPED[0]["bundle"]))
    if drop:
        data.pop(field, None)
    else:
        data[field] = value
    parses_or_refuses(parse_bundle, data)
