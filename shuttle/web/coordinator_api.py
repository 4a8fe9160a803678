"""API routes of the coordinator (staff accounts, case staffing, organisations), a facilitator's own
conflict of interest, and the enrolment link's two steps for a new staff member.

Coordinator routes check the role before reading any field, so anyone else gets the same 404 as a
missing id whatever they send (invariant 7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle import permissions
from shuttle.accounts import enrolment
from shuttle.accounts.enrolment import IssuedEnrolment, StaffRow
from shuttle.cases import assignment
from shuttle.cases.overview import CaseList, CaseStaffing, case_list, case_staffing
from shuttle.errors import NotFound
from shuttle.organisations import service as organisations
from shuttle.organisations.service import OrganisationRow
from shuttle.services import Actor, Services
from shuttle.web import contract as c
from shuttle.web.contract import answer, parse, read
from shuttle.web.cookies import set_session_cookie
from shuttle.web.http import id_or_missing, read_json, run, run_anonymous, services
from shuttle.web.pages.coordinator_cases import filters_from

T = TypeVar("T")
UseCase = Callable[[Session, Services, Actor], T]


def coordinator(call: UseCase[T]) -> UseCase[T]:
    """Refuse everyone but the coordinator before the call reads its fields."""
    def checked(s: Session, svc: Services, actor: Actor) -> T:
        if not permissions.may_run_service(actor.role):
            raise NotFound()
        return call(s, svc, actor)

    return checked


# --- staff ------------------------------------------------------------------------------------------


async def staff_list(request: Request) -> Response:
    return answer(list[StaffRow], await run(request, enrolment.staff_list))


async def create_staff(request: Request) -> Response:
    data = await read_json(request)

    def create(s: Session, svc: Services, actor: Actor) -> IssuedEnrolment:
        body = parse(c.CreateStaff, data)
        return enrolment.create_staff(s, svc, actor, username=body.username, display_name=body.display_name,
                                      role=body.role)

    return answer(IssuedEnrolment, await run(request, coordinator(create)), 201)


async def deactivate_staff(request: Request) -> Response:
    account = await run(request, enrolment.deactivate_staff, request.path_params["account_id"])
    return answer(c.AccountActive, {"account_id": account.id, "active": account.active})


async def reactivate_staff(request: Request) -> Response:
    account = await run(request, enrolment.reactivate_staff, request.path_params["account_id"])
    return answer(c.AccountActive, {"account_id": account.id, "active": account.active})


async def reset_second_factor(request: Request) -> Response:
    return answer(IssuedEnrolment, await run(request, enrolment.reset_second_factor, request.path_params["account_id"]),
                  201)


async def new_enrolment_link(request: Request) -> Response:
    return answer(IssuedEnrolment, await run(request, enrolment.new_link, request.path_params["account_id"]), 201)


# --- cases ------------------------------------------------------------------------------------------


async def coordinator_cases(request: Request) -> Response:
    filters = filters_from(request.query_params)
    return answer(CaseList, await run(request, case_list, filters))


async def coordinator_case(request: Request) -> Response:
    return answer(CaseStaffing, await run(request, case_staffing, request.path_params["case_id"]))


async def _staffing_after(request: Request, call: UseCase[Any]) -> Response:
    case_id = request.path_params["case_id"]
    await run(request, coordinator(call))
    return answer(CaseStaffing, await run(request, case_staffing, case_id))


async def reassign(request: Request) -> Response:
    data = await read_json(request)
    case_id = request.path_params["case_id"]

    def replace(s: Session, svc: Services, actor: Actor) -> Any:
        body = parse(c.Reassign, data)
        return assignment.replace_facilitator(s, svc, actor, case_id, leaving=id_or_missing(body.leaving),
                                              joining=id_or_missing(body.joining), reason=body.reason)

    return await _staffing_after(request, replace)


async def add_facilitator(request: Request) -> Response:
    data = await read_json(request)
    case_id = request.path_params["case_id"]
    return await _staffing_after(request, lambda s, svc, actor: assignment.add_facilitator(
        s, svc, actor, case_id, id_or_missing(parse(c.AccountRef, data).account_id)))


async def remove_facilitator(request: Request) -> Response:
    p = request.path_params
    return await _staffing_after(request, lambda s, svc, actor: assignment.remove_facilitator(
        s, svc, actor, p["case_id"], p["account_id"]))


async def record_conflict(request: Request) -> Response:
    data = await read_json(request)
    case_id = request.path_params["case_id"]
    return await _staffing_after(request, lambda s, svc, actor: assignment.record_conflict(
        s, svc, actor, case_id, id_or_missing(parse(c.AccountRef, data).account_id)))


async def own_conflict(request: Request) -> Response:
    """A facilitator of the case records that they know someone in it."""
    recorded = await run(request, assignment.record_own_conflict, request.path_params["case_id"])
    return answer(c.OwnConflict, {"recorded": True, "new": recorded})


# --- organisations -----------------------------------------------------------------------------------


async def list_organisations(request: Request) -> Response:
    return answer(list[OrganisationRow], await run(request, organisations.list_all))


async def add_organisation(request: Request) -> Response:
    data = await read_json(request)

    def add(s: Session, svc: Services, actor: Actor) -> OrganisationRow:
        body = parse(c.NewOrganisation, data)
        return organisations.add(s, svc, actor, name=body.name, kind=body.kind)

    return answer(OrganisationRow, await run(request, coordinator(add)), 201)


async def rename_organisation(request: Request) -> Response:
    data = await read_json(request)
    organisation_id = request.path_params["organisation_id"]
    return answer(OrganisationRow, await run(request, coordinator(lambda s, svc, actor: organisations.rename(
        s, svc, actor, organisation_id, name=parse(c.OrganisationName, data).name))))


async def deactivate_organisation(request: Request) -> Response:
    return answer(OrganisationRow, await run(request, organisations.set_active, request.path_params["organisation_id"],
                                             False))


async def reactivate_organisation(request: Request) -> Response:
    return answer(OrganisationRow, await run(request, organisations.set_active, request.path_params["organisation_id"],
                                             True))


# --- the enrolment link (no session yet; public like the other /session routes) ---------------------------


async def enrolment_details(request: Request) -> Response:
    """What the link's page shows: the account, the authenticator secret and its otpauth URI (read-only;
    POST so the token stays out of addresses and logs)."""
    token = (await read(request, c.EnrolmentToken)).token
    page = await run_anonymous(request, lambda s, svc: enrolment.enrolment_page(s, svc.settings, token, now=svc.now()))
    return answer(c.EnrolmentDetails, {
        "username": page.username, "display_name": page.display_name, "role": page.role, "purpose": page.purpose,
        "secret": page.secret, "otpauth_uri": page.uri, "expires_at": page.expires_at})


async def complete_enrolment(request: Request) -> Response:
    body = await read(request, c.CompleteEnrolment)
    issued = await run_anonymous(request, lambda s, svc: enrolment.complete_enrolment(
        s, svc.settings, token=body.token, password=body.password, code=body.code,
        user_agent=request.headers.get("user-agent", ""), passwords=svc.passwords, now=svc.now()))
    response = answer(c.SessionStage, {"stage": issued.stage, "csrf_token": issued.csrf_token})
    set_session_cookie(response, services(request).settings, issued)
    return response


ROUTES = [
    Route("/coordinator/staff", staff_list),
    Route("/coordinator/staff", create_staff, methods=["POST"]),
    Route("/coordinator/staff/{account_id}/deactivate", deactivate_staff, methods=["POST"]),
    Route("/coordinator/staff/{account_id}/reactivate", reactivate_staff, methods=["POST"]),
    Route("/coordinator/staff/{account_id}/reset-second-factor", reset_second_factor, methods=["POST"]),
    Route("/coordinator/staff/{account_id}/enrolment-link", new_enrolment_link, methods=["POST"]),
    Route("/coordinator/cases", coordinator_cases),
    Route("/coordinator/cases/{case_id}", coordinator_case),
    Route("/coordinator/cases/{case_id}/reassign", reassign, methods=["POST"]),
    Route("/coordinator/cases/{case_id}/facilitators", add_facilitator, methods=["POST"]),
    Route("/coordinator/cases/{case_id}/facilitators/{account_id}", remove_facilitator, methods=["DELETE"]),
    Route("/coordinator/cases/{case_id}/conflicts", record_conflict, methods=["POST"]),
    Route("/cases/{case_id}/conflict", own_conflict, methods=["POST"]),
    Route("/coordinator/organisations", list_organisations),
    Route("/coordinator/organisations", add_organisation, methods=["POST"]),
    Route("/coordinator/organisations/{organisation_id}", rename_organisation, methods=["PATCH"]),
    Route("/coordinator/organisations/{organisation_id}/deactivate", deactivate_organisation, methods=["POST"]),
    Route("/coordinator/organisations/{organisation_id}/reactivate", reactivate_organisation, methods=["POST"]),
    Route("/session/enrolment/details", enrolment_details, methods=["POST"]),
    Route("/session/enrolment", complete_enrolment, methods=["POST"]),
]
