"""The OpenAPI document describes exactly the routes the API has, with their bodies, answers, statuses and headers."""

from __future__ import annotations

from typing import Any

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


def _document(svc: Services) -> dict[str, Any]:
    with web_client(build_app(svc, check_schema=False)) as client:
        found: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return found


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    return _resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])


def _answer(doc: dict[str, Any], op: dict[str, Any], status: str) -> dict[str, Any]:
    return _resolve(doc, op["responses"][status]["content"]["application/json"]["schema"])


def test_bodies_declare_their_required_fields_and_types(sqlite_svc: Services) -> None:
    doc = _document(sqlite_svc)
    login = _body(doc, doc["paths"]["/session"]["post"])
    assert set(login["required"]) == {"username", "password"} and login["additionalProperties"] is False
    status = _body(doc, doc["paths"]["/cases/{case_id}/status"]["post"])
    assert status["required"] == ["status"]
    assert status["properties"]["reason"]["maxLength"] == 500
    assert doc["paths"]["/cases/{case_id}/status"]["post"]["requestBody"]["required"] is True
    consent = _body(doc, doc["paths"]["/cases/{case_id}/participants/{participant_id}/consents"]["post"])
    assert set(consent["required"]) == {"kind", "granted"} and consent["properties"]["granted"]["type"] == "boolean"
    # nothing is required to open a message: its body may be left out
    assert doc["paths"]["/messages/{message_id}/open"]["post"]["requestBody"]["required"] is False


def test_answers_declare_their_shape_per_status(sqlite_svc: Services) -> None:
    doc = _document(sqlite_svc)
    me = _answer(doc, doc["paths"]["/me"]["get"], "200")
    assert set(me["required"]) == {"account_id", "role", "cases"}
    invitation = doc["paths"]["/cases/{case_id}/participants/{participant_id}/invitation"]["post"]["responses"]
    assert "201" in invitation and "200" not in invitation
    assert set(_answer(doc, doc["paths"]["/cases/{case_id}/participants/{participant_id}/invitation"]["post"],
                       "201")["required"]) == {"participant_id", "username", "code", "expires_at"}
    message = _answer(doc, doc["paths"]["/messages/{message_id}"]["get"], "200")
    assert len(message["anyOf"]) == 3  # as its author, its recipient and staff see it
    error = _answer(doc, doc["paths"]["/me"]["get"], "404")
    assert set(error["required"]) == {"error", "message"}


def test_every_status_each_operation_answers_is_declared(sqlite_svc: Services) -> None:
    doc = _document(sqlite_svc)

    def statuses(path: str, method: str) -> set[str]:
        return set(doc["paths"][path][method]["responses"])

    assert statuses("/session", "post") >= {"200", "400", "401", "413", "429"}
    assert statuses("/cases/{case_id}/messages", "post") >= {"201", "400", "401", "403", "404", "409", "413", "503"}
    assert statuses("/uploads/{upload_id}", "patch") >= {"204", "409", "410", "412", "413", "415", "460"}
    assert statuses("/messages/{message_id}/media", "get") >= {"200", "206", "404", "416"}
    assert statuses("/messages/{message_id}/media", "put") >= {"201", "413", "415"}
    assert statuses("/messages/{message_id}/draft/flags", "get") >= {"200", "429"}
    assert statuses("/referrals", "post") >= {"201", "400", "429"}
    assert "403" not in statuses("/me", "get")  # CSRF is checked on unsafe methods only
    assert "410" in statuses("/messages/{message_id}", "get")  # its words may have been destroyed
    assert "410" not in statuses("/session", "post")
    assert "Retry-After" in doc["paths"]["/session"]["post"]["responses"]["429"]["headers"]


def test_tus_range_and_id_parameters_are_declared(sqlite_svc: Services) -> None:
    doc = _document(sqlite_svc)

    def parameters(path: str, method: str) -> dict[tuple[str, str], dict[str, Any]]:
        return {(p["in"], p["name"]): p for p in doc["paths"][path][method]["parameters"]}

    create = parameters("/uploads", "post")
    assert create[("header", "Tus-Resumable")]["required"] and ("header", "Upload-Length") in create
    # creation-defer-length: Upload-Length or Upload-Defer-Length, so neither is required alone
    assert not create[("header", "Upload-Length")]["required"] and ("header", "Upload-Defer-Length") in create
    assert ("header", "Upload-Metadata") in create
    patch = parameters("/uploads/{upload_id}", "patch")
    assert patch[("header", "Upload-Offset")]["required"] and ("header", "Upload-Checksum") in patch
    assert patch[("path", "upload_id")]["schema"]["pattern"] == "^[0-9a-f]{32}$"
    assert "application/offset+octet-stream" in doc["paths"]["/uploads/{upload_id}"]["patch"]["requestBody"]["content"]
    created = doc["paths"]["/uploads"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Upload-Offset", "Tus-Resumable"} <= set(created)
    media = parameters("/messages/{message_id}/media", "get")
    assert {("header", "Range"), ("header", "If-Range"), ("query", "version")} <= set(media)
    partial = doc["paths"]["/messages/{message_id}/media"]["get"]["responses"]["206"]["headers"]
    assert "Content-Range" in partial
    action = parameters("/messages/{message_id}/actions/{action}", "post")[("path", "action")]["schema"]
    assert {"submit", "approve", "recall"} <= set(action["enum"])
