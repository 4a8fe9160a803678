"""Bad input answers a 4xx with a message, never a 500, on SQLite and on PostgreSQL (issue 13).

A malformed id, wherever a route takes one, answers exactly like a well-formed id that names
nothing (invariant 7); NUL never reaches the database; odd numbers, deep JSON and extreme
dates are refused with a sentence.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.routing import Route
from world import People, TestClient, World, web_client

from shuttle.messages import authoring
from shuttle.services import Services
from shuttle.web import api, pages
from shuttle.web.app import build_app

API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}
NOT_FOUND = {"error": "not_found", "message": "Not found."}
PLAY = bytes(range(256)) * 400  # stands in for the worker's delivery file
#: Ids that are not ids: NUL, a NUL inside hex, upper case, one digit too many, a superscript, a word.
MALFORMED = ["%00", "0%00" + "a" * 30, "A" * 32, "a" * 33, "%C2%B2", "nothing"]


@dataclass
class Scene:
    svc: Services
    world: World
    people: People
    case_id: str
    letter_id: str
    video_id: str
    staff: TestClient
    author: TestClient

    def csrf(self, client: TestClient) -> str:
        return str(client.headers["X-CSRF-Token"])


def _processed_video(svc: Services, world: World, p: People, case_id: str) -> str:
    return world.processed_video(p, case_id, PLAY)


@pytest.fixture
def scene(svc: Services) -> Iterator[Scene]:
    world = World(svc)
    case_id, p = world.case()
    letter = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,")
    video_id = _processed_video(svc, world, p, case_id)
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.facilitator) as staff, world.sign_in(app, p.harmed) as author:
        yield Scene(svc, world, p, case_id, letter.id, video_id, staff, author)


def _message(answer: Any) -> str:
    """The sentence an answer carries: the JSON message, or the error page's text."""
    if answer.headers.get("content-type", "").startswith("application/json"):
        return str(answer.json()["message"])
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text))


def _refused(answer: Any, *statuses: int) -> str:
    assert answer.status_code in (statuses or (400,)), f"{answer.status_code}: {answer.text[:300]}"
    message = _message(answer)
    assert message.strip(), "a refusal says why"
    return message


# --- malformed ids, in every route that takes one --------------------------------------------------


def _routes_with_ids() -> list[tuple[str, str, Route]]:
    """(method, path template, route) for every route of the app that has an `..._id` in its path."""
    found = []
    for prefix, routes in ((API, api.ROUTES), ("", pages.ROUTES)):
        for route in routes:
            if isinstance(route, Route) and any(name.endswith("_id") for name in route.param_convertors):
                for method in sorted(route.methods or ()):
                    if method != "HEAD" or "GET" not in (route.methods or ()):
                        found.append((method, prefix + route.path, route))
    return found


