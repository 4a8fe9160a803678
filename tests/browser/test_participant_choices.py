"""The recipient's choices in a real browser: a paused case keeps an approved message away;
asking the facilitator to hold, then to destroy, a delivered message."""

from __future__ import annotations

import re
import time
from typing import Any

from browsing import Site, screenshot
from participant_helpers import api, signed_in

from shuttle.messages import authoring
from shuttle.messages.models import Message

LETTER = "Dear Sam,\nI would like you to know what that year was like."


def _sent_and_processed(site: Site) -> str:
    message = site.world.do(authoring.start_draft, site.people.harmed, site.case_id, LETTER)
    site.world.do(authoring.submit, site.people.harmed, message.id)
    deadline = time.monotonic() + 30
    while True:
        with site.svc.db.uow() as uow:
            found = uow.session.get(Message, message.id)
            assert found is not None
            if found.state == "awaiting_review":
                return str(message.id)
        assert time.monotonic() < deadline, found.state
        time.sleep(0.1)


def test_pausing_the_case_keeps_an_approved_message_from_the_recipient(browser: Any, site: Site) -> None:
    message_id = _sent_and_processed(site)
    fiona = signed_in(browser, site, "facilitator")
    view = api(fiona, "GET", f"/messages/{message_id}")
    view = api(fiona, "POST", f"/messages/{message_id}/actions/schedule",
               {"version": view["version"], "at": "2099-01-01T09:00:00+00:00"})  # after a support session
    view = api(fiona, "POST", f"/messages/{message_id}/actions/claim", {"version": view["version"]})
    assert api(fiona, "POST", f"/messages/{message_id}/actions/approve", {"version": view["version"]})[
        "state"] == "approved"
    case = api(fiona, "GET", f"/cases/{site.case_id}")
    api(fiona, "POST", f"/cases/{site.case_id}/status", {"status": "paused", "version": case["version"]})
    view = api(fiona, "POST", f"/messages/{message_id}/actions/schedule", {"at": None})  # the time has come…
    assert view["state"] == "held"  # …but the case is paused

    sam = signed_in(browser, site, "responsible")
    assert "This exchange is paused for now." in sam.content()
    assert "Nothing is waiting for you." in sam.content() and message_id not in sam.content()
    assert sam.request.get(f"{site.base}/api/v1/messages/{message_id}").status == 404
    screenshot(sam, "participant-home-paused")

    case = api(fiona, "GET", f"/cases/{site.case_id}")
    api(fiona, "POST", f"/cases/{site.case_id}/status", {"status": "open", "version": case["version"]})
    sam.reload()
    assert "A message from the person harmed is waiting." in sam.content()


def test_the_recipient_asks_to_hold_then_to_destroy_a_message(browser: Any, site: Site) -> None:
    message_id = _sent_and_processed(site)
    fiona = signed_in(browser, site, "facilitator")
    view = api(fiona, "GET", f"/messages/{message_id}")
    view = api(fiona, "POST", f"/messages/{message_id}/actions/claim", {"version": view["version"]})
    api(fiona, "POST", f"/messages/{message_id}/actions/approve", {"version": view["version"]})

    sam = signed_in(browser, site, "responsible")
    sam.get_by_role("link", name=re.compile("Decide when to open it")).click()
    sam.get_by_role("link", name=re.compile("Ask your facilitator to hold")).click()
    sam.get_by_role("button", name="Send to my facilitator").click()  # nothing chosen yet
    assert "Choose what you would like your facilitator to do." in sam.locator(".error-summary").inner_text()
    sam.get_by_label("Hold it for now").check()
    sam.get_by_label("Anything you would like your facilitator to know").fill("Not before the court date.")
    sam.get_by_role("button", name="Send to my facilitator").click()
    sam.get_by_text("Your facilitator has been told.").wait_for()
    sam.goto(f"{site.base}/me")
    assert "Kept for you at your request" in sam.content() and "Decide when to open it" not in sam.content()

    asked = api(fiona, "GET", f"/cases/{site.case_id}/requests")
    assert [(r["kind"], r["note"], r["message_id"]) for r in asked] == [
        ("hold", "Not before the court date.", message_id)]
    api(fiona, "POST", f"/requests/{asked[0]['id']}/handle", {"outcome": "done", "note": "I will keep it for now."})
    assert api(fiona, "GET", f"/cases/{site.case_id}/requests") == []

    sam.goto(f"{site.base}/me/inbox/{message_id}")
    assert "I will keep it for now." in sam.content()
    sam.get_by_role("link", name=re.compile("Ask your facilitator to hold")).click()
    sam.get_by_label("Destroy it").check()
    sam.get_by_role("button", name="Send to my facilitator").click()
    sam.get_by_text("Your facilitator has been told.").wait_for()
    asked = api(fiona, "GET", f"/cases/{site.case_id}/requests")
    api(fiona, "POST", f"/requests/{asked[0]['id']}/handle", {"outcome": "done"})

    sam.reload()
    assert "your facilitator has destroyed this message" in sam.content()
    assert sam.get_by_role("button", name="Open it now").count() == 0
    refused = sam.request.post(f"{site.base}/api/v1/messages/{message_id}/open", data={},
                               headers={"X-CSRF-Token": str(sam.locator("input[name='csrf_token']").first
                                                            .get_attribute("value"))})
    assert refused.status == 409 and refused.json()["error"] == "closed_by_request"
    sam.goto(f"{site.base}/me")
    assert "A message from" not in sam.content()
