"""Preparing a case through the API (/api/v1), with bad input answered 4xx and a message (issue 10)."""

from __future__ import annotations

from typing import Any

from world import World

from shuttle.services import Services
from shuttle.web.app import build_app


def test_preparing_a_case_through_the_api(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    staff = world.sign_in(app, p.facilitator)
    base = f"/api/v1/cases/{case_id}"

    added = staff.post(f"{base}/participants", json={"name": "Dan Green", "side": "responsible", "role": "proxy",
                                                      "acting_for": "father of Sam"})
    assert added.status_code == 201, added.text
    dan = added.json()["participant_id"]
    assert any(x["id"] == dan and x["role"] == "proxy" for x in added.json()["case"]["participants"])
    code = staff.post(f"{base}/participants/{dan}/invitation").json()["code"]
    assert len(code) >= 12

    answer = staff.post(f"{base}/participants/{dan}/consents",
                        json={"kind": "take_part", "granted": True, "method": "phone", "given_on": "2026-01-02"})
    assert answer.status_code == 200, answer.text
    scan = staff.post(f"{base}/participants/{dan}/consent-scans?kind=receive_messages",
                      content=b"\x89PNG\r\n\x1a\n a photo of the form", headers={"Content-Type": "image/png"})
    assert scan.status_code == 201, scan.text
    consents = staff.get(f"{base}/participants/{dan}/consents").json()
    assert [(c["kind"], c["how"], c["has_scan"]) for c in consents] == [
        ("take_part", "by phone", False), ("receive_messages", "on a signed form", True)]

    assessed = staff.post(f"{base}/participants/{dan}/assessments",
                          json={"kind": "risk", "outcome": "low", "reasons": "Calm and clear.",
                                "review_by": "2099-06-30"})
    assert assessed.status_code == 200, assessed.text
    judgements = staff.get(f"{base}/participants/{dan}/assessments").json()
    assert judgements == [{"kind": "risk", "outcome": "low", "review_by": "2099-06-30",
                           "recorded_at": judgements[0]["recorded_at"], "expired": False,
                           "reasons": "Calm and clear."}]

    assert staff.post(f"{base}/proceedings", json={"ongoing": True, "reason": "Trial"}).status_code == 200
    assert staff.post(f"{base}/participants/{dan}/deactivate", json={"reason": "Moved"}).status_code == 200

    sam = world.sign_in(app, p.responsible)
    mine = sam.get("/api/v1/me/consents").json()
    assert [c["words"] for c in mine[0]["consents"]] == ["to take part in the process",
                                                         "to receive messages from the other side"]
    assert sam.post(f"{base}/consents/withdraw", json={"kind": "take_part"}).json() == {"withdrawn": True}


def test_bad_input_to_the_preparation_routes_answers_4xx_with_a_message(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    staff = world.sign_in(app, p.facilitator)
    base = f"/api/v1/cases/{case_id}"
    harmed = p.participant_ids[p.harmed.account_id]
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", f"{base}/participants", {"name": "Dan", "side": "middle"}, 400, "side"),
        ("POST", f"{base}/participants", {"side": "harmed"}, 400, "'name' is required"),
        ("POST", f"{base}/participants", {"name": "Dan", "side": "harmed", "role": "boss"}, 400, "principal, proxy"),
        ("POST", f"{base}/participants/{harmed}/consents", {"kind": "take_part", "granted": True,
                                                            "given_on": "yesterday"}, 400, "given_on"),
        ("POST", f"{base}/participants/{harmed}/consents", {"kind": "share_information", "granted": True},
         400, "organisation"),
        ("POST", f"{base}/participants/{harmed}/assessments", {"kind": "risk", "outcome": "scary"}, 400,
         "low or medium or high"),
        ("POST", f"{base}/participants/{harmed}/assessments", {"kind": "risk", "outcome": "low",
                                                               "review_by": "2001-01-01"}, 400, "past"),
        ("POST", f"{base}/proceedings", {"reason": "no flag"}, 400, "'ongoing' is required"),
        ("POST", f"{base}/status", {"status": "closed"}, 409, "cannot become closed"),
        ("POST", f"{base}/status", {"status": "open", "reason": "x" * 501}, 400, "500 characters"),
        ("POST", f"{base}/consents/withdraw", {"kind": "take_part"}, 404, "Not found"),  # staff have no consents
    ]
    for method, url, body, status, words in cases:
        answer = staff.request(method, url, json=body)
        assert answer.status_code == status and words in answer.json()["message"], (url, body, answer.text)
    scan = staff.post(f"{base}/participants/{harmed}/consent-scans", content=b"GIF89a", headers={
        "Content-Type": "image/gif"})
    assert scan.status_code == 400 and "PDF, JPEG or PNG" in scan.json()["message"]
    empty = staff.post(f"{base}/participants/{harmed}/consent-scans", content=b"")
    assert empty.status_code == 400
