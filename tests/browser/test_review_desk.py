"""The review desk in Chromium (issue 12): the queue filtered through its form (no script needed),
the review page with the decision beside the content at 1280 px and in one column at 360 px
(compared by the boxes the browser laid out), a keyboard shortcut that moves to the next message
and is ignored while typing, "request changes and next" with its confirmation, and axe-core on
the dashboard and the review page at both sizes. Screenshots kept for the docs."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from browsing import Site, keep_in_docs, screenshot
from support import need
from test_staff_workspace import AXE, DESKTOP, PHONE, RUN_AXE, _staff

from shuttle.messages import authoring
from shuttle.messages.models import Message


def _sent(site: Site, author: Any, text: str) -> str:
    message = site.world.do(authoring.start_draft, author, site.case_id, text)
    site.world.do(authoring.submit, author, message.id)
    return str(message.id)


def _ready(site: Site, *ids: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with site.svc.db.uow() as uow:
            states = {uow.session.get(Message, i).state for i in ids}  # type: ignore[union-attr]
        if states == {"awaiting_review"}:
            return
        assert time.monotonic() < deadline, states
        time.sleep(0.1)


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


def _axe_clean(page: Any, name: str) -> None:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    assert found["passes"] > 10, f"axe checked almost nothing on {name}: {found}"
    assert found["violations"] == [], f"{name}: {found['violations']}"


@pytest.mark.parametrize("site", [{"initiator": "either"}], indirect=True)
def test_the_review_desk_at_1280_and_360_px(browser: Any, site: Site) -> None:
    need(AXE.exists(), "axe-core is not installed: scripts/test installs it (npm install --prefix tests/browser/node "
                       "axe-core)")
    p = site.people
    first = _sent(site, p.harmed, "Dear Sam, call me on 07700 900123 if you want to talk. I live near Elm Street.")
    second = _sent(site, p.responsible, "Dear Jessica, I am sorry for what I did.")
    third = _sent(site, p.harmed, "Dear Sam, one more thing.")
    _ready(site, first, second, third)

    staff = _staff(browser, site, bypass_csp=True)
    staff.goto(f"{site.base}/staff")
    # the filter form works as a plain GET form
    staff.get_by_label("Kind").select_option("letter")
    staff.get_by_label("Only flagged").check()
    with staff.expect_navigation():
        staff.get_by_role("button", name="Show").click()
    assert "flagged=yes" in staff.url and "kind=letter" in staff.url
    assert re.match(r"^1 of 3 messages shown", staff.locator("#queue-count").inner_text())
    assert staff.locator("li.queue-item").count() == 1
    _axe_clean(staff, "filtered dashboard")
    keep_in_docs(screenshot(staff, "facilitator-queue-filters-1280"), "facilitator-queue-filters-1280")
    staff.set_viewport_size(PHONE)  # the same filtered queue on a phone, then back to the desk's width
    assert staff.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    keep_in_docs(screenshot(staff, "facilitator-queue-filters-360"), "facilitator-queue-filters-360")
    staff.set_viewport_size(DESKTOP)

    staff.goto(f"{site.base}/staff/messages/{first}?kind=letter")
    staff.get_by_role("button", name="Claim for review").click()
    staff.get_by_text("Claimed.").wait_for()
    content, decision = _box(staff, ".review-content"), _box(staff, ".review-decision")
    assert decision["x"] >= content["x"] + content["width"] - 1  # beside, to the right
    assert decision["y"] < content["y"] + content["height"] and content["y"] < decision["y"] + decision["height"]
    # the version, its flags and the decision with the editing tools start in the first view
    for selector in ("#content-heading", ".flags", "#decide-heading", "#edit-text"):
        assert _box(staff, selector)["y"] < DESKTOP["height"], selector
    _axe_clean(staff, "review page at 1280 px")
    shot = screenshot(staff, "facilitator-review-desk-1280")
    keep_in_docs(shot, "facilitator-review-desk-1280")

    # a shortcut is ignored while typing in a field...
    staff.locator("#edit-note").click()
    staff.keyboard.type("n")
    assert staff.url.endswith(f"/staff/messages/{first}?kind=letter")
    assert staff.locator("#edit-note").input_value() == "n"
    # ...and "n" moves to the next message of the filtered queue otherwise
    staff.locator("h1").click()
    with staff.expect_navigation():
        staff.keyboard.press("n")
    assert staff.url.endswith(f"/staff/messages/{second}?kind=letter")
    with staff.expect_navigation():
        staff.keyboard.press("k")
    assert staff.url.endswith(f"/staff/messages/{first}?kind=letter")
    # "a" opens the approval page (approve and next): the flags are resolved there, never skipped
    with staff.expect_navigation():
        staff.keyboard.press("a")
    assert staff.url.endswith(f"/staff/messages/{first}/approve?then=next&kind=letter")
    staff.get_by_role("button", name="Confirm approval and go to the next").wait_for()
    assert staff.locator("textarea[name^=keep-]").count() == 2  # the phone number and the watch-list term
    staff.go_back()
    staff.locator("h1").click()
    # "c" goes to the note for the author; request changes and next
    staff.keyboard.press("c")
    assert staff.evaluate("document.activeElement.id") == "changes-note"
    staff.keyboard.type("Please take out the phone number and the street.")
    with staff.expect_navigation():
        staff.get_by_role("button", name="Request changes and next").click()
    assert staff.url.endswith(f"/staff/messages/{second}?kind=letter")
    assert staff.get_by_role("status").filter(has_text="Changes requested: Letter 1 in").count() == 1

    phone = _staff(browser, site, viewport=PHONE, bypass_csp=True)
    phone.goto(f"{site.base}/staff/messages/{second}")
    phone.get_by_role("button", name="Claim for review").click()
    phone.get_by_text("Claimed.").wait_for()
    content, decision = _box(phone, ".review-content"), _box(phone, ".review-decision")
    assert decision["y"] >= content["y"] + content["height"] - 1  # below: one column
    assert abs(decision["x"] - content["x"]) < 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _axe_clean(phone, "review page at 360 px")
    shot = screenshot(phone, "facilitator-review-desk-360")
    keep_in_docs(shot, "facilitator-review-desk-360")
    phone.goto(f"{site.base}/staff?sort=newest")
    _axe_clean(phone, "dashboard at 360 px")
