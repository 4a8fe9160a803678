"""The referral pages over HTTP: the public form at /refer (no account, one question per page,
answers carried in hidden fields, honeypot, rate limit, errors that keep the words) and the
coordinator's inbox (first-contact badges, contact attempts, decline, accept into a case)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from forms import csrf_of, sign_in_page
from sqlalchemy import func, select
from support import Clock
from world import TestClient, World, web_client

from shuttle import i18n
from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.config import Limits
from shuttle.referrals import service
from shuttle.referrals.models import Referral, ReferralSent
from shuttle.services import Services
from shuttle.web.app import build_app

TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
REFERENCE = re.compile(r'id="reference">(REF-[2-9A-Z]{4}-[2-9A-Z]{4})<')
SELF_STEPS = [("who", {"source": "self_harmed"}),
              ("person", {"person_name": "Jessica Green"}),
              ("what", {"offence": "Burglary at my home", "court": "no",
                        "more": "I would like him to know\nhow it felt."}),
              ("contact", {"contact_phone": "07700 900982", "safe_message": "no", "best_time": "after 6pm"})]


@pytest.fixture
def world(svc: Services) -> World:
    svc.clock = Clock(TUESDAY)
    return World(svc)


@pytest.fixture
def app(world: World) -> Any:
    return build_app(world.svc, check_schema=False)


def _text(page: Any) -> str:
    return html.unescape(page.text)


def _words(page: Any) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split()).replace(" .", ".").replace(" ,", ",")


def carried(page: Any) -> dict[str, str]:
    """Every hidden field of the page's form, as a browser sends them back."""
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}


def answer(client: TestClient, page: Any, fields: dict[str, str], action: str = "continue") -> Any:
    return client.post("/refer", data={**carried(page), **fields, "action": action}, follow_redirects=False)


def walk(client: TestClient, steps: list[tuple[str, dict[str, str]]]) -> Any:
    page = client.get("/refer/who")
    assert page.status_code == 200 and 'id="quick-exit"' in page.text
    for step, fields in steps:
        assert f'name="step" value="{step}"' in page.text, (step, _text(page)[:2000])
        page = answer(client, page, fields)
        assert page.status_code == 200, _text(page)[:2000]
    assert 'name="step" value="check"' in page.text
    return page


def count(world: World, model: Any) -> int:
    with world.svc.db.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_self_referral_walks_the_pages_and_gets_a_reference(world: World, app: Any) -> None:
    client = web_client(app)
    start = client.get("/refer")
    assert start.status_code == 200 and "within 48 hours, not counting weekends" in _text(start)
    assert 'id="quick-exit"' in start.text
    check = walk(client, SELF_STEPS)
    text = _text(check)
    assert "Jessica Green" in text and "Burglary at my home" in text and "Your organisation" not in text
    assert count(world, Referral) == 0  # nothing is stored before "Send referral"
    sent = answer(client, check, {}, action="send")
    assert sent.status_code == 303 and sent.headers["location"] == "/refer/done"
    done = client.get("/refer/done")
    reference = REFERENCE.search(done.text)
    assert done.status_code == 200 and reference and 'id="quick-exit"' in done.text
    assert not re.search(r"\bRJ-\d{4}-\d{4}", done.text)  # nothing about any case (a REF-…-… code may hold "RJ-")
    with world.svc.db.uow() as uow:
        referral = uow.session.scalar(select(Referral))
        assert referral is not None and referral.reference == reference.group(1)
        stored = service.read_answers(uow.session, world.svc, referral)
    assert stored["more"] == "I would like him to know\nhow it felt."
    assert set(stored) == {"source", "person_name", "offence", "court", "more", "contact_phone", "safe_message",
                           "best_time"}


