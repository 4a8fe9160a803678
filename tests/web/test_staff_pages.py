"""The facilitator's pages through their forms: dashboard queue and review deadline, case
settings, watch list, status, recipient requests, the review page's claim, four eyes,
comparison of versions and the scheduled release."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from forms import csrf_of as _csrf
from forms import post_form as _post
from sqlalchemy import select
from support import Clock
from world import People, World

from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Case
from shuttle.messages import authoring, delivery, requests, review
from shuttle.messages.models import Message
from shuttle.services import Actor, Services

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _a_monday_ahead() -> datetime:
    """9:00 on a Monday a week or two ahead: the tests' clock (sessions are checked against the real
    clock, so the test clock runs ahead of it, never behind)."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today + timedelta(days=14 - today.weekday())


MONDAY_9AM = _a_monday_ahead()


@pytest.fixture
def clock(sqlite_svc: Services) -> Clock:
    clock = Clock(MONDAY_9AM)
    sqlite_svc.clock = clock
    return clock


@pytest.fixture
def world(sqlite_svc: Services, clock: Clock) -> World:
    return World(sqlite_svc)



def _form_value(page: Any, name: str, marker: str | None = None) -> str:
    """A field of the first form that contains `marker` (e.g. its button's value="approve")."""
    forms = re.findall(r"<form\b.*?</form>", page.text, re.DOTALL)
    marker = marker or f'name="{name}"'
    form = next((f for f in forms if marker in f), None)
    assert form is not None, f"no form with {marker}"
    found = re.search(rf'name="{name}" value="([^"]*)"', form)
    assert found, f"no field {name} in the form with {marker}"
    return html.unescape(found.group(1))




def _text(page: Any) -> str:
    """The page's words, without tags, whitespace folded."""
    main = page.text[page.text.index("<main"):]
    return re.sub(r"\s+([:,.;)])", r"\1", re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))))


def _letter(world: World, p: People, case_id: str, text: str = "Dear Sam, I have waited.") -> str:
    message = world.do(authoring.start_draft, p.harmed, case_id, text)
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    return str(message.id)


def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


# --- dashboard -----------------------------------------------------------------------------------


def test_dashboard_counts_equal_what_it_lists_and_drafts_are_not_among_them(world: World, app: Any) -> None:
    """Reproduced (issue 8): "1 message waiting on you" with 2 listed; and an unsent draft counted."""
    case_id, p = world.case()
    _letter(world, p, case_id)  # waiting for review
    being_prepared = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, sent, not processed yet.")
    world.do(authoring.submit, p.harmed, being_prepared.id)
    world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, my private draft.")  # never sent
    page = world.sign_in(app, p.facilitator).get("/staff")
    text = _text(page)
    assert "1 message waiting on you" in text and "1 being prepared" in text
    queue = page.text[page.text.index('id="queue"'):page.text.index('id="cases-heading"')]
    groups = re.findall(r'<h3 id="queue-(\w+)" class="queue-group">[^<(]*\((\d+)\)</h3>(.*?)</ol>', queue, re.S)
    assert {key: int(count) for key, count, _ in groups} == {"waiting": 1, "preparing": 1}
    for _, count, items in groups:
        assert items.count('class="queue-item') == int(count)
    assert queue.count('class="queue-item') == 2  # the private draft is neither listed nor counted
    case_page = world.sign_in(app, p.facilitator).get(f"/staff/cases/{case_id}")
    assert "my private draft" not in case_page.text and "Letter 3" not in _text(case_page)



