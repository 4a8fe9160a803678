"""Aftercare (issue 11): check-ins scheduled when the exchange ends, recorded encrypted; the service's
signposting directory (the coordinator's) and the entries a facilitator shares onto a participant's page.
Use cases never commit; every change is audited without words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_case
from shuttle.agreements import rules
from shuttle.agreements.models import CheckIn, SharedSupport, SupportService
from shuttle.audit import log as audit
from shuttle.cases.models import Case, CaseFacilitator, Participant
from shuttle.errors import NotFound
from shuttle.services import Actor, Services

#: Who gets check-ins: the people who took part for each side (a supporter is not checked in with).
CHECKED_IN_ROLES = ("principal", "proxy")


def schedule_checkins(session: Session, svc: Services, case: Case) -> int:
    """When the exchange ends (the case closes): one check-in per person and offset of the service's
    setting. Called by the close step, in its transaction; returns how many were scheduled."""
    today = svc.now().date()
    offsets = rules.checkin_offsets(svc.settings.aftercare_checkins)
    people = session.scalars(select(Participant.id).where(Participant.case_id == case.id,
                                                          Participant.active.is_(True),
                                                          Participant.role.in_(CHECKED_IN_ROLES))
                             .order_by(Participant.id)).all()
    for participant_id in people:
        for days in offsets:
            session.add(CheckIn(case_id=case.id, participant_id=participant_id, due_on=today + timedelta(days=days)))
    return len(people) * len(offsets)


@dataclass(frozen=True)
class CheckInView:
    id: str
    participant_id: str
    side_label: str
    due_on: date
    done_at: datetime | None
    on_time: bool | None
    wellbeing: str
    got_what_wanted: str


def _facilitated_case(session: Session, actor: Actor, case_id: str) -> Case:
    case, member = load_case(session, actor, case_id)
    if not permissions.may_draft_agreement(member):
        raise NotFound()
    return case


def checkins(session: Session, svc: Services, actor: Actor, case_id: str) -> list[CheckInView]:
    case = _facilitated_case(session, actor, case_id)
    rows = session.execute(select(CheckIn, Participant.side).join(Participant, Participant.id == CheckIn.participant_id)
                           .where(CheckIn.case_id == case.id).order_by(CheckIn.due_on, Participant.side)).all()
    views = []
    for row, side in rows:
        record = json.loads(blobs.load_text(session, svc.store, row.record_blob_id)) if row.record_blob_id else {}
        views.append(CheckInView(row.id, row.participant_id, case.label_of(side), row.due_on, row.done_at,
                                 row.done_at.date() <= row.due_on if row.done_at else None,
                                 record.get("wellbeing", ""), record.get("got_what_wanted", "")))
    return views


def record_checkin(session: Session, svc: Services, actor: Actor, case_id: str, checkin_id: str, *,
                   wellbeing: str, got_what_wanted: str) -> CheckIn:
    case = _facilitated_case(session, actor, case_id)
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None or checkin.case_id != case.id:
        raise NotFound()
    if checkin.done_at is not None:
        raise rules.refused(rules.RuleBroken("This check-in is recorded already."))
    try:
        rules.check_checkin(wellbeing, got_what_wanted)
    except rules.RuleBroken as exc:
        raise rules.refused(exc) from None
    blob = blobs.store_text(session, svc.store, json.dumps({"wellbeing": wellbeing.strip(),
                                                            "got_what_wanted": got_what_wanted}))
    session.flush()
    checkin.record_blob_id, checkin.done_at, checkin.done_by = blob.id, svc.now(), actor.account_id
    audit.record(session, action="aftercare.checkin", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="checkin", subject_id=checkin.id,
                 details={"due_on": checkin.due_on.isoformat()}, now=svc.now())
    session.flush()
    return checkin


@dataclass(frozen=True)
class DueCheckIn:
    case_id: str
    reference: str
    side_label: str
    due_on: date


def due_checkins(session: Session, svc: Services, actor: Actor) -> list[DueCheckIn]:
    """Check-ins due today or earlier, not yet recorded, in my cases (the facilitators' dashboard)."""
    if actor.role != "facilitator":
        return []
    mine = select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)
    rows = session.execute(
        select(CheckIn.due_on, Case, Participant.side).join(Case, Case.id == CheckIn.case_id)
        .join(Participant, Participant.id == CheckIn.participant_id)
        .where(CheckIn.case_id.in_(mine), CheckIn.done_at.is_(None), CheckIn.due_on <= svc.now().date())
        .order_by(CheckIn.due_on, Case.reference)).all()
    return [DueCheckIn(case.id, case.reference, case.label_of(side), due_on) for due_on, case, side in rows]


