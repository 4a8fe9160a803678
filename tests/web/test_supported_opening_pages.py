"""Receiving with support (issue 12), through the pages: the recipient asks on the message's page to
open it with their facilitator and is told truthfully what happens next; the facilitator records the
time and starts the session from the dashboard; only then does "Open it now" work."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from forms import post_form, sign_in_page
from support import Clock
from world import World

from shuttle.dates import on_day
from shuttle.messages.supported_models import SupportedOpening
from shuttle.services import Services
from shuttle.web.app import build_app


def test_a_recipient_opens_a_message_with_their_facilitator_through_the_pages(svc: Services) -> None:
    clock = Clock(datetime.now(UTC).replace(second=0, microsecond=0))
    svc.clock = clock
    world = World(svc)
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id, "Dear Sam, this is hard to write.")
    app = build_app(svc, check_schema=False)
    responsible, _ = sign_in_page(app, world, p.responsible)
    facilitator, _ = sign_in_page(app, world, p.facilitator)

    page = responsible.get(f"/me/inbox/{message_id}")
    assert "Open it with my facilitator" in page.text and "Open it now" in page.text
    post_form(responsible, f"/me/inbox/{message_id}/supported", page, choice="ask", note="With Fiona, please.")
    page = responsible.get(f"/me/inbox/{message_id}")
    text = html.unescape(page.text)
    assert "Your facilitator will arrange a time with you. The message stays closed until then." in text
    assert "Open it now" not in text and "With Fiona, please." in text
    refused = responsible.post(f"/me/inbox/{message_id}", data={"csrf_token": page.text.split(
        'name="csrf_token" value="')[1].split('"')[0], "choice": "open"}, follow_redirects=False)
    assert refused.status_code == 409 and "opens only during the session" in html.unescape(refused.text)

    board = facilitator.get("/staff")
    assert "Opening a message together" in board.text and "Start the session now" in board.text
    with svc.db.uow() as uow:
        request_id = uow.session.query(SupportedOpening.id).scalar()
    at = clock.now + timedelta(minutes=10)  # within the sign-in sessions' idle time
    post_form(facilitator, f"/staff/supported/{request_id}", board, action="arrange",
              at=at.strftime("%Y-%m-%dT%H:%M"), return_to="/staff")
    case_page = facilitator.get(f"/staff/cases/{case_id}")
    assert f"Time arranged: {on_day(at)} at {at:%H:%M} (UTC)" in case_page.text
    assert "With Fiona, please." in html.unescape(case_page.text)  # the note, for the case's facilitators
    page = responsible.get(f"/me/inbox/{message_id}")
    assert f"The time arranged: {on_day(at)} at {at:%H:%M} (UTC)" in page.text and "Open it now" not in page.text

    clock.now = at
    post_form(facilitator, f"/staff/supported/{request_id}", case_page, action="start",
              return_to=f"/staff/cases/{case_id}")
    assert "The session is running" in facilitator.get("/staff").text
    page = responsible.get(f"/me/inbox/{message_id}")
    assert "Your facilitator has started your session" in page.text and "Open it now" in page.text
    post_form(responsible, f"/me/inbox/{message_id}", page, choice="open")
    opened = responsible.get(f"/me/inbox/{message_id}")
    assert "Dear Sam, this is hard to write." in opened.text
    assert "Opening a message together" not in facilitator.get("/staff").text  # done


def test_withdrawing_on_the_page_brings_back_open_it_now(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id)
    app = build_app(svc, check_schema=False)
    responsible, _ = sign_in_page(app, world, p.responsible)
    page = responsible.get(f"/me/inbox/{message_id}")
    post_form(responsible, f"/me/inbox/{message_id}/supported", page, choice="ask", note="")
    page = responsible.get(f"/me/inbox/{message_id}")
    assert "Withdraw my request" in page.text and "Open it now" not in page.text
    post_form(responsible, f"/me/inbox/{message_id}/supported", page, choice="withdraw")
    page = responsible.get(f"/me/inbox/{message_id}")
    assert "Open it now" in page.text and "Open it with my facilitator" in page.text
    # the author side has no such form for its own letter
    harmed, _ = sign_in_page(app, world, p.harmed)
    answer = harmed.post(f"/me/inbox/{message_id}/supported", data={"csrf_token": "x", "choice": "ask"},
                         follow_redirects=False)
    assert answer.status_code in (403, 404)
