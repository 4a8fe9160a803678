"""The facilitator's workspace in Chromium: pausing a case holds an approved message, redacting a
letter with the versions side by side, and an axe-core accessibility check of the dashboard,
the review page and the case page (at 1280 and 360 px). Screenshots are kept as artifacts.

axe-core comes from npm (scripts/test installs it into tests/browser/node) and is injected by
the test only, in a context that bypasses the CSP: shuttle itself serves no third-party code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from browsing import Site, keep_in_docs, screenshot
from support import need
from world import World

from shuttle.cases import service as cases
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.uploads import service as uploads

AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
RUN_AXE = """async () => {
  const result = await axe.run(document, { runOnly: { type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
  return { passes: result.passes.length, violations: result.violations.map(v => ({ id: v.id, impact: v.impact,
    help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")) })) };
}"""


def _staff(browser: Any, site: Site, who: str = "facilitator", *, viewport: dict[str, int] | None = None,
           bypass_csp: bool = False) -> Any:
    """A private window signed in through the sign-in page (bypass_csp only to inject axe)."""
    page = browser.new_context(viewport=viewport or DESKTOP, bypass_csp=bypass_csp).new_page()
    page.goto(f"{site.base}/login")
    page.get_by_label("Username").fill(site.username(who))
    page.get_by_label("Password").fill(World.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def _wait_for(site: Site, message_id: str, *states: str, timeout: float = 30.0) -> None:
    """The in-process worker prepares messages within a moment."""
    deadline = time.monotonic() + timeout
    while True:
        with site.svc.db.uow() as uow:
            message = uow.session.get(Message, message_id)
            assert message is not None
            if message.state in states:
                return
        assert time.monotonic() < deadline, f"message still {message.state}"
        time.sleep(0.1)


def _sent_letter(site: Site, text: str) -> str:
    p = site.people
    message = site.world.do(authoring.start_draft, p.harmed, site.case_id, text)
    site.world.do(authoring.submit, p.harmed, message.id)
    _wait_for(site, message.id, "awaiting_review")
    return str(message.id)


def test_pausing_the_case_keeps_an_approved_message_from_the_recipient(browser: Any, site: Site) -> None:
    p = site.people
    message_id = _sent_letter(site, "Dear Sam, I would like you to know how I am.")
    site.world.do(cases.set_holding, p.responsible, site.case_id, True)  # Sam is not ready yet

    staff = _staff(browser, site)
    staff.get_by_role("link", name=re.compile("Letter from the person harmed")).click()
    staff.get_by_role("button", name="Claim for review").click()
    staff.get_by_role("link", name="Approve…").click()
    staff.get_by_role("button", name="Confirm approval").click()
    staff.get_by_text(re.compile("not delivered yet because .*asked to hold deliveries")).wait_for()
    staff.get_by_role("link", name="Back to the approved message").click()
    blockers = staff.locator("#blockers")
    blockers.wait_for()
    assert "asked to hold deliveries" in blockers.inner_text()  # approved, not released

    staff.get_by_role("link", name=f"Case {_reference(site)}").click()
    staff.get_by_role("button", name="Pause the case").click()
    staff.get_by_text("Status: paused").wait_for()
    assert "Put on hold: the case is paused" in staff.locator(".timeline").inner_text()
    screenshot(staff, "facilitator-case-paused")

    sam = _staff(browser, site, "responsible")
    site.world.do(cases.set_holding, p.responsible, site.case_id, False)  # Sam is ready; the pause still holds
    sam.reload()
    assert "A message from" not in sam.content()
    assert site.svc.db is not None and _state(site, message_id) == "held"

    staff.get_by_role("button", name="Resume the case").click()
    staff.get_by_text("Status: open").wait_for()
    assert "Delivered to the person responsible" in staff.locator(".timeline").inner_text()
    sam.reload()
    sam.get_by_text("A message from the person harmed is waiting.").wait_for()


def _reference(site: Site) -> str:
    with site.svc.db.uow() as uow:
        from shuttle.cases.models import Case

        case = uow.session.get(Case, site.case_id)
        assert case is not None
        return case.reference


def _state(site: Site, message_id: str) -> str:
    with site.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


def test_the_facilitator_redacts_a_letter_and_sees_both_versions_side_by_side(browser: Any, site: Site) -> None:
    letter = "Dear Sam, call me on 07700 900123. I still walk down Elm Street."
    message_id = _sent_letter(site, letter)
    staff = _staff(browser, site)
    staff.goto(f"{site.base}/staff/messages/{message_id}")
    assert staff.locator("mark.flag-phone").inner_text() == "07700 900123"
    assert staff.locator("mark.flag-watchlist").inner_text() == "Elm Street"
    staff.get_by_role("button", name="Claim for review").click()

    editor = staff.get_by_label("Text", exact=True)
    for secret in ("07700 900123", "Elm Street"):  # select each flagged passage, then the redact helper
        start = editor.input_value().index(secret)
        editor.evaluate("(el, range) => el.setSelectionRange(range[0], range[1])", [start, start + len(secret)])
        staff.get_by_role("button", name="Replace the selected words with [removed]").click()
    assert editor.input_value() == "Dear Sam, call me on [removed]. I still walk down [removed]."
    staff.get_by_label("Note to the author about the changes (optional)").fill("I took out the number and the street.")
    staff.get_by_role("button", name="Propose this edit").click()

    _wait_for(site, message_id, "awaiting_author")
    staff.reload()
    columns = staff.locator(".diff-column")
    assert columns.count() == 2 and columns.first.is_visible() and columns.last.is_visible()
    left, right = columns.first.bounding_box(), columns.last.bounding_box()
    # side by side
    assert left and right and left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 2
    assert columns.first.locator("del").all_text_contents() == ["[taken out: 07700 900123]", "[taken out: Elm Street]"]
    assert columns.last.locator("ins").all_text_contents() == ["[put in: [removed]]"] * 2
    assert columns.last.inner_text().startswith("Version 2")
    assert "with the author" in staff.locator(".claim").inner_text()
    shot = screenshot(staff, "facilitator-redaction-diff")
    keep_in_docs(shot, "facilitator-redaction-diff")

    # On a phone the two columns stack, and nothing runs off the side of the screen.
    staff.set_viewport_size(PHONE)
    left, right = columns.first.bounding_box(), columns.last.bounding_box()
    assert left and right and right["y"] >= left["y"] + left["height"]
    assert staff.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_facilitator_pages_have_no_serious_accessibility_problems(browser: Any, site: Site) -> None:
    need(AXE.exists(), "axe-core is not installed: scripts/test installs it (npm install --prefix tests/browser/node "
                       "axe-core)")
    p = site.people
    waiting = _sent_letter(site, "Dear Sam, my number is 07700 900123. Elm Street is where it happened.")
    reviewing = _sent_letter(site, "Dear Sam, I am sorry.")
    site.world.do(review.claim, p.facilitator, reviewing)
    site.world.do(review.propose_edit, p.facilitator, reviewing, text="Dear Sam, I am so sorry.")
    _wait_for(site, reviewing, "awaiting_author")
    site.world.do(authoring.accept_edit, p.harmed, reviewing)
    site.world.do(review.claim, p.facilitator, reviewing)
    pages = [("dashboard", "/staff"), ("review", f"/staff/messages/{reviewing}"),
             ("review-unclaimed", f"/staff/messages/{waiting}"), ("case", f"/staff/cases/{site.case_id}")]
    problems: list[str] = []
    for viewport in (DESKTOP, PHONE):
        width = viewport["width"]
        staff = _staff(browser, site, viewport=viewport, bypass_csp=True)
        for name, path in pages:
            staff.goto(site.base + path)
            staff.add_script_tag(path=str(AXE))
            found = staff.evaluate(RUN_AXE)
            assert found["passes"] > 10, f"axe checked almost nothing on {name}: {found}"
            problems += [f"{name} at {width}px: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                         for v in found["violations"] if v["impact"] in ("serious", "critical")]
            overflow = staff.evaluate("document.documentElement.scrollWidth")
            if overflow > width:
                problems.append(f"{name} at {width}px: the page is {overflow}px wide")
            shot = screenshot(staff, f"facilitator-{name}-{width}")
            if width == DESKTOP["width"] and name == "dashboard":
                keep_in_docs(shot, f"facilitator-{name}")
        staff.context.close()
    assert problems == [], "\n".join(problems)


def test_the_review_page_works_with_the_keyboard(browser: Any, site: Site) -> None:
    """From the dashboard to an approval with Tab and Enter; every focused control shows it."""
    message_id = _sent_letter(site, "Dear Sam, I hope you are well.")
    staff = _staff(browser, site)
    seen: list[str] = []

    def tab_to(pattern: str, limit: int = 40) -> None:
        for _ in range(limit):
            staff.keyboard.press("Tab")
            name = staff.evaluate("() => (document.activeElement.innerText || document.activeElement.value || '')"
                                  ".trim()")
            seen.append(name)
            style = staff.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                return [s.outlineStyle, s.outlineColor, s.backgroundColor, s.boxShadow].join(" "); }""")
            assert "rgb(255, 221, 0)" in style, f"no visible focus on {name!r}: {style}"
            if re.search(pattern, name):
                return
        raise AssertionError(f"{pattern!r} not reached with Tab; went through {seen}")

    tab_to("^Skip to main content$")
    tab_to("^Letter from the person harmed")
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    assert staff.url == f"{site.base}/staff/messages/{message_id}"
    tab_to("^Claim for review$")
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    tab_to("^Approve…$")
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    tab_to("^Confirm approval$")
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    staff.get_by_text("Delivered to the person responsible.").first.wait_for()


def _video_bytes(tmp: Path) -> bytes:
    """Two seconds of test picture and tone, as a phone might send."""
    need(shutil.which("ffmpeg") is not None, "ffmpeg not found (Debian package ffmpeg)")
    out = tmp / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-shortest", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)], check=True, timeout=60)
    return out.read_bytes()


def test_the_facilitator_cuts_a_video_and_previews_the_rendered_edit(browser: Any, site: Site, tmp_path: Path) -> None:
    p, world = site.people, site.world
    data = _video_bytes(tmp_path)
    message = world.do(authoring.start_media, p.harmed, site.case_id, "video")
    upload = world.do(uploads.create, p.harmed, message.id, len(data))
    world.do(uploads.record_part, p.harmed, upload.id, 0, site.svc.store.put_bytes(data))
    world.do(authoring.submit, p.harmed, message.id)
    _wait_for(site, message.id, "awaiting_review")

    staff = _staff(browser, site)
    staff.goto(f"{site.base}/staff")
    thumb = staff.locator(f"#queue-{message.id} img.thumb")
    assert thumb.get_attribute("src") == f"/api/v1/messages/{message.id}/poster"
    assert staff.evaluate("img => img.complete && img.naturalWidth > 0", thumb.element_handle())
    staff.get_by_role("link", name=re.compile("Video from the person harmed")).click()
    staff.get_by_role("button", name="Claim for review").click()
    player = staff.locator("#player-current")
    assert "/poster?version=" in (player.get_attribute("poster") or "")
    assert re.search(r"length 2(\.\d)? s", staff.locator("figcaption").first.inner_text())

    # Seek the player to 0.5 s and take that time into the form with the helper button.
    player.evaluate("""v => new Promise(done => { const go = () => { v.addEventListener("seeked", done, { once: true });
        v.currentTime = 0.5; };
        v.readyState >= 1 ? go() : v.addEventListener("loadedmetadata", go, { once: true }); })""")
    staff.get_by_role("button", name="Use the player's time for from (s)").click()
    assert staff.get_by_label("From (s)", exact=True).input_value() == "0.5"
    staff.get_by_label("To (s)", exact=True).fill("1.2")
    staff.get_by_role("button", name="Render this edit").click()

    # The page follows the worker and shows the rendered edit next to the original when it is ready.
    staff.get_by_text("Preview of the edit, as the worker rendered it").wait_for(timeout=30_000)
    assert "Cut 0.5 s to 1.2 s" in staff.content()
    preview = staff.locator("#player-current")
    duration = preview.evaluate("""v => new Promise(done => v.readyState >= 1 ? done(v.duration)
        : v.addEventListener("loadedmetadata", () => done(v.duration), { once: true }))""")
    assert 1.1 <= duration <= 1.5, duration  # two seconds less the 0.7 s cut out
    assert staff.locator("#player-original").count() == 1
    screenshot(staff, "facilitator-review-video-edit")
