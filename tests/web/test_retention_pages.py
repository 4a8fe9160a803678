"""Retention over HTTP (issue 11): the coordinator's retention page (the next 30 days, no content;
a legal hold placed with its reason and lifted, audited); a destroyed message's pages answer a
sentence (410), never a server error."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import select
from world import People, World

from shuttle.agreements import service as agreements
from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Case
from shuttle.messages import delivery, requests
from workers.handlers import tick


def _closed(world: World, text: str) -> tuple[str, str, People]:
    case_id, p = world.case()
    world.approved_letter(p, case_id, text)
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    world.do(agreements.finish_case, p.facilitator, case_id)
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        return case_id, case.reference, p


def test_the_retention_page_lists_the_next_30_days_and_places_and_lifts_a_hold(app: Any, world: World) -> None:
    svc = world.svc
    case_id, reference, p = _closed(world, "Dear Sam, a secret sentence.")
    tick(svc)
    with svc.db.uow() as uow:
        due = uow.session.get(Case, case_id).destroy_after  # type: ignore[union-attr]
    assert due is not None
    client, _ = sign_in_page(app, world, p.coordinator)
    page = client.get("/coordinator/retention")
    assert page.status_code == 200 and "Nothing is due to be destroyed in the next 30 days." in page.text
    svc.clock = lambda: due - timedelta(days=10)
    client, _ = sign_in_page(app, world, p.coordinator)  # seven years on: a new session
    page = client.get("/coordinator/retention")
    assert f'id="due-{reference}"' in page.text and due.strftime("%d %B %Y") in page.text
    assert "secret sentence" not in page.text
    refused = client.post("/coordinator/retention", data={"csrf_token": csrf_of(page), "action": "hold",
                                                          "reference": reference, "reason": "  "})
    assert refused.status_code == 400 and "Say why the case is on legal hold" in html.unescape(refused.text)
    placed = post_form(client, "/coordinator/retention", page, action="hold", reference=reference,
                       reason="Court order 2033/17")
    page = client.get(placed.headers["location"])
    assert "The legal hold is in place" in page.text and f'id="held-{reference}"' in page.text
    assert "Court order 2033/17" in page.text and "Not while on hold" in page.text
    svc.clock = lambda: due + timedelta(days=1)
    tick(svc)
    with svc.db.uow() as uow:
        assert uow.session.get(Case, case_id).shredded_at is None  # type: ignore[union-attr]
    client, page = sign_in_page(app, world, p.coordinator)
    page = client.get("/coordinator/retention")
    post_form(client, "/coordinator/retention", page, action="lift", reference=reference)
    tick(svc)
    with svc.db.uow() as uow:
        assert uow.session.get(Case, case_id).shredded_at is not None  # type: ignore[union-attr]
        actions = set(uow.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
    assert {"case.legal_hold", "case.legal_hold_lifted", "case.retention_shred"} <= actions
    missing = client.post("/coordinator/retention", data={"csrf_token": csrf_of(page), "action": "hold",
                                                          "reference": "RJ-1999-0001", "reason": "x"})
    assert missing.status_code == 404 and "There is no case RJ-1999-0001." in missing.text


def test_only_the_coordinator_sees_the_retention_page(app: Any, world: World) -> None:
    _, p = world.case()
    for actor in (p.facilitator, p.harmed):
        client, _ = sign_in_page(app, world, actor)
        assert client.get("/coordinator/retention").status_code == 404


def test_a_destroyed_messages_pages_say_so_and_never_fail(app: Any, world: World) -> None:
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id, "Dear Sam, please do not keep this.")
    world.do(delivery.open_message, p.responsible, message_id)
    asked = world.do(requests.request, p.responsible, message_id, "destroy", "")
    world.do(requests.handle, p.facilitator, asked.id, "done", "")
    staff, _ = sign_in_page(app, world, p.facilitator)
    assert staff.get(f"/staff/cases/{case_id}").status_code == 200  # the stub stays in the timeline
    review = staff.get(f"/staff/messages/{message_id}")
    assert review.status_code == 410 and "nobody can read it any more, staff included" in review.text
    assert "please do not keep this" not in review.text
    recipient, _ = sign_in_page(app, world, p.responsible)
    inbox = recipient.get(f"/me/inbox/{message_id}")
    assert inbox.status_code == 200 and "please do not keep this" not in inbox.text
    assert "destroyed" in inbox.text


def test_the_author_is_told_in_words_that_their_message_was_returned_or_destroyed(app: Any, world: World) -> None:
    case_id, p = world.case()
    returned = world.approved_letter(p, case_id, "Dear Sam, the first letter.")
    destroyed = world.approved_letter(p, case_id, "Dear Sam, the second letter.")
    author, _ = sign_in_page(app, world, p.harmed)
    before = author.get(f"/me/messages/{returned}")
    assert before.status_code == 200 and 'id="request-notice"' not in before.text
    for message_id, kind in ((returned, "return"), (destroyed, "destroy")):
        asked = world.do(requests.request, p.responsible, message_id, kind, "")
        world.do(requests.handle, p.facilitator, asked.id, "done", "")
    page = author.get(f"/me/messages/{returned}")
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert "The person responsible asked for this letter to be returned to you. Your facilitator did that on " \
        in text and ": the person responsible can no longer open it." in text
    assert "Dear Sam, the first letter." in text  # returned to its author: still theirs to read
    page = author.get(f"/me/messages/{destroyed}")
    text = html.unescape(page.text)
    assert page.status_code == 200 and "Dear Sam, the second letter." not in text
    assert "asked for this letter to be destroyed" in text
    assert "nobody can open it any more: not the person responsible, not you and not your facilitators." in text
