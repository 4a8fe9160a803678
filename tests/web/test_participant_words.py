"""Every sentence a participant reads is true (invariant 11, issue 8 point 4).

Each test reads the words a page says and then checks that the system does exactly that:
who learns that a message was opened, why a message came back, whether a confirmation
is still news, whether a waiting message can be opened now.
"""

from __future__ import annotations

from typing import Any

import pytest
from forms import csrf_of as _csrf
from forms import hidden as _hidden
from forms import post_form as _post
from forms import sign_in_page as _sign_in
from world import People, World

from shuttle.cases import service as cases
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.services import Actor, Services
from shuttle.web.app import build_app


@pytest.fixture
def app_world(svc: Services) -> tuple[Any, World]:
    return build_app(svc, check_schema=False), World(svc)


def _approved_letter(world: World, p: People, case_id: str, text: str = "Dear Sam, I have thought about it.") -> str:
    return world.approved_letter(p, case_id, text)


def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


def _author_sees_opened(app: Any, world: World, author: Actor, message_id: str) -> bool:
    """Whether anything the author can read says the message was opened."""
    view = world.sign_in(app, author).get(f"/api/v1/messages/{message_id}").json()
    page, _ = _sign_in(app, world, author)
    text = page.get(f"/me/messages/{message_id}").text
    said = "opened" in text.replace("Opened (if they tell you)", "")
    assert said == (view["state"] == "viewed") == (view["opened_at"] is not None)
    return said


def _staff_sees_opened(app: Any, world: World, p: People, message_id: str) -> bool:
    view = world.sign_in(app, p.facilitator).get(f"/api/v1/messages/{message_id}").json()
    return bool(view["state"] == "viewed" and view["status"] == "delivered and opened")


@pytest.mark.parametrize("receipts", [True, False])
def test_the_open_prompt_says_exactly_who_learns_that_it_was_opened(app_world: Any, receipts: bool) -> None:
    app, world = app_world
    case_id, p = world.case(read_receipts_allowed=receipts, label_harmed="Jessica")
    quiet, told = _approved_letter(world, p, case_id), _approved_letter(world, p, case_id)
    sam, _ = _sign_in(app, world, p.responsible)
    prompt = sam.get(f"/me/inbox/{quiet}").text
    unless = ", unless you choose below to let them know" if receipts else ""
    assert f"Jessica will not be told{unless}." in prompt
    assert "Your facilitator can see whether you have opened it, so they can check on you." in prompt
    assert "nobody will see" not in prompt.lower()
    assert ('name="share_receipt"' in prompt) == receipts

    # Opened without telling: Jessica is not told, the facilitator sees it.
    _post(sam, f"/me/inbox/{quiet}", sam.get(f"/me/inbox/{quiet}"), choice="open")
    assert not _author_sees_opened(app, world, p.harmed, quiet)
    assert _staff_sees_opened(app, world, p, quiet)
    # Ticking the box (only offered when the case allows it) is what tells her.
    _post(sam, f"/me/inbox/{told}", sam.get(f"/me/inbox/{told}"), choice="open", share_receipt="yes")
    assert _author_sees_opened(app, world, p.harmed, told) == receipts
    assert _staff_sees_opened(app, world, p, told)


def test_a_refusal_by_the_worker_is_not_a_facilitators_request(app_world: Any) -> None:
    app, world = app_world
    case_id, p = world.case()
    jessica, _ = _sign_in(app, world, p.harmed)
    # A letter of invisible characters only: the worker refuses it and it comes back to its author.
    empty = world.do(authoring.start_draft, p.harmed, case_id, "\u200b\u200b")
    world.do(authoring.submit, p.harmed, empty.id)
    world.run_jobs()
    assert _state(world, empty.id) == "changes_requested"
    page = jessica.get(f"/me/messages/{empty.id}").text
    assert ("We could not use this letter: the letter is empty once invisible characters are removed. "
            "You can change it and send it again.") in page
    assert "asked for changes" not in page and "asked you to change" not in page
    assert "<textarea" in page  # true: it can be changed and sent again
    home = jessica.get("/me").text
    assert "Could not be used" in home and "asked for changes" not in home

    # A file the worker cannot use: it starts like a JPEG photo, and is not one.
    api = world.sign_in(app, p.harmed)
    photo = api.post(f"/api/v1/cases/{case_id}/messages", json={"kind": "image"}).json()
    bad = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    assert api.put(f"/api/v1/messages/{photo['id']}/media", content=bad).status_code == 201
    view = api.get(f"/api/v1/messages/{photo['id']}").json()
    assert api.post(f"/api/v1/messages/{photo['id']}/actions/submit", json={"version": view["version"]}).is_success
    world.run_jobs()
    assert _state(world, photo["id"]) == "changes_requested"
    page = jessica.get(f"/me/messages/{photo['id']}").text
    assert "We could not use this file: the picture is" in page
    assert "You can send another." in page and 'id="media-file"' in page
    assert "asked for changes" not in page and "asked you to change" not in page

    # A facilitator's request for changes still says so.
    asked = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a letter.")
    world.do(authoring.submit, p.harmed, asked.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, asked.id)
    world.do(review.request_changes, p.facilitator, asked.id, note="Please say more.")
    page = jessica.get(f"/me/messages/{asked.id}").text
    assert "Your facilitator asked for changes" in page and "We could not use" not in page


