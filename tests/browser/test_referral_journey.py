"""A self-referral on the public form, at 1280 and 360 px, in Chromium: one question per page,
the reference on the confirmation page; then the coordinator finds it in the inbox, records the
first contact and accepts it with two facilitators, which opens case RJ-YYYY-NNNN in preparation.
Screenshots of each page (into docs/screenshots with SHUTTLE_UPDATE_DOC_SCREENSHOTS=1), and an
axe-core check of each (injected by the test only, in windows that bypass the CSP for it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browsing import Site, keep_in_docs, screenshot
from support import need
from world import World

from shuttle.cases.models import Case

VIEWPORTS = {"1280": {"width": 1280, "height": 900}, "360": {"width": 360, "height": 740}}
AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, { runOnly: { type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
  return { passes: result.passes.length, violations: result.violations.map(v => ({ id: v.id, impact: v.impact,
    help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")) })) };
}"""
PROBLEMS: list[str] = []


def _shot(page: Any, name: str, width: str) -> None:
    """A screenshot, then axe-core's serious problems and any sideways scrolling noted in PROBLEMS."""
    keep_in_docs(screenshot(page, f"{name}-{width}"), f"{name}-{width}")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    assert found["passes"] > 10, f"axe checked almost nothing on {name}: {found}"
    PROBLEMS.extend(f"{name} at {width}px: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                    for v in found["violations"] if v["impact"] in ("serious", "critical"))
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > int(width):
        PROBLEMS.append(f"{name} at {width}px: the page is {wide}px wide")


def _window(browser: Any, viewport: dict[str, int]) -> Any:
    return browser.new_context(viewport=viewport, bypass_csp=True).new_page()  # bypass_csp: only to inject axe


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_a_self_referral_reaches_the_coordinator_who_accepts_it(browser: Any, site: Site, width: str) -> None:
    need(AXE.exists(), "axe-core is not installed: scripts/test installs it (npm install --prefix tests/browser/node "
                       "axe-core)")
    PROBLEMS.clear()
    viewport = VIEWPORTS[width]
    public = _window(browser, viewport)
    public.goto(f"{site.base}/refer")
    assert public.locator("#quick-exit").is_visible()
    _shot(public, "referral-start", width)
    public.get_by_role("button", name="Start now").click()
    public.get_by_label("Myself: I was harmed by a crime").check()
    public.get_by_role("button", name="Continue").click()
    public.get_by_role("button", name="Continue").click()  # no name yet: the form says so, linked to the field
    assert public.locator(".error-summary").is_visible()
    _shot(public, "referral-error", width)
    public.locator(".error-summary a").click()
    assert public.evaluate("document.activeElement.id") == "person_name"
    public.get_by_label("What is your name?").fill("Jessica Green")
    public.get_by_role("button", name="Continue").click()
    public.get_by_label("What happened, in a few words").fill("Someone broke into my home")
    courts = public.get_by_role("group", name="Is anything about it still going through the courts?")
    courts.get_by_label("No", exact=True).check()
    _shot(public, "referral-question", width)
    public.get_by_role("button", name="Continue").click()
    public.get_by_label("Phone number").fill("07700 900982")
    public.get_by_role("group", name=re.compile("safe to leave a message")).get_by_label("Yes", exact=True).check()
    public.get_by_role("button", name="Continue").click()
    assert public.get_by_role("heading", name="Check your answers before sending").is_visible()
    _shot(public, "referral-check", width)
    public.get_by_role("button", name="Send referral").click()
    reference = public.locator("#reference").inner_text()
    assert re.fullmatch(r"REF-[2-9A-Z]{4}-[2-9A-Z]{4}", reference)
    assert public.locator("#quick-exit").is_visible()
    _shot(public, "referral-sent", width)

    coordinator = _window(browser, viewport)
    coordinator.goto(f"{site.base}/login")
    coordinator.get_by_label("Username").fill(site.username("coordinator"))
    coordinator.get_by_label("Password").fill(World.PASSWORD)
    coordinator.get_by_role("button", name="Sign in").click()
    coordinator.goto(f"{site.base}/coordinator/referrals")
    row = coordinator.locator("tr", has_text=reference)
    assert "On time" in row.inner_text()
    _shot(coordinator, "coordinator-referrals", width)
    coordinator.get_by_role("link", name=reference).click()
    coordinator.get_by_label("Reached the person").check()
    coordinator.get_by_label("Note (optional)").fill("Spoke to Jessica; she would like to go ahead.")
    coordinator.get_by_role("button", name="Record the attempt").click()
    assert coordinator.get_by_text("Contacted in time").first.is_visible()
    p = site.people
    names = [site.world.username(p.facilitator), site.world.username(p.co_facilitator)]
    coordinator.get_by_label("First facilitator").select_option(label=f"{names[0].title()} ({names[0]})")
    coordinator.get_by_label("Second facilitator").select_option(label=f"{names[1].title()} ({names[1]})")
    _shot(coordinator, "coordinator-referral", width)
    coordinator.get_by_role("button", name="Accept and open the case").click()
    banner = coordinator.locator(".banner").inner_text()
    found = re.search(r"case (RJ-\d{4}-\d{4}) is in preparation", banner)
    assert found, banner
    _shot(coordinator, "coordinator-referral-accepted", width)
    with site.svc.db.uow() as uow:
        case = uow.session.query(Case).filter(Case.reference == found.group(1)).one()
        assert case.status == "preparation"
    assert PROBLEMS == [], "\n".join(PROBLEMS)