def test_queue_counts_working_days_and_escalates_overdue_messages_to_the_co_facilitator(
        world: World, app: Any, clock: Clock) -> None:
    case_id, p = world.case(two_facilitators=True)
    older = _letter(world, p, case_id)
    clock.now += timedelta(hours=2)
    newer = _letter(world, p, case_id)
    clock.now = MONDAY_9AM + timedelta(hours=3)
    lead = world.sign_in(app, p.facilitator)  # (sessions expire when the clock jumps: sign in again)
    page = _text(lead.get("/staff"))
    assert "2 messages waiting on you" in page and "Waiting 3 h" in page and "On time" in page
    assert page.index("Letter from the person harmed") < page.index("Your cases")

    clock.now = MONDAY_9AM + timedelta(days=1, hours=10)  # Tuesday 19:00: past half of two working days
    assert "Due soon" in _text(world.sign_in(app, p.facilitator).get("/staff"))

    clock.now = MONDAY_9AM + timedelta(days=2, hours=1)  # Wednesday 10:00: the older one is overdue
    lead, co = world.sign_in(app, p.facilitator), world.sign_in(app, p.co_facilitator)
    assert _escalations(world) == []  # looking at a page writes nothing (issue 9): the periodic tick escalates
    from workers.handlers import tick

    tick(world.svc)
    page = lead.get("/staff")
    assert "Overdue: passed to Frank1" in _text(page) and "1 overdue" in _text(page)
    mine = co.get("/staff")
    assert "Escalated to you" in _text(mine)
    first = re.findall(r'href="/staff/messages/([0-9a-f]{32})"', mine.text)
    assert first[0] == older  # escalated first in the co-facilitator's queue
    assert _escalations(world) == [(older, [p.co_facilitator.account_id])]
    tick(world.svc)
    assert len(_escalations(world)) == 1  # once per time it waits

    # Once, however often the queue is looked at; the message itself is untouched (never rejected).
    lead.get("/staff")
    co.get("/staff")
    assert len(_escalations(world)) == 1
    assert _state(world, older) == "awaiting_review" and _state(world, newer) == "awaiting_review"

    # The weekend does not count: sent Friday 16:00, still on time on Monday morning.
    clock.now = MONDAY_9AM + timedelta(days=4, hours=7)
    friday = _letter(world, p, case_id)
    clock.now = MONDAY_9AM + timedelta(days=7)
    item = world.sign_in(app, p.facilitator).get("/staff").text.split(f'id="queue-{friday}"')[1].split("</li>")[0]
    assert "On time" in _text_of(item) and "Waiting 2 days 17 h" in _text_of(item)


def _escalations(world: World) -> list[tuple[str | None, Any]]:
    with world.svc.db.uow() as uow:
        escalations = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "message.escalate")).all()
        return [(e.subject_id, e.details["to"]) for e in escalations]


def _text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment)))


def test_claimed_message_overdue_goes_to_the_other_facilitator(world: World, app: Any, clock: Clock) -> None:
    case_id, p = world.case(two_facilitators=True)
    message_id = _letter(world, p, case_id)
    world.do(review.claim, p.co_facilitator, message_id)  # the co-facilitator holds it: escalate to the lead
    clock.now += timedelta(days=3)
    lead, co = world.sign_in(app, p.facilitator), world.sign_in(app, p.co_facilitator)
    assert "Escalated to you" in _text(lead.get("/staff"))
    assert "Overdue: passed to Fiona1" in _text(co.get("/staff"))


def test_one_facilitator_case_is_marked_overdue_without_anyone_to_pass_it_to(
        world: World, app: Any, clock: Clock) -> None:
    case_id, p = world.case()
    _letter(world, p, case_id)
    clock.now += timedelta(days=7)
    page = _text(world.sign_in(app, p.facilitator).get("/staff"))
    assert "Overdue" in page and "passed to" not in page and "Escalated to you" not in page


def test_sla_setting_zero_turns_the_deadline_off(world: World, app: Any, clock: Clock) -> None:
    world.svc.settings = world.svc.settings.with_(review_sla_working_days=0)
    case_id, p = world.case()
    _letter(world, p, case_id)
    clock.now += timedelta(days=30)
    page = _text(world.sign_in(app, p.facilitator).get("/staff"))
    assert "Overdue" not in page and "On time" not in page and "working day" not in page


def test_dashboard_shows_processing_and_a_retry_button_for_a_failed_message(world: World, app: Any) -> None:
    case_id, p = world.case()
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, p.harmed, message.id)
    staff = world.sign_in(app, p.facilitator)
    page = staff.get("/staff")
    assert f'data-processing="{message.id}"' in page.text and "Processing about to start" in _text(page)
    assert 'value="retry"' not in page.text

    with world.svc.db.uow() as uow:  # the worker gave up on it (the dead-letter state people see)
        from shuttle.messages import lifecycle
        from shuttle.messages.states import Action
        row = uow.session.get(Message, message.id)
        assert row is not None
        lifecycle.transition(uow.session, row, Action.START_PROCESSING, Actor.system(), now=world.svc.now())
        lifecycle.transition(uow.session, row, Action.PROCESSING_FAILED, Actor.system(), now=world.svc.now())
        uow.commit()
    page = staff.get("/staff")
    assert "Processing failed" in _text(page) and 'value="retry"' in page.text
    answer = _post(staff, f"/staff/messages/{message.id}", page, action="retry", return_to="/staff",
                   version=_form_value(page, "version", 'value="retry"'))
    assert answer.headers["location"] == "/staff"
    assert _state(world, message.id) == "submitted"


