"""Issue 10's casework pages over HTTP: a person's preparation, private notes, a letter entered on
someone's behalf (and who approves it), a recipient sharing with a supporter, the supporter's pages."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import select
from world import People, World

from shuttle.audit.models import AuditEvent
from shuttle.errors import Conflict
from shuttle.messages import delivery, review, sharing
from shuttle.messages.models import Message
from shuttle.services import Services

SECRET = "He asked about the brother at the school gate"


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)



def _text(page: Any) -> str:
    main = page.text[page.text.index("<main"):]
    return re.sub(r"\s+([:,.;)])", r"\1", re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))))


def _pid(p: People, who: str) -> str:
    return p.participant_ids[getattr(p, who).account_id]


def _audit_actions(world: World) -> list[str]:
    with world.svc.db.uow() as uow:
        return list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_persons_preparation_page_keeps_meetings_and_wishes(world: World, app: Any) -> None:
    case_id, p = world.case(two_facilitators=True)
    fiona, _ = sign_in_page(app, world, p.facilitator)
    case_page = fiona.get(f"/staff/cases/{case_id}")
    url = f"/staff/cases/{case_id}/people/{_pid(p, 'responsible')}"
    assert url in case_page.text
    page = fiona.get(url)
    assert page.status_code == 200 and "No meeting recorded yet" in page.text
    post_form(fiona, url, page, action="meeting", held_on="2026-01-05", how="prison_visit",
              attended="Sam and Fiona", notes=SECRET)
    post_form(fiona, url, page, action="wishes", questions="Is she safe now?\nDoes she hate me?",
              wants_reply="yes", wants_outcome_news="unknown")
    frank, _ = sign_in_page(app, world, p.co_facilitator)  # the other facilitator never has to ask again
    seen = _text(frank.get(url))
    assert "2026-01-05, prison visit" in seen and SECRET in seen and "Does she hate me?" in seen
    assert "Wants a reply yes" in seen and "Wants to hear how the outcome is kept not asked yet" in seen


def test_a_bad_meeting_comes_back_with_its_words_and_the_field_named(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/people/{_pid(p, 'harmed')}"
    page = fiona.get(url)
    answer = fiona.post(url, data={"csrf_token": csrf_of(page), "action": "meeting", "held_on": "not a day",
                                   "how": "phone", "attended": "Jessica", "notes": SECRET})
    assert answer.status_code == 400
    assert "Give the meeting&#39;s date" in answer.text or "Give the meeting's date" in answer.text
    assert 'href="#attended"' in answer.text and SECRET in answer.text


@pytest.mark.parametrize("who", ["harmed", "supporter", "coordinator", "outsider_facilitator"])
def test_preparation_and_notes_pages_are_the_facilitators_only(world: World, app: Any, who: str) -> None:
    case_id, p = world.case()
    client, _ = sign_in_page(app, world, getattr(p, who))
    for url in (f"/staff/cases/{case_id}/people/{_pid(p, 'harmed')}", f"/staff/cases/{case_id}/notes"):
        assert client.get(url).status_code == 404, url


def test_private_notes_page_audits_each_view_and_the_timeline_shows_no_words(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/notes"
    page = fiona.get(url)
    assert "No notes yet" in page.text
    empty = fiona.post(url, data={"csrf_token": csrf_of(page), "text": "   "})
    assert empty.status_code == 400 and "Write the note first" in empty.text
    post_form(fiona, url, page, text=SECRET)
    before = _audit_actions(world).count("note.view")
    assert SECRET in fiona.get(url).text
    assert _audit_actions(world).count("note.view") == before + 1
    assert SECRET not in fiona.get(f"/staff/cases/{case_id}").text


FLASH = re.compile(r'<div class="notice notice-good flash" role="status" id="flash"><p>(.*?)</p>')


def test_saving_a_note_is_confirmed_once_like_other_staff_actions(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/notes"
    page = fiona.get(url)
    assert FLASH.search(page.text) is None
    saved = post_form(fiona, url, page, text=SECRET)
    landed = fiona.get(saved.headers["location"])
    said = FLASH.search(landed.text)
    assert said is not None and said.group(1) == "Note saved." and SECRET in landed.text
    assert FLASH.search(fiona.get(url).text) is None  # shown once
    refused = fiona.post(url, data={"csrf_token": csrf_of(page), "text": " "})
    assert refused.status_code == 400 and FLASH.search(refused.text) is None  # nothing was saved


def test_a_letter_entered_for_sam_is_approved_by_the_other_facilitator(world: World, app: Any) -> None:
    case_id, p = world.case(two_facilitators=True, initiator="either")
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/people/{_pid(p, 'responsible')}"
    page = fiona.get(url)
    assert "The case's other facilitator approves it" in _text(page)
    empty = fiona.post(url, data={"csrf_token": csrf_of(page), "action": "letter", "text": "  "})
    assert empty.status_code == 400 and 'href="#letter-text"' in empty.text
    sent = post_form(fiona, url, page, action="letter", text="Dear Jessica, I am sorry for what I did.")
    message_id = sent.headers["location"].rsplit("/", 1)[1]
    world.run_jobs()
    review_page = _text(fiona.get(f"/staff/messages/{message_id}"))
    assert "Entered by Fiona1, on the author's behalf: another facilitator of the case approves it first" in review_page
    world.do(review.claim, p.facilitator, message_id)
    with pytest.raises(Conflict):
        world.do(review.approve, p.facilitator, message_id)
    world.do(review.unclaim, p.facilitator, message_id)
    world.do(review.claim, p.co_facilitator, message_id)
    world.do(review.approve, p.co_facilitator, message_id)
    sam, _ = sign_in_page(app, world, p.responsible)
    mine = _text(sam.get(f"/me/messages/{message_id}"))
    assert "Your facilitator Fiona1 wrote this down for you" in mine
    jessica, _ = sign_in_page(app, world, p.harmed)
    world.do(delivery.open_message, p.harmed, message_id)
    inbox = jessica.get(f"/me/inbox/{message_id}").text
    assert "Fiona" not in inbox and "the person responsible" in _text(jessica.get(f"/me/inbox/{message_id}"))


def test_with_one_facilitator_the_page_says_they_approve_it_themselves(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    page = fiona.get(f"/staff/cases/{case_id}/people/{_pid(p, 'harmed')}")
    assert "You are the case's only facilitator, so you approve it yourself" in _text(page)
    supporter_page = fiona.get(f"/staff/cases/{case_id}/people/{_pid(p, 'supporter')}")
    assert "A supporter never writes" in _text(supporter_page) and 'value="letter"' not in supporter_page.text


def _reply_to_jessica(world: World, p: People, case_id: str) -> str:
    world.approved_letter(p, case_id, "Dear Sam.")
    return world.approved_letter(p, case_id, "Dear Jessica, thank you for writing.", author=p.responsible)


def test_jessica_shares_a_letter_with_her_supporter_who_opens_it_when_ready(world: World, app: Any) -> None:
    case_id, p = world.case()
    message_id = _reply_to_jessica(world, p, case_id)
    sue, home = sign_in_page(app, world, p.supporter)
    assert "/me/shared" in sue.get("/me").text
    assert "Nothing is shared with you" in sue.get("/me/shared").text
    assert sue.get(f"/me/shared/{message_id}").status_code == 404
    jessica, _ = sign_in_page(app, world, p.harmed)
    before = jessica.get(f"/me/inbox/{message_id}")
    assert "Share with" not in before.text  # not before she opened it herself
    post_form(jessica, f"/me/inbox/{message_id}", before, choice="open")
    opened = jessica.get(f"/me/inbox/{message_id}")
    assert "Share with Sue1" in opened.text
    post_form(jessica, f"/me/inbox/{message_id}/share", opened, supporter_id=_pid(p, "supporter"), shared="yes")
    assert "Stop sharing with Sue1" in jessica.get(f"/me/inbox/{message_id}").text
    listed = sue.get("/me/shared")
    assert f"/me/shared/{message_id}" in listed.text and "thank you for writing" not in listed.text
    ready = sue.get(f"/me/shared/{message_id}")
    assert "Would you like to open it now?" in ready.text and "thank you for writing" not in ready.text
    post_form(sue, f"/me/shared/{message_id}", ready, choice="open")
    assert "Dear Jessica, thank you for writing." in sue.get(f"/me/shared/{message_id}").text
    post_form(jessica, f"/me/inbox/{message_id}/share", opened, supporter_id=_pid(p, "supporter"), shared="no")
    assert sue.get(f"/me/shared/{message_id}").status_code == 404
    assert "supporter.share" in _audit_actions(world) and "supporter.unshare" in _audit_actions(world)


def test_a_get_of_the_supporters_page_changes_nothing(world: World, app: Any) -> None:
    case_id, p = world.case()
    message_id = _reply_to_jessica(world, p, case_id)
    world.do(delivery.open_message, p.harmed, message_id)
    world.do(sharing.share, p.harmed, message_id, _pid(p, "supporter"))
    sue, _ = sign_in_page(app, world, p.supporter)
    before = _audit_actions(world)
    sue.get(f"/me/shared/{message_id}")
    sue.get("/me/shared")
    assert _audit_actions(world) == before
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None and message.state == "viewed"


def test_a_photographed_letter_is_entered_from_the_page_and_a_document_is_refused(world: World, app: Any) -> None:
    import io

    from PIL import Image

    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/people/{_pid(p, 'harmed')}"
    page = fiona.get(url)
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 190, 170)).save(picture, "JPEG")
    refused = fiona.post(f"{url}/photo", data={"csrf_token": csrf_of(page), "transcript": "Dear Sam, by hand."},
                         files={"photo": ("letter.pdf", b"%PDF-1.7 a document", "application/pdf")})
    assert refused.status_code == 400 and "JPEG, PNG or WebP" in refused.text and "Dear Sam, by hand." in refused.text
    sent = fiona.post(f"{url}/photo", data={"csrf_token": csrf_of(page), "transcript": "Dear Sam, by hand."},
                      files={"photo": ("letter.jpg", picture.getvalue(), "image/jpeg")}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    message_id = sent.headers["location"].rsplit("/", 1)[1]
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None and (message.kind, message.written_by) == ("image", p.facilitator.account_id)
    broken = fiona.post(f"{url}/photo", content=b"not a form", headers={"Content-Type": "text/plain"})
    assert broken.status_code == 400
