"""Issue 10's whole journey through the pages only, in Chromium, from a service with only a coordinator:
the coordinator adds two facilitators, who enrol through their one-time links (password and second
factor); a self-referral on the public form; the coordinator accepts it with both facilitators; one
facilitator adds both sides, records consents and assessments, prints the invitation letters and opens
the case; the person harmed redeems the code, sees their consents and sends the first letter; the other
facilitator approves it on the approval page; the person responsible redeems theirs and opens it.
Staff work at 1280 px; the participants' steps run at 1280 and at 360 px (two cases on one site).
At the end of each run the audit chain verifies and every step has left its event."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from browsing import keep_in_docs, redeem, screenshot, send_first_letter, serving
from participant_helpers import DESKTOP, PHONE
from support import make_services
from test_preparing_journey import _add, _person, _print_view, _record
from world import World

from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Case
from shuttle.config import Settings
from shuttle.db import Base, Database
from shuttle.services import Services

PASSWORD = "a kettle on the harbour stove"
FACILITATORS = {"nina": "Nina Reyes", "omar": "Omar Haddad"}


@dataclass
class Service:
    """A running service that began with only a coordinator, and its staff's signed-in windows."""

    base: str
    svc: Services
    coordinator: str
    staff: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """An empty database with one coordinator account, a worker thread and a server (one for both runs)."""
    data = tmp_path_factory.mktemp("service-journey")
    settings = Settings.from_env({"SHUTTLE_DATA_DIR": str(data), "SHUTTLE_SECRET_KEY": "test-secret-" + "k" * 40})
    db = Database(f"sqlite:///{data / 'shuttle.db'}")
    import shuttle.models  # noqa: F401

    Base.metadata.create_all(db.engine)
    svc = make_services(db, settings)
    world = World(svc)
    coordinator = world.account("cora", "coordinator")
    try:
        with serving(svc) as base:
            yield Service(base, svc, world.username(coordinator))
    finally:
        db.dispose()


def _shot(page: Any, name: str) -> None:
    keep_in_docs(screenshot(page, name), name)


def _window(browser: Any, viewport: dict[str, int]) -> Any:
    return browser.new_context(viewport=viewport).new_page()


def _staffed(browser: Any, service: Service) -> dict[str, Any]:
    """The coordinator signed in, and two facilitators added on the Staff page and enrolled by their links
    (done once: the second run finds them signed in still)."""
    if service.staff:
        return service.staff
    coordinator = _window(browser, DESKTOP)
    coordinator.goto(f"{service.base}/login")
    coordinator.get_by_label("Username").fill(service.coordinator)
    coordinator.get_by_label("Password").fill(World.PASSWORD)
    coordinator.get_by_role("button", name="Sign in").click()
    service.staff["coordinator"] = coordinator
    for username, name in FACILITATORS.items():
        coordinator.get_by_role("link", name="Staff", exact=True).click()
        coordinator.get_by_label("Name", exact=True).fill(name)
        coordinator.get_by_label("Username", exact=True).fill(username)
        coordinator.get_by_label("Facilitator").check()
        coordinator.get_by_role("button", name="Add and make an enrolment link").click()
        link = coordinator.get_by_role("textbox", name="Enrolment link").input_value()
        service.staff[username] = _enrol(browser, service, link)
    return service.staff


def _enrol(browser: Any, service: Service, link: str) -> Any:
    """Open the enrolment link, choose a password, 'scan' the code (pyotp from the page's secret); signed in."""
    page = _window(browser, DESKTOP)
    page.goto(service.base + "/enrol/" + link.rsplit("/", 1)[1])
    secret = page.locator("#secret").get_attribute("data-secret")
    assert secret
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_label("The 6-digit code your app now shows for shuttle").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Finish and sign in").click()
    page.get_by_role("heading", name="Your work").wait_for()
    return page


def _refer_myself(page: Any, base: str, name: str) -> str:
    """A self-referral on the public form; the reference from the confirmation page."""
    page.goto(f"{base}/refer")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Myself: I was harmed by a crime").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("What is your name?").fill(name)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("What happened, in a few words").fill("Someone broke into my home")
    courts = page.get_by_role("group", name="Is anything about it still going through the courts?")
    courts.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Phone number").fill("07700 900982")
    page.get_by_role("group", name=re.compile("safe to leave a message")).get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send referral").click()
    return str(page.locator("#reference").inner_text())


