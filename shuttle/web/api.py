"""The JSON API under /api/v1. Thin: parse, call one use case, shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shuttle.access import load_message
from shuttle.accounts import service as accounts
from shuttle.accounts.service import IssuedSession
from shuttle.agreements import service as agreements
from shuttle.cases import service as cases
from shuttle.cases.views import case_view
from shuttle.errors import BadInput, NotFound, ShuttleError
from shuttle.i18n import N_
from shuttle.messages import authoring, delivery, drafting, queries, replies, review
from shuttle.messages.views import for_member
from shuttle.services import Actor, Services
from shuttle.web import (
    agreement_api,
    casework_api,
    coordinator_api,
    export_api,
    figures_api,
    media,
    notifications_api,
    openapi,
    participant_api,
    people_api,
    referral_api,
    retention_api,
    supported_api,
    tus,
)
from shuttle.web import (
    contract as c,
)
from shuttle.web.contract import answer, read
from shuttle.web.cookies import clear_session_cookie, set_session_cookie
from shuttle.web.http import (
    SESSION_COOKIE,
    client_address,
    principal_here,
    run,
    run_anonymous,
    run_here,
    services,
)


def _session_answer(request: Request, issued: IssuedSession) -> JSONResponse:
    response = answer(c.SessionStage, {"stage": issued.stage, "csrf_token": issued.csrf_token})
    set_session_cookie(response, services(request).settings, issued)
    return response


# --- sign-in -------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    body = await read(request, c.Login)
    issued = await run_anonymous(
        request, lambda s, svc: accounts.login_password(
            s, svc.settings, username=body.username, password=body.password,
            client=client_address(request), user_agent=request.headers.get("user-agent", ""),
            passwords=svc.passwords, now=svc.now()))
    return _session_answer(request, issued)


async def login_totp(request: Request) -> Response:
    body = await read(request, c.TotpCode)
    token = request.cookies.get(SESSION_COOKIE, "")
    issued = await run_anonymous(
        request, lambda s, svc: accounts.login_totp(s, svc.settings, token=token, code=body.code,
                                                    client=client_address(request), now=svc.now()))
    return _session_answer(request, issued)


async def redeem_invitation(request: Request) -> Response:
    body = await read(request, c.InvitationCode)
    issued = await run_anonymous(
        request, lambda s, svc: accounts.redeem_invitation(s, svc.settings, code=body.code,
                                                           client=client_address(request), now=svc.now()))
    return _session_answer(request, issued)


async def set_password(request: Request) -> Response:
    body = await read(request, c.NewPassword)
    token = request.cookies.get(SESSION_COOKIE, "")
    issued = await run_anonymous(
        request, lambda s, svc: accounts.set_password(s, svc.settings, token=token,
                                                      new_password=body.password,
                                                      passwords=svc.passwords, now=svc.now()))
    return _session_answer(request, issued)


async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    await run(request, lambda s, svc, actor: accounts.logout(s, svc.settings, token, now=svc.now()))
    response = answer(c.SignedOut, {"signed_out": True})
    clear_session_cookie(response)
    return response


async def me(request: Request) -> Response:
    def view(s: Session, svc: Services, actor: Actor) -> dict[str, Any]:
        return {"account_id": actor.account_id, "role": actor.role, "cases": queries.my_cases(s, actor)}

    return answer(c.Me, await run(request, view))


# --- cases ---------------------------------------------------------------------------------------


async def list_cases(request: Request) -> Response:
    return answer(list[c.CaseSummary], await run(request, lambda s, svc, actor: queries.my_cases(s, actor)))


async def get_case(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    return answer(c.CaseView, await run(request, lambda s, svc, actor: case_view(s, actor, case_id)))


async def case_settings(request: Request) -> Response:
    body = await read(request, c.CaseSettings)
    await run(request, cases.update_settings, request.path_params["case_id"],
              body.model_dump(exclude_unset=True, exclude={"version"}), expected_version=body.version)
    return await get_case(request)


async def case_status(request: Request) -> Response:
    body = await read(request, c.CaseStatus)
    await run(request, agreements.move_case, request.path_params["case_id"], body.status,  # closing: the close step
              expected_version=body.version, reason=body.reason)
    return await get_case(request)


async def consent(request: Request) -> Response:
    body = await read(request, c.Consent)
    p = request.path_params
    await run(request, cases.record_consent, p["case_id"], p["participant_id"], kind=body.kind,
              granted=body.granted, note=body.note, method=body.method,
              given_on=c.day(body.given_on, "given_on"), organisation_id=body.organisation_id or None)
    return await get_case(request)


async def assessment(request: Request) -> Response:
    body = await read(request, c.Assessment)
    p = request.path_params
    await run(request, cases.record_assessment, p["case_id"], p["participant_id"], outcome=body.outcome,
              kind=body.kind, reasons=body.reasons, review_by=c.day(body.review_by, "review_by"))
    return await get_case(request)


async def invitation(request: Request) -> Response:
    """A new invitation code for a participant of the case (the case's facilitators only); shown once."""
    p = request.path_params
    issued = await run(request, accounts.invite_participant, p["case_id"], p["participant_id"])
    return answer(c.Invitation, {"participant_id": issued.participant_id, "username": issued.username,
                                 "code": issued.code, "expires_at": issued.expires_at}, status=201)


async def holding(request: Request) -> Response:
    holding = (await read(request, c.Holding)).holding
    await run(request, cases.set_holding, request.path_params["case_id"], holding)
    return answer(c.HoldingNow, {"holding": holding})


async def withdraw_from_case(request: Request) -> Response:
    await run(request, cases.withdraw_own_consent, request.path_params["case_id"])
    return answer(c.Withdrawn, {"withdrawn": True})


# --- messages ------------------------------------------------------------------------------------


def _message_view(message_id: str) -> Callable[[Session, Services, Actor], dict[str, Any]]:
    def view(s: Session, svc: Services, actor: Actor) -> dict[str, Any]:
        message, case, member = load_message(s, actor, message_id)
        return for_member(s, svc, member, message, case)

    return view


async def case_messages(request: Request) -> Response:
    return answer(list[c.MessageView], await run(request, queries.case_messages, request.path_params["case_id"]))


async def start_letter(request: Request) -> Response:
    """A letter ({"text": ...}) or an empty audio/video/image message ({"kind": ...}) to upload into;
    with "in_reply_to", a reply (`replies`: the same rule as the reply page's, which starts it here)."""
    body = await read(request, c.StartMessage)
    case_id = request.path_params["case_id"]
    if body.kind == "letter":
        if body.text is None:
            raise BadInput(N_("'text' is required."), details={"fields": [{"field": "text", "problem": "is required"}]})
        if body.in_reply_to is None:
            message = await run(request, authoring.start_draft, case_id, body.text)
        else:
            message = await run(request, replies.start_reply, case_id, body.in_reply_to, body.text)
    elif body.in_reply_to is None:
        message = await run(request, authoring.start_media, case_id, body.kind)
    else:
        message = await run(request, replies.start_media_reply, case_id, body.in_reply_to, body.kind)
    return answer(c.MessageView, await run(request, _message_view(message.id)), status=201)


async def get_message(request: Request) -> Response:
    return answer(c.MessageView, await run(request, _message_view(request.path_params["message_id"])))


async def get_draft(request: Request) -> Response:
    text = await run(request, authoring.read_draft, request.path_params["message_id"])
    return answer(c.Text, {"text": text})


async def put_draft(request: Request) -> Response:
    """Autosave. Once the sender is known to be signed in, the text is encrypted and written
    outside any transaction; the save and the answer's view then share one short unit of work
    (`drafting.autosave`): under load, the write lock is held only for the rows a save changes."""
    body = await read(request, c.Draft)
    message_id = request.path_params["message_id"]
    svc = services(request)

    def save() -> dict[str, Any]:  # one thread hop: who is signed in, the sealing, the save
        sealed = authoring.seal_draft(svc, body.text) if principal_here(request) else None
        try:
            return run_here(request, drafting.autosave, message_id, body.text, expected_version=body.version,
                            sealed=sealed)
        except ShuttleError:
            if sealed is not None:  # refused: its ciphertext has no key; removed now rather than by the sweeper
                authoring.discard_sealed(svc, sealed)
            raise

    return answer(c.MessageView, await run_in_threadpool(save))


async def get_version(request: Request) -> Response:
    p = request.path_params
    return answer(c.VersionView, await run(request, review.read_version, p["message_id"], p["version_id"]))


async def open_message(request: Request) -> Response:
    body = await read(request, c.OpenMessage)
    message_id = request.path_params["message_id"]
    text = await run(request, delivery.open_message, message_id, share_receipt=body.share_receipt)
    if text is not None:
        return answer(c.Opened, {"text": text})
    base = f"/api/v1/messages/{message_id}"
    return answer(c.Opened, {"media": f"{base}/media", "poster": f"{base}/poster"})



#: action name -> (use case, positional args after the message id, keyword args), from the action's
#: body (contract.ACTION_BODIES). One table, one route.
ActionCall = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
ACTIONS: dict[str, Callable[[Any], ActionCall]] = {
    "submit": lambda b: (authoring.submit, (), {}),
    "withdraw": lambda b: (authoring.withdraw, (), {}),
    "accept-edit": lambda b: (authoring.accept_edit, (), {}),
    "decline-edit": lambda b: (authoring.decline_edit, (), {}),
    "claim": lambda b: (review.claim, (), {"take_over": b.take_over}),
    "unclaim": lambda b: (review.unclaim, (), {}),
    "request-changes": lambda b: (review.request_changes, (), {"note": b.note}),
    "edit": lambda b: (review.propose_edit, (), {"text": b.text, "note": b.note}),
    "edit-media": lambda b: (review.propose_media_edit, (), {"edits": dict(b.edits), "note": b.note}),
    "reject": lambda b: (review.reject, (), {"code": b.code, "note": b.note}),
    "approve": lambda b: (review.approve, (), {"resolutions": dict(b.resolutions)}),
    "recall": lambda b: (review.recall, (), {"reason": b.reason}),
    "incident": lambda b: (review.record_incident, (), {"note": b.note}),
    "schedule": lambda b: (review.schedule_release, (c.moment(b.at),), {}),
    "retry": lambda b: (review.retry_processing, (), {}),
}


async def message_action(request: Request) -> Response:
    name = request.path_params["action"]
    if name not in ACTIONS:
        raise NotFound()
    body = await read(request, c.ACTION_BODIES[name])
    message_id = request.path_params["message_id"]
    use_case, args, kwargs = ACTIONS[name](body)
    await run(request, use_case, message_id, *args, expected_version=body.version, **kwargs)
    return answer(c.MessageView, await run(request, _message_view(message_id)))


async def review_queue(request: Request) -> Response:
    return answer(list[c.MessageView], await run(request, queries.review_queue))


async def openapi_document(request: Request) -> Response:
    return answer(c.Document, openapi.document(ROUTES, services(request).settings.public_base_url))


ROUTES = [
    Route("/session", login, methods=["POST"]),
    Route("/session", logout, methods=["DELETE"]),
    Route("/session/totp", login_totp, methods=["POST"]),
    Route("/session/invitation", redeem_invitation, methods=["POST"]),
    Route("/session/password", set_password, methods=["POST"]),
    Route("/me", me),
    Route("/cases", list_cases),
    Route("/cases/{case_id}", get_case),
    Route("/cases/{case_id}/settings", case_settings, methods=["PATCH"]),
    Route("/cases/{case_id}/status", case_status, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/consents", consent, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/assessments", assessment, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/invitation", invitation, methods=["POST"]),
    Route("/cases/{case_id}/holding", holding, methods=["POST"]),
    Route("/cases/{case_id}/withdraw", withdraw_from_case, methods=["POST"]),
    Route("/cases/{case_id}/messages", case_messages),
    Route("/cases/{case_id}/messages", start_letter, methods=["POST"]),
    Route("/messages/{message_id}", get_message),
    Route("/messages/{message_id}/draft", get_draft),
    Route("/messages/{message_id}/draft", put_draft, methods=["PUT"]),
    Route("/messages/{message_id}/versions/{version_id}", get_version),
    Route("/messages/{message_id}/open", open_message, methods=["POST"]),
    Route("/messages/{message_id}/actions/{action}", message_action, methods=["POST"]),
    Route("/review-queue", review_queue),
    Route("/openapi.json", openapi_document),
]
ROUTES += tus.ROUTES + media.ROUTES
ROUTES += participant_api.ROUTES
ROUTES += referral_api.ROUTES
ROUTES += coordinator_api.ROUTES
ROUTES += casework_api.ROUTES
ROUTES += people_api.ROUTES
ROUTES += notifications_api.ROUTES
ROUTES += agreement_api.ROUTES
ROUTES += export_api.ROUTES
ROUTES += figures_api.ROUTES
ROUTES += supported_api.ROUTES  # issue 12: opening a message with the facilitator
ROUTES += retention_api.ROUTES  # issue 11: what is due to be destroyed, legal holds