def test_an_organisation_is_asked_about_itself_and_may_change_an_answer(world: World, app: Any) -> None:
    client = web_client(app)
    page = client.get("/refer/who")
    page = answer(client, page, {"source": "probation"})
    assert 'name="step" value="referrer"' in page.text and "Your organisation" in _text(page)
    steps = [("referrer", {"referrer_name": "Ann Officer", "referrer_organisation": "Northshire Probation",
                           "referrer_contact": "ann@example.org"}),
             ("person", {"person_name": "Sam Hill", "side": "responsible", "person_knows": "yes"}),
             ("what", {"offence": "Criminal damage", "court": "not_sure"}),
             ("contact", {"contact_via_referrer": "yes"})]
    for _step, fields in steps:
        page = answer(client, page, fields)
    assert 'name="step" value="check"' in page.text
    page = answer(client, page, {}, action="change-person")
    assert 'value="Sam Hill"' in page.text
    page = answer(client, page, {"person_name": "Samuel Hill", "side": "responsible", "person_knows": "yes"})
    assert 'name="step" value="check"' in page.text and "Samuel Hill" in _text(page)
    assert answer(client, page, {}, action="send").status_code == 303
    with world.svc.db.uow() as uow:
        referral = uow.session.scalar(select(Referral))
        assert referral is not None and (referral.source, referral.side) == ("probation", "responsible")


def test_errors_keep_the_words_and_link_to_the_field(world: World, app: Any) -> None:
    client = web_client(app)
    page = client.get("/refer/who")
    page = answer(client, page, {})  # nothing chosen
    assert page.status_code == 400 and '<a href="#source">Select who is making this referral</a>' in page.text
    assert "<title>Error:" in page.text
    page = answer(client, page, {"source": "self_responsible"})
    page = answer(client, page, {"person_name": "Sam"})
    long = "It was a burglary. " * 20
    page = answer(client, page, {"offence": long, "court": "yes", "more": "Words I want to keep."})
    assert page.status_code == 400
    assert '<a href="#offence">This answer must be 300 characters or fewer' in page.text
    assert html.escape(long.strip()) in page.text and "Words I want to keep." in page.text
    page = answer(client, page, {"offence": "Burglary", "court": "yes", "more": "Words I want to keep."})
    page = answer(client, page, {"contact_email": "sam at example"})
    assert page.status_code == 400 and 'href="#contact_email"' in page.text and 'value="sam at example"' in page.text
    tampered = {**carried(page), "source": "the moon", "contact_email": "sam@example.org", "action": "continue"}
    again = client.post("/refer", data=tampered)
    assert again.status_code == 400 and 'name="step" value="who"' in again.text  # each page checks them all
    assert count(world, Referral) == 0


def test_a_filled_honeypot_answers_like_success_and_stores_nothing(world: World, app: Any) -> None:
    client = web_client(app)
    check = walk(client, SELF_STEPS)
    sent = client.post("/refer", data={**carried(check), "website": "http://spam.example", "action": "send"},
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/refer/done"
    assert REFERENCE.search(client.get("/refer/done").text)
    assert count(world, Referral) == 0 and count(world, ReferralSent) == 0


def test_referrals_from_one_address_are_limited_and_the_answers_kept(world: World, app: Any) -> None:
    svc = world.svc
    svc.settings = svc.settings.with_(limits=Limits(referrals_per_address=1))
    client = web_client(app)
    assert answer(client, walk(client, SELF_STEPS), {}, action="send").status_code == 303
    check = walk(client, SELF_STEPS)
    refused = answer(client, check, {}, action="send")
    assert refused.status_code == 429
    assert '<a href="#send">Too many referrals have been sent from this connection' in refused.text
    assert "Please try again in 60 minutes." in _text(refused)
    assert "Jessica Green" in _text(refused) and carried(refused)["person_name"] == "Jessica Green"
    client.cookies.set(i18n.COOKIE, "cy")
    welsh = answer(client, check, {}, action="send")
    assert welsh.status_code == 429 and "Rhowch gynnig arall arni ymhen 60 munud." in _text(welsh)
    assert count(world, Referral) == 1


def test_the_form_needs_its_csrf_cookie(app: Any) -> None:
    client = web_client(app)
    refused = client.post("/refer", data={"csrf_token": "made-up", "step": "who", "source": "police"})
    assert refused.status_code == 403


def test_the_done_page_shows_nothing_without_its_signed_cookie(app: Any) -> None:
    client = web_client(app)
    client.cookies.set("shuttle_referral", "REF-AAAA-AAAA.forged", path="/refer")
    answer_ = client.get("/refer/done", follow_redirects=False)
    assert answer_.status_code == 303 and answer_.headers["location"] == "/refer"


# --- the coordinator's inbox -----------------------------------------------------------------------


def _people(world: World) -> tuple[Any, list[Any]]:
    return world.account("cora", "coordinator"), [world.account("fiona", "facilitator"),
                                                   world.account("frank", "facilitator")]


def _referral(world: World, **extra: str) -> Referral:
    answers = {"source": "self_harmed", "person_name": "Jessica Green", "offence": "Burglary", "court": "no",
               "contact_phone": "07700 900982", "safe_message": "yes", **extra}
    return world.do(service.submit, answers, client="192.0.2.1")


def test_inbox_badges_approaching_and_overdue_and_only_the_tick_escalates(world: World, app: Any) -> None:
    from workers.handlers import tick

    coordinator, _ = _people(world)
    overdue = _referral(world, person_name="Olive Overdue")
    world.svc.clock.now = TUESDAY + timedelta(hours=38)
    soon = _referral(world, person_name="Sunny Soon")  # Wednesday 00:00 + ... received later
    world.svc.clock.now = TUESDAY + timedelta(hours=38)
    fresh_ = _referral(world, person_name="Fran Fresh")
    world.svc.clock.now = TUESDAY + timedelta(hours=49)  # Overdue's 48 hours have passed
    client, _ = sign_in_page(app, world, coordinator)
    events = count(world, AuditEvent)
    inbox = client.get("/coordinator/referrals")
    assert inbox.status_code == 200 and count(world, AuditEvent) == events  # a GET never writes
    text = _text(inbox)
    assert text.index("Olive Overdue") < text.index("Sunny Soon")  # oldest waiting first
    row = text[text.index("Olive Overdue"):text.index("Sunny Soon")]
    assert "Contact overdue" in row and "escalated" not in row
    assert "2 referrals waiting" not in text and "3 referrals waiting for first contact" in text
    tick(world.svc)
    text = _text(client.get("/coordinator/referrals"))
    assert "Contact overdue: escalated" in text
    with world.svc.db.uow() as uow:
        escalated = {(e.subject_id, e.details["state"]) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == service.ESCALATE))}
    assert (overdue.id, "overdue") in escalated and all(s != fresh_.id for s, _ in escalated)
    assert soon.id != overdue.id


