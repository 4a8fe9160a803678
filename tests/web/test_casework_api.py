"""Issue 10's casework through the API: the same rules as the pages, bad input answered 4xx with a message."""

from __future__ import annotations

from typing import Any

import pytest
from world import People, World

from shuttle.services import Services


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)



def _pid(p: People, who: str) -> str:
    return p.participant_ids[getattr(p, who).account_id]


@pytest.mark.parametrize("method, path, body, says", [
    ("POST", "meetings", {"held_on": "yesterday", "how": "phone", "attended": "J"}, "held_on"),
    ("POST", "meetings", {"held_on": "2026-01-05", "how": "fax", "attended": "J"}, "held by"),
    ("POST", "meetings", {"held_on": "2026-01-05", "how": "phone"}, "attended"),
    ("PUT", "wishes", {"questions": "Why?", "wants_reply": True}, "questions"),
    ("PUT", "wishes", {"questions": [], "wants_reply": "maybe"}, "wants_reply"),
    ("POST", "letters", {}, "text"),
    ("POST", "letters", {"text": 42}, "text"),
    ("POST", "letters", {"text": "   "}, "empty"),
])
def test_bad_casework_input_is_a_4xx_with_a_message(world: World, app: Any, method: str, path: str,
                                                    body: dict[str, Any], says: str) -> None:
    case_id, p = world.case()
    client = world.sign_in(app, p.facilitator)
    answer = client.request(method, f"/api/v1/cases/{case_id}/participants/{_pid(p, 'harmed')}/{path}", json=body)
    assert 400 <= answer.status_code < 500 and answer.status_code != 404, answer.text
    assert says in answer.json()["message"].lower() or says in answer.json()["message"]


def test_bad_notes_photos_and_shares_are_4xx(world: World, app: Any) -> None:
    case_id, p = world.case()
    client = world.sign_in(app, p.facilitator)
    assert client.post(f"/api/v1/cases/{case_id}/notes", json={"text": ""}).status_code == 400
    photos = f"/api/v1/cases/{case_id}/participants/{_pid(p, 'harmed')}/photos"
    refused = client.post(photos, content=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})
    assert refused.status_code == 400 and "JPEG" in refused.json()["message"]
    assert client.post(photos, content=b"").status_code == 400
    jessica = world.sign_in(app, p.harmed)
    answer = jessica.put(f"/api/v1/messages/{'0' * 32}/supporters/{_pid(p, 'supporter')}", json={})
    assert answer.status_code in (400, 404)


def test_the_facilitator_who_entered_a_letter_gets_409_the_other_approves_it(world: World, app: Any) -> None:
    case_id, p = world.case(two_facilitators=True, initiator="either")
    fiona = world.sign_in(app, p.facilitator)
    made = fiona.post(f"/api/v1/cases/{case_id}/participants/{_pid(p, 'responsible')}/letters",
                      json={"text": "Dear Jessica, as I said to Fiona."})
    assert made.status_code == 201, made.text
    message = made.json()
    assert message["entered_by"] == "Fiona1" and message["author_side"] == "responsible"
    world.run_jobs()
    base = f"/api/v1/messages/{message['id']}/actions"
    assert fiona.post(f"{base}/claim", json={}).status_code == 200
    refused = fiona.post(f"{base}/approve", json={})
    assert refused.status_code == 409 and refused.json()["error"] == "entered_by_you"
    assert fiona.post(f"{base}/unclaim", json={}).status_code == 200
    frank = world.sign_in(app, p.co_facilitator)
    assert frank.post(f"{base}/claim", json={}).status_code == 200
    approved = frank.post(f"{base}/approve", json={})
    assert approved.status_code == 200 and approved.json()["state"] == "released"
    jessica = world.sign_in(app, p.harmed)
    seen = jessica.get(f"/api/v1/messages/{message['id']}").json()
    assert "entered_by" not in seen and seen["from"] == "the person responsible"


def test_preparation_and_notes_round_trip(world: World, app: Any) -> None:
    case_id, p = world.case()
    client = world.sign_in(app, p.facilitator)
    base = f"/api/v1/cases/{case_id}/participants/{_pid(p, 'harmed')}"
    made = client.post(f"{base}/meetings", json={"held_on": "2026-01-05", "how": "video_call",
                                                  "attended": "Jessica, her mum", "notes": "Wants to wait."})
    assert made.status_code == 201 and made.json()["meetings"][0]["how_words"] == "video call"
    wishes = client.put(f"{base}/wishes", json={"questions": ["Why our house?"], "wants_reply": True,
                                               "wants_outcome_news": None})
    assert wishes.json()["wishes"]["questions"] == ["Why our house?"]
    assert wishes.json()["wishes"]["wants_outcome_news"] is None
    assert client.post(f"/api/v1/cases/{case_id}/notes", json={"text": "Not on Mondays."}).status_code == 201
    assert [n["text"] for n in client.get(f"/api/v1/cases/{case_id}/notes").json()] == ["Not on Mondays."]


def test_the_openapi_document_describes_the_casework_routes(app: Any) -> None:
    from world import web_client

    paths = web_client(app).get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/cases/{case_id}/notes", "/api/v1/shared/{message_id}/open",
                 "/api/v1/cases/{case_id}/participants/{participant_id}/letters",
                 "/api/v1/messages/{message_id}/supporters/{supporter_id}"):
        found = next((v for k, v in paths.items() if k.endswith(path.removeprefix("/api/v1"))), None)
        assert found is not None, path
        assert all(op.get("summary") and "_" not in op["summary"].split()[0] for op in found.values()), path
