"""The OpenAPI document of /api/v1, built from the route table so it cannot drift from it."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route

from shuttle.web.api_docs import DESCRIPTIONS

PARAM = re.compile(r"{(\w+)}")


def _operation(path: str, method: str, endpoint_name: str) -> dict[str, Any]:
    summary, body = DESCRIPTIONS.get(endpoint_name, (endpoint_name.replace("_", " "), None))
    operation: dict[str, Any] = {
        "operationId": f"{endpoint_name}_{method.lower()}",
        "summary": summary,
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in PARAM.findall(path)],
        "responses": {
            "200": {"description": "OK"},
            "400": {"description": "Bad input: the message says what is wrong"},
            "401": {"description": "Not signed in"},
            "404": {"description": "Missing, or not yours to see (answered alike)"},
            "409": {"description": "Stale version or not allowed in the current state"},
        },
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {name: {"type": kind} for name, kind in body.items()}}}}}
    return operation


def document(routes: list[Route], base_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        methods = route.methods or set()
        for method in sorted(methods if methods == {"HEAD"} else methods - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = _operation(route.path, method, route.name)
    return {
        "openapi": "3.1.0",
        "info": {"title": "shuttle API", "version": "1",
                 "description": "Mediated exchange of letters between the sides of a restorative-justice case. "
                                "Sign in with POST /session; send the csrf_token as X-CSRF-Token on every "
                                "other unsafe request."},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "paths": paths,
    }
