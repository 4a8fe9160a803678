"""A letter's whole journey through the JSON API, and the API's answers to bad requests.

Everything goes over HTTP (starlette's TestClient against `build_app`), on SQLite and
PostgreSQL; only the worker is run directly, as `World.run_jobs`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from world import People, TestClient, World, web_client

from shuttle.accounts.service import current_totp
from shuttle.services import Services
from shuttle.web.app import build_app

API = "/api/v1"
LETTER = "Dear Sam,\u200b I want you to know how that night changed things.\r\nCall me on 07700 900123."
NOT_FOUND = {"error": "not_found", "message": "Not found."}
#: `in_reply_to`: the id of a message of the recipient's own side that it answers, or null (issue 12).
RECIPIENT_VIEW_KEYS = {"id", "case_id", "kind", "from", "by_proxy", "delivered_at", "opened", "in_reply_to"}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _act(client: TestClient, message_id: str, action: str, **body: Any) -> Any:
    return client.post(f"{API}/messages/{message_id}/actions/{action}", json=body)


def _nothing_for(client: TestClient, case_id: str, message_id: str) -> None:
    """The other side cannot learn that the message exists: no list entry, and 404 like a wrong id."""
    assert _ok(client.get(f"{API}/cases/{case_id}/messages")) == []
    for path in (f"/messages/{message_id}", f"/messages/{uuid.uuid4().hex}"):
        answer = client.get(API + path)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    answer = client.post(f"{API}/messages/{message_id}/open", json={})
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)


def test_letter_travels_over_the_api_only_through_review(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    totp_secret = world.enable_totp(p.facilitator)
    app = build_app(svc, check_schema=False)
    harmed = world.sign_in(app, p.harmed)
    responsible = world.sign_in(app, p.responsible)

    # The facilitator signs in in two steps; the half-way session opens nothing.
    facilitator = web_client(app)
    first = _ok(facilitator.post(f"{API}/session", json={"username": world.username(p.facilitator),
                                                          "password": World.PASSWORD}))
    assert first["stage"] == "totp"
    assert facilitator.get(f"{API}/review-queue").status_code == 401
    now = svc.now()
    valid = {current_totp(totp_secret, now + timedelta(seconds=step)) for step in (-60, -30, 0, 30, 60)}
    wrong = facilitator.post(f"{API}/session/totp", json={"code": next(c for c in ("000000", "111111", "222222")
                                                                        if c not in valid)})
    assert wrong.status_code == 401 and wrong.json()["message"]
    second = _ok(facilitator.post(f"{API}/session/totp", json={"code": current_totp(totp_secret)}))
    assert second["stage"] == "full" and second["csrf_token"] != first["csrf_token"]
    facilitator.headers["X-CSRF-Token"] = second["csrf_token"]
    assert _ok(facilitator.get(f"{API}/me"))["role"] == "facilitator"

    # The author starts a letter, autosaves it (once with a stale version) and sends it.
    draft = _ok(harmed.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Sam,"}), 201)
    message_id = draft["id"]
    assert draft["state"] == "draft" and "submit" in draft["actions"]
    saved = _ok(harmed.put(f"{API}/messages/{message_id}/draft", json={"text": LETTER, "version": draft["version"]}))
    assert saved["version"] > draft["version"]
    stale = harmed.put(f"{API}/messages/{message_id}/draft", json={"text": "lost", "version": draft["version"]})
    assert stale.status_code == 409 and stale.json()["error"] == "stale"
    assert _ok(harmed.get(f"{API}/messages/{message_id}/draft")) == {"text": LETTER}
    assert facilitator.get(f"{API}/messages/{message_id}/draft").status_code == 404  # a draft is the author's own
    _nothing_for(responsible, case_id, message_id)

    submitted = _ok(_act(harmed, message_id, "submit", version=saved["version"]))
    assert submitted["state"] == "submitted"
    _nothing_for(responsible, case_id, message_id)
    assert world.run_jobs() == 1

    # The facilitator finds it in the queue, flagged, and claims it (once with a stale version).
    queue = _ok(facilitator.get(f"{API}/review-queue"))
    assert [m["id"] for m in queue] == [message_id]
    item = queue[0]
    assert item["state"] == "awaiting_review" and item["author_label"] == "the person harmed"
    assert [v["flag_count"] for v in item["versions"]] == [1]
    seen = _ok(facilitator.get(f"{API}/messages/{message_id}/versions/{item['current_version_id']}"))
    assert [f["kind"] for f in seen["flags"]] == ["phone"]
    assert "\u200b" not in seen["text"] and "\r" not in seen["text"]
    assert seen["text"][seen["flags"][0]["start"]:seen["flags"][0]["end"]].replace(" ", "") == "07700900123"

    stale = _act(facilitator, message_id, "claim", version=item["version"] - 1)
    assert stale.status_code == 409 and stale.json()["error"] == "stale"
    claimed = _ok(_act(facilitator, message_id, "claim", version=item["version"]))
    assert claimed["state"] == "in_review" and claimed["claimed_by_id"] == p.facilitator.account_id
    again = _act(facilitator, message_id, "claim", version=item["version"])  # acting on what it saw before
    assert again.status_code == 409 and again.json()["error"] == "stale"

    # It proposes an edit without the phone number; the worker processes it; the author accepts.
    redacted = seen["text"].replace("Call me on 07700 900123.", "").rstrip()
    assert redacted != seen["text"]
    edited = _ok(_act(facilitator, message_id, "edit", text=redacted, note="I took out your number.",
                      version=claimed["version"]))
    assert edited["state"] == "submitted"
    assert world.run_jobs() == 1
    mine = _ok(harmed.get(f"{API}/messages/{message_id}"))
    assert mine["state"] == "awaiting_author" and mine["pending_edit"]
    assert [n["text"] for n in mine["notes"]] == ["I took out your number."]
    _nothing_for(responsible, case_id, message_id)
    accepted = _ok(_act(harmed, message_id, "accept-edit", version=mine["version"]))
    assert accepted["state"] == "in_review"
    _nothing_for(responsible, case_id, message_id)

    # Approval releases it: only now does the other side learn of it.
    approved = _ok(_act(facilitator, message_id, "approve"))
    assert approved["state"] == "released"
    inbox = _ok(responsible.get(f"{API}/cases/{case_id}/messages"))
    assert [m["id"] for m in inbox] == [message_id]
    assert set(inbox[0]) == RECIPIENT_VIEW_KEYS
    assert inbox[0]["from"] == "the person harmed" and inbox[0]["opened"] is False
    assert _ok(responsible.get(f"{API}/messages/{message_id}")) == inbox[0]
    for path in (f"/messages/{message_id}/draft", f"/messages/{message_id}/versions/{item['current_version_id']}"):
        assert responsible.get(API + path).status_code == 404

    opened = _ok(responsible.post(f"{API}/messages/{message_id}/open", json={"share_receipt": True}))
    assert opened == {"text": redacted}
    assert "07700" not in opened["text"] and "\u200b" not in opened["text"]
    assert _ok(responsible.get(f"{API}/messages/{message_id}"))["opened"] is True
    assert _ok(harmed.get(f"{API}/messages/{message_id}"))["delivered"] is True
    assert _ok(responsible.post(f"{API}/messages/{message_id}/open", json={})) == {"text": redacted}

    # Signing out ends the session for the API too.
    assert _ok(harmed.delete(f"{API}/session"))["signed_out"] is True
    assert harmed.get(f"{API}/me").status_code == 401


# --- bad requests --------------------------------------------------------------------------------


def _draft(client: TestClient, case_id: str, text: str = "Dear Sam,") -> dict[str, Any]:
    return _ok(client.post(f"{API}/cases/{case_id}/messages", json={"text": text}), 201)


def _in_review(world: World, author: TestClient, facilitator: TestClient, case_id: str) -> str:
    message_id = _draft(author, case_id)["id"]
    _ok(_act(author, message_id, "submit"))
    world.run_jobs()
    _ok(_act(facilitator, message_id, "claim"))
    return message_id


def _bad(response: Any, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] and isinstance(body["message"], str) and body["message"].strip()


def test_bad_bodies_answer_400_with_a_message_never_500(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    harmed = world.sign_in(app, p.harmed)
    facilitator = world.sign_in(app, p.facilitator)
    message_id = _draft(harmed, case_id)["id"]
    draft_url = f"{API}/messages/{message_id}/draft"
    as_json = {"Content-Type": "application/json"}

    raw_bodies = [
        b"{",                                    # not JSON
        b"[1, 2]",                               # not an object
        b'"text"',
        b"\xff\xfe{}",                           # not UTF-8
        b"[" * 100_000,                          # nested deeper than the parser goes
        b'{"text": "\\ud800 alone"}',            # an unpaired surrogate cannot be stored
        b'{"text": "a\\u0000b"}',                # NUL cannot be stored (PostgreSQL text)
        b'{"text": "ok", "version": "\xc2\xb2"}',  # "²" is a digit to str.isdigit, not to int()
        b'{"text": "ok", "version": "' + b"1" * 5000 + b'"}',  # past Python's int conversion limit
    ]
    for raw in raw_bodies:
        _bad(harmed.put(draft_url, content=raw, headers=as_json))
    _bad(harmed.put(draft_url, content=b"text=hello", headers={"Content-Type": "application/x-www-form-urlencoded"}))

    for body in [{}, {"text": None}, {"text": 5}, {"text": ["a"]}, {"text": "ok", "version": "one"},
                 {"text": "ok", "version": True}, {"text": "ok", "version": 1.5}]:
        _bad(harmed.put(draft_url, json=body))
    _bad(harmed.post(f"{API}/cases/{case_id}/messages", json={}))
    _bad(harmed.post(f"{API}/cases/{case_id}/messages", json={"text": {"nested": 1}}))
    _bad(harmed.post(f"{API}/messages/{message_id}/actions/submit", json={"version": "latest"}))
    assert _ok(harmed.get(draft_url)) == {"text": "Dear Sam,"}  # nothing of that was saved

    reviewed = _in_review(world, harmed, facilitator, case_id)
    for action, body in [("reject", {}), ("reject", {"code": "because"}), ("reject", {"code": 3}),
                         ("request-changes", {}), ("request-changes", {"note": "   "}), ("edit", {"text": ""}),
                         ("edit", {"text": 12}), ("claim", {"take_over": [1]}),
                         ("schedule", {"at": "tomorrow"}), ("schedule", {"at": "2030-01-01T10:00:00"}),
                         ("schedule", {"at": "0001-01-01T00:00:00+14:00"}),
                         ("schedule", {"at": "9999-12-31T23:59:59-14:00"}), ("schedule", {"at": 1700000000})]:
        _bad(_act(facilitator, reviewed, action, **body))
    assert _ok(facilitator.get(f"{API}/messages/{reviewed}"))["state"] == "in_review"

    participant_id = p.participant_ids[p.harmed.account_id or ""]
    case_url = f"{API}/cases/{case_id}"
    for method, path, body in [
        ("PATCH", "/settings", {"version": "x"}),
        ("PATCH", "/settings", {"approvals_required": "two"}),
        ("PATCH", "/settings", {"label_harmed": "Jess\u0000"}),
        ("PATCH", "/settings", {"no_such_setting": 1}),
        ("POST", "/status", {"status": "finished"}),
        ("POST", "/status", {}),
        ("POST", f"/participants/{participant_id}/consents", {"kind": "take_part"}),
        ("POST", f"/participants/{participant_id}/consents", {"kind": "take_part", "granted": True, "note": 5}),
        ("POST", f"/participants/{participant_id}/consents",
         {"kind": "take_part", "granted": True, "note": "said so on the phone\u0000"}),
        ("POST", f"/participants/{participant_id}/assessments", {"outcome": "fine"}),
    ]:
        _bad(facilitator.request(method, case_url + path, json=body))
    _bad(harmed.post(f"{case_url}/holding", json={"holding": 3}))
    _bad(harmed.post(f"{case_url}/holding", json={}))

    anonymous = web_client(app)
    for body in [{}, {"username": 1, "password": "x"}]:
        _bad(anonymous.post(f"{API}/session", json=body))
    _bad(anonymous.post(f"{API}/session", content=b'{"username": "jessica1", "password": "\\ud800 long enough"}',
                        headers=as_json))
    _bad(anonymous.post(f"{API}/session/totp", json={"code": 123456}))


def test_oversized_letters_and_requests_answer_413(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    harmed = world.sign_in(app, p.harmed)
    limits = world.svc.settings.limits
    message_id = _draft(harmed, case_id)["id"]

    too_long = "x" * (limits.max_letter_bytes + 1)
    _bad(harmed.post(f"{API}/cases/{case_id}/messages", json={"text": too_long}), 413)
    _bad(harmed.put(f"{API}/messages/{message_id}/draft", json={"text": too_long}), 413)
    multibyte = "é" * (limits.max_letter_bytes // 2 + 1)  # fewer characters than the limit, more bytes
    _bad(harmed.put(f"{API}/messages/{message_id}/draft", json={"text": multibyte}), 413)
    _ok(harmed.put(f"{API}/messages/{message_id}/draft", json={"text": "x" * limits.max_letter_bytes}))

    huge = b'{"text": "' + b"x" * limits.max_request_bytes + b'"}'
    _bad(harmed.put(f"{API}/messages/{message_id}/draft", content=huge,
                    headers={"Content-Type": "application/json"}), 413)

    def chunks() -> Any:  # no Content-Length: refused while streaming
        yield b'{"text": "'
        for _ in range(limits.max_request_bytes // 4096 + 1):
            yield b"x" * 4096
        yield b'"}'

    _bad(harmed.put(f"{API}/messages/{message_id}/draft", content=chunks(),
                    headers={"Content-Type": "application/json"}), 413)
    facilitator = world.sign_in(app, p.facilitator)
    reviewed = _in_review(world, harmed, facilitator, case_id)
    _bad(_act(facilitator, reviewed, "edit", text=too_long), 413)
    assert _ok(harmed.get(f"{API}/messages/{message_id}/draft"))["text"] == "x" * limits.max_letter_bytes


def test_unknown_action_csrf_and_sign_in_are_checked(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    harmed = world.sign_in(app, p.harmed)
    message_id = _draft(harmed, case_id)["id"]

    for action in ("publish", "release", "open", "SUBMIT", "submit%20"):
        answer = harmed.post(f"{API}/messages/{message_id}/actions/{action}", json={})
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), action
    assert _ok(harmed.get(f"{API}/messages/{message_id}"))["state"] == "draft"

    # Unsafe requests need the CSRF header that sign-in returned; safe ones do not.
    token = harmed.headers.pop("X-CSRF-Token")
    for method, path, body in [("POST", f"/messages/{message_id}/actions/submit", {}),
                               ("PUT", f"/messages/{message_id}/draft", {"text": "changed"}),
                               ("POST", f"/cases/{case_id}/messages", {"text": "another"}),
                               ("DELETE", "/session", None)]:
        answer = harmed.request(method, API + path, json=body)
        assert answer.status_code == 403 and answer.json()["error"] == "csrf", (method, path)
        forged = harmed.request(method, API + path, json=body, headers={"X-CSRF-Token": token[:-2] + "xx"})
        assert forged.status_code == 403, (method, path)
    assert _ok(harmed.get(f"{API}/messages/{message_id}"))["state"] == "draft"
    assert _ok(harmed.get(f"{API}/messages/{message_id}/draft")) == {"text": "Dear Sam,"}
    assert len(_ok(harmed.get(f"{API}/cases/{case_id}/messages"))) == 1
    other = world.sign_in(app, p.harmed_proxy)  # another session's token is not this one's
    answer = harmed.put(f"{API}/messages/{message_id}/draft", json={"text": "changed"},
                        headers={"X-CSRF-Token": other.headers["X-CSRF-Token"]})
    assert answer.status_code == 403

    # Without a session: 401 everywhere, before anything is looked up.
    anonymous = web_client(app)
    for method, path in [("GET", "/me"), ("GET", "/cases"), ("GET", f"/messages/{message_id}"),
                         ("PUT", f"/messages/{message_id}/draft"), ("POST", f"/messages/{message_id}/actions/submit"),
                         ("GET", "/review-queue"), ("DELETE", "/session")]:
        answer = anonymous.request(method, API + path, json={"text": "x"} if method != "GET" else None)
        assert answer.status_code == 401 and answer.json()["error"] == "not_authenticated", (method, path)
    stolen = web_client(app)
    stolen.cookies.set("shuttle_session", "not-a-real-token")
    assert stolen.get(f"{API}/me").status_code == 401


def test_api_answers_carry_the_security_headers(world: World, setup: tuple[Any, str, People]) -> None:
    app, _, p = setup
    for answer in (world.sign_in(app, p.harmed).get(f"{API}/me"), web_client(app).get(f"{API}/me")):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
    assert _ok(web_client(app).get(f"{API}/openapi.json"))["openapi"].startswith("3.")
