"""Automated accessibility check of the participants' main pages with axe-core (from npm,
injected by the test only: shuttle serves no third-party code), on a 360 px phone screen and
on a desktop one; screenshots of each page are kept as test artifacts.

axe finds only part of what WCAG 2.2 AA asks (keyboard use, focus order, plain words and
the like are checked by the other tests and by people), but what it finds is real.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from browsing import Site, keep_in_docs, screenshot
from participant_helpers import AXE, DESKTOP, PHONE, signed_in, start_video_recording
from world import World

from shuttle.messages import authoring, review
from shuttle.messages.models import Message

RUN_AXE = """async () => {
  const result = await axe.run(document, { runOnly: { type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
  return { passes: result.passes.length, violations: result.violations.map(v => ({ id: v.id, impact: v.impact,
    help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")) })) };
}"""
#: Screenshots also copied into docs/screenshots (with SHUTTLE_UPDATE_DOC_SCREENSHOTS=1).
FOR_DOCS = {"home-360", "inbox-1280"}


def _wait_for(site: Site, message_id: str, state: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with site.svc.db.uow() as uow:
            message = uow.session.get(Message, message_id)
            assert message is not None
            if message.state == state:
                return
        assert time.monotonic() < deadline, f"message still {message.state}"
        time.sleep(0.1)


def _messages(site: Site) -> dict[str, str]:
    """A draft with a phone number, an empty video message, and a letter delivered to Sam."""
    p, world, case_id = site.people, site.world, site.case_id
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,\nMy number is 07700 900123.")
    video = world.do(authoring.start_media, p.harmed, case_id, "video")
    sent = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,\nI have thought about that night.")
    world.do(authoring.submit, p.harmed, sent.id)
    _wait_for(site, sent.id, "awaiting_review")
    world.do(review.claim, p.facilitator, sent.id)
    world.do(review.approve, p.facilitator, sent.id)
    return {"draft": draft.id, "video": video.id, "sent": sent.id, "case": case_id}


def _check(page: Any, name: str, width: int) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    assert found["passes"] > 10, f"axe checked almost nothing on {name}: {found}"
    problems = [f"{name} at {width}px: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                for v in found["violations"] if v["impact"] in ("serious", "critical")]
    shot = screenshot(page, f"participant-{name}-{width}")
    if f"{name}-{width}" in FOR_DOCS:
        keep_in_docs(shot, f"participant-{name}-{width}")
    return problems


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: scripts/test installs it with npm")
def test_the_main_participant_pages_have_no_serious_accessibility_problems(browser: Any, site: Site) -> None:
    ids = _messages(site)
    problems: list[str] = []
    for viewport in (PHONE, DESKTOP):
        width = viewport["width"]
        anonymous = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
        anonymous.goto(f"{site.base}/login")
        problems += _check(anonymous, "sign-in", width)
        anonymous.context.close()

        jessica = signed_in(browser, site, "harmed", viewport=viewport, bypass_csp=True)
        for name, path in [("home", "/me"), ("write", f"/me/cases/{ids['case']}/write"),
                           ("message", f"/me/messages/{ids['draft']}"),
                           ("record", f"/me/cases/{ids['case']}/record"),
                           ("record-video", f"/me/messages/{ids['video']}"),
                           ("holding", f"/me/cases/{ids['case']}/holding"),
                           ("leave", f"/me/cases/{ids['case']}/leave")]:
            jessica.goto(site.base + path)
            problems += _check(jessica, name, width)
        jessica.goto(f"{site.base}/me/cases/{ids['case']}/record")
        jessica.get_by_role("button", name="Continue").click()  # nothing chosen: the error summary
        jessica.wait_for_load_state()
        assert jessica.evaluate("document.activeElement.className") == "error-summary"
        problems += _check(jessica, "record-error", width)
        jessica.context.close()

        sam = signed_in(browser, site, "responsible", viewport=viewport, bypass_csp=True)
        problems += _check(sam, "home-recipient", width)
        for name, path in [("inbox", f"/me/inbox/{ids['sent']}"), ("ask", f"/me/inbox/{ids['sent']}/ask")]:
            sam.goto(site.base + path)
            problems += _check(sam, name, width)
        sam.context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: scripts/test installs it with npm")
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_a_recording_just_saved_has_no_serious_accessibility_problems(browser: Any, site: Site,
                                                                      viewport: dict[str, int]) -> None:
    """The recording page once a recording is made in the browser and kept ("Use this recording"):
    the confirmation, the recording uploaded, the words to add and "Continue to check and send"."""
    jessica = signed_in(browser, site, "harmed", viewport=viewport, bypass_csp=True)
    start_video_recording(jessica)
    jessica.wait_for_timeout(1500)
    jessica.get_by_role("button", name="Stop recording").click()
    jessica.get_by_role("button", name="Use this recording").click()
    jessica.wait_for_url(lambda url: "done=uploaded" in url)
    assert "It is uploaded" in jessica.content()
    jessica.get_by_role("button", name="Continue to check and send").wait_for()
    problems = _check(jessica, "recording-saved", viewport["width"])
    assert problems == [], "\n".join(problems)


def test_the_pages_can_be_used_with_the_keyboard_alone(browser: Any, site: Site) -> None:
    """Sign in, reach "Write a letter", write and save, all with Tab, typing and Enter."""
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{site.base}/login")
    focused: list[str] = []

    def tab_to(text: str, limit: int = 25) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            label = page.evaluate("""() => { const e = document.activeElement;
                return (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent || "").trim(); }""")
            focused.append(label)
            if label == text:
                return
        raise AssertionError(f"{text!r} not reached with Tab; went through {focused}")

    tab_to("Skip to main content")
    tab_to("Emergency Exit this page")
    tab_to("Username")
    page.keyboard.type(site.username("harmed"))
    tab_to("Password")
    page.keyboard.type(World.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/me")
    tab_to("Write a letter")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/me/cases/{site.case_id}/write")
    tab_to("Your letter")
    page.keyboard.type("Dear Sam, I wrote this with the keyboard.")
    tab_to("Save draft")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/me/messages/" in url)
    assert "I wrote this with the keyboard." in page.locator("textarea").input_value()
    # Every focused control shows the focus style (a yellow outline or background).
    page.keyboard.press("Tab")
    style = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineColor, s.backgroundColor].join(" "); }""")
    assert "rgb(255, 221, 0)" in style, style