def test_inbox_says_due_soon_in_the_last_quarter(world: World, app: Any) -> None:
    coordinator, _ = _people(world)
    _referral(world)
    world.svc.clock.now = TUESDAY + timedelta(hours=37)  # 11 hours left
    client, _ = sign_in_page(app, world, coordinator)
    assert "Contact due soon: 11 h left" in _text(client.get("/coordinator/referrals"))


def test_only_the_coordinator_has_the_inbox(world: World, app: Any) -> None:
    _, (fiona, _) = _people(world)
    referral = _referral(world)
    client, _ = sign_in_page(app, world, fiona)
    assert client.get("/coordinator/referrals").status_code == 404
    assert client.get(f"/coordinator/referrals/{referral.id}").status_code == 404
    anonymous = web_client(app).get("/coordinator/referrals", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"


def test_contact_decline_and_errors_on_the_referral_page(world: World, app: Any) -> None:
    coordinator, _ = _people(world)
    referral = _referral(world)
    client, _ = sign_in_page(app, world, coordinator)
    url = f"/coordinator/referrals/{referral.id}"
    page = client.get(url)
    assert page.status_code == 200 and "07700 900982" in page.text and "On time" in _text(page)
    bad = client.post(url, data={"csrf_token": csrf_of(page), "action": "contact", "method": "phone",
                                 "outcome": "no_answer", "at": "yesterday-ish", "note": "Rang, no answer"})
    assert bad.status_code == 400, bad.text[-1500:]
    assert 'href="#contact"' in bad.text and "Rang, no answer" in bad.text
    done = client.post(url, data={"csrf_token": csrf_of(page), "action": "contact", "method": "phone",
                                  "outcome": "reached", "at": "", "note": "Spoke to her"})
    assert done.status_code == 200 and "Reached the person" in _text(done) and "Contacted in time" in _text(done)
    refused = client.post(url, data={"csrf_token": csrf_of(page), "action": "decline", "reason": "other",
                                     "decline_note": "", "version": "2"})
    assert refused.status_code == 400 and "Say why in the note" in _text(refused)
    declined = client.post(url, data={"csrf_token": csrf_of(page), "action": "decline",
                                      "reason": "declined_by_person", "decline_note": "Not now, maybe later"})
    assert "Declined" in _text(declined) and "Declined by the person" in _text(declined)
    assert "Not now, maybe later" in _text(declined) and "Accept and open the case" not in declined.text
    with world.svc.db.uow() as uow:
        actions = [e.action for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == referral.id).order_by(AuditEvent.seq))]
    assert actions == ["referral.receive", "referral.contact_attempt", "referral.decline"]


