"""Preparing a case in a real browser, at 1280 and 360 px: a facilitator adds both sides, prints an
invitation letter, records consents and assessments and opens the case; the person redeems the code
and writes the first letter (issue 10). Screenshots go to test-artifacts (and docs/screenshots when
SHUTTLE_UPDATE_DOC_SCREENSHOTS is set)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browsing import SHOTS, Site, keep_in_docs, redeem, screenshot, send_first_letter, sign_in

from shuttle.cases import service as cases

PASSWORD = "a lantern by the harbour wall"


def _case_in_preparation(site: Site, n: int) -> str:
    """A case as a coordinator's accepted referral leaves it: two facilitators, nobody in it yet."""
    p = site.people
    with site.svc.db.uow() as uow:
        case = cases.create_case(uow.session, p.facilitator, reference=f"RJ-2026-{9000 + n}",
                                 facilitators=[p.facilitator.account_id, p.co_facilitator.account_id],
                                 now=site.svc.now())
        uow.commit()
        return case.id


def _shot(page: Any, name: str) -> None:
    keep_in_docs(screenshot(page, name), name)


def _person(page: Any, name: str) -> Any:
    return page.locator("article.person", has=page.get_by_role("heading", name=re.compile(name)))


def _add(page: Any, name: str, side_label: str) -> None:
    page.get_by_label("Their name (only facilitators see it)").fill(name)
    page.get_by_role("radio", name=side_label).check()
    page.get_by_role("button", name="Add the person").click()
    _person(page, name).wait_for()


def _record(page: Any, name: str, summary: str, choices: dict[str, str], button: str) -> None:
    person = _person(page, name)
    person.locator("summary", has_text=summary).click()
    form = person.locator("details", has=page.locator("summary", has_text=summary))
    for label, value in choices.items():
        form.get_by_label(label, exact=True).select_option(value)
    form.get_by_role("button", name=button).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [1280, 360])
def test_a_facilitator_prepares_a_case_and_the_first_letter_is_written(browser: Any, site: Site, width: int) -> None:
    viewport = {"width": width, "height": 900}
    case_id = _case_in_preparation(site, width)
    staff = sign_in(browser, site, "facilitator", viewport=viewport)
    staff.goto(f"{site.base}/staff/cases/{case_id}")
    _add(staff, "Jessica Smith", "the person harmed (harmed side)")
    _add(staff, "Sam Jones", "the person responsible (responsible side)")
    label = staff.get_by_label("The harmed side is shown as")
    label.fill("Jessica")
    label.locator("xpath=..").get_by_role("button", name="Save").click()
    staff.get_by_text("Between Jessica and the person responsible").wait_for()
    _shot(staff, f"facilitator-case-people-{width}")

    for name in ("Jessica Smith", "Sam Jones"):
        for kind in ("take_part", "receive_messages"):
            _record(staff, name, "Record a consent form", {"Consent": kind, "How it was given": "in_person"},
                    "Consent given")
        for kind, outcome in (("eligibility", "eligible"), ("suitability", "suitable")):
            _record(staff, name, "Record an assessment", {"Judgement and outcome": kind, "Outcome": outcome},
                    "Record the assessment")
        person = _person(staff, name)
        assert "Gave consent to take part in the process, in person" in person.inner_text()
        assert re.search(r"Suitability: suitable, review by \d{4}-\d\d-\d\d", person.inner_text())
    _shot(staff, f"facilitator-case-prepared-{width}")

    jessica = _person(staff, "Jessica Smith")
    jessica.locator("summary", has_text="New invitation code").click()
    jessica.get_by_role("button", name="Give Jessica Smith a new invitation code").click()
    letter = staff.locator("article.invitation-letter")
    letter.wait_for()
    code = letter.locator(".letter-code").inner_text().strip()
    assert "Dear Jessica Smith" in letter.inner_text() and "person responsible" not in letter.inner_text()
    staff.emulate_media(media="print")
    assert staff.locator("h1").first.evaluate("el => getComputedStyle(el).visibility") == "hidden"
    assert letter.evaluate("el => getComputedStyle(el).visibility") == "visible"
    staff.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, as the printer sees it
    keep_in_docs(_print_view(staff, f"facilitator-invitation-letter-print-{width}"),
                 f"facilitator-invitation-letter-print-{width}")
    staff.emulate_media(media="screen")
    staff.set_viewport_size(viewport)

    staff.get_by_label("Why (kept in the case's record)").first.fill("Both sides are prepared.")
    staff.get_by_role("button", name="Open the exchange").click()
    staff.get_by_text(re.compile(r"Status:\s*open")).wait_for()

    person = redeem(browser, site.base, code, PASSWORD, viewport)
    person.get_by_role("link", name="What you have agreed to (your consents)").click()
    assert "You agreed to take part in the process" in person.locator("main").inner_text()
    _shot(person, f"participant-consents-{width}")
    send_first_letter(person, site.base)
    _shot(person, f"participant-first-letter-sent-{width}")


def _print_view(page: Any, name: str) -> Path:
    """The first printed page: the viewport, as the letter is all a printer shows."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