def test_a_confirmation_is_shown_once_and_not_again_on_reload(app_world: Any) -> None:
    app, world = app_world
    case_id, p = world.case()
    jessica, _ = _sign_in(app, world, p.harmed)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a letter.")
    url = f"/me/messages/{draft.id}"
    page = jessica.get(url)
    sent = _post(jessica, url, page, action="submit", version=_hidden(page, "version"))
    assert "Sent to your facilitator." in jessica.get(sent.headers["location"]).text
    assert "Sent to your facilitator." not in jessica.get(sent.headers["location"]).text  # reloaded
    # An address typed or shared by hand shows no confirmation of something that did not happen.
    other, _ = _sign_in(app, world, p.harmed)
    assert "Sent to your facilitator." not in other.get(sent.headers["location"]).text
    assert "Deliveries to you are paused." not in other.get("/me?done=paused").text


def test_while_the_case_is_paused_a_waiting_message_is_on_hold(app_world: Any) -> None:
    app, world = app_world
    case_id, p = world.case(label_harmed="Jessica")
    message_id = _approved_letter(world, p, case_id)
    assert _state(world, message_id) == "released"
    world.do(cases.set_status, p.facilitator, case_id, "paused")
    sam, home = _sign_in(app, world, p.responsible)
    home = sam.get("/me").text
    assert "A message from Jessica is on hold for now, so it cannot be opened yet." in home
    assert "Decide when to open it" not in home and "is waiting." not in home
    prompt = sam.get(f"/me/inbox/{message_id}").text
    assert "on hold for now" in prompt and 'value="open"' not in prompt and "Open it now" not in prompt
    # Asking to open it anyway (an old tab) says why, and nothing is opened.
    refused = sam.post(f"/me/inbox/{message_id}", data={"csrf_token": _csrf(sam.get("/me")), "choice": "open"})
    assert refused.status_code == 409 and _state(world, message_id) == "released"
    # Open again: it is waiting, and can be opened.
    world.do(cases.set_status, p.facilitator, case_id, "open")
    home = sam.get("/me").text
    assert "A message from Jessica is waiting." in home and "Decide when to open it" in home
    assert 'value="open"' in sam.get(f"/me/inbox/{message_id}").text


def test_withdrawing_a_sent_letter_says_what_is_true(app_world: Any) -> None:
    app, world = app_world
    case_id, p = world.case()
    jessica, _ = _sign_in(app, world, p.harmed)
    sent = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a letter.")
    world.do(authoring.submit, p.harmed, sent.id)
    world.run_jobs()
    confirm = jessica.get(f"/me/messages/{sent.id}/withdraw")
    done = _post(jessica, f"/me/messages/{sent.id}", confirm, action="withdraw", version=_hidden(confirm, "version"))
    page = jessica.get(done.headers["location"]).text
    assert "It will not be passed on." in page and "Nobody else will see it" not in page
    # Not "nobody else will see it": the facilitator had it and still has it; but it is never passed on.
    assert world.sign_in(app, p.facilitator).get(f"/api/v1/messages/{sent.id}").status_code == 200
    assert world.sign_in(app, p.responsible).get(f"/api/v1/cases/{case_id}/messages").json() == []


def test_the_author_is_not_promised_that_a_flag_will_be_removed(app_world: Any) -> None:
    """A facilitator resolves each flag by taking it out or by keeping it with a reason
    (invariant 9), so the author is told it will be looked at and may be taken out."""
    app, world = app_world
    case_id, p = world.case()
    jessica, _ = _sign_in(app, world, p.harmed)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Call me on 07700 900123 or mail sam@example.org.")
    page = jessica.get(f"/me/messages/{draft.id}").text
    flags = world.sign_in(app, p.harmed).get(f"/api/v1/messages/{draft.id}/draft/flags").json()["flags"]
    assert {f["kind"] for f in flags} == {"phone", "email"}
    for said in [page, *(f["why"] for f in flags)]:
        assert "will remove" not in said
    assert all(f["why"].endswith("Your facilitator will look at it before anything is passed on, "
                                 "and may take it out.") for f in flags)
