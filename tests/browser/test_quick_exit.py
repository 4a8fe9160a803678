"""Quick exit as GOV.UK's "Exit this page": the button or Shift three times leaves at once,
signs the person out (error pages too), and keeps the words typed a moment before; a file that
is not a recording or picture is refused with a reason before anything says it was sent."""

from __future__ import annotations

import re
import time
from typing import Any

from browsing import Site
from participant_helpers import signed_in

from shuttle.messages import authoring

WEATHER = re.compile(r"^https?://(?!127\.0\.0\.1).*")


def _neutral_site(page: Any) -> None:
    """The quick exit's target, answered locally (no network in tests)."""
    page.context.route(WEATHER, lambda route: route.fulfill(status=200, body="<h1>Weather</h1>",
                                                            content_type="text/html"))


def _session_of(page: Any) -> dict[str, Any]:
    return next(c for c in page.context.cookies() if c["name"] == "shuttle_session")


def _session_is_over(browser: Any, site: Site, cookie: dict[str, Any]) -> bool:
    """The old session cookie, sent from a fresh window, no longer signs anybody in."""
    context = browser.new_context()
    context.add_cookies([cookie])
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:  # the beacon is sent as the page goes: give it a moment
            if context.request.get(f"{site.base}/api/v1/me").status == 401:
                return True
            time.sleep(0.1)
        return False
    finally:
        context.close()


def _drafts_of(site: Site, who: str) -> list[str]:
    actor = getattr(site.people, who)
    drafts = []
    with site.svc.db.uow() as uow:
        from shuttle.messages.models import Message

        for message in uow.session.query(Message).filter(Message.state == "draft"):
            if message.written_by == actor.account_id:
                drafts.append(message.id)
    return [site.world.do(authoring.read_draft, actor, message_id) for message_id in drafts]


def test_a_new_letter_typed_then_left_at_once_keeps_every_word(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "harmed")
    _neutral_site(page)
    cookie = _session_of(page)
    page.goto(f"{site.base}/me/cases/{site.case_id}/write")
    words = "Dear Sam, I typed this and left straight away because someone came in."
    page.get_by_label("Your letter").press_sequentially(words)
    started = time.monotonic()
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(WEATHER)
    assert time.monotonic() - started < 2.0  # leaving does not wait for the words to be saved
    assert _session_is_over(browser, site, cookie)
    deadline = time.monotonic() + 5
    while _drafts_of(site, "harmed") != [words] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _drafts_of(site, "harmed") == [words]  # one draft, every word, none twice

    again = signed_in(browser, site, "harmed")  # signing in again: the letter is there
    again.get_by_role("link", name=re.compile("Letter to")).first.click()
    assert again.get_by_label("Your letter").input_value() == words


def test_shift_three_times_leaves_with_the_last_words_of_a_draft(browser: Any, site: Site) -> None:
    draft = site.world.do(authoring.start_draft, site.people.harmed, site.case_id, "Dear Sam,")
    page = signed_in(browser, site, "harmed")
    _neutral_site(page)
    cookie = _session_of(page)
    page.goto(f"{site.base}/me/messages/{draft.id}")
    field = page.get_by_label("Your letter")
    field.press("End")
    field.press_sequentially(" I Am Writing This With Capitals.")  # Shift held for letters: no exit
    for _ in range(3):
        page.keyboard.down("Shift")
        page.keyboard.press("KeyA")
        page.keyboard.up("Shift")
    assert page.url.endswith(f"/me/messages/{draft.id}")
    assert page.locator("#quick-exit-keys").text_content() == ""
    page.keyboard.press("Shift")
    assert page.locator("#quick-exit-keys").text_content() == "Shift, press 2 more times to exit."
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.wait_for_url(WEATHER)
    assert _session_is_over(browser, site, cookie)
    expected = "Dear Sam, I Am Writing This With Capitals.AAA"
    deadline = time.monotonic() + 5
    while site.world.do(authoring.read_draft, site.people.harmed, draft.id) != expected:
        assert time.monotonic() < deadline, site.world.do(authoring.read_draft, site.people.harmed, draft.id)
        time.sleep(0.1)


def test_escape_three_times_still_leaves(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "harmed")
    _neutral_site(page)
    cookie = _session_of(page)
    for _ in range(3):
        page.keyboard.press("Escape")
    page.wait_for_url(WEATHER)
    assert _session_is_over(browser, site, cookie)


def test_leaving_from_an_error_page_signs_out(browser: Any, site: Site) -> None:
    """Issue 13: a missing message's page, then the exit: the session is over."""
    page = signed_in(browser, site, "harmed")
    _neutral_site(page)
    cookie = _session_of(page)
    answer = page.goto(f"{site.base}/me/messages/{'0' * 32}")
    assert answer is not None and answer.status == 404
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(WEATHER)
    assert _session_is_over(browser, site, cookie)


def test_a_text_file_is_refused_with_its_reason_and_nothing_says_sent(browser: Any, site: Site,
                                                                       tmp_path: Any) -> None:
    page = signed_in(browser, site, "harmed")
    page.get_by_role("link", name="Send a recording or a photo").click()
    page.get_by_label("A video").check()
    page.get_by_role("button", name="Continue").click()
    letter = tmp_path / "holiday.mp4"  # the name says video; the bytes are a letter
    letter.write_text("Dear Sam,\nthis is the letter I meant to type, saved as a file.\n" * 50)
    page.locator("#media-file").set_input_files(str(letter))
    page.get_by_role("button", name="Upload").click()
    status = page.locator("#upload-status")
    status.filter(has_text="text file").wait_for()
    assert status.text_content() == ("This is a text file, not a recording or picture; we accept MP4/MOV, "
                                     "WebM/MKV, Ogg, WAV, MP3, FLAC, AAC, JPEG, PNG or WebP.")
    body = page.locator("main").inner_text()
    assert "Sent" not in body and "sent to your facilitator" not in body.lower() and "Uploaded" not in body
    assert page.get_by_role("button", name="Send to my facilitator").count() == 0
