"""Two of issue 12's screens in Chromium, each shown at 1280 and 360 px (the window resized on the
same page): "Check your message" before a letter is sent, and opening a message together with the
facilitator (the recipient asks, the facilitator records a time and starts the session, the
recipient opens it). Screenshots go to test-artifacts (and docs/screenshots when
SHUTTLE_UPDATE_DOC_SCREENSHOTS is set)."""

from __future__ import annotations

from typing import Any

from browsing import SHOTS, Site, keep_in_docs, screenshot
from participant_helpers import signed_in
from test_staff_workspace import _staff

LETTER = "Dear Sam,\nI have thought a lot about what I want to say to you."
WIDTHS = (1280, 360)


def _shots(page: Any, name: str, section: str | None = None) -> None:
    """The page at each width (the layout follows the window), kept for the docs; with `section`,
    the window scrolled to that part of a long page rather than the whole page."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
        if section is None:
            shot = screenshot(page, f"{name}-{width}")
        else:
            page.locator(section).evaluate("e => e.scrollIntoView({block: 'start'})")
            shot = SHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=False)
        keep_in_docs(shot, f"{name}-{width}")


def test_check_your_message_before_sending(browser: Any, site: Site) -> None:
    jessica = signed_in(browser, site, "harmed")
    jessica.get_by_role("link", name="Write a letter").click()
    jessica.get_by_label("Your letter").fill(LETTER)
    jessica.get_by_role("button", name="Save draft").click()
    jessica.get_by_role("button", name="Continue to check and send").click()
    jessica.get_by_role("heading", name="Check your letter before sending it").wait_for()
    assert "I have thought a lot about what I want to say to you." in jessica.locator("#checked-text").inner_text()
    _shots(jessica, "participant-check-message")
    jessica.get_by_role("button", name="Send to my facilitator").click()
    jessica.get_by_text("Sent to your facilitator.").wait_for()


def test_opening_a_message_together_with_the_facilitator(browser: Any, site: Site) -> None:
    letter = site.world.approved_letter(site.people, site.case_id, LETTER)  # delivered to the person responsible
    sam = signed_in(browser, site, "responsible")
    sam.goto(f"{site.base}/me/inbox/{letter}")
    sam.get_by_label("A note for your facilitator (optional)").fill("I would like someone with me.")
    sam.get_by_role("button", name="Open it with my facilitator").click()
    sam.get_by_role("heading", name="You asked to open it with your facilitator").wait_for()
    assert sam.get_by_role("button", name="Open it now").count() == 0  # closed until the session
    _shots(sam, "participant-supported-opening-asked")

    fiona = _staff(browser, site)
    fiona.goto(f"{site.base}/staff")
    assert fiona.locator("#supported").count() == 1  # listed on the dashboard (without the note)
    fiona.goto(f"{site.base}/staff/cases/{site.case_id}")  # the case page shows the note too
    requests = fiona.locator("#supported")
    assert "I would like someone with me." in requests.inner_text()
    requests.get_by_label("The time you arranged with them (UTC)").fill("2026-12-03T14:30")
    requests.get_by_role("button", name="Record the time").click()
    fiona.locator("#supported").get_by_text("Time arranged:").wait_for()
    _shots(fiona, "facilitator-supported-opening", section="#supported")
    fiona.locator("#supported").get_by_role("button", name="Start the session now").click()
    fiona.locator("#supported").get_by_text("The session is running").wait_for()

    sam.reload()
    sam.get_by_text("Your facilitator has started your session").wait_for()
    _shots(sam, "participant-supported-opening-session")
    sam.get_by_role("button", name="Open it now").click()
    sam.get_by_text("I have thought a lot about what I want to say to you.").wait_for()
