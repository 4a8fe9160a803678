"""What the coordinator sees of referrals: the inbox and one referral. Reads only (a GET never writes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.accounts.models import Account
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_
from shuttle.referrals import answers as form
from shuttle.referrals import clock, service
from shuttle.referrals.models import STATUSES, ContactAttempt, Referral
from shuttle.services import Actor, Services

#: Marked for staff.po (babel-staff.cfg); the coordinator's pages translate them where they show them.
SOURCE_WORDS = {"self_harmed": N_("Self-referral (person harmed)"),
                "self_responsible": N_("Self-referral (person responsible)"), "police": N_("Police"),
                "victim_services": N_("Victim services"), "youth_offending_team": N_("Youth offending team"),
                "probation": N_("Probation"), "prison": N_("Prison"), "other_agency": N_("Other agency")}
STATUS_WORDS = {"new": N_("New"), "contacted": N_("Contacted"), "accepted": N_("Accepted"), "declined": N_("Declined")}
METHOD_WORDS = {"phone": N_("Phone"), "letter": N_("Letter"), "email": N_("E-mail"), "in_person": N_("In person"),
                "via_agency": N_("Through an agency")}
OUTCOME_WORDS = {"reached": N_("Reached the person"), "no_answer": N_("No answer"),
                 "left_message": N_("Left a message"), "wrong_details": N_("Wrong contact details")}
DECLINE_WORDS = {"not_eligible": N_("Not eligible"), "declined_by_person": N_("Declined by the person"),
                 "not_contactable": N_("Could not be contacted"), "court_proceedings": N_("Court proceedings ongoing"),
                 "other": N_("Other")}
COURT_WORDS = {"yes": N_("Yes"), "no": N_("No"), "not_sure": N_("Not sure")}


def _coordinator(actor: Actor) -> None:
    if actor.role != "coordinator":
        raise NotFound()


def _clock(svc: Services, referral: Referral, escalated: set[str]) -> dict[str, Any] | None:
    hours = svc.settings.first_contact_working_hours
    if not hours or (referral.status != "new" and referral.contacted_at is None):
        return None  # no clock, or decided without contact: nothing to count any more
    status = clock.status(referral.received_at, svc.now(), hours, contacted_at=referral.contacted_at)
    return {"state": status.state, "label": status.label, "due": status.due.isoformat(),
            "left": status.left_words, "escalated": sorted(escalated)}


def _summary(svc: Services, referral: Referral, answers: dict[str, str], escalated: set[str]) -> dict[str, Any]:
    return {
        "id": referral.id, "reference": referral.reference, "status": referral.status,
        "status_words": STATUS_WORDS[referral.status], "source": referral.source,
        "source_words": SOURCE_WORDS[referral.source], "side": referral.side, "channel": referral.channel,
        "received_at": referral.received_at.isoformat(),
        "referrer": None if form.is_self(answers) else {
            "name": answers.get("referrer_name", ""), "organisation": answers.get("referrer_organisation", ""),
            "contact": answers.get("referrer_contact", "")},
        "person_name": answers.get("person_name", ""), "offence": answers.get("offence", ""),
        "clock": _clock(svc, referral, escalated), "version": referral.row_version,
        "case_id": referral.case_id,
    }


def inbox(session: Session, svc: Services, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
    """Every referral (or those with one status): waiting for contact first, oldest first; then the rest,
    newest first."""
    _coordinator(actor)
    if status is not None and status not in STATUSES:
        raise BadInput(N_("status is new, contacted, accepted or declined."))
    query = select(Referral)
    if status is not None:
        query = query.where(Referral.status == status)
    referrals = list(session.scalars(query.order_by(Referral.received_at.desc())))
    escalated = service.escalations(session, [r.id for r in referrals])
    items = [_summary(svc, r, service.read_answers(session, svc, r), escalated.get(r.id, set())) for r in referrals]
    waiting = sorted((i for i in items if i["status"] == "new"), key=lambda i: i["received_at"])
    return waiting + [i for i in items if i["status"] != "new"]


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {a.id: a.display_name for a in session.scalars(select(Account).where(Account.id.in_(ids)))}


def referral(session: Session, svc: Services, actor: Actor, referral_id: str) -> dict[str, Any]:
    """One referral with every answer, its contact attempts and what the coordinator may do next."""
    found = service.load(session, actor, referral_id)
    answers = service.read_answers(session, svc, found)
    view = _summary(svc, found, answers, service.escalations(session, [found.id]).get(found.id, set()))
    attempts = list(session.scalars(select(ContactAttempt).where(ContactAttempt.referral_id == found.id)
                                    .order_by(ContactAttempt.at, ContactAttempt.id)))
    names = _names(session, {a.recorded_by for a in attempts if a.recorded_by} | {found.decided_by or ""})
    view["answers"] = answers
    view["court_words"] = COURT_WORDS.get(answers.get("court", ""), "")
    view["contact_attempts"] = [{
        "at": a.at.isoformat(), "method": a.method, "method_words": METHOD_WORDS[a.method], "outcome": a.outcome,
        "outcome_words": OUTCOME_WORDS[a.outcome], "recorded_by": names.get(a.recorded_by or "", ""),
        "note": blobs.load_text(session, svc.store, a.note_blob_id) if a.note_blob_id else ""} for a in attempts]
    view["contacted_at"] = found.contacted_at.isoformat() if found.contacted_at else None
    view["decided_at"] = found.decided_at.isoformat() if found.decided_at else None
    view["decided_by"] = names.get(found.decided_by or "", "")
    view["decline_reason"] = found.decline_reason
    view["decline_words"] = DECLINE_WORDS.get(found.decline_reason or "", "")
    view["decline_note"] = (blobs.load_text(session, svc.store, found.decline_note_blob_id)
                            if found.decline_note_blob_id else "")
    case = session.get(Case, found.case_id) if found.case_id else None
    view["case"] = {"id": case.id, "reference": case.reference, "status": case.status,
                    "facilitators": _case_facilitators(session, case.id)} if case else None
    view["open"] = found.status in {"new", "contacted"}
    view["facilitators"] = [{"id": a.id, "name": a.display_name, "username": a.username}
                            for a in service.active_facilitators(session)] if view["open"] else []
    return view


def _case_facilitators(session: Session, case_id: str) -> list[str]:
    ids = list(session.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case_id)
                               .order_by(CaseFacilitator.id)))
    names = _names(session, set(ids))
    return [names.get(i, "") for i in ids]
