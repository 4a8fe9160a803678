"""Issue 12 on the participants' pages: the exchange as one conversation (kind, date in words,
state in words, what a reply answers), a reply started from the message it answers, "check your
message" before sending, guided writing prompts, and the dates of every step of a message's life."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from forms import csrf_of, post_form
from forms import sign_in_page as sign_in
from world import People, World

from shuttle.dates import on_day
from shuttle.messages import delivery, review
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app

PHONE_LETTER = "Dear Sam,\r\nI live near Elm Street. Call me on 07700 900123.   \r\n\r\n\r\n\r\nJessica"


@pytest.fixture
def setup(sqlite_svc: Services) -> tuple[Any, World, str, People]:
    world = World(sqlite_svc)
    case_id, people = world.case(watchlist=["Elm Street"], read_receipts_allowed=True)
    return build_app(sqlite_svc, check_schema=False), world, case_id, people


def _message(world: World, message_id: str) -> Message:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        uow.session.expunge(message)
        return message


def _text(page: Any) -> str:
    """The page's words, tags removed and spaces collapsed (what a reader reads)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


def _today(world: World) -> str:
    day = on_day(world.svc.now())
    assert day is not None and re.fullmatch(r"[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}", day)
    return day


def test_one_date_format() -> None:
    from datetime import UTC, date, datetime
    assert on_day(datetime(2026, 12, 1, 23, 59, tzinfo=UTC)) == "Tuesday 1 December 2026"
    assert on_day(date(2027, 1, 4)) == "Monday 4 January 2027"
    assert on_day(None) is None


def test_a_reply_is_started_from_the_message_it_answers_and_the_conversation_shows_it(setup: Any) -> None:
    app, world, case_id, p = setup
    today = _today(world)
    letter = world.approved_letter(p, case_id)  # delivered to the responsible side
    sam, _ = sign_in(app, world, p.responsible)
    inbox = sam.get(f"/me/inbox/{letter}")
    assert "/write?reply_to=" not in inbox.text  # not opened yet: no reply
    assert sam.get(f"/me/cases/{case_id}/write?reply_to={letter}").status_code == 404
    assert "Reply" not in _text(sam.get("/me")).split("conversation with")[1]
    post_form(sam, f"/me/inbox/{letter}", inbox, choice="open", share_receipt="yes")
    opened = sam.get(f"/me/inbox/{letter}")
    assert f"A letter, delivered {today}." in _text(opened)
    reply_url = f"/me/cases/{case_id}/write?reply_to={letter}"
    assert f'href="{reply_url}"' in opened.text
    assert f'href="/me/cases/{case_id}/record?reply_to={letter}"' in opened.text

    page = sam.get(reply_url)
    assert "Reply to the person harmed" in page.text
    assert f"Your letter will answer the letter from the person harmed delivered {today}." in _text(page)
    written = post_form(sam, f"/me/cases/{case_id}/write", page, text="Dear Jessica, thank you for writing.",
                        reply_to=letter)
    reply = written.headers["location"].rsplit("/", 1)[1]
    assert _message(world, reply).in_reply_to_id == letter
    draft_page = _text(sam.get(f"/me/messages/{reply}"))
    assert f"In reply to the letter from the person harmed delivered {today}." in draft_page
    # A reply to a message one may not answer is refused like a missing one, and nothing is started.
    assert sam.post(f"/me/cases/{case_id}/write", data={"csrf_token": csrf_of(page), "text": "Hello",
                                                         "reply_to": reply}).status_code == 404

    # Sam's conversation: the letter he received (opened), then his reply, with what it answers.
    home = _text(sam.get("/me"))
    conversation = home.split("Your conversation with the person harmed")[1]
    received = f"Letter from the person harmed , delivered {today} Opened"
    mine = (f"Letter to the person harmed , written {today} Draft In reply to the letter from the person "
            f"harmed delivered {today}")
    assert received in conversation and mine in conversation
    assert conversation.index(received) < conversation.index(mine)

    # Sent, approved and delivered, Jessica sees it in her conversation answering her letter.
    check = sam.get(f"/me/messages/{reply}/check")
    post_form(sam, f"/me/messages/{reply}/check", check, version=_hidden(check, "version"),
              flags_key=_hidden(check, "flags_key"))
    world.run_jobs()
    world.do(review.claim, p.facilitator, reply)
    world.do(review.approve, p.facilitator, reply)
    jessica, _ = sign_in(app, world, p.harmed)
    theirs = _text(jessica.get("/me")).split("Your conversation with the person responsible")[1]
    assert f"Letter to the person responsible , delivered {today} Delivered and opened" in theirs
    assert (f"Letter from the person responsible , delivered {today} Not opened yet In reply to your letter "
            f"of {today}") in theirs
    assert f"It answers your letter of {today}." in _text(jessica.get(f"/me/inbox/{reply}"))  # before opening it
    # The JSON views name it too, for the author and the recipient alike.
    assert sam.get(f"/api/v1/messages/{reply}").json()["in_reply_to"] == letter
    assert jessica.get(f"/api/v1/messages/{reply}").json()["in_reply_to"] == letter
    assert jessica.get(f"/api/v1/messages/{letter}").json()["in_reply_to"] is None
    # Staff see it on the review page, by the message's name.
    fiona, _ = sign_in(app, world, p.facilitator)
    assert "In reply to Letter 1" in _text(fiona.get(f"/staff/messages/{reply}"))


