"""The participants' pages without a browser: each page shows only what the state allows,
proxies are labelled, flags are seen before sending, pausing and leaving do what they say."""

from __future__ import annotations

from typing import Any

import pytest
from forms import csrf_of as _csrf
from forms import hidden as _hidden
from forms import post_form as _post
from forms import sign_in_page as _sign_in
from sqlalchemy import select
from world import People, World

from shuttle.audit.models import AuditEvent
from shuttle.messages import authoring, delivery, review
from shuttle.messages.drafting import author_flags, flags_key
from shuttle.messages.models import Message
from shuttle.services import Actor, Services
from shuttle.web.app import build_app

PHONE_LETTER = "Dear Sam,\nI live near Elm Street. Call me on 07700 900123."










def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


@pytest.fixture
def setup(sqlite_svc: Services) -> tuple[Any, World, str, People]:
    world = World(sqlite_svc)
    case_id, people = world.case(watchlist=["Elm Street"], read_receipts_allowed=True)
    return build_app(sqlite_svc, check_schema=False), world, case_id, people


def _approved_letter(world: World, p: People, case_id: str, author: Actor | None = None,
                     text: str = "Dear Sam, I have thought about what to say.") -> str:
    return world.approved_letter(p, case_id, text, author=author)


def test_a_letter_is_not_sent_with_a_flag_its_author_has_not_seen(setup: Any) -> None:
    app, world, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    written = _post(harmed, f"/me/cases/{case_id}/write", harmed.get(f"/me/cases/{case_id}/write"), text="Dear Sam,")
    url = written.headers["location"]
    page = harmed.get(url)
    assert _hidden(page, "flags_key") == flags_key([])
    # The author typed a phone number and pressed "send" straight away: saved, not sent, flags shown.
    bounced = _post(harmed, url, page, action="submit", text=PHONE_LETTER, version=_hidden(page, "version"),
                    flags_key=_hidden(page, "flags_key"))
    assert bounced.headers["location"].endswith("?check=1#flags")
    message_id = url.rsplit("/", 1)[1]
    assert _state(world, message_id) == "draft"
    page = harmed.get(url + "?check=1")
    assert "Please check before sending" in page.text and "07700 900123" in page.text
    flags = page.text[page.text.index('id="draft-flags"'):]
    flags = flags[:flags.index("</div>")]
    assert "07700 900123" in flags  # the contact details the facilitator will see
    assert "Elm Street" not in flags and "watch" not in flags.lower()  # the watch list is never an oracle
    # Now that the flags were shown, the same text goes.
    _post(harmed, url, page, action="submit", text=PHONE_LETTER, version=_hidden(page, "version"),
          flags_key=_hidden(page, "flags_key"))
    assert _state(world, message_id) == "submitted"

    # The draft flags in the API: the contact details, never the watch-list hit (staff only).
    draft = world.do(authoring.start_draft, p.harmed, case_id, PHONE_LETTER)
    client = world.sign_in(app, p.harmed)
    answer = client.get(f"/api/v1/messages/{draft.id}/draft/flags").json()
    assert sorted(f["kind"] for f in answer["flags"]) == ["phone"]
    assert answer["key"] == flags_key(author_flags(PHONE_LETTER))
    assert all("watch" not in f["why"].lower() for f in answer["flags"])


def test_buttons_follow_the_state_machine(setup: Any) -> None:
    app, world, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a draft.")
    page = harmed.get(f"/me/messages/{draft.id}")
    assert 'value="check"' in page.text and "<textarea" in page.text and "Withdraw this letter" in page.text
    assert 'value="accept-edit"' not in page.text

    world.do(authoring.submit, p.harmed, draft.id)
    page = harmed.get(f"/me/messages/{draft.id}")
    assert "<textarea" not in page.text and 'value="check"' not in page.text
    assert "Withdraw this letter" in page.text and "With your facilitator" in page.text

    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.propose_edit, p.facilitator, draft.id, text="Dear Sam, an edit.")
    world.run_jobs()
    page = harmed.get(f"/me/messages/{draft.id}")
    assert 'value="accept-edit"' in page.text and 'value="decline-edit"' in page.text
    assert "<del>" in page.text and "<ins>" in page.text
    _post(harmed, f"/me/messages/{draft.id}", page, action="accept-edit", version=_hidden(page, "version"))
    world.do(review.approve, p.facilitator, draft.id)
    page = harmed.get(f"/me/messages/{draft.id}")
    assert "Withdraw" not in page.text and 'value="accept-edit"' not in page.text and "Delivered" in page.text
    assert harmed.get(f"/me/messages/{draft.id}/withdraw", follow_redirects=False).status_code == 303
    # The server refuses anyway.
    refused = harmed.post(f"/me/messages/{draft.id}", data={"csrf_token": _csrf(page), "action": "withdraw"})
    assert refused.status_code == 409