def _accept(coordinator: Any, base: str, reference: str) -> str:
    """The coordinator records the first contact and accepts with both facilitators; the case's reference."""
    coordinator.goto(f"{base}/coordinator/referrals")
    coordinator.get_by_role("link", name=reference).click()
    coordinator.get_by_label("Reached the person").check()
    coordinator.get_by_role("button", name="Record the attempt").click()
    first, second = FACILITATORS
    coordinator.get_by_label("First facilitator").select_option(label=f"{FACILITATORS[first]} ({first})")
    coordinator.get_by_label("Second facilitator").select_option(label=f"{FACILITATORS[second]} ({second})")
    coordinator.get_by_role("button", name="Accept and open the case").click()
    found = re.search(r"case (RJ-\d{4}-\d{4}) is in preparation", coordinator.locator(".banner").inner_text())
    assert found, coordinator.locator(".banner").inner_text()
    coordinator.get_by_role("link", name=found.group(1)).click()  # the accepted referral links to its case
    assert "Nina Reyes" in coordinator.locator("main").inner_text()
    return found.group(1)


def _invite(staff: Any, name: str, shot: str) -> str:
    """A new invitation code for `name`, its letter looked at as printed; the code."""
    person = _person(staff, name)
    person.locator("summary", has_text="New invitation code").click()
    person.get_by_role("button", name=f"Give {name} a new invitation code").click()
    letter = staff.locator("article.invitation-letter")
    letter.wait_for()
    code = letter.locator(".letter-code").inner_text().strip()
    assert f"Dear {name}" in letter.inner_text()
    staff.emulate_media(media="print")
    viewport = staff.viewport_size
    staff.set_viewport_size({"width": 794, "height": 1123})
    assert letter.evaluate("el => getComputedStyle(el).visibility") == "visible"
    keep_in_docs(_print_view(staff, shot), shot)
    staff.emulate_media(media="screen")
    staff.set_viewport_size(viewport)
    staff.go_back()  # back to the case page, as after printing
    return str(code)


def _prepare(staff: Any, reference: str, harmed: str, responsible: str, width: int) -> tuple[str, str]:
    """Both sides added, consents and assessments recorded, invitations printed, the exchange opened."""
    staff.goto(staff.url.split("/staff", 1)[0] + "/staff")
    staff.get_by_role("link", name=reference).click()
    _add(staff, harmed, "the person harmed (harmed side)")
    _add(staff, responsible, "the person responsible (responsible side)")
    for name in (harmed, responsible):
        for kind in ("take_part", "receive_messages"):
            _record(staff, name, "Record a consent form", {"Consent": kind, "How it was given": "in_person"},
                    "Consent given")
        for kind, outcome in (("eligibility", "eligible"), ("suitability", "suitable")):
            _record(staff, name, "Record an assessment", {"Judgement and outcome": kind, "Outcome": outcome},
                    "Record the assessment")
        assert "Gave consent to take part in the process, in person" in _person(staff, name).inner_text()
    _shot(staff, f"journey-case-prepared-{width}")
    codes = (_invite(staff, harmed, f"journey-invitation-{width}"),
             _invite(staff, responsible, f"journey-invitation-responsible-{width}"))
    staff.get_by_label("Why (kept in the case's record)").first.fill("Both sides are prepared.")
    staff.get_by_role("button", name="Open the exchange").click()
    staff.get_by_text(re.compile(r"Status:\s*open")).wait_for()
    return codes


def _redeem(browser: Any, base: str, code: str, viewport: dict[str, int]) -> Any:
    return redeem(browser, base, code, PASSWORD, viewport)


