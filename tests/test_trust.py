"""Trusted registries as written in settings and on the command line; the readings cache."""

from __future__ import annotations

import pytest

from anchor.errors import ConfigError
from anchor.settings import load_settings
from anchor.trust import TrustedRegistry, parse_trusted_registries, parse_trusted_registry

A = "0x" + "ab" * 20
B = "0x" + "cd" * 20


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (A, TrustedRegistry(A)),
        (A.upper().replace("0X", "0x"), TrustedRegistry(A)),
        (f"{A}@1337", TrustedRegistry(A, 1337)),
        (f"{A}:..2027-01-01", TrustedRegistry(A, None, None, 1_798_761_600)),
        (f"{A}@5:1700000000..", TrustedRegistry(A, 5, 1_700_000_000, None)),
        (f"{A}:2027-01-01T12:00:00Z..2028-01-01", TrustedRegistry(A, None, 1_798_804_800,
                                                                   1_830_297_600)),
    ],
)  # fmt: skip
def test_parse_trusted_registry(spec: str, expected: TrustedRegistry) -> None:
    assert parse_trusted_registry(spec) == expected
    assert parse_trusted_registry(str(expected)) == expected


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("0x12", "is not written ADDRESS[@CHAIN_ID][:FROM..TO]"),
        (f"{A}@0", "chain id 0"),
        (f"{A}:2027", "must be written FROM..TO"),
        (f"{A}:tomorrow..", "is not a time"),
        (f"{A}:2027-01-01T00:00:00..", "needs a time zone"),
        (f"{A}:2028-01-01..2027-01-01", "ends before it starts"),
    ],
)
def test_malformed_trusted_registries_are_refused(spec: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse_trusted_registry(spec)


def test_periods_and_lists() -> None:
    entry = TrustedRegistry(A, 1, valid_from=10, valid_until=20)
    assert [entry.covers(t) for t in (9, 10, 19, 20)] == [False, True, True, False]
    assert entry.names(1, A.upper().replace("0X", "0x")) and not entry.names(2, A)
    assert parse_trusted_registries(f" {A}, {B}@2\n") == [TrustedRegistry(A), TrustedRegistry(B, 2)]


def test_settings_trust_the_configured_registry_and_the_listed_ones() -> None:
    s = load_settings(registry_address=B, chain_id=7, trusted_registries=f"{A}:..100")
    assert s.trust_list() == (TrustedRegistry(B, 7), TrustedRegistry(A, 7, None, 100))
    bounded = load_settings(registry_address=B, chain_id=7, trusted_registries=f"{B}:50..")
    assert bounded.trust_list() == (TrustedRegistry(B, 7, 50, None),)
    assert load_settings().trust_list() == ()
    with pytest.raises(ConfigError, match="trusted_registries"):
        load_settings(trusted_registries="0xnope")


def test_public_rpc_urls_default_to_the_workers() -> None:
    assert load_settings(rpc_urls="http://a").verification_rpc_urls == ["http://a"]
    both = load_settings(rpc_urls="http://a", public_rpc_urls="http://b, http://c")
    assert both.verification_rpc_urls == ["http://b", "http://c"]
    with pytest.raises(ConfigError, match="must start with http"):
        load_settings(public_rpc_urls="ftp://b")
