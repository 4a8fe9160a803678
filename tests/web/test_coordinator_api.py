"""The coordinator's API end to end: a new facilitator enrolled and assigned without a page, and bad input
answered 4xx with a sentence, never 500."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from world import World, web_client

from shuttle.services import Services

PASSWORD = "a lantern by the quay"


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)



def test_a_facilitator_is_created_enrolled_and_assigned_through_the_api(app: Any, world: World) -> None:
    case_id, p = world.case()
    coordinator = world.sign_in(app, p.coordinator)
    made = coordinator.post("/api/v1/coordinator/staff", json={"username": "nina", "display_name": "Nina",
                                                               "role": "facilitator"})
    assert made.status_code == 201, made.text
    token = made.json()["link"].rsplit("/", 1)[1]
    person = web_client(app)
    details = person.post("/api/v1/session/enrolment/details", json={"token": token})
    assert details.status_code == 200 and details.json()["username"] == "nina"
    assert details.json()["otpauth_uri"].startswith("otpauth://totp/")
    code = pyotp.TOTP(details.json()["secret"]).now()
    short = person.post("/api/v1/session/enrolment", json={"token": token, "password": "short", "code": code})
    assert short.status_code == 400 and short.json()["message"]
    done = person.post("/api/v1/session/enrolment", json={"token": token, "password": PASSWORD, "code": code})
    assert done.status_code == 200 and done.json()["stage"] == "full"
    person.headers["X-CSRF-Token"] = done.json()["csrf_token"]
    assert person.get("/api/v1/me").json()["role"] == "facilitator"
    assert person.post("/api/v1/session/enrolment/details", json={"token": token}).status_code == 404

    staff = {row["username"]: row for row in coordinator.get("/api/v1/coordinator/staff").json()}
    nina = staff["nina"]
    assert nina["status"] == "active" and nina["last_sign_in"] and nina["open_cases"] == 0
    moved = coordinator.post(f"/api/v1/coordinator/cases/{case_id}/reassign", json={
        "leaving": p.facilitator.account_id, "joining": nina["account_id"], "reason": "leave"})
    assert moved.status_code == 200, moved.text
    assert [f["username"] for f in moved.json()["row"]["facilitators"]] == ["nina"]
    assert person.get(f"/api/v1/cases/{case_id}").status_code == 200
    listed = coordinator.get("/api/v1/coordinator/cases", params={"facilitator": nina["account_id"]}).json()
    assert [row["id"] for row in listed["rows"]] == [case_id]


@pytest.mark.parametrize("method,path,body,status,words", [
    ("POST", "/coordinator/staff", {"username": "x", "display_name": "X", "role": "facilitator"}, 400, "3 to 40"),
    ("POST", "/coordinator/staff", {"display_name": "X", "role": "facilitator"}, 400, "'username' is required"),
    ("POST", "/coordinator/staff", {"username": "xavier", "display_name": "X", "role": 3}, 400, "must be str"),
    ("GET", "/coordinator/cases?status=lost", None, 400, "Status is one of"),
    ("GET", "/coordinator/cases?facilitator=0123", None, 400, "Choose a facilitator"),
    ("POST", "/coordinator/cases/{case_id}/reassign", {"leaving": "{facilitator}", "joining": "nobody",
                                                       "reason": "leave"}, 404, "Not found"),
    ("POST", "/coordinator/cases/{case_id}/reassign", {"leaving": "{facilitator}", "joining": "{outsider}",
                                                       "reason": "why not"}, 400, "Say why"),
    ("POST", "/coordinator/cases/{case_id}/facilitators", {"account_id": "{coordinator}"}, 400, "only facilitators"),
    ("DELETE", "/coordinator/cases/{case_id}/facilitators/{facilitator}", None, 400, "only facilitator"),
    ("POST", "/coordinator/organisations", {"name": "", "kind": "police"}, 400, "organisation's name"),
    ("POST", "/coordinator/organisations", {"name": "Police", "kind": "navy"}, 400, "kind of organisation"),
    ("POST", "/session/enrolment", {"token": "x" * 5000, "password": PASSWORD, "code": "123456"}, 404, "new link"),
])
def test_bad_input_is_a_4xx_with_a_sentence(app: Any, world: World, method: str, path: str, body: Any,
                                            status: int, words: str) -> None:
    case_id, p = world.case()
    names = {"case_id": case_id, "facilitator": p.facilitator.account_id, "outsider": p.outsider_facilitator.account_id,
             "coordinator": p.coordinator.account_id}

    def fill(v: Any) -> Any:
        return names.get(v[1:-1], v) if isinstance(v, str) and v.startswith("{") else v

    coordinator = world.sign_in(app, p.coordinator)
    answer = coordinator.request(method, "/api/v1" + path.format(**names),
                                 json={k: fill(v) for k, v in body.items()} if body is not None else None)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"]