def test_accept_opens_a_case_in_preparation_with_its_two_facilitators(world: World, app: Any) -> None:
    coordinator, (fiona, frank) = _people(world)
    referral = _referral(world)
    client, _ = sign_in_page(app, world, coordinator)
    url = f"/coordinator/referrals/{referral.id}"
    page = client.get(url)
    one = client.post(url, data={"csrf_token": csrf_of(page), "action": "accept", "facilitator_1": fiona.account_id,
                                 "facilitator_2": ""})
    assert one.status_code == 400 and "Choose two different facilitators" in _text(one)
    accepted = client.post(url, data={"csrf_token": csrf_of(page), "action": "accept",
                                      "facilitator_1": fiona.account_id, "facilitator_2": frank.account_id})
    assert accepted.status_code == 200
    assert "case RJ-2026-0001 is in preparation, with Fiona and Frank." in _words(accepted)
    with world.svc.db.uow() as uow:
        case = uow.session.scalar(select(Case).where(Case.reference == "RJ-2026-0001"))
        assert case is not None and case.status == "preparation"
        assigned = list(uow.session.scalars(select(CaseFacilitator.account_id)
                                            .where(CaseFacilitator.case_id == case.id).order_by(CaseFacilitator.id)))
        actions = {e.action for e in uow.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))}
    assert assigned == [fiona.account_id, frank.account_id]
    assert {"case.create", "referral.accept"} <= actions
    assert "Accepted" in _text(client.get("/coordinator/referrals?status=accepted"))


def test_a_service_with_one_facilitator_says_so_and_accepts_with_one(world: World, app: Any) -> None:
    coordinator = world.account("cora", "coordinator")
    fiona = world.account("fiona", "facilitator")
    referral = _referral(world)
    client, _ = sign_in_page(app, world, coordinator)
    url = f"/coordinator/referrals/{referral.id}"
    page = client.get(url)
    assert "The service has only one facilitator, so this case will have one: Fiona." in _text(page)
    accepted = client.post(url, data={"csrf_token": csrf_of(page), "action": "accept",
                                      "facilitator_1": fiona.account_id})
    assert "case RJ-2026-0001 is in preparation, with Fiona." in _words(accepted)


def test_the_api_takes_a_referral_without_signing_in_and_gives_the_coordinator_the_rest(world: World,
                                                                                        app: Any) -> None:
    coordinator, (fiona, frank) = _people(world)
    anonymous = web_client(app)
    refused = anonymous.post("/api/v1/referrals", json={"source": "police", "person_name": "Sam"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_referral"
    assert [e["field"] for e in refused.json()["errors"]][:1] == ["referrer_name"]
    sent = anonymous.post("/api/v1/referrals", json={"source": "self_responsible", "person_name": "Sam",
                                                     "offence": "Criminal damage", "court": "no",
                                                     "contact_email": "sam@example.org"})
    assert sent.status_code == 201 and sent.json()["reference"].startswith("REF-")
    assert anonymous.get("/api/v1/referrals").status_code == 401
    staff = world.sign_in(app, coordinator)
    listed = staff.get("/api/v1/referrals").json()
    assert [(r["reference"], r["channel"], r["clock"]["state"]) for r in listed] == [
        (sent.json()["reference"], "api", "ok")]
    referral_id = listed[0]["id"]
    bad_time = staff.post(f"/api/v1/referrals/{referral_id}/contact-attempts",
                          json={"method": "email", "outcome": "reached", "at": "yesterday"})
    assert bad_time.status_code == 400 and "'at'" in bad_time.json()["message"]
    assert staff.post(f"/api/v1/referrals/{referral_id}/contact-attempts",
                      json={"method": "email", "outcome": "reached"}).status_code == 201
    accepted = staff.post(f"/api/v1/referrals/{referral_id}/accept",
                          json={"facilitators": [fiona.account_id, frank.account_id]})
    assert accepted.status_code == 201 and accepted.json()["case"]["reference"] == "RJ-2026-0001"
    assert staff.post(f"/api/v1/referrals/{referral_id}/decline", json={"reason": "other"}).status_code == 409
