"""The API key dependency: how the header is read, what the OpenAPI document declares, and that
it stays one dependency level (FastAPI solves every level of every route on every request)."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import api.routes
from api.deps import ApiKey
from tests.support.api import Keys

D1 = "cd" * 32


def api_routes() -> list[APIRoute]:
    """Every route of the public application's modules of `api.routes` (paths with the routers'
    prefixes); not `api.routes.internal`, served by the internal port's own application."""
    routes = []
    for module in pkgutil.iter_modules(api.routes.__path__):
        if module.name == "internal":
            continue
        router = getattr(importlib.import_module(f"api.routes.{module.name}"), "router", None)
        if router is not None:
            routes += [r for r in router.routes if isinstance(r, APIRoute)]
    return routes


def test_the_bearer_scheme_is_read_as_rfc_6750_says(client: TestClient, keys: Keys) -> None:
    body = {"digests": [D1]}
    for header in (f"Bearer {keys.submit}", f"bearer {keys.submit}", f"BEARER  {keys.submit} "):
        taken = client.post("/v1/receipts", json=body, headers={"Authorization": header})
        assert taken.status_code == 202, header
    for header in (
        "Bearer",
        "Bearer ",
        keys.submit,
        f"Token {keys.submit}",
        f"Basic {keys.submit}",
    ):
        refused = client.post("/v1/receipts", json=body, headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert "Authorization: Bearer" in refused.json()["detail"]


def test_every_integrator_route_declares_the_api_key_and_no_public_one_does(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]
    assert scheme == {
        "ApiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": scheme["ApiKey"]["description"],
        }
    }
    assert "anchor keys create" in scheme["ApiKey"]["description"]
    keyed = set()
    for route in api_routes():
        if not route.include_in_schema:
            continue
        calls = [d.call for d in route.dependant.dependencies]
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            if any(isinstance(c, ApiKey) for c in calls):
                keyed.add(route.path_format)
                assert operation["security"] == [{"ApiKey": []}], (method, route.path_format)
            else:
                assert "security" not in operation, (method, route.path_format)
    assert {"/v1/receipts", "/v1/receipts/{receipt_id}", "/v1/documents"} <= keyed
    assert not any(path.startswith(("/v1/verify", "/v1/roots")) for path in keyed)


def test_the_key_is_one_dependency_without_sub_dependencies() -> None:
    keyed = 0
    for route in api_routes():
        for dependency in route.dependant.dependencies:
            if isinstance(dependency.call, ApiKey):
                keyed += 1
                assert dependency.dependencies == [], route.path_format
                assert dependency.request_param_name == "request"
    assert keyed >= 10
