"""A letter's journey in a real browser: the author, the facilitator and the recipient each
in their own private window; plus the quick exit."""

from __future__ import annotations

import re
from typing import Any

from browsing import Site, check_and_send, keep_in_docs, screenshot, sign_in

from shuttle.accounts.service import current_totp  # noqa: F401  (staff in World sign in without TOTP)


def test_a_letter_from_the_harmed_side_is_opened_only_after_approval(browser: Any, site: Site) -> None:
    author = sign_in(browser, site, "harmed")
    author.get_by_role("link", name="Write a letter").click()
    author.get_by_label("Your letter").fill("Dear Sam, I walk past Elm Street every day.")
    author.get_by_role("button", name="Save draft").click()
    screenshot(author, "participant-draft")
    check_and_send(author)
    author.get_by_text(re.compile("sent to your facilitator|being prepared|waiting for a facilitator")).wait_for()

    recipient = sign_in(browser, site, "responsible")
    assert "A message from" not in recipient.content()

    staff = sign_in(browser, site, "facilitator")
    for _ in range(50):  # the in-process worker processes it within a moment
        staff.goto(f"{site.base}/staff")  # (not reload: the dashboard refreshes itself too)
        if staff.get_by_role("link", name=re.compile("waiting for a facilitator")).count():
            break
        staff.wait_for_timeout(200)
    screenshot(staff, "facilitator-queue")
    staff.get_by_role("link", name=re.compile("waiting for a facilitator")).first.click()
    assert staff.locator("mark.flag-watchlist").inner_text() == "Elm Street"
    staff.get_by_role("button", name="Claim for review").click()
    screenshot(staff, "facilitator-review")
    staff.get_by_role("link", name="Approve…").click()
    # The approval step: what will be delivered, to whom, and the flag to resolve (issue 8).
    assert "To" in staff.locator("dl.facts").inner_text() and "the person responsible" in staff.content()
    staff.get_by_role("button", name="Confirm approval").click()  # one click is not enough with a flag
    summary = staff.locator(".error-summary")
    summary.wait_for()
    assert "Still open" in summary.inner_text()
    summary.get_by_role("link").first.click()  # the summary links to the field
    reason = staff.get_by_label(re.compile("Elm Street"))
    assert reason.evaluate("el => el === document.activeElement")
    reason.fill("Elm Street is already known to Sam; agreed at the preparation meeting.")
    keep_in_docs(screenshot(staff, "facilitator-approve-flags"), "facilitator-approve-flags")
    staff.get_by_role("button", name="Confirm approval").click()
    staff.get_by_text("Delivered to the person responsible.").wait_for()
    assert "Nothing else is waiting for your review." in staff.content()
    staff.get_by_role("link", name="Back to the approved message").click()
    staff.get_by_text("delivered, not yet opened").wait_for()

    recipient.reload()
    recipient.get_by_role("link", name="Decide when to open it").click()
    screenshot(recipient, "recipient-open-now")
    assert "Elm Street" not in recipient.content()  # nothing shown before they choose
    recipient.get_by_role("button", name="Open it now").click()
    assert "I walk past Elm Street" in recipient.locator("article.letter").inner_text()


def test_quick_exit_leaves_no_way_back(browser: Any, site: Site) -> None:
    page = sign_in(browser, site, "harmed")
    page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1).*"),
                       lambda route: route.fulfill(status=200, body="<h1>Weather</h1>", content_type="text/html"))
    page.goto(f"{site.base}/me")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile("weather"))
    for _ in range(3):  # whatever is behind it in the history
        page.go_back()
        page.wait_for_load_state()
        assert "Hello" not in page.content() and "Your messages" not in page.content()
    page.goto(f"{site.base}/me")
    assert page.url.endswith("/login")  # the session ended with the exit
