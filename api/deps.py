"""`Annotated` dependencies of the routes: the store, the settings, the chain, the caller.

Authentication reads ``Authorization: Bearer <key>``; a missing, unknown or revoked key is 401
with ``WWW-Authenticate: Bearer``, a key without the route's scope is 403, and a key past its
rate is 429 with ``Retry-After``. The ``admin`` scope includes the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from anchor.settings import Settings
from anchor.store import Store
from api.chain import ChainReader
from api.config import ApiSettings
from api.ratelimit import TokenBucket

SCOPES = ("submit", "read", "admin")
ADMIN = "admin"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made with `anchor keys create`: `Authorization: Bearer ak_…`",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The integrator behind a request, and the key it used."""

    integrator_id: int
    key_id: int
    scopes: tuple[str, ...]


def get_store(request: Request) -> Store:
    """The application's store."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_api_settings(request: Request) -> ApiSettings:
    """The HTTP layer's settings."""
    api_settings: ApiSettings = request.app.state.api_settings
    return api_settings


def get_chain(request: Request) -> ChainReader:
    """The application's chain reader."""
    chain: ChainReader = request.app.state.chain
    return chain


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
ChainDep = Annotated[ChainReader, Depends(get_chain)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def authenticate(
    request: Request,
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of a live API key, within its rate; else 401 or 429."""
    if credentials is None:
        raise _unauthorized("an API key is required: send Authorization: Bearer <key>")
    key = store.authenticate(credentials.credentials)
    if key is None:
        raise _unauthorized("the API key is unknown or revoked")
    limiter: TokenBucket = request.app.state.limiter
    wait = limiter.take(key.id)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many requests with this key; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return Principal(key.integrator_id, key.id, key.scopes)


IntegratorDep = Annotated[Principal, Depends(authenticate)]


def require(scope: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only keys with ``scope`` (or ``admin``); else 403."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def check(principal: IntegratorDep) -> Principal:
        if scope not in principal.scopes and ADMIN not in principal.scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"this API key lacks the {scope!r} scope"
            )
        return principal

    return check


SubmitterDep = Annotated[Principal, Depends(require("submit"))]
ReaderDep = Annotated[Principal, Depends(require("read"))]