# --- case page -----------------------------------------------------------------------------------


def test_a_one_facilitator_case_cannot_need_two_approvals(world: World, app: Any) -> None:
    """Reproduced (issue 8): a one-facilitator case accepted "two different facilitators" and then
    stranded a message approved once, with no Approve button for anyone."""
    case_id, p = world.case()
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    assert 'id="approvals-2"' not in page.text and "once the case has a second facilitator" in _text(page)
    fields = {"action": "settings", "version": _form_value(page, "version", 'value="settings"'),
              "label_harmed": "Jessica", "label_responsible": "Sam", "initiator": "harmed",
              "responsible_may_reply": "yes", "approvals_required": "2", "author_must_accept_edits": "yes",
              "read_receipts_allowed": "no"}
    refused = staff.post(url, data=fields, follow_redirects=False)
    assert refused.status_code == 400 and "cannot need 2 different facilitators" in _text(refused)
    with world.svc.db.uow() as uow:
        assert uow.session.get(Case, case_id).approvals_required == 1  # type: ignore[union-attr]


def test_settings_form_changes_the_case_and_refuses_a_stale_form(world: World, app: Any) -> None:
    case_id, p = world.case(two_facilitators=True)
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    assert 'value="the person harmed"' in page.text
    fields = {"action": "settings", "version": _form_value(page, "version", 'value="settings"'),
              "label_harmed": "Jessica", "label_responsible": "Sam's side", "initiator": "either",
              "responsible_may_reply": "no", "approvals_required": "2", "author_must_accept_edits": "no",
              "read_receipts_allowed": "yes"}
    _post(staff, url, page, **fields)
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        assert (case.label_harmed, case.label_responsible, case.initiator, case.responsible_may_reply,
                case.approvals_required, case.author_must_accept_edits, case.read_receipts_allowed) == (
            "Jessica", "Sam's side", "either", False, 2, False, True)
    after = staff.get(url)
    assert 'id="approvals-2" name="approvals_required" value="2" checked' in after.text
    assert "changed the case settings" in _text(after)

    stale = staff.post(url, data={**fields, "label_harmed": "Someone else"}, follow_redirects=False)
    assert stale.status_code == 409 and "changed since you opened them" in stale.text
    bad = staff.post(url, data={**fields, "version": _form_value(after, "version", 'value="settings"'),
                                "approvals_required": "3"}, follow_redirects=False)
    assert bad.status_code == 400


def test_watch_list_form_flags_later_letters(world: World, app: Any) -> None:
    case_id, p = world.case()
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    _post(staff, url, page, action="watchlist", version=_form_value(page, "version", 'value="watchlist"'),
          watchlist="Elm Street\r\n  Riverside Academy \r\n\r\nElm Street\r\n")
    with world.svc.db.uow() as uow:
        assert uow.session.get(Case, case_id).watchlist == ["Elm Street", "Riverside Academy"]  # type: ignore[union-attr]
    assert ">Elm Street\nRiverside Academy</textarea>" in staff.get(url).text

    message_id = _letter(world, p, case_id, "We met near Riverside Academy.")
    review_page = staff.get(f"/staff/messages/{message_id}")
    assert re.search(r'<mark class="flag flag-watchlist"[^>]*>Riverside Academy</mark>', review_page.text)
    assert "watch-list term: Riverside Academy" in _text(review_page)


def test_pausing_from_the_case_page_holds_an_approved_message_until_resumed(world: World, app: Any) -> None:
    from shuttle.cases import service as cases

    case_id, p = world.case()
    message_id = _letter(world, p, case_id)
    world.do(cases.set_holding, p.responsible, case_id, True)  # the recipient is not ready yet
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    assert _state(world, message_id) == "approved"  # approved, not released
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    _post(staff, url, page, action="status", status="paused", version=_form_value(page, "version", 'value="status"'))
    page = staff.get(url)
    assert "Status: <strong>paused</strong>" in page.text and "Put on hold: the case is paused" in _text(page)
    world.do(cases.set_holding, p.responsible, case_id, False)  # the recipient is ready: the pause still holds
    assert _state(world, message_id) == "held"
    _post(staff, url, page, action="status", status="open", version=_form_value(page, "version", 'value="status"'))
    assert _state(world, message_id) == "released"
    assert "Letter 1: Delivered to the person responsible" in _text(staff.get(url))


