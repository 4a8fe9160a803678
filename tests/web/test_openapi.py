"""The OpenAPI document describes exactly the routes the API has."""

from __future__ import annotations

from world import web_client

from shuttle.services import Services
from shuttle.web import api
from shuttle.web.app import build_app


def test_every_api_route_is_documented_and_nothing_else(sqlite_svc: Services) -> None:
    with web_client(build_app(sqlite_svc, check_schema=False)) as client:
        doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = {(method, route.path) for route in api.ROUTES for method in (route.methods or set()) - {"HEAD"}}
    routed |= {("HEAD", route.path) for route in api.ROUTES if route.methods == {"HEAD"}}
    assert documented == routed
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["summary"] and op["summary"].replace(" ", "_") != op["operationId"], (path, op)
