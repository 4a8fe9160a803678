"""Preparing a case through the use cases (issue 10): the case's life, people, consent forms,
assessments and court proceedings, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from world import World

from shuttle import blobs
from shuttle.accounts import service as accounts
from shuttle.accounts.models import Account, AuthSession
from shuttle.audit.models import AuditEvent
from shuttle.cases import participation
from shuttle.cases import service as cases
from shuttle.cases.facts import current_assessment
from shuttle.cases.models import Assessment, Case, Consent, Participant
from shuttle.errors import BadInput, Conflict, NotFound, TooLarge
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.organisations.models import Organisation
from shuttle.services import Services
from workers.handlers import tick

PDF = b"%PDF-1.4\n% a signed consent form\n"


def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


def _approved_letter(world: World, p, case_id: str) -> str:  # type: ignore[no-untyped-def]
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I have thought about it.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    return str(draft.id)


def _events(world: World, action: str) -> list[AuditEvent]:
    with world.svc.db.uow() as uow:
        found = list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                         .order_by(AuditEvent.seq)))
        uow.session.expunge_all()
        return found


def _organisation(world: World, name: str, *, active: bool = True) -> str:
    with world.svc.db.uow() as uow:
        row = Organisation(name=name, kind="police", active=active)
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


# --- the case's life -----------------------------------------------------------------------------


def test_the_case_moves_through_its_life_audited_with_who_and_why(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = _approved_letter(world, p, case_id)
    world.do(cases.set_status, p.facilitator, case_id, "paused", reason="Jessica asked for a break.")
    world.do(cases.set_status, p.facilitator, case_id, "open", reason="Ready again.")
    with pytest.raises(BadInput, match="Say why the case closes") as no_reason:
        world.do(cases.set_status, p.facilitator, case_id, "closing", reason="Both sides have said what they wanted.")
    assert no_reason.value.details == {"field": "reason"} and _state(world, message_id) == "in_review"  # not held
    world.do(cases.set_status, p.facilitator, case_id, "closing", reason="completed")
    assert _state(world, message_id) == "held"  # closing holds everything pending: nothing is released
    with pytest.raises(Conflict, match="closing, so nothing can be sent"):
        draft = world.do(authoring.start_draft, p.harmed, case_id, "One more thing.")
        world.do(authoring.submit, p.harmed, draft.id)
    with pytest.raises(Conflict, match="cannot be"):
        world.do(cases.set_status, p.facilitator, case_id, "open")
    world.do(cases.set_status, p.facilitator, case_id, "closed", reason="Aftercare done.")
    assert _state(world, message_id) == "held"
    moves = [(e.details["from"], e.details["to"], e.details["reason"], e.actor_id)
             for e in _events(world, "case.status")]
    assert moves[1:] == [("open", "paused", "Jessica asked for a break.", p.facilitator.account_id),
                         ("paused", "open", "Ready again.", p.facilitator.account_id),
                         ("open", "closing", "completed", p.facilitator.account_id),
                         ("closing", "closed", "Aftercare done.", p.facilitator.account_id)]
    with pytest.raises(NotFound):
        world.do(cases.set_status, p.co_facilitator, case_id, "open")  # not this case's facilitator


# --- people --------------------------------------------------------------------------------------


def test_a_facilitator_adds_people_to_each_side_who_then_redeem_a_code(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    added = world.do(participation.add_person, p.facilitator, case_id, display_name="Dan Green", side="responsible",
                     role="proxy", acting_for="father of Sam")
    with svc.db.uow() as uow:
        person = uow.session.get(Participant, added.id)
        account = uow.session.get(Account, person.account_id)
        assert (person.side, person.role, person.acting_for) == ("responsible", "proxy", "father of Sam")
        assert account.role == "participant" and account.password_hash is None
    issued = world.do(accounts.invite_participant, p.facilitator, case_id, added.id)
    with svc.db.uow() as uow:
        letter = participation.invitation_letter(uow.session, svc, p.facilitator, case_id, issued)
    assert letter.code == issued.code and letter.name == "Dan Green" and letter.address.endswith("/invite")
    assert letter.facilitators == ("Fiona1",)
    with svc.db.uow() as uow:
        accounts.redeem_invitation(uow.session, svc.settings, code=issued.code, client="127.0.0.1", now=svc.now())
        uow.commit()
    with pytest.raises(BadInput, match="proxy acts for"):
        world.do(participation.add_person, p.facilitator, case_id, display_name="Eve", side="harmed", role="proxy")
    with pytest.raises(BadInput, match="side"):
        world.do(participation.add_person, p.facilitator, case_id, display_name="Eve", side="middle")
    with pytest.raises(NotFound):
        world.do(participation.add_person, p.harmed, case_id, display_name="Eve", side="harmed")
    world.do(participation.set_label, p.facilitator, case_id, "responsible", "Sam")
    with svc.db.uow() as uow:
        assert uow.session.get(Case, case_id).label_responsible == "Sam"


def test_deactivating_a_participant_ends_their_sessions_and_holds_what_they_wrote(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = _approved_letter(world, p, case_id)
    with svc.db.uow() as uow:
        accounts.login_password(uow.session, svc.settings, username=world.username(p.harmed),
                                password=World.PASSWORD, client="127.0.0.1", passwords=svc.passwords, now=svc.now())
        uow.commit()
    participant_id = p.participant_ids[p.harmed.account_id]
    world.do(participation.deactivate_participant, p.facilitator, case_id, participant_id, reason="Moved away.")
    assert _state(world, message_id) == "held"
    with svc.db.uow() as uow:
        live = uow.session.scalars(select(AuthSession).where(AuthSession.account_id == p.harmed.account_id,
                                                             AuthSession.revoked_at.is_(None))).all()
        assert live == [] and not uow.session.get(Account, p.harmed.account_id).active
    with pytest.raises(NotFound):
        world.do(authoring.start_draft, p.harmed, case_id, "Still here?")
    with pytest.raises(BadInput, match="already"):
        world.do(participation.deactivate_participant, p.facilitator, case_id, participant_id)


# --- consents ------------------------------------------------------------------------------------


def test_consent_forms_record_how_and_when_with_an_encrypted_scan(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    police = _organisation(world, "Northshire Police")
    closed = _organisation(world, "Old Probation Trust", active=False)
    sam = p.participant_ids[p.responsible.account_id]
    today = svc.now().date()
    world.do(participation.record_consent_form, p.facilitator, case_id, sam, kind="share_information", granted=True,
             method="signed_form", given_on=today - timedelta(days=2), organisation_id=police, scan=PDF)
    with svc.db.uow() as uow:
        row = uow.session.scalars(select(Consent).where(Consent.participant_id == sam)
                                  .order_by(Consent.id.desc())).first()
        assert (row.kind, row.method, row.given_on, row.organisation_id) == (
            "share_information", "signed_form", today - timedelta(days=2), police)
        assert blobs.load_bytes(uow.session, svc.store, row.scan_blob_id) == PDF
    views = world.do(lambda s, svc_, actor: participation.current_consents(s, sam), p.facilitator)
    assert [v.words for v in views] == ["to take part in the process",
                                        "to share information with Northshire Police",
                                        "to receive messages from the other side"]
    for bad, match in (({"organisation_id": closed}, "organisation"), ({"organisation_id": None}, "organisation"),
                       ({"method": "carrier pigeon"}, "how the consent"),
                       ({"given_on": today + timedelta(days=1)}, "future")):
        args = {"kind": "share_information", "granted": True, "method": "in_person", "organisation_id": police}
        with pytest.raises(BadInput, match=match):
            world.do(participation.record_consent_form, p.facilitator, case_id, sam, **(args | bad))
    with pytest.raises(TooLarge):
        world.do(participation.record_consent_form, p.facilitator, case_id, sam, kind="take_part", granted=True,
                 method="signed_form", scan=b"%PDF" + b"0" * participation.MAX_SCAN_BYTES)
    with pytest.raises(BadInput, match="PDF, JPEG or PNG"):
        world.do(participation.record_consent_form, p.facilitator, case_id, sam, kind="take_part", granted=True,
                 method="signed_form", scan=b"MZ an executable")


def test_a_participant_withdraws_any_of_their_consents_and_the_gates_react_at_once(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    police = _organisation(world, "Northshire Police")
    sam = p.participant_ids[p.responsible.account_id]
    world.do(cases.record_consent, p.facilitator, case_id, sam, kind="share_information", granted=True,
             organisation_id=police)
    message_id = _approved_letter(world, p, case_id)
    mine = world.do(participation.my_consents, p.responsible)
    assert [c.words for c in mine[0].consents] == ["to take part in the process",
                                                   "to share information with Northshire Police",
                                                   "to receive messages from the other side"]
    world.do(participation.withdraw_my_consent, p.responsible, case_id, kind="share_information",
             organisation_id=police)
    assert _state(world, message_id) == "in_review"
    world.do(participation.withdraw_my_consent, p.responsible, case_id, kind="receive_messages")
    assert _state(world, message_id) == "held"  # no consent to receive: held at once
    now = {(c.kind, c.granted, c.how) for c in world.do(participation.my_consents, p.responsible)[0].consents}
    assert now == {("take_part", True, "in person"), ("share_information", False, "on your page"),
                   ("receive_messages", False, "on your page")}
    with pytest.raises(BadInput, match="nothing to withdraw"):
        world.do(participation.withdraw_my_consent, p.responsible, case_id, kind="receive_messages")
    with pytest.raises(NotFound):
        world.do(participation.withdraw_my_consent, p.facilitator, case_id, kind="take_part")
    assert world.do(participation.my_consents, p.harmed)[0].consents[0].participant_id != sam  # only their own


# --- assessments ---------------------------------------------------------------------------------


def test_assessments_are_separate_judgements_with_encrypted_reasons(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    sam = p.participant_ids[p.responsible.account_id]
    review_by = svc.now().date() + timedelta(days=30)
    world.do(cases.record_assessment, p.facilitator, case_id, sam, kind="risk", outcome="medium",
             reasons="Known to the family; meets only through letters.", review_by=review_by)
    with svc.db.uow() as uow:
        row = uow.session.scalars(select(Assessment).where(Assessment.kind == "risk")).one()
        assert row.review_by == review_by
        assert blobs.load_text(uow.session, svc.store, row.reasons_blob_id).startswith("Known to the family")
    reasons = world.do(participation.assessment_reasons, p.facilitator, case_id, sam, "risk")
    assert reasons.startswith("Known")
    world.do(cases.record_assessment, p.facilitator, case_id, sam, kind="eligibility", outcome="not_eligible")
    with svc.db.uow() as uow:
        assert current_assessment(uow.session, sam) == "not_suitable"
    for kind, outcome, match in (("risk", "suitable", "low or medium or high"), ("mood", "low", "eligibility"),
                                 (None, "eligible", "suitable or not_suitable")):
        with pytest.raises(BadInput, match=match):
            world.do(cases.record_assessment, p.facilitator, case_id, sam, kind=kind, outcome=outcome)
    with pytest.raises(BadInput, match="past"):
        world.do(cases.record_assessment, p.facilitator, case_id, sam, kind="risk", outcome="low",
                 review_by=svc.now().date() - timedelta(days=1))


def test_an_expired_assessment_closes_the_gate_in_the_periodic_tick(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    sam = p.participant_ids[p.responsible.account_id]
    soon = svc.now().date() + timedelta(days=3)
    world.do(cases.record_assessment, p.facilitator, case_id, sam, kind="suitability", outcome="suitable",
             review_by=soon)
    message_id = _approved_letter(world, p, case_id)
    later = replace(svc, clock=lambda: svc.now() + timedelta(days=10))
    later_world = World(later)
    assert later_world.do(participation.expired_assessments, p.facilitator)[0].kind == "suitability"
    tick(later)
    lapsed = _events(world, "assessment.lapsed")
    assert [(e.subject_id, e.details["kind"]) for e in lapsed] == [(sam, "suitability")]
    tick(later)
    assert len(_events(world, "assessment.lapsed")) == 1  # once
    later_world.do(review.approve, p.facilitator, message_id)
    assert _state(world, message_id) == "approved"  # not released: the recipient's assessment expired
    assert "the person responsible has no current eligible and suitable assessment" in later_world.do(
        review.blockers, p.facilitator, message_id)
    later_world.do(cases.record_assessment, p.facilitator, case_id, sam, outcome="suitable")
    assert _state(world, message_id) == "released"


def test_the_old_suitable_assessment_still_means_eligible_and_suitable(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    sam = p.participant_ids[p.responsible.account_id]
    with svc.db.uow() as uow:
        kinds = {(a.kind, a.outcome) for a in uow.session.scalars(select(Assessment)
                                                                  .where(Assessment.participant_id == sam))}
        assert kinds == {("eligibility", "eligible"), ("suitability", "suitable")}
        assert current_assessment(uow.session, sam) == "suitable"
    world.do(cases.record_assessment, p.facilitator, case_id, sam, outcome="not_suitable")
    with svc.db.uow() as uow:
        assert current_assessment(uow.session, sam) == "not_suitable"


# --- court proceedings ---------------------------------------------------------------------------


@pytest.mark.parametrize("holds", [True, False])
def test_court_proceedings_hold_the_exchange_when_the_service_says_so(svc: Services, holds: bool) -> None:
    svc = replace(svc, settings=svc.settings.with_(hold_during_proceedings=holds))
    world = World(svc)
    case_id, p = world.case()
    message_id = _approved_letter(world, p, case_id)
    world.do(participation.set_proceedings, p.facilitator, case_id, True, reason="Trial listed for March.")
    assert _state(world, message_id) == ("held" if holds else "in_review")
    if holds:
        draft = world.do(authoring.start_draft, p.harmed, case_id, "Another letter.")
        with pytest.raises(Conflict, match="court proceedings"):
            world.do(authoring.submit, p.harmed, draft.id)
        world.do(participation.set_proceedings, p.facilitator, case_id, False, reason="Sentenced.")
        assert _state(world, message_id) == "in_review"
    world.do(review.approve, p.facilitator, message_id)
    assert _state(world, message_id) == "released"
    assert [e.details["ongoing"] for e in _events(world, "case.proceedings")][:1] == [True]
    with pytest.raises(NotFound):
        world.do(participation.set_proceedings, p.harmed, case_id, True)


@pytest.mark.parametrize("status", ["paused", "closing"])
def test_a_message_recalled_while_the_case_holds_everything_is_held(svc: Services, status: str) -> None:
    """Found by the state machine: a recall returned a message to review in a closing case."""
    world = World(svc)
    case_id, p = world.case()
    message_id = _approved_letter(world, p, case_id)
    world.do(review.approve, p.facilitator, message_id)
    assert _state(world, message_id) == "released"
    world.do(cases.set_status, p.facilitator, case_id, status, reason="completed" if status == "closing" else "")
    world.do(review.recall, p.facilitator, message_id, reason="Sent too early.")
    assert _state(world, message_id) == "held"


def test_shredding_a_case_destroys_its_consent_scans_and_assessment_reasons(svc: Services) -> None:
    from shuttle import retention

    world = World(svc)
    case_id, p = world.case()
    sam = p.participant_ids[p.responsible.account_id]
    world.do(participation.record_consent_form, p.facilitator, case_id, sam, kind="take_part", granted=True,
             method="signed_form", scan=PDF)
    world.do(cases.record_assessment, p.facilitator, case_id, sam, kind="risk", outcome="low", reasons="Calm.")
    with svc.db.uow() as uow:
        scan = uow.session.scalars(select(Consent.scan_blob_id).where(Consent.scan_blob_id.is_not(None))).one()
        reasons = uow.session.scalars(select(Assessment.reasons_blob_id)
                                      .where(Assessment.reasons_blob_id.is_not(None))).one()
        retention.shred_case(uow.session, svc, p.facilitator, "RJ-2026-0001")
        uow.commit()
    with svc.db.uow() as uow:
        for blob_id in (scan, reasons):
            assert uow.session.get(blobs.Blob, blob_id).shredded_at is not None
