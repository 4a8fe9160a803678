"""A reply in a real browser, at 1280 and 360 px (issue 12): the person responsible opens the letter
delivered to them, replies from it, and the reply page saves as they type from the first words
(draft.js starts the draft over the API with `in_reply_to`), so the draft answers the letter before
any button is pressed; the conversation on their home page then shows both. Screenshots go to
test-artifacts (and docs/screenshots when SHUTTLE_UPDATE_DOC_SCREENSHOTS is set)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsing import Site, keep_in_docs, screenshot, sign_in
from participant_helpers import api, message_id_of

LETTER = "Dear Sam, I keep thinking about the night at the harbour."
REPLY = "Dear Jessica, thank you for writing to me."


@pytest.mark.parametrize("width", [1280, 360])
def test_a_reply_is_saved_as_you_type_and_answers_the_letter(browser: Any, site: Site, width: int) -> None:
    letter = site.world.approved_letter(site.people, site.case_id, LETTER)  # delivered to the person responsible
    sam = sign_in(browser, site, "responsible", viewport={"width": width, "height": 900})
    sam.get_by_role("link", name="Decide when to open it").click()
    sam.get_by_role("button", name="Open it now").click()
    sam.get_by_role("link", name="Reply with a letter").click()
    sam.wait_for_url(re.compile(r"/write\?reply_to=[0-9a-f]{32}$"))
    sam.wait_for_load_state()  # draft.js listens for typing once the page has loaded
    sam.get_by_label("Your letter").fill(REPLY)
    sam.locator("#save-status", has_text=re.compile(r"\S")).wait_for()  # saved, or why not
    assert re.fullmatch(r"Saved at \d\d:\d\d", sam.locator("#save-status").inner_text())  # no button pressed
    sam.wait_for_url(re.compile(r"/me/messages/[0-9a-f]{32}$"))
    reply = api(sam, "GET", f"/messages/{message_id_of(sam)}")
    assert reply["in_reply_to"] == letter and reply["state"] == "draft"
    sam.reload()  # the draft's own page says what it answers
    assert "In reply to the letter from the person harmed" in sam.locator("#answers").inner_text()
    assert sam.get_by_label("Your letter").input_value() == REPLY

    sam.goto(f"{site.base}/me")
    conversation = sam.locator("main").inner_text()
    assert "Your conversation with the person harmed" in conversation and "In reply to" in conversation
    name = f"participant-conversation-{width}"
    keep_in_docs(screenshot(sam, name), name)