def _approve(staff: Any, base: str) -> None:
    """The other facilitator finds the letter on their dashboard, claims it and approves it."""
    waiting = staff.get_by_role("link", name=re.compile("waiting for a facilitator"))
    for _ in range(150):  # the in-process worker prepares it within a moment
        staff.goto(f"{base}/staff")
        if waiting.count():
            break
        staff.wait_for_timeout(200)
    waiting.first.click()
    staff.get_by_role("button", name="Claim for review").click()
    staff.get_by_role("link", name="Approve…").click()
    staff.get_by_role("button", name="Confirm approval").click()
    staff.get_by_text("Delivered to the person responsible.").wait_for()


# What each step of the journey leaves in the case's record: (action, how many times).
CASE_STEPS = {"referral.accept": 1, "case.create": 1, "case.add_participant": 2, "consent.grant": 4,
              "assessment.record": 4, "participant.invitation": 2, "case.status": 1, "message.submit": 1,
              "message.claim": 1, "message.approve": 1, "message.release": 1, "message.open": 1}


def _check_the_record(svc: Services, reference: str) -> None:
    """The audit chain verifies; the referral, the staff and every step of the case left their events."""
    with svc.db.uow() as uow:
        result = audit.verify(uow.session)
        assert result.ok, result
        case_id, status = uow.session.query(Case.id, Case.status).filter(Case.reference == reference).one()
        assert status == "open"
        events = list(uow.session.query(AuditEvent.action, AuditEvent.case_id, AuditEvent.subject_type,
                                        AuditEvent.subject_id, AuditEvent.actor_id).order_by(AuditEvent.seq))
        usernames = dict(uow.session.query(Account.id, Account.username))
    in_case = Counter(e.action for e in events if e.case_id == case_id)
    assert {a: in_case[a] for a in CASE_STEPS} == CASE_STEPS, sorted(in_case.items())
    referral_id = next(e.subject_id for e in events if e.action == "referral.accept" and e.case_id == case_id)
    about_referral = [e.action for e in events if e.subject_type == "referral" and e.subject_id == referral_id]
    assert about_referral == ["referral.receive", "referral.contact_attempt", "referral.accept"], about_referral
    enrolled = {usernames[e.subject_id] for e in events if e.action == "account.enrol"}
    created = {usernames[e.subject_id] for e in events if e.action == "account.create"}
    assert enrolled == created == set(FACILITATORS)
    by = {e.action: usernames.get(e.actor_id or "") for e in events if e.case_id == case_id}
    assert by["referral.accept"] == "cora"
    assert by["case.add_participant"] == by["case.status"] == "nina"
    assert by["message.approve"] == "omar"  # the other facilitator
    assert by["message.open"] not in {"cora", *FACILITATORS}


@pytest.mark.parametrize("width", [1280, 360])
def test_a_new_service_takes_a_referral_to_the_first_opened_letter(browser: Any, service: Service,
                                                                     width: int) -> None:
    viewport = DESKTOP if width == 1280 else PHONE
    staff = _staffed(browser, service)
    harmed, responsible = f"Jessica Green {width}", f"Sam Jones {width}"

    public = _window(browser, viewport)
    referral = _refer_myself(public, service.base, harmed)
    _shot(public, f"journey-referral-sent-{width}")
    reference = _accept(staff["coordinator"], service.base, referral)
    _shot(staff["coordinator"], f"journey-coordinator-case-{width}")
    harmed_code, responsible_code = _prepare(staff["nina"], reference, harmed, responsible, width)

    author = _redeem(browser, service.base, harmed_code, viewport)
    author.get_by_role("link", name="What you have agreed to (your consents)").click()
    assert "You agreed to take part in the process" in author.locator("main").inner_text()
    _shot(author, f"journey-consents-{width}")
    send_first_letter(author, service.base)
    _shot(author, f"journey-letter-sent-{width}")

    _approve(staff["omar"], service.base)
    _shot(staff["omar"], f"journey-approved-{width}")

    recipient = _redeem(browser, service.base, responsible_code, viewport)
    recipient.get_by_role("link", name="Decide when to open it").click()
    recipient.get_by_role("button", name="Open it now").click()
    assert "I have wanted to write this" in recipient.locator("article.letter").inner_text()
    _shot(recipient, f"journey-letter-opened-{width}")

    _check_the_record(service.svc, reference)
