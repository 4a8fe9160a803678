"""The OpenAPI 3.1 document of /api/v1, made from the route table and the typed bodies
(shuttle/web/api_docs.py, shuttle/web/contract.py), so it cannot drift from either."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

from shuttle.web.api_docs import DOCS, Doc
from shuttle.web.contract import ACTION_BODIES, Error, schema_of
from shuttle.web.http import SESSION_COOKIE

PARAM = re.compile(r"{(\w+)}")
#: What every id in an address looks like (shuttle.web.http.ID_SHAPE); any other answers 404.
ID_PATTERN = "^[0-9a-f]{32}$"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Operations anyone may call (shuttle.web.app.SignInFirst lets them through without a session).
PUBLIC = {"openapi_document", "options", "send_referral"}
SIGN_IN = {"login", "login_totp", "redeem_invitation", "set_password", "enrolment_details", "complete_enrolment"}
WORDS = {
    200: "OK", 201: "Created", 204: "Done; no body", 206: "Partial content: the range asked for",
    400: "Bad input: the message says what is wrong ('fields' names each field at fault)",
    401: "Not signed in, or the credentials are wrong", 403: "The X-CSRF-Token header is missing or wrong",
    404: "Missing, or not yours to see (answered alike)", 409: "Stale version or not allowed in the current state",
    410: "Gone: the content was destroyed (crypto-shredded), or the upload expired or was ended",
    412: "Not tus 1.0.0 (Tus-Resumable)",
    413: "The body is larger than this operation takes", 415: "Not a kind of body this operation takes",
    416: "The range starts past the end of the file", 429: "Too many attempts; Retry-After says when to try again",
    460: "The piece's checksum does not match (tus checksum extension)",
    503: "Stored files cannot be reached just now; Retry-After says when to try again",
}


def _statuses(name: str, method: str, doc: Doc) -> set[int]:
    """Every refusal this operation may answer."""
    if name == "openapi_document" or method == "OPTIONS":
        return {400}  # a NUL in the query (shuttle.web.http.EdgeRoute)
    found = {400, 401, 404, 503, *doc.statuses}
    if name not in SIGN_IN and name not in PUBLIC:
        found.add(410)  # any encrypted content read may find it shredded (shuttle.blobs: errors.Destroyed)
    if method in UNSAFE:
        found |= {409} if name in SIGN_IN or name in PUBLIC else {403, 409}
    if doc.body is not None or doc.content:
        found.add(413)
    return found


def _portable(schema: Any) -> Any:
    """A tuple's `prefixItems` as `items` any of them, with its length: what every OpenAPI tool reads
    (schemathesis, for one, rewrites prefixItems into the array form of `items` that 2020-12 refuses)."""
    if isinstance(schema, list):
        return [_portable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    found = {k: _portable(v) for k, v in schema.items()}
    if "prefixItems" in found:
        items = found.pop("prefixItems")
        found |= {"items": {"anyOf": items}, "minItems": len(items), "maxItems": len(items)}
    return found


def _hoist(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The schema with its $defs moved to components (one name, one shape)."""
    schema = _portable(schema)
    for name, shape in schema.pop("$defs", {}).items():
        if components.setdefault(name, shape) != shape:
            raise ValueError(f"two shapes are both called {name} in the API document")
    return schema


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _parameters(path: str, doc: Doc) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in PARAM.findall(path):
        schema: dict[str, Any] = {"type": "string", "pattern": ID_PATTERN} if name.endswith("_id") else {
            "type": "string", "enum": sorted(ACTION_BODIES)} if name == "action" else {"type": "string"}
        found.append({"name": name, "in": "path", "required": True, "schema": schema})
    found += [{"name": name, "in": "query", "required": False, "description": words, "schema": {"type": "string"}}
              for name, words in doc.query.items()]
    found += [{"name": h.name, "in": "header", "required": h.required, "description": h.description,
               "schema": dict(h.schema)} for h in doc.headers]
    return found


def _operation(path: str, method: str, name: str, components: dict[str, Any]) -> dict[str, Any]:
    doc = DOCS.get(name, Doc(name.replace("_", " ")))
    responses: dict[str, Any] = {}
    for status, shape in sorted(doc.answers.items()):
        answer: dict[str, Any] = {"description": WORDS[status]}
        if shape is not None:
            answer["content"] = _json(_hoist(schema_of(shape, "serialization"), components))
        elif status in (200, 206) and method == "GET":
            answer["content"] = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
        if status in doc.answer_headers:
            answer["headers"] = {h.name: {"description": h.description, "schema": dict(h.schema)}
                                 for h in doc.answer_headers[status]}
        responses[str(status)] = answer
    for status in sorted(_statuses(name, method, doc)):
        refusal: dict[str, Any] = {"description": WORDS[status]}
        if method != "HEAD":  # a HEAD answer has no body
            refusal["content"] = _json({"$ref": "#/components/schemas/Error"})
        if status in (429, 503):
            refusal["headers"] = {"Retry-After": {"description": "Seconds to wait before trying again",
                                                  "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
        responses[str(status)] = refusal
    operation: dict[str, Any] = {
        "operationId": f"{name}_{method.lower()}",
        "summary": doc.summary,
        "parameters": _parameters(path, doc),
        "responses": responses,
    }
    if doc.body is not None:
        schema = _hoist(schema_of(doc.body), components)
        operation["requestBody"] = {"required": bool(schema.get("required")), "content": _json(schema)}
    elif doc.content:
        operation["requestBody"] = {"required": method == "PATCH", "content": {
            media_type: {"schema": {"type": "string", "format": "binary", "description": words}}
            for media_type, words in doc.content.items()}}
    if name not in PUBLIC and name not in SIGN_IN:
        operation["security"] = [{"session": []}]
    return operation


def document(routes: Sequence[BaseRoute], base_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    components["Error"] = _hoist(schema_of(Error, "serialization"), components)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        methods = route.methods or set()
        for method in sorted(methods if methods == {"HEAD"} else methods - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = _operation(route.path, method, route.name, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "shuttle API", "version": "1",
                 "description": "Mediated exchange of letters between the sides of a restorative-justice case. "
                                "Sign in with POST /session; send the csrf_token as X-CSRF-Token on every "
                                "other unsafe request."},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                                            "description": "Set by POST /session (and /session/totp for staff)"}},
        },
    }
