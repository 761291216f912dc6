"""One place that turns errors into HTTP answers, and the error responses of the OpenAPI.

`AnchorError` families map to codes: a malformed digest or proof is 422 (naming the field),
an Idempotency-Key reused for other digests 409, an unknown record 404, the chain or the store
unreachable (or unconfigured) 503. Validation errors keep FastAPI's shape,
``{"detail": [{"loc", "msg", "type"}]}``, without echoing the input back.

A 503 or a 500 tells the client one generic sentence; the error itself (a driver's message
names hosts and ports) goes to the log only.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from anchor.errors import (
    AnchorError,
    ChainError,
    ConfigError,
    InvalidInputError,
    ProofError,
    StoreError,
)
from anchor.proof.qr import QrCapacityError
from anchor.store import IdempotencyConflict, InvalidTransitionError, NoIssuerError, NotFoundError
from anchor.types import InvalidDigestError
from api.schemas import ErrorOut, ReceiptStateError

log = logging.getLogger(__name__)

_DESCRIPTIONS = {
    401: "Missing, unknown or revoked API key",
    403: "The API key lacks the scope of this route",
    404: "Not found (or another integrator's)",
    409: "Conflict with the current state",
    410: "Erased on request",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests (per API key, per client address, or failed authentications)",
    503: "The store or the chain cannot be reached now",
}
_EXAMPLES = {
    401: "the API key is unknown or revoked",
    403: "this API key lacks the 'submit' scope",
    404: "no receipt 'Qm9uam91ciBsZSBtb25kZQ'",
    409: "Idempotency-Key 'order-42' was already used with different digests",
    410: "receipt 'Qm9uam91ciBsZSBtb25kZQ' was erased on request",
    413: "the request body is larger than 2097152 bytes",
    415: "send the file as multipart/form-data with a part named 'file'",
    429: "too many requests with this key; retry in 1 s",
    503: "the chain cannot be reached now",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entries of these error codes, with examples."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": ErrorOut,
            "description": _DESCRIPTIONS[code],
            "content": {"application/json": {"example": {"detail": _EXAMPLES[code]}}},
        }
        if code in _HEADERS:
            entry["headers"] = _HEADERS[code]
        out[code] = entry
    return out


AUTH_ERRORS = (401, 403, 429)


def receipt_state_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entries of 409/410 answers that name the receipt and its status."""
    return {
        code: {"model": ReceiptStateError, "description": _DESCRIPTIONS[code]} for code in codes
    }


_UNAVAILABLE: tuple[tuple[type[AnchorError], str], ...] = (
    (ChainError, "the chain cannot be reached now; retry later"),
    (StoreError, "the store cannot be reached now; retry later"),
    (ConfigError, "the service is not configured for this request; retry later"),
)


def public_detail(error: AnchorError) -> str:
    """The sentence a client may read about an unavailable dependency (no host, no port)."""
    return next(text for kind, text in _UNAVAILABLE if isinstance(error, kind))


def status_of(error: AnchorError) -> int:
    """The HTTP status code of an anchor error."""
    if isinstance(error, InvalidInputError | ProofError):
        return 422
    if isinstance(error, IdempotencyConflict | InvalidTransitionError | QrCapacityError):
        return 409
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, NoIssuerError):
        return 403
    if isinstance(error, ChainError | StoreError | ConfigError):
        return 503
    return 500


def _route(request: Request) -> str:
    """The route template of the request (never the raw path, which may carry a leaf)."""
    route = getattr(request.scope.get("route"), "path", None)
    return f"{request.method} {route or 'unmatched'}"


def _validation_detail(
    loc: list[str | int], msg: str, kind: str
) -> dict[str, list[dict[str, Any]]]:
    return {"detail": [{"loc": loc, "msg": msg, "type": kind}]}


async def _anchor_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnchorError)
    code = status_of(exc)
    if isinstance(exc, InvalidDigestError):
        loc: list[str | int] = ["body", "digests"]
        if exc.index is not None:
            loc.append(exc.index)
        return JSONResponse(_validation_detail(loc, exc.problem, "digest"), status_code=422)
    if isinstance(exc, ProofError):
        return JSONResponse(_validation_detail(["body"], str(exc), "proof"), status_code=422)
    if isinstance(exc, InvalidInputError):
        where: list[str | int] = list(exc.loc) or ["body"]
        return JSONResponse(_validation_detail(where, str(exc), "value_error"), status_code=422)
    if code == 500:
        log.error("unexpected anchor error on %s", _route(request), exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)
    if code == 503:
        log.warning("%s unavailable: %s", _route(request), exc)
        return JSONResponse({"detail": public_detail(exc)}, status_code=503)
    return JSONResponse({"detail": str(exc)}, status_code=code)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")).removeprefix("Value error, "),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's answer to a body its JSON decoder raised on with something other than a
        # JSONDecodeError (not UTF-8, an integer of more than 4300 digits): 422 like the rest.
        msg = "the body is not valid JSON (UTF-8, -16 or -32; integers of at most 4300 digits)"
        return JSONResponse(_validation_detail(["body"], msg, "json_invalid"), status_code=422)
    detail = exc.detail
    if exc.status_code == 413:
        detail = "the request body is too large"
        limit = request.scope.get("starlette.max_body_size")
        if isinstance(limit, int):
            detail = f"the request body is larger than the limit of {limit} bytes"
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


class ReceiptStateHTTPError(Exception):
    """A receipt is in a state that does not allow the request (410 erased, 409 not anchored)."""

    def __init__(self, status_code: int, body: ReceiptStateError) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(body.detail)


async def _receipt_state(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReceiptStateHTTPError)
    content = exc.body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONResponse(content, status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s", _route(request), exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(AnchorError, _anchor_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ReceiptStateHTTPError, _receipt_state)
    app.add_exception_handler(Exception, _unexpected)