def test_withdrawing_asks_first(setup: Any) -> None:
    app, world, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a draft.")
    confirm = harmed.get(f"/me/messages/{draft.id}/withdraw")
    assert "Are you sure you want to withdraw your letter?" in confirm.text
    done = _post(harmed, f"/me/messages/{draft.id}", confirm, action="withdraw", version=_hidden(confirm, "version"))
    assert done.headers["location"].endswith("done=withdrawn")
    assert _state(world, draft.id) == "withdrawn"


def test_whether_it_was_opened_is_the_recipients_to_share(setup: Any) -> None:
    app, world, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    responsible, _ = _sign_in(app, world, p.responsible)
    quiet = _approved_letter(world, p, case_id)
    shared = _approved_letter(world, p, case_id)
    for message_id, share in ((quiet, ""), (shared, "yes")):
        prompt = responsible.get(f"/me/inbox/{message_id}")
        assert "Let the person harmed know that I have opened it" in prompt.text
        fields = {"choice": "open", **({"share_receipt": share} if share else {})}
        _post(responsible, f"/me/inbox/{message_id}", prompt, **fields)
    quiet_page, shared_page = harmed.get(f"/me/messages/{quiet}"), harmed.get(f"/me/messages/{shared}")
    assert "Delivered" in quiet_page.text and "Delivered and opened" not in quiet_page.text
    assert "Delivered and opened" in shared_page.text
    api = world.sign_in(app, p.harmed)
    assert api.get(f"/api/v1/messages/{quiet}").json()["state"] == "released"  # opened, but not told
    assert api.get(f"/api/v1/messages/{shared}").json()["state"] == "viewed"


def test_proxies_see_whom_they_act_for_and_their_letters_say_so(setup: Any) -> None:
    app, world, case_id, p = setup
    proxy, home = _sign_in(app, world, p.harmed_proxy)
    assert "You act for the person harmed (as mother of Jessica)" in home.text
    message_id = _approved_letter(world, p, case_id, author=p.harmed_proxy)
    page = proxy.get(f"/me/messages/{message_id}")
    assert "Written by proxy (mother of Jessica)" in page.text
    responsible, home = _sign_in(app, world, p.responsible)
    assert "written for the person harmed by someone acting for them" in home.text
    prompt = responsible.get(f"/me/inbox/{message_id}")
    assert "written for the person harmed by someone acting for them" in prompt.text
    assert "mother" not in prompt.text and "Jessica" not in prompt.text.replace("Jessica1", "")
    assert world.sign_in(app, p.responsible).get(f"/api/v1/messages/{message_id}").json()["by_proxy"] is True


def test_pausing_deliveries_and_resuming(setup: Any) -> None:
    app, world, case_id, p = setup
    responsible, home = _sign_in(app, world, p.responsible)
    page = responsible.get(f"/me/cases/{case_id}/holding")
    assert "Pause deliveries to you?" in page.text
    paused = _post(responsible, f"/me/cases/{case_id}/holding", page, holding="yes")
    assert paused.headers["location"] == "/me?done=paused"
    home = responsible.get("/me?done=paused")
    assert "Deliveries to you are paused." in home.text and "Resume deliveries to me" in home.text
    message_id = _approved_letter(world, p, case_id)
    assert _state(world, message_id) == "approved"  # waits with the facilitator
    assert "Nothing is waiting for you." in responsible.get("/me").text
    staff = world.sign_in(app, p.facilitator).get(f"/api/v1/cases/{case_id}").json()
    assert [x["holding_deliveries"] for x in staff["participants"] if x["name"] == "Sam1"] == [True]
    page = responsible.get(f"/me/cases/{case_id}/holding")
    assert "Resume deliveries to you?" in page.text
    _post(responsible, f"/me/cases/{case_id}/holding", page, holding="no")
    assert _state(world, message_id) == "released"
    assert "A message from the person harmed is waiting." in responsible.get("/me").text