def _request(scene: Scene, client: TestClient, method: str, template: str, ids: dict[str, str]) -> Any:
    path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ids.get(m.group(1), "submit"), template)
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if template.startswith(API + "/uploads"):
        kwargs["headers"] = TUS | {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    elif method in ("POST", "PUT", "PATCH"):
        if template.startswith(API):
            kwargs["json"] = {}
        else:
            kwargs["data"] = {"csrf_token": scene.csrf(client), "action": "claim"}
    return client.request(method, path, **kwargs)


def _shape(answer: Any) -> tuple[Any, ...]:
    """What an answer says: a JSON body whole; a page's heading and alert (its way-back link names the id)."""
    if not answer.headers.get("content-type", "").startswith("text/html"):
        return answer.status_code, answer.content
    found = [re.search(pattern, answer.text, re.S) for pattern in (r"<h1>(.*?)</h1>", r'role="alert">(.*?)<')]
    return answer.status_code, *(f.group(1).strip() if f else None for f in found)


def test_every_route_answers_a_malformed_id_exactly_like_a_missing_one(scene: Scene) -> None:
    routes = _routes_with_ids()
    assert len(routes) >= 25  # the walk found the app's routes
    for client in (scene.staff, scene.author):
        for method, template, route in routes:
            names = [n for n in route.param_convertors if n.endswith("_id")]
            missing = _request(scene, client, method, template, {n: uuid.uuid4().hex for n in names})
            assert missing.status_code < 500, f"{method} {template}: {missing.status_code}"
            for name in names:
                for bad in MALFORMED:
                    ids = {n: uuid.uuid4().hex for n in names} | {name: bad}
                    answer = _request(scene, client, method, template, ids)
                    assert _shape(answer) == _shape(missing), (
                        f"{method} {template} with {name}={bad!r}: {answer.status_code} {answer.text[:200]}")


def test_nul_ids_named_in_the_issue_answer_404(scene: Scene) -> None:
    staff, author = scene.staff, scene.author
    for client, path in ((staff, f"{API}/messages/%00"), (staff, f"{API}/cases/%00"),
                         (staff, f"{API}/messages/{scene.letter_id}/versions/%00"),
                         (author, f"{API}/messages/%00"), (author, f"{API}/cases/%00")):
        answer = client.get(path)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), path
    assert author.head(f"{API}/uploads/%00", headers=TUS).status_code == 404
    assert staff.get("/staff/messages/%00").status_code == 404
    assert author.get("/me/messages/%00").status_code == 404


def test_the_media_version_query_is_an_id_too(scene: Scene) -> None:
    url = f"{API}/messages/{scene.video_id}/media"
    missing = scene.staff.get(url, params={"version": uuid.uuid4().hex})
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    for bad in ("nothing", "A" * 32, "\u00b2"):
        answer = scene.staff.get(url, params={"version": bad})
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), bad
    assert "NUL" in _refused(scene.staff.get(url + "?version=%00"))


def test_tus_metadata_naming_a_malformed_message_answers_like_a_missing_one(scene: Scene) -> None:
    def create(encoded_id: str) -> Any:
        return scene.author.post(f"{API}/uploads", headers=TUS | {"Upload-Length": "4",
                                                                  "Upload-Metadata": f"message_id {encoded_id}"})

    missing = create(base64.b64encode(uuid.uuid4().hex.encode()).decode())
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    for raw in (b"\x00", b"abc\x00", b"A" * 32):
        answer = create(base64.b64encode(raw).decode())
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), raw


# --- NUL in forms and query strings ------------------------------------------------------------------


def test_nul_in_a_form_field_or_a_query_value_is_refused(scene: Scene) -> None:
    form = {"csrf_token": scene.csrf(scene.staff), "action": "consent", "participant_id": "\x00",
            "kind": "take_part", "granted": "yes"}
    assert "NUL" in _refused(scene.staff.post(f"/staff/cases/{scene.case_id}", data=form, follow_redirects=False))
    assert "NUL" in _refused(scene.staff.get("/staff?tab=%00"))
    assert "NUL" in _refused(scene.author.get(f"/me/messages/{scene.letter_id}?done=%00"))
    assert "NUL" in _refused(scene.staff.get(f"{API}/review-queue?x%00=1"))
    anonymous = web_client(scene.staff.app)
    login = anonymous.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token is not None
    answer = anonymous.post("/login", data={"csrf_token": token.group(1), "username": "fiona\x00",
                                            "password": "anything at all"}, follow_redirects=False)
    assert "NUL" in _refused(answer)


# --- numbers in headers --------------------------------------------------------------------------------

#: Not whole numbers in ASCII digits, though str.isdigit() says they are: '²', '¹³' (as the
#: latin-1 bytes a client can send), and a number longer than int() reads.
ODD_NUMBERS = [b"\xb2", b"\xb9\xb3", b"9" * 5000]


