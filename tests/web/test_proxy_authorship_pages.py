"""The pages of a side with a principal and a proxy (issue 13): a draft is its writer's alone, the
other person of the side is told who started a sent message and offered nothing they cannot do,
and staff and the recipient see who wrote the words they read."""

from __future__ import annotations

import html
import re
from typing import Any

from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import select
from world import People, World

from shuttle.messages import authoring, review
from shuttle.messages.models import MessageVersion


def _text(page: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def _approve(world: World, p: People, message_id: str) -> None:
    world.run_jobs()
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)


def test_the_proxy_neither_sees_nor_takes_over_the_principals_draft(setup: tuple[Any, str, People],
                                                                    world: World) -> None:
    app, case_id, p = setup
    principal, _ = sign_in_page(app, world, p.harmed)
    written = post_form(principal, f"/me/cases/{case_id}/write", principal.get(f"/me/cases/{case_id}/write"),
                        text="Dear Sam, this is mine to finish.")
    url = written.headers["location"]
    message_id = url.rsplit("/", 1)[1]
    proxy, home = sign_in_page(app, world, p.harmed_proxy)
    assert message_id not in home.text and "You have not written anything yet." in _text(home)
    assert proxy.get(url).status_code == 404
    taken = proxy.post(url, data={"csrf_token": csrf_of(home), "action": "submit", "text": "Dear Sam, from me."},
                       follow_redirects=False)
    assert taken.status_code == 404
    assert world.do(authoring.read_draft, p.harmed, message_id) == "Dear Sam, this is mine to finish."

    # Sent, then sent back for a change: the proxy sees where it is and who started it, no draft,
    # no form, no button; only the principal revises it.
    world.do(authoring.submit, p.harmed, message_id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.request_changes, p.facilitator, message_id, note="Could you say a little more?")
    page = proxy.get(url)
    assert page.status_code == 200
    said = _text(page)
    assert ("The principal started this letter. Only they can change it, send it, withdraw it or answer your "
            "facilitator about it.") in said
    assert 'name="text"' not in page.text and 'value="check"' not in page.text
    assert "Only you can see this draft" not in said and "this is mine to finish" not in said
    refused = proxy.post(url, data={"csrf_token": csrf_of(page), "action": "save", "text": "Dear Sam, from me."},
                         follow_redirects=False)
    assert refused.status_code == 409 and "Only the person who started it can change this message" in _text(refused)
    mine = principal.get(url)
    assert 'name="text"' in mine.text and "started this letter" not in _text(mine)


def test_staff_and_the_recipient_see_that_a_proxy_wrote_it(setup: tuple[Any, str, People], world: World) -> None:
    app, case_id, p = setup
    by_proxy = world.do(authoring.start_draft, p.harmed_proxy, case_id, "Dear Sam, I write for Jessica.")
    world.do(authoring.submit, p.harmed_proxy, by_proxy.id)
    _approve(world, p, by_proxy.id)
    # A letter the principal began that the proxy sent before this was refused (migration 0003
    # records such a version as the proxy's words): labelled as the proxy's too.
    taken_over = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, begun by Jessica.")
    world.do(authoring.submit, p.harmed, taken_over.id)
    with world.svc.db.uow() as uow:
        version = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == taken_over.id)).one()
        version.written_as_participant_id = p.participant_ids[p.harmed_proxy.account_id or ""]
        uow.commit()
    _approve(world, p, taken_over.id)
    by_principal = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, it is Jessica.")
    world.do(authoring.submit, p.harmed, by_principal.id)
    _approve(world, p, by_principal.id)

    staff = world.sign_in(app, p.facilitator)
    recipient, _ = sign_in_page(app, world, p.responsible)
    for message_id, proxy in ((by_proxy.id, True), (taken_over.id, True), (by_principal.id, False)):
        review_page = _text(staff.get(f"/staff/messages/{message_id}"))
        assert ("Written as proxy (mother of Jessica)" in review_page) is proxy, message_id
        assert ("Written as principal" in review_page) is not proxy
        inbox = _text(recipient.get(f"/me/inbox/{message_id}"))
        assert ("by someone acting for them" in inbox) is proxy, (message_id, by_proxy.id, taken_over.id, inbox)
        assert "mother" not in inbox
