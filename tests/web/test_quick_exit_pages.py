"""The quick exit on every participant page, error pages included, signs the person out; the
exit keeps words not yet autosaved; staff errors stay on the staff layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from forms import csrf_of
from forms import sign_in_page as sign_in
from world import People, World

from shuttle.messages import authoring
from shuttle.services import Services
from shuttle.web.app import build_app

MISSING = "0" * 32
SIGN_OUT_FORM = re.compile(r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token" '
                           r'value="[^"]+">')


@pytest.fixture
def setup(sqlite_svc: Services) -> tuple[Any, World, str, People]:
    world = World(sqlite_svc)
    case_id, people = world.case(read_receipts_allowed=True)
    return build_app(sqlite_svc, check_schema=False), world, case_id, people


def _approved_letter(world: World, p: People, case_id: str) -> str:
    return world.approved_letter(p, case_id, "Dear Sam, I have thought about what to say.")


def _quick_exit_signs_out(page: Any, quick_exit: str) -> bool:
    """The exit button, the Shift hint, and the sign-out form whose token the exit's beacon sends."""
    return (f'id="quick-exit" class="quick-exit" href="{quick_exit}"' in page.text
            and "Exit this page" in page.text and "press the Shift key three times" in page.text
            and SIGN_OUT_FORM.search(page.text) is not None)


def test_every_participant_page_and_error_page_signs_out_on_exit(setup: Any) -> None:
    app, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a draft.")
    video = world.do(authoring.start_media, p.harmed, case_id, "video")
    sent = _approved_letter(world, p, case_id)
    pages = {p.harmed: ["/me", f"/me/cases/{case_id}/write", f"/me/cases/{case_id}/record",
                        f"/me/cases/{case_id}/holding", f"/me/cases/{case_id}/leave", f"/me/messages/{draft.id}",
                        f"/me/messages/{draft.id}/withdraw", f"/me/messages/{video.id}", f"/me/messages/{sent}"],
             p.responsible: ["/me", f"/me/inbox/{sent}", f"/me/inbox/{sent}/ask", f"/me/cases/{case_id}/holding"]}
    errors = [f"/me/messages/{MISSING}", f"/me/inbox/{MISSING}", f"/me/cases/{MISSING}/write", "/no/such/page",
              f"/me/inbox/{draft.id}"]
    quick_exit = world.svc.settings.quick_exit_url
    for actor, urls in pages.items():
        client, _ = sign_in(app, world, actor)
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200, url
            assert _quick_exit_signs_out(page, quick_exit), url
        for url in errors:
            page = client.get(url)
            assert page.status_code in (403, 404), (url, page.status_code)
            assert _quick_exit_signs_out(page, quick_exit), url
    # A refused form (409: a draft already sent) answers on the participant layout too.
    client, _ = sign_in(app, world, p.harmed)
    page = client.get(f"/me/messages/{draft.id}")
    world.do(authoring.withdraw, p.harmed, draft.id)
    refused = client.post(f"/me/messages/{draft.id}", data={"csrf_token": csrf_of(page), "action": "withdraw"})
    assert refused.status_code == 409 and _quick_exit_signs_out(refused, quick_exit)


def test_the_exit_from_an_error_page_ends_the_session(setup: Any) -> None:
    """Issue 13: GET a missing message, then exit with the token that page carries: signed out."""
    app, world, _, p = setup
    client, _ = sign_in(app, world, p.harmed)
    page = client.get(f"/me/messages/{MISSING}")
    assert page.status_code == 404
    assert client.get("/api/v1/me").status_code == 200
    left = client.post("/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert left.status_code == 303
    client.cookies.clear()  # the browser drops the cleared cookie; the session must be gone server-side too
    assert client.get("/api/v1/me").status_code == 401


def test_the_exit_keeps_the_words_of_a_new_letter_then_signs_out(setup: Any) -> None:
    app, world, case_id, p = setup
    client, _ = sign_in(app, world, p.harmed)
    token = client.cookies.get("shuttle_session")
    page = client.get(f"/me/cases/{case_id}/write")
    words = "Dear Sam, these words were typed a moment before leaving."
    left = client.post("/me/exit", data={"csrf_token": csrf_of(page), "case_id": case_id, "text": words},
                       follow_redirects=False)
    assert left.status_code == 303 and left.headers["location"] == "/login"
    client.cookies.set("shuttle_session", token or "")
    assert client.get("/api/v1/me").status_code == 401  # the session is over, not only the cookie
    again, _ = sign_in(app, world, p.harmed)
    mine = again.get("/me")
    drafts = re.findall(r'href="/me/messages/([0-9a-f]{32})"', mine.text)
    assert len(drafts) == 1
    assert words in again.get(f"/me/messages/{drafts[0]}").text


def test_the_exit_saves_a_draft_over_any_version_and_signs_out_even_if_it_cannot(setup: Any) -> None:
    app, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, the start.")
    client, _ = sign_in(app, world, p.harmed)
    page = client.get(f"/me/messages/{draft.id}")
    world.do(authoring.save_draft, p.harmed, draft.id, "Dear Sam, saved in another tab.")  # version moved on
    words = "Dear Sam, the start, and the last words typed before leaving."
    left = client.post("/me/exit", data={"csrf_token": csrf_of(page), "message_id": draft.id, "text": words},
                       follow_redirects=False)
    assert left.status_code == 303
    assert world.do(authoring.read_draft, p.harmed, draft.id) == words
    # Too long to keep: the session still ends (nobody is left to read an error).
    client, _ = sign_in(app, world, p.harmed)
    page = client.get(f"/me/messages/{draft.id}")
    too_long = "x" * (world.svc.settings.limits.max_letter_bytes + 1)
    left = client.post("/me/exit", data={"csrf_token": csrf_of(page), "message_id": draft.id, "text": too_long},
                       follow_redirects=False)
    assert left.status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert world.do(authoring.read_draft, p.harmed, draft.id) == words


def test_staff_errors_use_the_staff_layout_with_a_way_back(setup: Any) -> None:
    app, world, case_id, p = setup
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, waiting for review.")
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    message_id = message.id
    staff = world.sign_in(app, p.facilitator)
    missing = staff.get(f"/staff/messages/{MISSING}", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "/static/staff.css" in missing.text and "quick-exit" not in missing.text
    assert 'href="/staff">Back to your work' in missing.text
    page = staff.get(f"/staff/messages/{message_id}")
    stale = staff.post(f"/staff/messages/{message_id}", headers={"accept": "text/html"},
                       data={"csrf_token": csrf_of(page), "action": "claim", "version": "999"})
    assert stale.status_code == 409, stale.text[:300]
    assert "/static/staff.css" in stale.text and "quick-exit" not in stale.text
    assert f'href="/staff/messages/{message_id}">Back to the message' in stale.text
    sheet = staff.get(f"/staff/messages/{message_id}/approve", headers={"accept": "text/html"})  # not claimed
    assert sheet.status_code == 409 and f'href="/staff/messages/{message_id}">Back to the message' in sheet.text
    assert "/static/staff.css" in sheet.text and "quick-exit" not in sheet.text
    sub_page = staff.get(f"/staff/messages/{MISSING}/approve", headers={"accept": "text/html"})
    assert sub_page.status_code == 404 and 'href="/staff">Back to your work' in sub_page.text
