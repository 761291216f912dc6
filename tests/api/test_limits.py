"""Rate limits: per client address on the public routes and for failed authentications, per
API key on the others; counted in memory, or in the real Redis at 127.0.0.1:6379 where two
application instances share one count."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from anchor.store import Store
from api.config import ApiSettings
from tests.support.api import Keys, MakeClient

REDIS_URL = os.environ.get("ANCHOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = "0x" + "ab" * 32
KEY = {"key": "0x" + "cd" * 20}
URL = {"url": "https://x/verify#v1.AA"}  # refused with 422: cheap, but counted all the same


def first_429(send: object, limit: int = 1000) -> tuple[int, dict[str, str]]:
    """How many calls of ``send`` pass before the first 429, and that answer's headers."""
    for n in range(limit):
        r = send()  # type: ignore[operator]
        if r.status_code == 429:
            return n, dict(r.headers)
    raise AssertionError(f"no 429 in {limit} requests")


def test_default_public_limits_per_client_address(client: TestClient) -> None:
    passed, headers = first_429(lambda: client.post("/v1/verify", json=URL))
    assert passed == 30
    assert 1 <= int(headers["retry-after"]) <= 60
    origin = {"Origin": "https://page.example"}
    passed, headers = first_429(lambda: client.get(f"/v1/roots/{ROOT}", params=KEY, headers=origin))
    assert passed == 120
    assert headers["access-control-allow-origin"] == "*"  # the page on another origin
    assert headers["access-control-expose-headers"] == "Retry-After"  # can read the wait
    r = client.post("/v1/verify", json=URL)
    assert r.status_code == 429 and "from this address" in r.json()["detail"]
    assert client.get("/healthz").status_code == 200  # unlimited
    assert client.get("/verify").status_code == 200


def test_failed_authentications_cost_no_query_past_the_limit(
    client: TestClient, keys: Keys, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = 0
    authenticate = store.authenticate

    def counted(secret: str) -> object:
        nonlocal queries
        queries += 1
        return authenticate(secret)

    assert client.get("/v1/receipts/x", headers=Keys.headers(keys.read)).status_code == 404
    monkeypatch.setattr(store, "authenticate", counted)
    made_up = iter(f"ak_{i:012x}_{uuid.uuid4().hex}" for i in range(10**6))
    passed, headers = first_429(
        lambda: client.get("/v1/receipts/x", headers=Keys.headers(next(made_up)))
    )
    assert passed == 20 and queries == 20
    assert int(headers["retry-after"]) >= 1
    for _ in range(50):
        assert client.get("/v1/receipts/x", headers=Keys.headers(next(made_up))).status_code == 429
    assert queries == 20
    # a key verified moments ago is answered from memory; any other waits like the made-up ones
    assert client.get("/v1/receipts/x", headers=Keys.headers(keys.read)).status_code == 404
    assert client.get("/v1/receipts/x", headers=Keys.headers(keys.both)).status_code == 429
    assert client.get("/v1/receipts/x").status_code == 401  # no key: no query, no count


def test_per_key_limit_keeps_its_burst(make_client: MakeClient, keys: Keys) -> None:
    client = make_client()
    passed, headers = first_429(
        lambda: client.get("/v1/receipts/x", headers=Keys.headers(keys.read))
    )
    assert passed == 100  # ANCHOR_API_RATE_BURST
    assert 1 <= int(headers["retry-after"]) <= 5  # 100 per 5 s: 20 per second sustained
    assert client.get("/v1/receipts/x", headers=Keys.headers(keys.both)).status_code == 404


def test_limit_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        ApiSettings(verify_limit="often")
    assert ApiSettings(verify_limit="5 per second").verify_limit == "5 per second"


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test alone in the real Redis; its keys are deleted afterwards."""
    conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        conn.ping()
    except redis.RedisError as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and Redis at {REDIS_URL} is unreachable: {e}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {e}")
    prefix = f"anchor-test-{uuid.uuid4().hex}"
    yield prefix
    stale = list(conn.scan_iter(f"{prefix}*"))
    if stale:
        conn.delete(*stale)
    conn.close()
    assert stale == [], "the limiter left keys behind after reset()"


def test_two_instances_share_limits_in_redis(
    make_client: MakeClient, keys: Keys, redis_prefix: str
) -> None:
    api = ApiSettings(
        verify_limit="6/minute",
        failed_auth_limit="4/minute",
        rate_burst=6,
        rate_per_second=0.1,
        limit_key_prefix=redis_prefix,
    )
    a = make_client(api, redis_url=REDIS_URL)
    b = make_client(api, redis_url=REDIS_URL)
    assert a.app is not b.app
    codes = [(a if i % 2 else b).post("/v1/verify", json=URL).status_code for i in range(8)]
    assert codes == [422] * 6 + [429, 429]
    conn = redis.Redis.from_url(REDIS_URL)
    assert any(conn.scan_iter(f"{redis_prefix}*"))
    codes = [
        (a if i % 2 else b).get("/v1/receipts/x", headers=Keys.headers(keys.read)).status_code
        for i in range(8)
    ]
    assert codes == [404] * 6 + [429, 429]
    codes = [
        (a if i % 2 else b)
        .get("/v1/receipts/x", headers=Keys.headers("ak_000000000000_x"))
        .status_code
        for i in range(6)
    ]
    assert codes == [401] * 4 + [429, 429]
    for client in (a, b):
        client.app.state.limits.reset()  # type: ignore[attr-defined]
    assert a.post("/v1/verify", json=URL).status_code == 422
    a.app.state.limits.reset()  # type: ignore[attr-defined]


def test_redis_outage_falls_back_to_memory_limits(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(ApiSettings(verify_limit="3/minute"), redis_url="redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING, logger="api.ratelimit"):
        codes = [client.post("/v1/verify", json=URL).status_code for _ in range(5)]
    assert codes == [422] * 3 + [429, 429]
    warnings = [r for r in caplog.records if "fall back to memory" in r.getMessage()]
    assert len(warnings) == 1
