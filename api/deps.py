"""`Annotated` dependencies of the routes: the store, the settings, the chain, the caller.

Authentication reads ``Authorization: Bearer <key>``; a missing, unknown or revoked key is 401
with ``WWW-Authenticate: Bearer``, a key without the route's scope is 403, and a key past its
rate is 429 with ``Retry-After``. The ``status`` scope changes documents' statuses on chain
(suspend, lift, revoke, supersede, extend) with the body's status key. The ``admin`` scope
includes the others. A key whose
integrator belongs to no issuing body may read but not submit (403, saying how to make a bound
key). A client address past its limit of failed authentications is 429 for any key not
already verified in memory, before the database is asked. The public routes take
`public_limit` (429 per client address).

A live key is verified against the database once, then trusted from memory for up to
`anchor.store.keys.AUTH_CACHE_SECONDS` (5 s): a revocation through the application's own store
takes effect at once, one made by another process (``anchor keys revoke``) within those 5 s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from anchor.chain.reader import ChainReader
from anchor.settings import Settings
from anchor.store import NoIssuerError, Store
from api.ratelimit import RateLimits

SCOPES = ("submit", "read", "status", "admin")
ADMIN = "admin"

_BEARER_DESCRIPTION = "An API key made with `anchor keys create`: `Authorization: Bearer ak_…`"


@dataclass(frozen=True, slots=True)
class Principal:
    """The integrator behind a request, and the key it used."""

    integrator_id: int
    key_id: int
    scopes: tuple[str, ...]
    issuer_id: int | None = None
    """The integrator's issuing body; None for one made before bodies (it cannot submit)."""


def get_store(request: Request) -> Store:
    """The application's store."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_limits(request: Request) -> RateLimits:
    """The application's rate limits."""
    limits: RateLimits = request.app.state.limits
    return limits


def client_address(request: Request) -> str:
    """The client's address as the server sees it (set uvicorn's proxy headers behind a proxy)."""
    return request.client.host if request.client else "unknown"


def get_chain(request: Request) -> ChainReader:
    """The application's chain reader."""
    chain: ChainReader = request.app.state.chain
    return chain


# The annotated dependencies use `async` twins of the getters: FastAPI runs a plain `def`
# dependency in the thread pool, a hand-off that cost more than the getter itself.
async def _store(request: Request) -> Store:
    return get_store(request)


async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _chain(request: Request) -> ChainReader:
    return get_chain(request)


StoreDep = Annotated[Store, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ChainDep = Annotated[ChainReader, Depends(_chain)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _too_many(detail: str, wait: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"{detail}; retry in {wait} s",
        headers={"Retry-After": str(wait)},
    )


_FAILED_AUTH = "failed-auth"


async def _authenticate(request: Request, token: str | None) -> Principal:
    """The caller of a live API key within its rate; else 401 or 429.

    A key verified in the last few seconds is answered from memory on the event loop; any other
    is read from the database in the thread pool, unless the client address has spent its
    failed authentications (429, no query). See the module's note on revocation.
    """
    if token is None:
        raise _unauthorized("an API key is required: send Authorization: Bearer <key>")
    store = get_store(request)
    limits = get_limits(request)
    key = store.cached_api_key(token)
    if key is None:
        client = client_address(request)
        wait = await limits.check(limits.failed_auth, _FAILED_AUTH, client)
        if wait is not None:
            raise _too_many("too many failed authentications from this address", wait)
        key = await run_in_threadpool(store.authenticate_cached, token)
        if key is None:
            await limits.hit(limits.failed_auth, _FAILED_AUTH, client)
            raise _unauthorized("the API key is unknown or revoked")
    wait = await limits.hit(limits.per_key, "key", str(key.id))
    if wait is not None:
        raise _too_many("too many requests with this key", wait)
    return Principal(key.integrator_id, key.id, key.scopes, key.issuer_id)


def _bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case), or None;
    what `fastapi.security.HTTPBearer` reads, without its credentials object."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class ApiKey(SecurityBase):
    """The dependency of an integrator route: the caller's API key (``Authorization: Bearer``),
    authenticated, within its rate, with ``scope`` (or ``admin``) and, with ``body``, bound to
    an issuing body; else 401, 429 or 403.

    ONE dependency with no sub-dependency (FastAPI computes every dependency's cache key on
    every request: the three levels of key, store and scope were a fifth of a one-digest
    submit's event-loop time). A `SecurityBase`, so the OpenAPI document declares the
    ``ApiKey`` bearer scheme on each route that takes it.
    """

    def __init__(self, scope: str, *, body: bool) -> None:
        """A key with ``scope`` (one of `SCOPES`); with ``body``, whose integrator has a body."""
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.model = HTTPBearerModel(description=_BEARER_DESCRIPTION)
        self.scheme_name = "ApiKey"
        self.scope = scope
        self.body = body

    async def __call__(self, request: Request) -> Principal:
        """The caller, authenticated and admitted; see the class."""
        principal = await _authenticate(request, _bearer_token(request))
        if self.scope not in principal.scopes and ADMIN not in principal.scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"this API key lacks the {self.scope!r} scope"
            )
        if self.body and principal.issuer_id is None:
            detail = str(NoIssuerError(principal.integrator_id))
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)
        return principal


def public_limit(route: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency counting a public route's requests per client address; 429 past them."""

    async def check(request: Request) -> None:
        limits = get_limits(request)
        wait = await limits.hit(limits.public[route], "public", route, client_address(request))
        if wait is not None:
            raise _too_many("too many requests from this address", wait)

    return check


SubmitterDep = Annotated[Principal, Depends(ApiKey("submit", body=True))]
"""A key with the ``submit`` scope whose integrator belongs to a body."""
StatusDep = Annotated[Principal, Depends(ApiKey("status", body=True))]
"""A key with the ``status`` scope whose integrator belongs to a body."""
ReaderDep = Annotated[Principal, Depends(ApiKey("read", body=False))]
"""A key with the ``read`` scope."""
