"""The case page's preparation forms and a participant's own consents, over HTTP (issue 10)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import select
from world import World, web_client

from shuttle.accounts.models import Account
from shuttle.audit.models import AuditEvent
from shuttle.cases import participation
from shuttle.cases import service as cases
from shuttle.cases.models import Participant
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.organisations.models import Organisation
from shuttle.services import Services
from shuttle.web.app import build_app

PDF = b"%PDF-1.4\n% signed\n"


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)


@pytest.fixture
def app(world: World) -> Any:
    return build_app(world.svc, check_schema=False)


def _text(page: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


def _organisation(world: World, name: str) -> str:
    with world.svc.db.uow() as uow:
        row = Organisation(name=name, kind="police")
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


def _person(world: World, case_id: str, name: str) -> str:
    """The participant id of the person of that name in the case."""
    with world.svc.db.uow() as uow:
        return uow.session.scalars(select(Participant.id).join(Account, Account.id == Participant.account_id).where(
            Participant.case_id == case_id, Account.display_name == name)).one()


def test_a_facilitator_adds_a_person_and_prints_their_invitation_letter(world: World, app: Any) -> None:
    case_id, p = world.case(label_harmed="Jessica", label_responsible="the person responsible")
    staff, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}"
    page = staff.get(url)
    post_form(staff, f"{url}/people", page, action="add-person", name="Dan Green", side="responsible",
              role="supporter")
    page = staff.get(url)
    assert "Dan Green" in page.text and "Supporter" in page.text
    dan = _person(world, case_id, "Dan Green")
    answer = staff.post(url, data={"csrf_token": csrf_of(page), "action": "invitation", "participant_id": dan})
    assert answer.status_code == 200
    letter = answer.text[answer.text.index('class="invitation-letter"'):]
    letter = letter[:letter.index("</article>")]
    code = re.search(r'class="letter-code">([A-Z0-9-]+)<', letter).group(1)
    assert "Dear Dan Green" in letter and "/invite" in letter and "works <strong>once</strong>" in letter
    assert "Fiona1" in letter  # who to ask for help
    assert "Jessica" not in letter and "harmed" not in letter and case_id not in letter  # nothing about the other side
    assert '<link rel="stylesheet" href="/static/letter-print.css">' in answer.text
    assert "@media print" in staff.get("/static/letter-print.css").text
    guest = web_client(app)  # the code works on the invitation page
    form = guest.get("/invite")
    redeemed = guest.post("/invite", data={"csrf_token": csrf_of(form), "code": code}, follow_redirects=False)
    assert redeemed.status_code == 303, redeemed.text[:300]


def test_bad_preparation_input_answers_4xx_with_a_message(world: World, app: Any) -> None:
    case_id, p = world.case()
    staff, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/people"
    page = staff.get(f"/staff/cases/{case_id}")
    token = csrf_of(page)
    sam = p.participant_ids[p.responsible.account_id]
    for fields, message in (({"action": "add-person", "name": "", "side": "harmed"}, "display name"),
                            ({"action": "add-person", "name": "Eve", "side": "harmed", "role": "proxy"},
                             "proxy acts for"),
                            ({"action": "assessment", "participant_id": sam, "kind": "risk", "outcome": "mild"},
                             "low or medium or high"),
                            ({"action": "assessment", "participant_id": sam, "kind": "risk", "outcome": "low",
                              "review_by": "next week"}, "review-by date"),
                            ({"action": "deactivate", "participant_id": sam}, "Tick the box"),
                            ({"action": "consent", "participant_id": sam, "kind": "take_part",
                              "method": "telepathy"}, "how the consent"),
                            ({"action": "dance"}, "Unknown action")):
        answer = staff.post(url, data={"csrf_token": token, **fields}, follow_redirects=False)
        assert answer.status_code == 400 and message in answer.text, (fields, answer.status_code, answer.text[:300])
    big = staff.post(url, data={"csrf_token": token, "action": "consent", "participant_id": sam,
                                "kind": "take_part", "method": "signed_form"},
                     files={"scan": ("form.pdf", b"%PDF" + b"0" * participation.MAX_SCAN_BYTES, "application/pdf")},
                     follow_redirects=False)
    assert big.status_code == 413
    participant = world.sign_in(app, p.harmed)
    assert participant.post(url, data={"action": "proceedings", "ongoing": "yes"},  # their own CSRF header
                            follow_redirects=False).status_code == 404


def test_consent_forms_assessments_and_proceedings_from_the_case_page(world: World, app: Any) -> None:
    case_id, p = world.case()
    police = _organisation(world, "Northshire Police")
    staff, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}"
    sam = p.participant_ids[p.responsible.account_id]
    page = staff.get(url)
    assert "Northshire Police" in page.text
    answer = staff.post(f"{url}/people", data={"csrf_token": csrf_of(page), "action": "consent",
                                               "participant_id": sam, "kind": "share_information",
                                               "organisation_id": police, "method": "signed_form",
                                               "given_on": "2026-01-05", "granted": "yes"},
                        files={"scan": ("scan.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    post_form(staff, f"{url}/people", page, action="assessment", participant_id=sam, kind="risk", outcome="high",
              reasons="Threats made at court.", review_by="2099-01-01")
    text = _text(staff.get(url))
    assert ("Gave consent to share information with Northshire Police, on a signed form on 2026-01-05 "
            "(scanned form kept).") in text
    assert "Risk: high risk, review by 2099-01-01" in text
    assert "Threats made at court" not in text  # reasons are read through the API, not printed on the page
    post_form(staff, f"{url}/people", page, action="proceedings", ongoing="yes", reason="Trial in March.")
    after = _text(staff.get(url))
    assert "Proceedings are ongoing" in after and "This service waits until they end" in after
    post_form(staff, f"{url}/people", page, action="label", side="harmed", label="Jessica")
    assert "Between Jessica and" in _text(staff.get(url))


def test_a_participant_sees_their_consents_in_words_and_withdraws_one(world: World, app: Any) -> None:
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I have thought about it.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    sam, home = sign_in_page(app, world, p.responsible)
    assert 'href="/me/consents"' in sam.get("/me").text
    page = sam.get("/me/consents")
    text = _text(page)
    assert "You agreed to take part in the process" in text and "You agreed to receive messages from the other side" \
        in text and "(in person)" in text
    post_form(sam, "/me/consents", page, case_id=case_id, kind="receive_messages", organisation_id="")
    after = _text(sam.get("/me/consents?done=withdrawn"))
    assert "Your consent is withdrawn" in after
    assert "You withdrew your consent to receive messages from the other side (on your page)" in after
    with world.svc.db.uow() as uow:
        assert uow.session.get(Message, draft.id).state == "held"  # the gate reacted at once
    again = sam.post("/me/consents", data={"csrf_token": csrf_of(page), "case_id": case_id,
                                           "kind": "receive_messages"}, follow_redirects=False)
    assert again.status_code == 400 and "nothing to withdraw" in again.text
    foreign = sam.post("/me/consents", data={"csrf_token": csrf_of(page), "case_id": "0" * 32, "kind": "take_part"},
                       follow_redirects=False)
    assert foreign.status_code == 404


def test_an_expired_assessment_shows_on_the_dashboard_and_a_get_writes_nothing(world: World, app: Any) -> None:
    case_id, p = world.case()
    sam = p.participant_ids[p.responsible.account_id]
    start = world.svc.now()
    world.do(cases.record_assessment, p.facilitator, case_id, sam, kind="eligibility", outcome="eligible",
             review_by=start.date() + timedelta(days=1))
    staff, _ = sign_in_page(app, world, p.facilitator)
    assert "Assessments past their review date" not in staff.get("/staff").text
    world.svc.clock = lambda: start + timedelta(days=5)
    staff, _ = sign_in_page(app, world, p.facilitator)
    text = _text(staff.get("/staff"))
    assert "Assessments past their review date" in text and "Sam1: eligibility" in text
    with world.svc.db.uow() as uow:
        assert uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "assessment.lapsed")).all() == []
