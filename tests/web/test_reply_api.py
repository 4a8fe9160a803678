"""Issue 12: a reply started over the JSON API (`POST /api/v1/cases/{id}/messages` with `in_reply_to`),
as the reply page's autosave starts it, answers the message it names, by the same rule as the page:
only a message of the case delivered to the author's side and opened by it; anything else is one
404 with a sentence, whatever the reason, and nothing is started."""

from __future__ import annotations

import re
from typing import Any

import pytest
from forms import csrf_of, sign_in_page
from world import People, World

from shuttle.messages import authoring, delivery
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app

API = "/api/v1"
REFUSED = {"error": "not_found",
           "message": "There is no message you can reply to with that id: you can reply only to a message "
                      "delivered to you and opened."}


@pytest.fixture
def setup(sqlite_svc: Services) -> tuple[Any, World, str, People]:
    world = World(sqlite_svc)
    case_id, people = world.case()
    return build_app(sqlite_svc, check_schema=False), world, case_id, people


def _replies(world: World) -> int:
    with world.svc.db.uow() as uow:
        return uow.session.query(Message).filter(Message.in_reply_to_id.is_not(None)).count()


def test_a_reply_started_over_the_api_answers_the_message_it_names(setup: Any) -> None:
    app, world, case_id, p = setup
    letter = world.approved_letter(p, case_id)
    world.do(delivery.open_message, p.responsible, letter)
    sam = world.sign_in(app, p.responsible)
    started = sam.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Jessica,", "in_reply_to": letter})
    assert started.status_code == 201, started.text
    assert started.json()["in_reply_to"] == letter and started.json()["state"] == "draft"
    assert world.in_reply_to(started.json()["id"]) == letter
    recording = sam.post(f"{API}/cases/{case_id}/messages", json={"kind": "audio", "in_reply_to": letter})
    assert recording.status_code == 201, recording.text
    assert world.in_reply_to(recording.json()["id"]) == letter
    plain = sam.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Jessica,"})
    assert plain.status_code == 201 and plain.json()["in_reply_to"] is None


def test_a_reply_to_a_message_i_may_not_answer_is_refused_with_a_sentence(setup: Any) -> None:
    app, world, case_id, p = setup
    unopened = world.approved_letter(p, case_id)  # delivered to Sam, not opened yet
    mine = world.do(authoring.start_draft, p.responsible, case_id, "Dear Jessica,")
    theirs = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,")  # someone else's draft
    sam = world.sign_in(app, p.responsible)
    for answered in (unopened, mine.id, theirs.id, "0" * 32):
        for body in ({"text": "Dear Jessica,"}, {"kind": "video"}):
            refused = sam.post(f"{API}/cases/{case_id}/messages", json={**body, "in_reply_to": answered})
            assert (refused.status_code, refused.json()) == (404, REFUSED), answered
    jessica = world.sign_in(app, p.harmed)  # her own letter, delivered to the other side
    refused = jessica.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Sam,", "in_reply_to": unopened})
    assert (refused.status_code, refused.json()) == (404, REFUSED)
    bad = sam.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Jessica,", "in_reply_to": 7})
    assert bad.status_code == 400 and bad.json()["fields"] == [{"field": "in_reply_to", "problem": "must be str"}]
    assert _replies(world) == 0


def _reply_page(setup: Any) -> tuple[Any, str, Any]:
    """Sam, signed in on the pages, has opened Jessica's letter and has its reply page open:
    (his client, the letter's id, the page)."""
    app, world, case_id, p = setup
    letter = world.approved_letter(p, case_id)
    world.do(delivery.open_message, p.responsible, letter)
    sam, _ = sign_in_page(app, world, p.responsible)
    return sam, letter, sam.get(f"/me/cases/{case_id}/write?reply_to={letter}")


def test_the_reply_page_saves_as_you_type_starting_the_draft_with_what_it_answers(setup: Any) -> None:
    case_id = setup[2]
    sam, letter, page = _reply_page(setup)
    form = re.search(r'<form method="post" action="/me/cases/[0-9a-f]+/write"([^>]*)>', page.text)
    assert form is not None
    assert "data-autosave" in form.group(1) and f'data-reply-to="{letter}"' in form.group(1)  # draft.js sends it
    assert "It is saved as you type once you have written a few words." in page.text
    plain = sam.get(f"/me/cases/{case_id}/write")
    assert "data-reply-to" not in plain.text and "data-autosave" in plain.text


def test_the_quick_exit_keeps_a_new_replys_words_as_a_reply(setup: Any) -> None:
    _, world, case_id, _ = setup
    sam, letter, page = _reply_page(setup)
    left = sam.post("/me/exit", data={"csrf_token": csrf_of(page), "case_id": case_id, "reply_to": letter,
                                      "text": "Dear Jessica, typed just before leaving."}, follow_redirects=False)
    assert left.status_code == 303 and left.headers["location"] == "/login"
    with world.svc.db.uow() as uow:
        kept = uow.session.query(Message).filter(Message.in_reply_to_id == letter).count()
    assert kept == 1
