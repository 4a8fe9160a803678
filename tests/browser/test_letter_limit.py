"""The letter's limit in words a person understands, counted live; a letter over it comes back
with every word and an error summary that takes the focus and leads to the field."""

from __future__ import annotations

from typing import Any

from browsing import Site
from participant_helpers import signed_in


def test_the_counter_says_what_is_left_and_an_over_long_letter_comes_back_whole(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "harmed")
    page.goto(f"{site.base}/me/cases/{site.case_id}/write")
    count = page.locator("#text-count")
    assert count.text_content() == "Up to about 10,000 words."
    field = page.get_by_label("Your letter")
    field.fill("Dear Sam, " + "word " * 1300)  # 6,510 bytes: a tenth of the limit
    assert count.text_content() == "You have about 9,000 words left."
    limit = site.svc.settings.limits.max_letter_bytes
    too_long = ("Dear Sam, " + "I am sorry. " * (limit // 12 + 100))[:limit + 650]  # about 100 words over
    field.fill(too_long)
    assert count.text_content() == "This is about 100 words too long."
    assert "error-message" in (count.get_attribute("class") or "")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and summary.evaluate("e => e === document.activeElement")
    assert "take out about 100 words" in summary.inner_text()
    assert page.get_by_label("Your letter").input_value() == too_long
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "text"
