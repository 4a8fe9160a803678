"""API routes for the end of a case (issue 11): the outcome agreement, the closure with its reason,
and the feedback questionnaire. Thin: parse through the typed bodies, run one use case, answer
through the declared shapes (shuttle/web/contract.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.access import load_case
from shuttle.agreements import aftercare, rules, service, views
from shuttle.services import Actor, Services
from shuttle.web.contract import Answer, Body, Day, Id, Version, answer, day, read
from shuttle.web.http import run

# --- bodies and answers --------------------------------------------------------------------------


class ItemBody(Body):
    what: str = Field(max_length=rules.MAX_WHAT_CHARS, description="What will be done")
    owner: str = Field(description="Who does it: harmed, responsible, both or service")
    due_on: Day | None = None
    check: str = Field(max_length=rules.MAX_CHECK_CHARS, description="How it will be checked")


class DraftBody(Body):
    items: list[ItemBody] = Field(max_length=rules.MAX_ITEMS)


class AnswerBody(Body):
    version: int = Field(ge=1, le=10**9, description="The number of the version answered (the latest)")
    decision: str = Field(description="agree or change")
    note: str = Field("", max_length=rules.MAX_NOTE_CHARS, description="What to change (needed for change)")


class MarkBody(Body):
    status: str = Field(description="done, missed or varied")
    note: str = Field("", max_length=rules.MAX_NOTE_CHARS, description="How it was varied (needed for varied)")


class CloseBody(Body):
    reason: str = Field(description="completed, withdrawn_harmed, withdrawn_responsible, not_suitable or "
                                    "not_contacted")
    version: Version | None = None


class FinishBody(Body):
    reason: str = Field("", description="Needed only when the case was closed without a reason")


class FeedbackBody(Body):
    declined: bool = False
    satisfied: int | None = Field(None, ge=1, le=5, description="1 (not at all) to 5 (very)")
    recommend: bool | None = None
    comment: str = Field("", max_length=rules.MAX_COMMENT_CHARS)


class Drafted(Answer):
    version: int


class Answered(Answer):
    state: str


class Marked(Answer):
    status: str


class Closed(Answer):
    status: str
    reason: str | None


class CheckInBody(Body):
    wellbeing: str = Field(max_length=rules.MAX_WELLBEING_CHARS, description="How the person is (kept encrypted)")
    got_what_wanted: str = Field(description="yes, partly, no or not_asked")


class SupportBody(Body):
    name: str = Field(max_length=120)
    helps_with: str = Field(max_length=500)
    how_to_reach: str = Field(max_length=500)


class SupportActive(Body):
    active: bool


class ShareBody(Body):
    service_id: Id


class Done(Answer):
    done: bool


AgreementView = views.StaffAgreementPage | views.ParticipantAgreementPage


# --- handlers ------------------------------------------------------------------------------------


def _page(s: Session, svc: Services, actor: Actor, case_id: str) -> Any:
    """The agreement as the caller may see it: the facilitators' whole page, or a participant's own."""
    _, member = load_case(s, actor, case_id)
    if member.is_facilitator:
        return views.staff_page(s, svc, actor, case_id)
    return views.participant_page(s, svc, actor, case_id)


def _items(body: DraftBody) -> list[rules.Item]:
    items = []
    for n, item in enumerate(body.items, start=1):
        due_on = day(item.due_on, f"items[{n - 1}].due_on")
        items.append(rules.Item(item.what, item.owner, due_on, item.check))
    return items


async def get_agreement(request: Request) -> Response:
    return answer(AgreementView, await run(request, _page, request.path_params["case_id"]))


async def draft_agreement(request: Request) -> Response:
    body = await read(request, DraftBody)
    version = await run(request, service.draft_version, request.path_params["case_id"], _items(body))
    return answer(Drafted, {"version": version.number}, status=201)


async def answer_agreement(request: Request) -> Response:
    body = await read(request, AnswerBody)
    state = await run(request, service.answer, request.path_params["case_id"], version=body.version,
                      decision=body.decision, note=body.note)
    return answer(Answered, {"state": state.value})


async def mark_agreement_item(request: Request) -> Response:
    body = await read(request, MarkBody)
    p = request.path_params
    update = await run(request, service.mark_item, p["case_id"], p["item_id"], status=body.status, note=body.note)
    return answer(Marked, {"status": update.status}, status=201)


async def close_case(request: Request) -> Response:
    body = await read(request, CloseBody)
    closure = await run(request, service.close_case, request.path_params["case_id"], reason=body.reason,
                        expected_version=body.version)
    return answer(Closed, {"status": "closing", "reason": closure.reason})


async def finish_case(request: Request) -> Response:
    body = await read(request, FinishBody)
    return answer(Closed, await run(request, _finish, request.path_params["case_id"], body.reason))


def _finish(s: Session, svc: Services, actor: Actor, case_id: str, reason: str) -> dict[str, Any]:
    case = service.finish_case(s, svc, actor, case_id, reason=reason)
    closure = service.closure_of(s, case.id)
    return {"status": case.status, "reason": closure.reason if closure else None}


async def give_feedback(request: Request) -> Response:
    body = await read(request, FeedbackBody)
    answers = None if body.declined else rules.Answers(body.satisfied, body.recommend, body.comment)
    await run(request, service.give_feedback, request.path_params["case_id"], answers)
    return answer(Done, {"done": True})


# --- aftercare ------------------------------------------------------------------------------------


async def list_checkins(request: Request) -> Response:
    return answer(list[aftercare.CheckInView], await run(request, aftercare.checkins, request.path_params["case_id"]))


async def record_checkin(request: Request) -> Response:
    body = await read(request, CheckInBody)
    p = request.path_params
    await run(request, aftercare.record_checkin, p["case_id"], p["checkin_id"], wellbeing=body.wellbeing,
              got_what_wanted=body.got_what_wanted)
    return answer(Done, {"done": True})


async def list_support_services(request: Request) -> Response:
    return answer(list[aftercare.SupportEntry], await run(request, aftercare.directory))


async def add_support_service(request: Request) -> Response:
    body = await read(request, SupportBody)
    entry = await run(request, aftercare.add_support_service, name=body.name, helps_with=body.helps_with,
                      how_to_reach=body.how_to_reach)
    return answer(aftercare.SupportEntry, entry, status=201)


async def set_support_service_active(request: Request) -> Response:
    body = await read(request, SupportActive)
    await run(request, aftercare.set_support_active, request.path_params["service_id"], body.active)
    return answer(Done, {"done": True})


async def share_support(request: Request) -> Response:
    body = await read(request, ShareBody)
    p = request.path_params
    await run(request, aftercare.share_support, p["case_id"], p["participant_id"], body.service_id)
    return answer(Done, {"done": True})


ROUTES = [
    Route("/cases/{case_id}/agreement", get_agreement, methods=["GET"]),
    Route("/cases/{case_id}/agreement/versions", draft_agreement, methods=["POST"]),
    Route("/cases/{case_id}/agreement/answers", answer_agreement, methods=["POST"]),
    Route("/cases/{case_id}/agreement/items/{item_id}/updates", mark_agreement_item, methods=["POST"]),
    Route("/cases/{case_id}/closure", close_case, methods=["POST"]),
    Route("/cases/{case_id}/closure/finish", finish_case, methods=["POST"]),
    Route("/cases/{case_id}/feedback", give_feedback, methods=["POST"]),
    Route("/cases/{case_id}/checkins", list_checkins, methods=["GET"]),
    Route("/cases/{case_id}/checkins/{checkin_id}", record_checkin, methods=["POST"]),
    Route("/support-services", list_support_services, methods=["GET"]),
    Route("/support-services", add_support_service, methods=["POST"]),
    Route("/support-services/{service_id}", set_support_service_active, methods=["PATCH"]),
    Route("/cases/{case_id}/participants/{participant_id}/support", share_support, methods=["POST"]),
]
