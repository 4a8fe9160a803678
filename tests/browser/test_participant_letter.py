"""A letter with a phone number and a watch-list name: the author sees the phone number flagged
as they write, and nothing about the watch-list name (the list is never an oracle); the facilitator
sees both, redacts; the author accepts the diff; the recipient sees only the redacted text."""

from __future__ import annotations

import re
from typing import Any

from browsing import Site, check_and_send, keep_in_docs, screenshot
from participant_helpers import PHONE, api, message_id_of, signed_in, wait_for_state

LETTER = "Dear Sam,\nI walk past Elm Street every day. If you want to talk, call me on 07700 900123."
REDACTED = "Dear Sam,\nI walk past the street every day. If you want to talk, tell Fiona."


def test_flags_before_sending_then_the_redaction_is_accepted_and_delivered(browser: Any, site: Site) -> None:
    jessica = signed_in(browser, site, "harmed", viewport=PHONE)
    jessica.get_by_role("link", name="Write a letter").click()
    jessica.get_by_label("Your letter").fill(LETTER)
    # Autosaved a moment after typing stops: the draft now exists, and the flags appear.
    jessica.get_by_text(re.compile(r"Saved at \d\d:\d\d")).wait_for()
    jessica.wait_for_url(re.compile(r"/me/messages/[0-9a-f]{32}$"))
    flags = jessica.locator("#draft-flags")
    flags.wait_for(state="visible")
    assert "07700 900123" in flags.inner_text() and "phone number" in flags.inner_text()
    # The watch-list hit is for staff only: nothing the author sees depends on the list.
    assert "Elm Street" not in flags.inner_text() and "watch" not in flags.inner_text().lower()
    keep_in_docs(screenshot(jessica, "participant-letter-flags-360"), "participant-letter-flags-360")
    message_id = message_id_of(jessica)

    # The server-rendered page after a reload says the same, without any script.
    jessica.reload()
    assert "07700 900123" in jessica.locator("#draft-flags").inner_text()
    assert "Elm Street" not in jessica.locator("#draft-flags").inner_text()
    check_and_send(jessica)
    jessica.get_by_text("Sent to your facilitator.").wait_for()

    # The facilitator sees both flags, claims and proposes a redacted text.
    fiona = signed_in(browser, site, "facilitator")
    view = wait_for_state(fiona, message_id, {"awaiting_review"})
    version = api(fiona, "GET", f"/messages/{message_id}/versions/{view['current_version_id']}")
    assert {(f["kind"], f["text"]) for f in version["flags"]} == {("watchlist", "Elm Street"),
                                                                 ("phone", "07700 900123")}
    fiona.goto(f"{site.base}/staff/messages/{message_id}")
    assert "Elm Street" in fiona.locator("article").inner_text()
    view = api(fiona, "POST", f"/messages/{message_id}/actions/claim", {"version": view["version"]})
    api(fiona, "POST", f"/messages/{message_id}/actions/edit",
        {"version": view["version"], "text": REDACTED, "note": "I took out your number and the street."})
    wait_for_state(fiona, message_id, {"awaiting_author"})

    # The author sees the changes as a diff, with the facilitator's note, and accepts them.
    jessica.goto(f"{site.base}/me/messages/{message_id}")
    assert "Your facilitator suggested changes" in jessica.content()
    assert "07700 900123" in " ".join(jessica.locator(".diff del").all_text_contents())
    assert "tell Fiona" in " ".join(jessica.locator(".diff ins").all_text_contents())
    assert "I took out your number" in jessica.content()
    keep_in_docs(screenshot(jessica, "participant-accept-changes-360"), "participant-accept-changes-360")
    jessica.get_by_role("button", name="Accept the changes").click()
    jessica.get_by_text("You accepted the changes.").wait_for()

    view = api(fiona, "GET", f"/messages/{message_id}")
    assert api(fiona, "POST", f"/messages/{message_id}/actions/approve",
               {"version": view["version"]})["state"] == "released"

    # Sam opens it: only the redacted text.
    sam = signed_in(browser, site, "responsible")
    sam.get_by_role("link", name=re.compile("Decide when to open it")).click()
    sam.get_by_role("button", name="Open it now").click()
    shown = sam.locator("article.letter").inner_text()
    assert shown == REDACTED
    assert "07700" not in sam.content() and "Elm Street" not in sam.content()
    jessica.goto(f"{site.base}/me/messages/{message_id}")
    assert "Delivered" in jessica.locator(".status-panel").inner_text()


def test_autosave_in_two_tabs_keeps_saving_the_latest_words(browser: Any, site: Site) -> None:
    from shuttle.messages import authoring

    draft = site.world.do(authoring.start_draft, site.people.harmed, site.case_id, "Dear Sam,")
    first = signed_in(browser, site, "harmed")
    second = first.context.new_page()
    for page in (first, second):
        page.goto(f"{site.base}/me/messages/{draft.id}")
    first.get_by_label("Your letter").fill("Dear Sam, from the first tab.")
    first.get_by_text(re.compile(r"Saved at")).wait_for()
    # The second tab's version is now stale: it fetches the current one and saves again.
    second.get_by_label("Your letter").fill("Dear Sam, from the second tab.")
    second.get_by_text(re.compile(r"Saved at")).wait_for()
    assert site.world.do(authoring.read_draft, site.people.harmed, draft.id) == "Dear Sam, from the second tab."
    # Its form carries the new version, so "Send" works without a reload.
    check_and_send(second)
    second.get_by_text("Sent to your facilitator.").wait_for()


def test_words_typed_before_the_page_script_runs_are_saved(browser: Any, site: Site) -> None:
    """On a slow phone a person can type (or paste) before the page's script has run: those words
    are saved as soon as it runs, not taken for already saved (the script is held back here until
    the letter is written; seen failing: nothing was saved until the next key)."""
    jessica = signed_in(browser, site, "harmed", viewport=PHONE)
    held: list[Any] = []
    jessica.route("**/static/draft.js", lambda route: held.append(route))
    jessica.get_by_role("link", name="Write a letter").click()
    jessica.get_by_label("Your letter").fill(LETTER)
    while not held:
        jessica.wait_for_timeout(50)
    held[0].continue_()
    jessica.get_by_text(re.compile(r"Saved at \d\d:\d\d")).wait_for()
    jessica.wait_for_url(re.compile(r"/me/messages/[0-9a-f]{32}$"))
    assert api(jessica, "GET", f"/messages/{message_id_of(jessica)}/draft")["text"] == LETTER