def test_stopping_takes_effect_at_once_and_the_facilitators_are_told(setup: Any) -> None:
    app, world, case_id, p = setup
    harmed, home = _sign_in(app, world, p.harmed)
    sent = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, something pending.")
    world.do(authoring.submit, p.harmed, sent.id)
    page = harmed.get(f"/me/cases/{case_id}/leave")
    assert "Do you want to stop taking part?" in page.text
    assert _post(harmed, f"/me/cases/{case_id}/leave", page, confirm="no").headers["location"] == "/me"
    assert _state(world, sent.id) == "submitted"  # "no" changes nothing
    left = _post(harmed, f"/me/cases/{case_id}/leave", page, confirm="yes")
    assert left.headers["location"] == "/me?done=left"
    assert _state(world, sent.id) == "held"
    home = harmed.get("/me")
    assert "You have stopped taking part." in home.text
    assert "Write a letter" not in home.text and "Stop taking part" not in home.text
    staff = world.sign_in(app, p.facilitator).get(f"/api/v1/cases/{case_id}").json()
    me = next(x for x in staff["participants"] if x["name"] == "Jessica1")
    assert me["withdrew_at"] and not me["consent_take_part"]
    with world.svc.db.uow() as uow:
        actions = list(uow.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
    assert "consent.withdraw" in actions


def test_the_responsible_side_is_not_offered_to_write_first(setup: Any) -> None:
    app, world, case_id, p = setup
    responsible, home = _sign_in(app, world, p.responsible)
    assert "Write a letter" not in home.text and "once they have written to you" in home.text
    assert "once they have written to you" in responsible.get(f"/me/cases/{case_id}/write").text
    _approved_letter(world, p, case_id)
    assert "Write a letter" in responsible.get("/me").text


def test_choices_that_need_an_answer_say_so(setup: Any) -> None:
    app, world, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    page = harmed.get(f"/me/cases/{case_id}/record")
    answer = harmed.post(f"/me/cases/{case_id}/record", data={"csrf_token": _csrf(page)})
    assert answer.status_code == 400 and "Choose what you would like to send." in answer.text
    assert 'href="#kind-video"' in answer.text and answer.text.count('id="kind-video"') == 1
    page = harmed.get(f"/me/cases/{case_id}/write")
    answer = harmed.post(f"/me/cases/{case_id}/write", data={"csrf_token": _csrf(page), "text": "  "})
    assert answer.status_code == 400 and "Write something first." in answer.text and "Error: " in answer.text

    message_id = _approved_letter(world, p, case_id)
    responsible, _ = _sign_in(app, world, p.responsible)
    page = responsible.get(f"/me/inbox/{message_id}/ask")
    answer = responsible.post(f"/me/inbox/{message_id}/ask", data={"csrf_token": _csrf(page), "note": "Hm."})
    assert answer.status_code == 400 and "Choose what you would like your facilitator to do." in answer.text
    assert ">Hm.</textarea>" in answer.text  # what they wrote is kept
    # A supporter has no inbox of their own; an author cannot ask about their own letter.
    supporter, _ = _sign_in(app, world, p.supporter)
    assert supporter.get(f"/me/inbox/{message_id}/ask").status_code == 404
    harmed_ask = harmed.get(f"/me/inbox/{message_id}/ask")
    assert harmed_ask.status_code == 404
    assert world.do(delivery.open_message, p.responsible, message_id)


def test_every_participant_page_has_the_quick_exit_and_answers_every_role(setup: Any) -> None:
    app, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a draft.")
    video = world.do(authoring.start_media, p.harmed, case_id, "video")
    sent = _approved_letter(world, p, case_id)
    pages = {p.harmed: ["/me", f"/me/cases/{case_id}/write", f"/me/cases/{case_id}/record",
                        f"/me/cases/{case_id}/holding", f"/me/cases/{case_id}/leave", f"/me/messages/{draft.id}",
                        f"/me/messages/{draft.id}/withdraw", f"/me/messages/{video.id}"],
             p.responsible: ["/me", f"/me/inbox/{sent}", f"/me/inbox/{sent}/ask", f"/me/cases/{case_id}/holding"]}
    quick_exit = world.svc.settings.quick_exit_url
    for actor, urls in pages.items():
        client, _ = _sign_in(app, world, actor)
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200, url
            assert f'id="quick-exit" class="quick-exit" href="{quick_exit}"' in page.text, url
            assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
            assert "<script>" not in page.text and " style=" not in page.text and " on" + "click=" not in page.text
    everyone = [p.harmed, p.responsible, p.harmed_proxy, p.supporter, p.facilitator, p.outsider_facilitator,
                p.outsider_participant, p.coordinator]
    every_url = sorted({url for urls in pages.values() for url in urls})
    for actor in everyone:
        client, _ = _sign_in(app, world, actor)
        for url in every_url:
            answer = client.get(url)
            assert answer.status_code in (200, 404), (world.username(actor), url, answer.status_code)
