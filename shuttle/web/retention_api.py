"""API routes of retention (issue 11): what the periodic tick will destroy in the next 30 days and the
cases on legal hold (references and dates, never content), and a legal hold placed with its reason or
lifted. The same use cases as the coordinator's retention page (shuttle.retention_policy).

The coordinator only: the role is checked before any field is read, so anyone else gets the 404 of a
missing case whatever they send (invariant 7).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.cases.models import Case
from shuttle.errors import NotFound
from shuttle.retention_policy import RetentionRow, lift_hold, place_hold, retention_view
from shuttle.services import Actor, Services
from shuttle.web import contract as c
from shuttle.web.contract import answer, parse
from shuttle.web.coordinator_api import coordinator
from shuttle.web.http import read_json, run


def _reference(s: Session, case_id: str) -> str:
    reference = s.scalar(select(Case.reference).where(Case.id == case_id))
    if reference is None:
        raise NotFound()
    return reference


def _row(row: RetentionRow, case_id: str) -> dict[str, Any]:
    return {"case_id": case_id, "reference": row.reference, "status": row.status, "closed_at": row.closed_at,
            "destroy_after": row.destroy_after, "held_since": row.held_since, "hold_reason": row.hold_reason}


def _case(case: Case) -> dict[str, Any]:
    return {"case_id": case.id, "reference": case.reference, "status": case.status, "closed_at": case.closed_at,
            "destroy_after": case.destroy_after, "held_since": case.legal_hold_since,
            "hold_reason": case.legal_hold_reason or ""}


def _listing(s: Session, svc: Services, actor: Actor) -> dict[str, Any]:
    view = retention_view(s, svc, actor)
    references = {row.reference for row in (*view.due, *view.held)}
    ids = {reference: case_id for reference, case_id in s.execute(
        select(Case.reference, Case.id).where(Case.reference.in_(references)))} if references else {}
    return {"days": view.days, "closed_case_days": view.closed_case_days, "unsent_draft_days": view.unsent_draft_days,
            "due": [_row(row, ids[row.reference]) for row in view.due],
            "held": [_row(row, ids[row.reference]) for row in view.held]}


async def retention_list(request: Request) -> Response:
    return answer(c.Retention, await run(request, coordinator(_listing)))


async def place_legal_hold(request: Request) -> Response:
    data = await read_json(request)
    case_id = request.path_params["case_id"]

    def place(s: Session, svc: Services, actor: Actor) -> dict[str, Any]:
        body = parse(c.LegalHoldReason, data)
        return _case(place_hold(s, svc, actor, _reference(s, case_id), body.reason))

    return answer(c.RetentionCase, await run(request, coordinator(place)), status=201)


async def lift_legal_hold(request: Request) -> Response:
    case_id = request.path_params["case_id"]

    def lift(s: Session, svc: Services, actor: Actor) -> dict[str, Any]:
        return _case(lift_hold(s, svc, actor, _reference(s, case_id)))

    return answer(c.RetentionCase, await run(request, coordinator(lift)))


ROUTES = [
    Route("/coordinator/retention", retention_list),
    Route("/cases/{case_id}/legal-hold", place_legal_hold, methods=["POST"]),
    Route("/cases/{case_id}/legal-hold", lift_legal_hold, methods=["DELETE"]),
]