def test_tus_numeric_headers_must_be_ascii_digits(scene: Scene) -> None:
    video = scene.world.do(authoring.start_media, scene.people.harmed, scene.case_id, "video")
    meta = {"Upload-Metadata": "message_id " + base64.b64encode(video.id.encode()).decode()}
    for raw in ODD_NUMBERS:
        headers: dict[str, Any] = {**TUS, **meta, "Upload-Length": raw}
        assert "Upload-Length" in _refused(scene.author.post(f"{API}/uploads", headers=headers))
    created = scene.author.post(f"{API}/uploads", headers=TUS | meta | {"Upload-Length": "4"})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    for raw in ODD_NUMBERS:
        headers = {**TUS, "Upload-Offset": raw, "Content-Type": "application/offset+octet-stream"}
        assert "Upload-Offset" in _refused(scene.author.patch(location, content=b"data", headers=headers))


def test_range_numbers_must_be_ascii_digits(scene: Scene) -> None:
    url = f"{API}/messages/{scene.video_id}/media"
    ignored = scene.staff.get(url, headers={"Range": "bytes=\u00b2-".encode("latin-1")})
    assert ignored.status_code == 200 and ignored.content == PLAY  # a malformed Range is ignored (RFC 9110)
    past_the_end = scene.staff.get(url, headers={"Range": "bytes=" + "9" * 5000 + "-"})
    assert past_the_end.headers["content-range"] == f"bytes */{len(PLAY)}"
    assert str(len(PLAY)) in _refused(past_the_end, 416)
    everything = scene.staff.get(url, headers={"Range": "bytes=-" + "9" * 5000})
    assert everything.status_code == 206 and everything.content == PLAY
    up_to_huge = scene.staff.get(url, headers={"Range": "bytes=10-" + "9" * 5000})
    assert up_to_huge.status_code == 206 and up_to_huge.content == PLAY[10:]


# --- bodies, dates, methods --------------------------------------------------------------------------------


def test_deeply_nested_json_is_refused(scene: Scene) -> None:
    for depth in (64, 330, 5000):
        body = '{"text": "Dear Sam,", "deep": ' + "[" * depth + "]" * depth + "}"
        answer = scene.author.post(f"{API}/cases/{scene.case_id}/messages", content=body,
                                   headers={"Content-Type": "application/json"})
        _refused(answer)
        settings = scene.staff.patch(f"{API}/cases/{scene.case_id}/settings", content=body.replace("text", "x"),
                                     headers={"Content-Type": "application/json"})
        _refused(settings)


@pytest.mark.parametrize(("release_at", "offset"), [("9999-12-31T23:59", "840"), ("0001-01-01T00:00", "-840")])
def test_a_release_time_out_of_range_is_refused(scene: Scene, release_at: str, offset: str) -> None:
    form = {"csrf_token": scene.csrf(scene.staff), "action": "schedule", "release_at": release_at,
            "tz_offset": offset}
    answer = scene.staff.post(f"/staff/messages/{scene.video_id}", data=form, follow_redirects=False)
    assert "release" in _refused(answer).lower()


def test_405_names_the_allowed_methods(scene: Scene) -> None:
    for client, method, path, allowed in (
        (scene.staff, "GET", f"{API}/session", {"POST", "DELETE"}),
        (scene.staff, "PUT", f"{API}/messages/{scene.letter_id}", {"GET", "HEAD"}),
        (scene.author, "DELETE", f"{API}/messages/{scene.letter_id}/draft", {"GET", "HEAD", "PUT"}),
        (scene.staff, "GET", f"{API}/uploads", {"OPTIONS", "POST"}),
        (scene.staff, "DELETE", "/login", {"GET", "HEAD", "POST"}),
        (scene.staff, "PUT", f"/staff/cases/{scene.case_id}", {"GET", "HEAD", "POST"}),
    ):
        answer = client.request(method, path)
        assert answer.status_code == 405, f"{method} {path}: {answer.status_code}"
        assert {m.strip() for m in answer.headers.get("allow", "").split(",") if m.strip()} == allowed, path
        assert _message(answer).strip()