def test_closing_needs_a_confirmation_and_a_closure_reason(world: World, app: Any) -> None:
    case_id, p = world.case()
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    assert f'href="/staff/cases/{case_id}/agreement#closure-heading">Close the case (with its reason)' in page.text
    version = _form_value(page, "version", 'value="status"')
    refused = staff.post(url, data={"action": "status", "status": "closing", "version": version},
                         follow_redirects=False)
    assert refused.status_code == 400 and "tick the box" in refused.text
    no_reason = staff.post(url, data={"action": "status", "status": "closing", "confirm": "yes", "version": version,
                                      "csrf_token": _form_value(page, "csrf_token", 'value="status"')},
                           follow_redirects=False)
    assert no_reason.status_code == 400 and "Say why the case closes" in no_reason.text
    assert "Status: <strong>open</strong>" in staff.get(url).text
    _post(staff, url, page, action="status", status="closing", confirm="yes", reason="completed", version=version)
    with world.svc.db.uow() as uow:  # the page's status step is the one close step too, closure record and all
        from shuttle.agreements import service as agreements
        from shuttle.agreements.models import FeedbackDone

        closure = agreements.closure_of(uow.session, case_id)
        assert closure is not None and closure.reason == "completed"
        offered = uow.session.scalars(select(FeedbackDone.participant_id)).all()
        assert len(offered) >= 2  # each participant is offered the questionnaire
    closing = staff.get(url)
    assert "Status: <strong>closing</strong>" in closing.text and "Finish closing the case" in closing.text
    assert "Resume the case" not in closing.text and "Pause the case" not in closing.text
    _post(staff, url, closing, action="status", status="closed", confirm="yes",
          version=_form_value(closing, "version", 'value="status"'))
    closed = staff.get(url)
    assert "Status: <strong>closed</strong>" in closed.text and 'name="status"' not in closed.text


def test_case_page_marks_proxies_and_shows_a_timeline_without_content(world: World, app: Any) -> None:
    case_id, p = world.case(read_receipts_allowed=True)
    message_id = _letter(world, p, case_id, "Dear Sam, the blue umbrella was mine.")
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    world.do(delivery.open_message, p.responsible, message_id, share_receipt=True)
    page = world.sign_in(app, p.facilitator).get(f"/staff/cases/{case_id}")
    words = _text(page)
    assert "Proxy" in words and "Acts for the person harmed: mother of Jessica" in words
    assert "Letter 1: the person harmed sent a letter" in words
    assert "Letter 1: Fiona1 approved it" in words and "Letter 1: Delivered to the person responsible" in words
    assert "Letter 1: the person responsible opened it" in words
    assert "blue umbrella" not in page.text


def test_recipient_requests_are_answered_from_the_case_page(world: World, app: Any) -> None:
    case_id, p = world.case()
    message_id = _letter(world, p, case_id)
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    world.do(requests.request, p.responsible, message_id, "hold", "Not this week, please.")
    staff = world.sign_in(app, p.facilitator)
    dashboard = staff.get("/staff")
    assert "Requests from recipients" in _text(dashboard) and "hold it for now" in _text(dashboard)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    assert "Not this week, please." in page.text
    request_id = _form_value(page, "request_id")
    answer = _post(staff, url, page, action="handle-request", request_id=request_id, outcome="done",
                   note="Held until you say.", return_to="/staff")
    assert answer.headers["location"] == "/staff"
    assert "Requests from recipients" not in _text(staff.get(url))
    again = staff.post(url, data={"action": "handle-request", "request_id": request_id, "outcome": "done"},
                       follow_redirects=False)
    assert again.status_code == 404


def test_forms_send_back_only_to_staff_pages(world: World, app: Any) -> None:
    case_id, p = world.case()
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    for target in ("https://example.org/", "//example.org/staff", "/staff/../me", "/staffx"):
        answer = _post(staff, url, page, action="watchlist", version=_form_value(staff.get(url), "version",
                                                                                 'value="watchlist"'),
                       watchlist="x", return_to=target)
        assert answer.headers["location"] == url


def test_case_page_is_the_facilitators_only(world: World, app: Any) -> None:
    case_id, p = world.case()
    for actor in (p.harmed, p.supporter, p.coordinator):
        client = world.sign_in(app, actor)
        assert client.get(f"/staff/cases/{case_id}").status_code == 404
        answer = client.post(f"/staff/cases/{case_id}", data={"action": "watchlist", "watchlist": "x"},
                             follow_redirects=False)
        assert answer.status_code == 404


