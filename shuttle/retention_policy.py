"""The service's retention policy, applied by the periodic tick, and the coordinator's legal holds.

- A closed case is scheduled once (`schedule_closed_cases`): `closed_at` is when it was closed
  (its last status change in the audit log) and `destroy_after` that plus
  SHUTTLE_RETENTION_CLOSED_CASES. A changed setting applies to cases scheduled afterwards.
- When that time has come (`destroy_due_cases`, by the index on `destroy_after`) the case's content
  is crypto-shredded exactly as `shuttle cases shred` does (`retention.shred_case_content`): every
  data key destroyed in the batch's transaction; the bytes are removed by the storage sweep. The
  case row stays as a content-free stub (reference, dates, status) and the audit chain stays whole.
- A case on legal hold is never destroyed, whatever its date; lifting the hold lets the tick
  destroy it at its date (at once, if the date has passed).
- Unsent drafts not changed for SHUTTLE_RETENTION_UNSENT_DRAFTS are emptied: their words and
  file shredded (`shred_unsent_drafts`, by the index on messages' state), except in a case on
  legal hold. Original files the worker refused are shredded by the storage sweep
  (`retention.shred_refused_uploads`).

Every destruction and every hold is in the audit log, without content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.cases import states
from shuttle.cases.models import Case
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.messages.models import Message
from shuttle.messages.states import State
from shuttle.retention import shred_case_content
from shuttle.services import Actor, Services
from shuttle.uploads.models import Upload, UploadPart

MAX_REASON_CHARS = 500
UPCOMING_DAYS = 30


def _closed_at(session: Session, case: Case, fallback: datetime) -> datetime:
    """When the case was closed: its latest status change in the audit log (by the case index)."""
    at = session.scalar(select(AuditEvent.at).where(AuditEvent.case_id == case.id, AuditEvent.action == "case.status")
                        .order_by(AuditEvent.seq.desc()).limit(1))
    return at or fallback


def schedule_closed_cases(session: Session, svc: Services, *, limit: int = 100) -> int:
    """Give each newly closed case its closing date and its destroy date; at most `limit`."""
    now = svc.now()
    keep = timedelta(days=svc.settings.retention_closed_case_days)
    rows = session.scalars(select(Case).where(Case.status == states.Status.CLOSED.value, Case.closed_at.is_(None))
                           .order_by(Case.id).limit(limit)).all()
    for case in rows:
        case.closed_at = _closed_at(session, case, now)
        if case.shredded_at is None:
            case.destroy_after = case.closed_at + keep
    return len(rows)


def destroy_due_cases(session: Session, svc: Services, *, limit: int = 100) -> int:
    """Crypto-shred the content of closed cases whose retention has ended and that are not held."""
    now = svc.now()
    rows = session.scalars(select(Case).where(Case.destroy_after <= now, Case.legal_hold_since.is_(None),
                                              Case.shredded_at.is_(None))
                           .order_by(Case.destroy_after, Case.id).limit(limit)).all()
    for case in rows:
        count = shred_case_content(session, svc, case)
        audit.record(session, action="case.retention_shred", actor_role="system", case_id=case.id,
                     subject_type="case", subject_id=case.id,
                     details={"objects": count, "closed_at": case.closed_at.isoformat() if case.closed_at else None,
                              "retention_days": svc.settings.retention_closed_case_days}, now=now)
    return len(rows)


def shred_unsent_drafts(session: Session, svc: Services, *, limit: int = 100) -> int:
    """Unsent drafts untouched for the draft retention are emptied: their words and any uploaded file
    shredded, the draft itself left (it was private to its author and never sent, so it stays theirs
    to write again, with no sentence about it that would not be true). Audited; drafts in a case on
    legal hold are kept."""
    now = svc.now()
    cutoff = now - timedelta(days=svc.settings.retention_unsent_draft_days)
    rows = session.scalars(select(Message).join(Case, Case.id == Message.case_id).where(
        Message.state == State.DRAFT.value, Message.updated_at <= cutoff, Case.legal_hold_since.is_(None),
        Message.draft_blob_id.is_not(None) | Message.draft_upload_id.is_not(None))
        .order_by(Message.updated_at, Message.id).limit(limit)).all()
    for message in rows:
        ids = {message.draft_blob_id} if message.draft_blob_id else set()
        ids.update(session.scalars(select(UploadPart.blob_id).join(Upload, Upload.id == UploadPart.upload_id)
                                   .where(Upload.message_id == message.id)))
        for blob_id in ids:
            blobs.shred(session, blob_id, now=now)
        for upload in session.scalars(select(Upload).where(Upload.message_id == message.id,
                                                           Upload.state.in_(["open", "complete"]))):
            upload.state = "expired"
        message.draft_blob_id = message.draft_upload_id = None
        message.updated_at = now
        audit.record(session, action="message.retention_shred_draft", actor_role="system", case_id=message.case_id,
                     subject_type="message", subject_id=message.id,
                     details={"objects": len(ids), "retention_days": svc.settings.retention_unsent_draft_days},
                     now=now)
    return len(rows)


#: The tick's retention duties, in order (workers/handlers.DUTIES).
DUTIES = (schedule_closed_cases, destroy_due_cases, shred_unsent_drafts)


# --- the coordinator: legal holds and what is due -------------------------------------------------


def _coordinator(actor: Actor) -> None:
    if actor.role != "coordinator":
        raise NotFound()


def _case_by_reference(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference.strip()))
    if case is None:
        raise NotFound(Sentence(N_("No case %(reference)s."), reference=reference.strip()))
    return case


def place_hold(session: Session, svc: Services, actor: Actor, reference: str, reason: str) -> Case:
    """Put a case on legal hold, with its reason: the tick never destroys it while held."""
    _coordinator(actor)
    reason = reason.strip()
    if not reason:
        raise BadInput(N_("Say why the case is on legal hold (for example the court order or the request)."),
                       details={"field": "reason"})
    if len(reason) > MAX_REASON_CHARS:
        raise BadInput(Sentence(N_("The reason is up to %(max)s characters."), max=MAX_REASON_CHARS),
                       details={"field": "reason"})
    case = _case_by_reference(session, reference)
    if case.shredded_at is not None:
        raise Conflict(Sentence(N_("%(reference)s was destroyed already; there is nothing left to hold."),
                                reference=case.reference), code="shredded")
    if case.legal_hold_since is not None:
        raise Conflict(Sentence(N_("%(reference)s is on legal hold already."), reference=case.reference), code="held")
    case.legal_hold_reason, case.legal_hold_since = reason, svc.now()
    audit.record(session, action="case.legal_hold", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="case", subject_id=case.id, details={"reason": reason}, now=svc.now())
    return case


def lift_hold(session: Session, svc: Services, actor: Actor, reference: str) -> Case:
    """End a legal hold: the case is destroyed at its date again (at the next tick if that has passed)."""
    _coordinator(actor)
    case = _case_by_reference(session, reference)
    if case.legal_hold_since is None:
        raise Conflict(Sentence(N_("%(reference)s is not on legal hold."), reference=case.reference), code="not_held")
    held_since = case.legal_hold_since
    case.legal_hold_reason, case.legal_hold_since = None, None
    audit.record(session, action="case.legal_hold_lifted", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="case", subject_id=case.id,
                 details={"held_since": held_since.isoformat()}, now=svc.now())
    return case


@dataclass(frozen=True)
class RetentionRow:
    """A case as the retention page shows it: no content, only its reference and dates."""

    reference: str
    status: str
    closed_at: datetime | None
    destroy_after: datetime | None
    held_since: datetime | None
    hold_reason: str

    @property
    def held(self) -> bool:
        return self.held_since is not None


@dataclass(frozen=True)
class RetentionView:
    days: int
    closed_case_days: int
    unsent_draft_days: int
    due: tuple[RetentionRow, ...]  # to be destroyed within `days` (held ones marked, and kept)
    held: tuple[RetentionRow, ...]  # every case on legal hold


def _row(case: Case) -> RetentionRow:
    return RetentionRow(case.reference, case.status, case.closed_at, case.destroy_after, case.legal_hold_since,
                        case.legal_hold_reason or "")


def retention_view(session: Session, svc: Services, actor: Actor, *, days: int = UPCOMING_DAYS) -> RetentionView:
    """What the tick will destroy in the next `days` days (by the destroy-date index), and the holds."""
    _coordinator(actor)
    until = svc.now() + timedelta(days=days)
    due = session.scalars(select(Case).where(Case.destroy_after <= until, Case.shredded_at.is_(None))
                          .order_by(Case.destroy_after, Case.reference)).all()
    held = session.scalars(select(Case).where(Case.legal_hold_since.is_not(None))
                           .order_by(Case.legal_hold_since, Case.reference)).all()
    return RetentionView(days, svc.settings.retention_closed_case_days, svc.settings.retention_unsent_draft_days,
                         tuple(_row(c) for c in due), tuple(_row(c) for c in held))
