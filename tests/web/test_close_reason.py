"""One close step, with its reason (issue 11): POST /cases/{id}/status to closing is the closure's own step."""

from __future__ import annotations

from world import World

from shuttle.agreements import service as agreements
from shuttle.cases.models import Case
from shuttle.services import Services
from shuttle.web.app import build_app


def test_closing_through_the_status_route_needs_a_closure_reason_and_records_the_closure(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    staff = world.sign_in(build_app(svc, check_schema=False), p.facilitator)
    url = f"/api/v1/cases/{case_id}/status"
    for body in ({"status": "closing"}, {"status": "closing", "reason": "Both sides are done."}):
        refused = staff.post(url, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["field"] == "reason" and "Say why the case closes" in refused.json()["message"]
    assert staff.get(f"/api/v1/cases/{case_id}").json()["status"] == "open"
    closed = staff.post(url, json={"status": "closing", "reason": "not_suitable"})
    assert closed.status_code == 200 and closed.json()["status"] == "closing"
    with svc.db.uow() as uow:
        closure = agreements.closure_of(uow.session, case_id)
        assert closure is not None and closure.reason == "not_suitable"  # the same step as POST .../closure
        case = uow.session.get(Case, case_id)
        assert case is not None and case.status == "closing"
    assert len(staff.get(f"/api/v1/cases/{case_id}/checkins").json()) > 0  # aftercare scheduled by the one step