# --- signposting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportEntry:
    id: str
    name: str
    helps_with: str
    how_to_reach: str
    active: bool


def _entry(row: SupportService) -> SupportEntry:
    return SupportEntry(row.id, row.name, row.helps_with, row.how_to_reach, row.active)


def directory(session: Session, svc: Services, actor: Actor, *, active_only: bool = False) -> list[SupportEntry]:
    """The coordinator keeps it; facilitators choose from its active entries."""
    if not (permissions.may_run_service(actor.role) or actor.role == "facilitator"):
        raise NotFound()
    query = select(SupportService).order_by(SupportService.active.desc(), SupportService.name)
    if active_only or actor.role == "facilitator":
        query = query.where(SupportService.active.is_(True))
    return [_entry(row) for row in session.scalars(query)]


def add_support_service(session: Session, svc: Services, actor: Actor, *, name: str, helps_with: str,
                        how_to_reach: str) -> SupportEntry:
    if not permissions.may_run_service(actor.role):
        raise NotFound()
    try:
        rules.check_support_entry(name, helps_with, how_to_reach)
    except rules.RuleBroken as exc:
        raise rules.refused(exc) from None
    row = SupportService(name=name.strip(), helps_with=helps_with.strip(), how_to_reach=how_to_reach.strip())
    session.add(row)
    session.flush()
    audit.record(session, action="support.add", actor_id=actor.account_id, actor_role=actor.role,
                 subject_type="support_service", subject_id=row.id, now=svc.now())
    return _entry(row)


def set_support_active(session: Session, svc: Services, actor: Actor, service_id: str, active: bool) -> None:
    if not permissions.may_run_service(actor.role):
        raise NotFound()
    row = session.get(SupportService, service_id)
    if row is None:
        raise NotFound()
    row.active = active
    audit.record(session, action="support.reactivate" if active else "support.deactivate", actor_id=actor.account_id,
                 actor_role=actor.role, subject_type="support_service", subject_id=row.id, now=svc.now())


def share_support(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                  service_id: str) -> None:
    """A facilitator shares a directory entry onto a participant's page (once)."""
    case = _facilitated_case(session, actor, case_id)
    participant = session.get(Participant, participant_id)
    entry = session.get(SupportService, service_id)
    if participant is None or participant.case_id != case.id:
        raise NotFound()
    if entry is None or not entry.active:
        raise rules.refused(rules.RuleBroken("Choose a support service from the directory.", "service_id"))
    exists = session.scalar(select(SharedSupport.id).where(SharedSupport.participant_id == participant.id,
                                                          SharedSupport.service_id == entry.id))
    if exists is None:
        session.add(SharedSupport(participant_id=participant.id, service_id=entry.id, shared_by=actor.account_id,
                                  at=svc.now()))
        audit.record(session, action="support.share", actor_id=actor.account_id, actor_role=actor.role,
                     case_id=case.id, subject_type="participant", subject_id=participant.id,
                     details={"support_service": entry.id}, now=svc.now())
    session.flush()


def shared_with(session: Session, participant_id: str) -> list[SupportEntry]:
    """What was shared onto this participant's page (entries since deactivated still shown)."""
    rows = session.scalars(select(SupportService).join(SharedSupport, SharedSupport.service_id == SupportService.id)
                           .where(SharedSupport.participant_id == participant_id).order_by(SupportService.name))
    return [_entry(row) for row in rows]


def blob_ids(session: Session, case_id: str) -> set[str]:
    """Every encrypted check-in record of a case (for crypto-shredding the case)."""
    return set(filter(None, session.scalars(select(CheckIn.record_blob_id).where(CheckIn.case_id == case_id))))