# --- review page ---------------------------------------------------------------------------------


def test_one_reviewer_at_a_time_and_taking_over(world: World, app: Any) -> None:
    case_id, p = world.case(two_facilitators=True)
    message_id = _letter(world, p, case_id)
    url = f"/staff/messages/{message_id}"
    lead, co = world.sign_in(app, p.facilitator), world.sign_in(app, p.co_facilitator)
    page = lead.get(url)
    _post(lead, url, page, action="claim", version=_form_value(page, "version"))
    theirs = co.get(url)
    assert "Fiona1 is reviewing this message" in _text(theirs)
    assert f'href="{url}/approve"' not in theirs.text and "Take over the review" in theirs.text
    _post(co, url, theirs, action="claim", take_over="yes", version=_form_value(theirs, "version", "Take over"))
    assert "You are reviewing this message" in _text(co.get(url))
    assert "Frank1 is reviewing this message" in _text(lead.get(url))


def test_four_eyes_hides_approve_from_the_first_approver(world: World, app: Any) -> None:
    case_id, p = world.case(two_facilitators=True, approvals_required=2)
    message_id = _letter(world, p, case_id)
    url = f"/staff/messages/{message_id}"
    lead, co = world.sign_in(app, p.facilitator), world.sign_in(app, p.co_facilitator)
    world.do(review.claim, p.facilitator, message_id)
    page = lead.get(url)
    assert "a second facilitator must approve it too" in _text(page)
    sheet = lead.get(f"{url}/approve")
    assert "a second facilitator must approve it before it is delivered" in _text(sheet)
    _post(lead, f"{url}/approve", sheet, version=_form_value(sheet, "version"))

    page = lead.get(url)
    assert "Needs a second facilitator" in _text(page) and "Frank1 can give the second approval" in _text(page)
    world.do(review.claim, p.facilitator, message_id)
    page = lead.get(url)
    assert f'href="{url}/approve"' not in page.text and "You approved this version already" in _text(page)
    refused = lead.post(f"{url}/approve", data={"csrf_token": _csrf(page), "version": _form_value(page, "version")},
                        follow_redirects=False)
    assert refused.status_code == 409

    theirs = co.get(url)
    assert "Fiona1 approved this version" in _text(theirs)
    _post(co, url, theirs, action="claim", take_over="yes", version=_form_value(theirs, "version", "Take over"))
    theirs = co.get(url)
    assert f'href="{url}/approve"' in theirs.text
    sheet = co.get(f"{url}/approve")
    assert "Already approved by Fiona1" in _text(sheet)
    _post(co, f"{url}/approve", sheet, version=_form_value(sheet, "version"))
    assert _state(world, message_id) == "released"


def test_versions_side_by_side(world: World, app: Any) -> None:
    case_id, p = world.case(author_must_accept_edits=False)
    message_id = _letter(world, p, case_id, "Dear Sam, ring me on 07700 900123 tonight.")
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.propose_edit, p.facilitator, message_id, text="Dear Sam, write to me tonight.")
    world.run_jobs()
    staff = world.sign_in(app, p.facilitator)
    page = staff.get(f"/staff/messages/{message_id}")
    columns = page.text.split('class="diff-column"')
    assert len(columns) == 3
    left, right = _text_of(columns[1]), _text_of(columns[2])
    assert "Dear Sam, [taken out: ring] me [taken out: on 07700 900123] tonight." in left and "<ins>" not in columns[1]
    assert "Dear Sam, [put in: write to] me tonight." in right and "<del>" not in columns[2]
    same = staff.get(f"/staff/messages/{message_id}?from=2&to=2")  # one version with itself: first and last
    assert "[taken out: on 07700 900123]" in _text_of(same.text)
    odd = staff.get(f"/staff/messages/{message_id}?from=abc&to=99")
    assert odd.status_code == 200 and "[put in: write to]" in _text_of(odd.text)