def _hidden(page: Any, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert found, f"no hidden field {name}"
    return html.unescape(found.group(1))


def test_check_your_message_shows_what_the_facilitator_receives_before_sending(setup: Any) -> None:
    app, world, case_id, p = setup
    jessica, _ = sign_in(app, world, p.harmed)
    written = post_form(jessica, f"/me/cases/{case_id}/write", jessica.get(f"/me/cases/{case_id}/write"),
                        text="Dear Sam,")
    url = written.headers["location"]
    message_id = url.rsplit("/", 1)[1]
    draft = jessica.get(url)
    assert 'value="check"' in draft.text and 'value="submit"' not in draft.text  # sending goes through the check
    checked = post_form(jessica, url, draft, action="check", text=PHONE_LETTER, version=_hidden(draft, "version"))
    assert checked.headers["location"] == f"{url}/check"
    assert _message(world, message_id).first_submitted_at is None  # saved, not sent

    page = jessica.get(f"{url}/check")
    assert page.status_code == 200 and "Check your letter before sending it" in page.text
    shown = re.search(r'<div class="letter" id="checked-text">(.*?)</div>', page.text, re.S)
    as_received = "Dear Sam,\nI live near Elm Street. Call me on 07700 900123.\n\n\nJessica"
    assert shown and html.unescape(shown.group(1)) == as_received
    assert "Invisible characters, spaces at the ends of lines and extra blank lines are taken out" in page.text
    flags = re.search(r'<div id="check-flags".*?</div>', page.text, re.S)
    assert flags and "07700 900123" in flags.group(0) and "Elm Street" not in flags.group(0)  # never the watch list
    assert "watch" not in page.text.lower()
    assert f'href="{url}#text"' in page.text  # "Change"

    # Changed in another window since the page was shown: not sent, shown again.
    stale = jessica.post(f"{url}/check", data={"csrf_token": csrf_of(page), "version": _hidden(page, "version"),
                                               "flags_key": "not-what-was-shown"})
    assert stale.status_code == 409 and _message(world, message_id).first_submitted_at is None
    sent = post_form(jessica, f"{url}/check", page, version=_hidden(page, "version"),
                     flags_key=_hidden(page, "flags_key"))
    assert sent.headers["location"] == f"{url}?done=sent"
    assert _message(world, message_id).first_submitted_at is not None
    again = jessica.get(f"{url}/check", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == url  # nothing left to check


def test_a_recording_says_truthfully_when_it_can_be_played(setup: Any) -> None:
    app, world, case_id, p = setup
    sam, _ = sign_in(app, world, p.responsible)
    letter = world.approved_letter(p, case_id)
    world.do(delivery.open_message, p.responsible, letter)
    page = sam.get(f"/me/cases/{case_id}/record?reply_to={letter}")
    assert f'name="reply_to" value="{letter}"' in page.text
    started = post_form(sam, f"/me/cases/{case_id}/record", page, kind="audio", reply_to=letter)
    message_id = started.headers["location"].rsplit("/", 1)[1]
    assert _message(world, message_id).in_reply_to_id == letter
    # Nothing uploaded yet: there is nothing to check or send.
    assert sam.get(f"/me/messages/{message_id}/check", follow_redirects=False).status_code == 303


def test_guided_writing_prompts_are_optional_and_never_in_the_letter(setup: Any) -> None:
    app, world, case_id, p = setup
    jessica, _ = sign_in(app, world, p.harmed)
    page = jessica.get(f"/me/cases/{case_id}/write")
    prompts = re.search(r'<details class="help prompts" open>(.*?)</details>', page.text, re.S)
    assert prompts, "the prompts are a <details> element: shown, and hidden with one click, without JavaScript"
    words = _text(type("P", (), {"text": prompts.group(1)})())
    for question in ("What happened", "How has it affected you", "What do you need now",
                     "What would you like to say to the person responsible"):
        assert question in words
    area = re.search(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S)
    assert area and area.group(1) == ""  # not inserted into the letter
    written = post_form(jessica, f"/me/cases/{case_id}/write", page, text="Dear Sam,")
    draft = jessica.get(written.headers["location"])
    assert '<details class="help prompts" open>' in draft.text  # on the draft's page too
    area = re.search(r"<textarea[^>]*>(.*?)</textarea>", draft.text, re.S)
    assert area and area.group(1) == "Dear Sam,"


def test_the_authors_page_dates_every_step_of_its_life(setup: Any) -> None:
    app, world, case_id, p = setup
    today = _today(world)
    letter = world.approved_letter(p, case_id)
    jessica, _ = sign_in(app, world, p.harmed)
    steps = ["Written", "Sent to your facilitator", "Approved", "Delivered"]

    def history() -> list[tuple[str, str]]:
        found = re.search(r'<dl class="history"[^>]*>(.*?)</dl>', jessica.get(f"/me/messages/{letter}").text, re.S)
        assert found
        return re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", found.group(1))

    assert history() == [(step, today) for step in steps]
    world.do(delivery.open_message, p.responsible, letter)  # opened, no receipt shared: not shown
    assert history() == [(step, today) for step in steps]
    # The timeline's "Approved" step has its date too.
    page = jessica.get(f"/me/messages/{letter}").text
    approved = re.search(r'<span class="step-label">Approved</span>.*?</li>', page, re.S)
    assert approved and today in approved.group(0)


def test_an_opening_shared_is_dated_and_a_return_for_changes_too(setup: Any) -> None:
    app, world, case_id, p = setup
    today = _today(world)
    letter = world.approved_letter(p, case_id)
    world.do(delivery.open_message, p.responsible, letter, share_receipt=True)
    jessica, _ = sign_in(app, world, p.harmed)
    page = jessica.get(f"/me/messages/{letter}").text
    assert f"<dt>Opened</dt><dd>{today}</dd>" in page

    from shuttle.messages import authoring
    second = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, again.")
    world.do(authoring.submit, p.harmed, second.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, second.id)
    world.do(review.request_changes, p.facilitator, second.id, note="Please say it more gently.")
    page = jessica.get(f"/me/messages/{second.id}").text
    assert f"<dt>Your facilitator asked for changes</dt><dd>{today}</dd>" in page
    assert "<dt>Approved</dt>" not in page and "<dt>Delivered</dt>" not in page  # nothing that did not happen
