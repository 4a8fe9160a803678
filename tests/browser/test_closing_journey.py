"""Closing a case in a real browser, at 1280 and 360 px (issue 11): the facilitator drafts the outcome
agreement, the person harmed asks for a change, a new version is agreed by both sides, an item is
marked done, the case is closed as completed and finished, a participant answers the questionnaire,
a check-in is recorded, the certified record is exported and verified offline, and after the
retention period the worker shreds the case's words. Screenshots go to test-artifacts (and
docs/screenshots when SHUTTLE_UPDATE_DOC_SCREENSHOTS is set)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browsing import Site, keep_in_docs, screenshot, sign_in

from shuttle.exports.archive import verify

LETTER = "Dear Sam, I keep thinking about the night at the harbour."


def _shot(page: Any, name: str) -> None:
    keep_in_docs(screenshot(page, name), name)


def _item(page: Any, n: int, what: str, owner: str, check: str) -> None:
    row = page.get_by_role("group", name=f"Item {n}", exact=True)
    row.get_by_label("What will be done").fill(what)
    row.get_by_label("By whom").select_option(owner)
    row.get_by_label("How it will be checked").fill(check)


def _answer(page: Any, site: Site, decision: str, note: str = "") -> None:
    page.goto(f"{site.base}/me/cases/{site.case_id}/agreement")
    page.get_by_label(decision).check()
    if note:
        page.get_by_label(re.compile("What would you like changed")).fill(note)
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("The facilitators of your case can see your answer").wait_for()


@pytest.mark.parametrize("width", [1280, 360])
def test_a_case_is_agreed_closed_exported_and_in_time_shredded(browser: Any, site: Site, width: int) -> None:
    viewport = {"width": width, "height": 900}
    site.world.approved_letter(site.people, site.case_id, LETTER)  # delivered to the person responsible
    agreement = f"{site.base}/staff/cases/{site.case_id}/agreement"

    staff = sign_in(browser, site, "facilitator", viewport=viewport)
    staff.goto(agreement)
    staff.get_by_text("No agreement has been drafted yet.").wait_for()
    _item(staff, 1, "Sam writes a letter of apology.", "responsible", "The facilitator reads it before it is sent.")
    _item(staff, 2, "Each side keeps away from Elm Street on Saturdays.", "both", "Either side tells the facilitator.")
    _shot(staff, f"closing-agreement-draft-{width}")
    staff.get_by_role("button", name="Send the agreement to both sides").click()
    staff.get_by_role("heading", name="Version 1: the current version").wait_for()

    harmed = sign_in(browser, site, "harmed", viewport=viewport)
    _answer(harmed, site, "I would like something changed", "Please make it the whole weekend, not Saturdays.")
    _shot(harmed, f"closing-participant-asks-change-{width}")

    staff.goto(agreement)
    assert "Please make it the whole weekend, not Saturdays." in staff.locator("#version-1").inner_text()
    # The new draft starts from version 1's items: change the second one.
    staff.get_by_role("group", name="Item 2", exact=True).get_by_label("What will be done").fill(
        "Each side keeps away from Elm Street at weekends.")
    staff.get_by_role("button", name="Send the new version to both sides").click()
    staff.get_by_role("heading", name="Version 2: the current version").wait_for()

    _answer(harmed, site, "Yes, I agree")
    responsible = sign_in(browser, site, "responsible", viewport=viewport)
    responsible.get_by_role("link", name="Decide when to open it").click()  # the letter from the person harmed
    responsible.get_by_role("button", name="Open it now").click()
    assert LETTER in responsible.locator("article.letter").inner_text()
    _answer(responsible, site, "Yes, I agree")
    assert "both agreed to it" in responsible.locator("main").inner_text()
    assert "at weekends" in responsible.locator("main").inner_text()

    staff.goto(agreement)
    staff.get_by_role("heading", name="Version 2: agreed by both sides").wait_for()
    staff.get_by_role("group", name="Mark item 1").get_by_label("Done", exact=True).check()
    staff.get_by_role("button", name="Mark item 1").click()
    staff.get_by_text("The item is marked.").wait_for()
    assert re.search(r"Now:\s*done", staff.locator("#version-2").inner_text(), re.IGNORECASE)

    staff.get_by_role("group", name="Why does the case close?").get_by_label("Completed").check()
    staff.get_by_label(re.compile("I understand that closing the case")).check()
    staff.get_by_role("button", name="Close the case").click()
    staff.get_by_text("The case is closing:").wait_for()
    staff.get_by_label(re.compile("The outcome agreement, aftercare and feedback are done")).check()
    staff.get_by_role("button", name="Finish closing").click()
    staff.get_by_text("The case is closed.", exact=True).wait_for()
    assert "it closes as completed" in staff.locator("p.lede").inner_text()
    _shot(staff, f"closing-staff-closed-{width}")

    # The person responsible: the questionnaire, and the letter they received, still readable.
    responsible.goto(f"{site.base}/me/cases/{site.case_id}/agreement")
    responsible.get_by_role("heading", name=re.compile("has ended")).wait_for()
    assert LETTER in responsible.locator("main").inner_text()
    satisfied = responsible.get_by_role("group", name="How satisfied are you with how it went?")
    satisfied.get_by_label("4", exact=True).check()
    responsible.get_by_role("group", name=re.compile("Would you recommend")).get_by_label("Yes").check()
    responsible.get_by_label("Anything you would like to add").fill("It helped to write it down.")
    _shot(responsible, f"closing-participant-feedback-{width}")
    responsible.get_by_role("button", name="Send my answers").click()
    responsible.get_by_text("You will not be asked again.").wait_for()
    assert responsible.get_by_role("heading", name="Would you tell us how it went?").count() == 0

    # Aftercare: past the first check-in (3 days by default), the facilitator records one.
    start = site.svc.now()
    site.svc.clock = lambda: start + timedelta(days=4)
    staff = sign_in(browser, site, "facilitator", viewport=viewport)  # 4 days idle: signed out, so again
    staff.goto(agreement)
    checkin = staff.locator("ul.checkins > li").first
    checkin.get_by_label("How is the person?").fill("Settled, back at work.")
    checkin.get_by_label("Partly").check()
    checkin.get_by_role("button", name="Record the check-in").click()
    staff.get_by_text("The check-in is recorded.").wait_for()
    assert "How they are: Settled, back at work." in staff.locator("ul.checkins").inner_text()

    # The certified record, verified offline.
    staff.goto(f"{site.base}/staff/cases/{site.case_id}/export")
    staff.get_by_label("Why are you exporting this record?").fill("Inspection 2026-14 by the county.")
    with staff.expect_download() as download:
        staff.get_by_role("button", name="Export and download the record").click()
    data = Path(download.value.path()).read_bytes()
    checked = verify(data)
    assert checked.ok, checked.problems
    assert checked.case_events > 0 and checked.files > 0

    # Retention: past the closed-case period, the worker gives the case its destroy date, then shreds it.
    from workers.handlers import tick

    keep = timedelta(days=site.svc.settings.retention_closed_case_days)
    site.svc.clock = lambda: start + timedelta(days=4)
    tick(site.svc)
    site.svc.clock = lambda: start + keep + timedelta(days=30)
    tick(site.svc)
    later = sign_in(browser, site, "responsible", viewport=viewport)
    answer = later.goto(f"{site.base}/me/cases/{site.case_id}/agreement")
    assert answer is not None
    words = later.locator("main").inner_text()
    assert LETTER not in later.content() and "at weekends" not in later.content()
    # The page either shows the ended case without its words, or says they were destroyed (410).
    assert (answer.status == 200 and "has ended" in words) or (
        answer.status == 410 and "This has been destroyed" in words), (answer.status, words)
