"""Retention over the API (issue 11): GET /coordinator/retention lists what the tick will destroy in the
next 30 days and the held cases (no content); POST and DELETE /cases/{id}/legal-hold place a hold with
its reason and lift it, through the same use cases as the coordinator's page; bad input is a 400
naming the field; anyone but the coordinator gets the 404 of a missing case."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from world import People, World

from shuttle.agreements import service as agreements
from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Case
from shuttle.retention_policy import MAX_REASON_CHARS
from workers.handlers import tick

NOT_FOUND = {"error": "not_found", "message": "Not found."}


def _closed(world: World, text: str) -> tuple[str, str, People]:
    case_id, p = world.case()
    world.approved_letter(p, case_id, text)
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    world.do(agreements.finish_case, p.facilitator, case_id)
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        return case_id, case.reference, p


def _case(world: World, case_id: str, name: str) -> Any:
    """One column of the case, read in its own unit of work."""
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        return getattr(case, name)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_the_coordinator_lists_what_is_due_and_places_and_lifts_a_hold(app: Any, world: World) -> None:
    svc = world.svc
    case_id, reference, p = _closed(world, "Dear Sam, a secret sentence.")
    tick(svc)
    due = _case(world, case_id, "destroy_after")
    assert due is not None
    coordinator = world.sign_in(app, p.coordinator)
    listed = coordinator.get("/api/v1/coordinator/retention")
    assert listed.status_code == 200, listed.text
    assert listed.json()["due"] == [] and listed.json()["held"] == []
    assert listed.json()["days"] == 30
    assert listed.json()["closed_case_days"] == svc.settings.retention_closed_case_days

    svc.clock = lambda: due - timedelta(days=10)
    coordinator = world.sign_in(app, p.coordinator)  # years on: a new session
    listed = coordinator.get("/api/v1/coordinator/retention")
    assert listed.status_code == 200 and "secret sentence" not in listed.text
    [row] = listed.json()["due"]
    assert row["case_id"] == case_id and row["reference"] == reference and row["status"] == "closed"
    assert _when(row["destroy_after"]) == due and row["held_since"] is None and row["hold_reason"] == ""

    placed = coordinator.post(f"/api/v1/cases/{case_id}/legal-hold", json={"reason": "  Court order 2033/17 "})
    assert placed.status_code == 201, placed.text
    assert placed.json()["case_id"] == case_id and placed.json()["hold_reason"] == "Court order 2033/17"
    assert _when(placed.json()["held_since"]) == due - timedelta(days=10)
    again = coordinator.post(f"/api/v1/cases/{case_id}/legal-hold", json={"reason": "Another order"})
    assert again.status_code == 409 and again.json()["error"] == "held"
    listed = coordinator.get("/api/v1/coordinator/retention").json()
    assert [r["case_id"] for r in listed["held"]] == [case_id]
    assert listed["held"][0]["hold_reason"] == "Court order 2033/17"
    assert listed["due"][0]["held_since"] is not None  # still listed as due, marked held

    svc.clock = lambda: due + timedelta(days=1)
    tick(svc)
    assert _case(world, case_id, "shredded_at") is None  # held: never destroyed
    coordinator = world.sign_in(app, p.coordinator)
    lifted = coordinator.delete(f"/api/v1/cases/{case_id}/legal-hold")
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["held_since"] is None and lifted.json()["hold_reason"] == ""
    assert coordinator.delete(f"/api/v1/cases/{case_id}/legal-hold").json()["error"] == "not_held"
    tick(svc)
    assert _case(world, case_id, "shredded_at") is not None
    with svc.db.uow() as uow:
        actions = list(uow.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
    assert actions.count("case.legal_hold") == 1 and actions.count("case.legal_hold_lifted") == 1
    assert "case.retention_shred" in actions
    destroyed = coordinator.post(f"/api/v1/cases/{case_id}/legal-hold", json={"reason": "Too late"})
    assert destroyed.status_code == 409 and destroyed.json()["error"] == "shredded"
    assert coordinator.get("/api/v1/coordinator/retention").json() == {
        **listed, "due": [], "held": []}


@pytest.mark.parametrize(("body", "field", "problem"), [
    ({}, "reason", "is required"),
    ({"reason": 17}, "reason", "must be str"),
    ({"reason": "x" * (MAX_REASON_CHARS + 1)}, "reason", f"is at most {MAX_REASON_CHARS} characters"),
    ({"reason": "Court order", "until": "2030-01-01"}, "until", "is not a field of this request"),
])
def test_a_hold_with_a_bad_body_is_a_400_naming_the_field(app: Any, world: World, body: dict[str, Any], field: str,
                                                         problem: str) -> None:
    case_id, p = world.case()
    coordinator = world.sign_in(app, p.coordinator)
    refused = coordinator.post(f"/api/v1/cases/{case_id}/legal-hold", json=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "bad_input"
    assert refused.json()["fields"] == [{"field": field, "problem": problem}]
    assert _case(world, case_id, "legal_hold_since") is None


def test_a_blank_reason_is_refused_in_words(app: Any, world: World) -> None:
    case_id, p = world.case()
    coordinator = world.sign_in(app, p.coordinator)
    refused = coordinator.post(f"/api/v1/cases/{case_id}/legal-hold", json={"reason": "   "})
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    assert "Say why the case is on legal hold" in refused.json()["message"]
    assert _case(world, case_id, "legal_hold_since") is None


def test_only_the_coordinator_may_see_or_hold_and_others_get_a_missing_case(app: Any, world: World) -> None:
    case_id, p = world.case()
    for actor in (p.facilitator, p.harmed, p.supporter):
        client = world.sign_in(app, actor)
        listed = client.get("/api/v1/coordinator/retention")
        assert (listed.status_code, listed.json()) == (404, NOT_FOUND)
        for body in ({"reason": "Court order"}, {}, {"reason": 3}):  # whatever they send
            placed = client.post(f"/api/v1/cases/{case_id}/legal-hold", json=body)
            assert (placed.status_code, placed.json()) == (404, NOT_FOUND), placed.text
        lifted = client.delete(f"/api/v1/cases/{case_id}/legal-hold")
        assert (lifted.status_code, lifted.json()) == (404, NOT_FOUND)
    assert _case(world, case_id, "legal_hold_since") is None
    coordinator = world.sign_in(app, p.coordinator)
    for missing in (uuid.uuid4().hex, "not-an-id"):
        placed = coordinator.post(f"/api/v1/cases/{missing}/legal-hold", json={"reason": "Court order"})
        assert (placed.status_code, placed.json()) == (404, NOT_FOUND)
        lifted = coordinator.delete(f"/api/v1/cases/{missing}/legal-hold")
        assert (lifted.status_code, lifted.json()) == (404, NOT_FOUND)
    assert world.sign_in(app, p.coordinator).post(f"/api/v1/cases/{case_id}/legal-hold",
                                                   json={"reason": "Court order"}).status_code == 201