def test_schedule_and_clear_the_release_time(world: World, app: Any, clock: Clock) -> None:
    case_id, p = world.case()
    message_id = _letter(world, p, case_id)
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/messages/{message_id}"
    page = staff.get(url)
    # Thursday 14:30 in the facilitator's browser at UTC+1 (getTimezoneOffset() = -60).
    thursday = (MONDAY_9AM + timedelta(days=3)).strftime("%Y-%m-%d")
    _post(staff, url, page, action="schedule", release_at=f"{thursday}T14:30", tz_offset="-60",
          version=_form_value(page, "version", 'value="schedule"'))
    with world.svc.db.uow() as uow:
        scheduled = uow.session.get(Message, message_id).scheduled_release_at  # type: ignore[union-attr]
        assert scheduled == (MONDAY_9AM + timedelta(days=3)).replace(hour=13, minute=30)
    page = staff.get(url)
    assert f"Scheduled for {thursday} 13:30 UTC" in _text(page)
    assert f'data-utc-value="{thursday}T13:30:00+00:00"' in page.text

    world.do(review.claim, p.facilitator, message_id)
    sheet = staff.get(f"{url}/approve")
    assert f"now: scheduled for {thursday} 13:30 UTC" in _text(sheet)
    _post(staff, f"{url}/approve", sheet, version=_form_value(sheet, "version"))
    page = staff.get(url)
    assert f"scheduled for {thursday} 13:30 UTC" in _text(page) and _state(world, message_id) == "approved"

    _post(staff, url, page, action="unschedule", version=_form_value(page, "version", 'value="unschedule"'))
    assert _state(world, message_id) == "released"  # nothing else held it
    assert 'name="release_at"' not in staff.get(url).text  # delivered: nothing to schedule

    for bad in ({"release_at": "tomorrow"}, {"release_at": "2026-11-19T14:30", "tz_offset": "99999"}):
        answer = staff.post(url, data={"action": "schedule", **bad}, follow_redirects=False)
        assert answer.status_code == 400


def test_buttons_follow_the_state_machine_and_the_server_refuses_the_rest(world: World, app: Any) -> None:
    case_id, p = world.case()
    message_id = _letter(world, p, case_id)
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    staff = world.sign_in(app, p.facilitator)
    url = f"/staff/messages/{message_id}"
    page = staff.get(url)
    assert "delivered, not yet opened" in page.text
    for action in ("claim", "unclaim", "request-changes", "edit", "reject", "retry", "schedule"):
        assert f'value="{action}"' not in page.text, action
        answer = staff.post(url, data={"csrf_token": _csrf(page), "action": action, "note": "x", "text": "x",
                                       "code": "other", "release_at": "2026-12-01T10:00"}, follow_redirects=False)
        assert answer.status_code == 409, (action, answer.status_code)
    assert f'href="{url}/approve"' not in page.text
    answer = staff.post(f"{url}/approve", data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert answer.status_code == 409


def test_the_periodic_duty_escalates_without_anyone_looking(world: World, clock: Clock) -> None:
    from shuttle.messages import queries

    case_id, p = world.case(two_facilitators=True)
    message_id = _letter(world, p, case_id)
    with world.svc.db.uow() as uow:
        assert queries.escalate_overdue(uow.session, world.svc) == 0
    clock.now += timedelta(days=2, hours=1)  # Wednesday 10:00
    for expected in (1, 0):  # once
        with world.svc.db.uow() as uow:
            assert queries.escalate_overdue(uow.session, world.svc) == expected
            uow.commit()
    assert _state(world, message_id) == "awaiting_review"


def test_every_staff_form_checks_the_csrf_token_first(world: World, app: Any) -> None:
    from world import web_client

    case_id, p = world.case()
    message_id = _letter(world, p, case_id)
    client = web_client(app)  # signed in without the API client's CSRF header: only the form's token counts
    login = client.get("/login")
    token = html.unescape(CSRF_FIELD.search(login.text).group(1))  # type: ignore[union-attr]
    client.post("/login", data={"csrf_token": token, "username": world.username(p.facilitator),
                                "password": World.PASSWORD})
    for url, action in [(f"/staff/cases/{case_id}", a) for a in ("status", "consent", "assessment", "settings",
                                                                  "watchlist", "handle-request")] + \
                       [(f"/staff/messages/{message_id}", a) for a in ("claim", "schedule", "unschedule", "recall",
                                                                       "incident", "edit", "edit-media", "reject",
                                                                       "retry")] + \
                       [(f"/staff/messages/{message_id}/approve", "approve")]:
        answer = client.post(url, data={"action": action, "status": "closed", "release_at": "bad"},
                             follow_redirects=False)
        assert answer.status_code == 403 and "did not come from this site" in answer.text, (url, action)
    assert _state(world, message_id) == "awaiting_review"
