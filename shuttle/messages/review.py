"""The facilitator's side: claim, read, edit, send back, reject, approve, schedule, retry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_message
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.models import Case
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.jobs import queue
from shuttle.messages import flags, lifecycle, on_behalf
from shuttle.messages.authoring import add_version, check_letter
from shuttle.messages.edits import EditList, InvalidEdit
from shuttle.messages.gates import release_blockers
from shuttle.messages.models import Approval, Message, MessageVersion, ReviewNote, SafeguardingIncident
from shuttle.messages.release import (
    approvals_of,
    approvers_of,
    reconcile_case,
    release_facts,
    try_release,
)
from shuttle.messages.states import DELIVERED, FINAL, Action, Context, State
from shuttle.services import Actor, Services

REJECTION_CODES = {
    "contact_details": N_("It contained contact details or identifying information."),
    "harmful": N_("It could cause harm to the other person."),
    "not_agreed": N_("It goes beyond what was agreed for this exchange."),
    "recipient_not_ready": N_("The other person is not ready to receive it."),
    "other": N_("Your facilitator will explain."),
}


def reviewer_message(session: Session, actor: Actor, message_id: str) -> tuple[Message, Case]:
    """The message and its case, for a facilitator of the case; NotFound for anyone else."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_review(member):
        raise NotFound()
    return message, case



def _require_claim(message: Message, actor: Actor) -> None:
    if message.claimed_by != actor.account_id:
        raise Conflict(N_("Claim this message for review first; only the reviewer holding it can act."),
                       code="not_claimed")


def _note(session: Session, svc: Services, message: Message, actor: Actor, kind: str, text: str,
          *, for_author: bool) -> None:
    if not text.strip():
        return
    check_letter(svc, text)
    blob = blobs.store_text(session, svc.store, text.strip())
    session.add(ReviewNote(message_id=message.id, written_by=actor.account_id, kind=kind,
                           for_author=for_author, blob_id=blob.id, at=svc.now()))


def claim(session: Session, svc: Services, actor: Actor, message_id: str, *, take_over: bool = False,
          expected_version: int | None = None) -> Message:
    message, _ = reviewer_message(session, actor, message_id)
    if message.state == State.IN_REVIEW and message.claimed_by not in (None, actor.account_id) and not take_over:
        raise Conflict(N_("Another facilitator is reviewing this message."), code="claimed_by_other")
    lifecycle.transition(session, message, Action.CLAIM, actor, expected_version=expected_version, now=svc.now())
    message.claimed_by, message.claimed_at = actor.account_id, svc.now()
    return message


def unclaim(session: Session, svc: Services, actor: Actor, message_id: str,
            *, expected_version: int | None = None) -> Message:
    message, _ = reviewer_message(session, actor, message_id)
    _require_claim(message, actor)
    lifecycle.transition(session, message, Action.UNCLAIM, actor, expected_version=expected_version, now=svc.now())
    message.claimed_by = None
    return message


def request_changes(session: Session, svc: Services, actor: Actor, message_id: str, *, note: str,
                    expected_version: int | None = None) -> Message:
    message, _ = reviewer_message(session, actor, message_id)
    _require_claim(message, actor)
    if not note.strip():
        raise BadInput(N_("Say what the author should change."))
    lifecycle.transition(session, message, Action.REQUEST_CHANGES, actor, expected_version=expected_version,
                         now=svc.now())
    _note(session, svc, message, actor, "request_changes", note, for_author=True)
    _back_to_draft(session, svc, message)
    message.claimed_by = None
    return message


def _back_to_draft(session: Session, svc: Services, message: Message) -> None:
    """The author revises from the text they last sent (media is recorded or uploaded again)."""
    version = session.get(MessageVersion, message.current_version_id)
    assert version is not None
    if version.body_blob_id is None:
        return
    text = blobs.load_text(session, svc.store, version.body_blob_id)
    message.draft_blob_id = blobs.store_text(session, svc.store, text).id


def propose_edit(session: Session, svc: Services, actor: Actor, message_id: str, *, text: str, note: str = "",
                 expected_version: int | None = None) -> MessageVersion:
    """A facilitator's wording becomes a new version; the author's original is kept untouched."""
    check_letter(svc, text)
    if not text.strip():
        raise BadInput(N_("The edited letter is empty."))
    message, _ = reviewer_message(session, actor, message_id)
    _require_claim(message, actor)
    lifecycle.transition(session, message, Action.PROPOSE_EDIT, actor, expected_version=expected_version,
                         now=svc.now())
    body = blobs.store_text(session, svc.store, text)
    version = add_version(session, svc, message, origin="facilitator", created_by=actor.account_id,
                          body_blob_id=body.id)
    _note(session, svc, message, actor, "edit", note, for_author=True)
    return version


def propose_media_edit(session: Session, svc: Services, actor: Actor, message_id: str, *, edits: dict[str, Any],
                       note: str = "", expected_version: int | None = None) -> MessageVersion:
    """Cuts, mutes and blurs, rendered by the worker from the author's original upload into a
    new version; the original is never altered (DESIGN.md section 6)."""
    message, _ = reviewer_message(session, actor, message_id)
    _require_claim(message, actor)
    current = session.get(MessageVersion, message.current_version_id or "")
    if message.kind not in ("audio", "video") or current is None or current.body_upload_id is None:
        raise BadInput(N_("Only audio and video messages can be cut, muted or blurred."))
    if not isinstance(edits, dict):
        raise BadInput(N_("The edit list is an object with cuts, mutes and blurs."))
    try:
        checked = EditList.from_dict(edits).validated(
            current.duration_ms / 1000 if current.duration_ms else None, message.kind)
    except InvalidEdit as exc:
        raise BadInput(exc.reason) from None
    if checked.empty:
        raise BadInput(N_("The edit list is empty."))
    lifecycle.transition(session, message, Action.PROPOSE_EDIT, actor, expected_version=expected_version,
                         now=svc.now())
    version = add_version(session, svc, message, origin="facilitator", created_by=actor.account_id,
                          body_upload_id=current.body_upload_id, body_blob_id=current.body_blob_id)
    version.edits = checked.to_dict()
    _note(session, svc, message, actor, "edit", note, for_author=True)
    return version


def propose_transcript_edit(session: Session, svc: Services, actor: Actor, message_id: str, *, text: str,
                            note: str = "", expected_version: int | None = None) -> MessageVersion:
    """A facilitator writes or corrects the transcript of a recording: a new version like any
    other edit (the recording as the current version has it, its cuts, mutes and blurs included,
    with the new text as its transcript), processed again, so its flags are found again, and
    accepted by the author when the case asks for that (`authoring.accept_edit`)."""
    check_letter(svc, text)
    if not text.strip():
        raise BadInput(N_("The transcript is empty."))
    message, _ = reviewer_message(session, actor, message_id)
    _require_claim(message, actor)
    current = session.get(MessageVersion, message.current_version_id or "")
    if message.kind not in ("audio", "video") or current is None or current.body_upload_id is None:
        raise BadInput(N_("Only the transcript of a recording can be written here."))
    lifecycle.transition(session, message, Action.PROPOSE_EDIT, actor, expected_version=expected_version,
                         now=svc.now())
    body = blobs.store_text(session, svc.store, text)
    version = add_version(session, svc, message, origin="facilitator", created_by=actor.account_id,
                          body_upload_id=current.body_upload_id, body_blob_id=body.id)
    version.edits = current.edits
    _note(session, svc, message, actor, "edit", note, for_author=True)
    return version


def reject(session: Session, svc: Services, actor: Actor, message_id: str, *, code: str, note: str = "",
           expected_version: int | None = None) -> Message:
    if code not in REJECTION_CODES:
        raise BadInput(Sentence(N_("A rejection reason is one of: %(codes)s."), codes=", ".join(REJECTION_CODES)))
    message, _ = reviewer_message(session, actor, message_id)
    _require_claim(message, actor)
    lifecycle.transition(session, message, Action.REJECT, actor, expected_version=expected_version,
                         now=svc.now(), details={"code": code})
    message.rejection_code = code
    message.claimed_by = None
    _note(session, svc, message, actor, "reject", note, for_author=True)
    return message


def version_flags(session: Session, svc: Services, version: MessageVersion) -> list[flags.FlagItem]:
    """The flags the worker found in a processed version (its letter text or transcript)."""
    if version.report_blob_id is None:
        return []
    report = json.loads(blobs.load_text(session, svc.store, version.report_blob_id))
    return flags.items(report.get("flags", []))


def approve(session: Session, svc: Services, actor: Actor, message_id: str, *,
            resolutions: Mapping[str, str] | None = None, expected_version: int | None = None) -> Message:
    """Approve the current version. Every flag must be resolved (invariant 9): `resolutions`
    maps each flag id to the reason for keeping it; anything left open is a 409 naming it."""
    message, case = reviewer_message(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    _require_claim(message, actor)
    on_behalf.check_may_approve(session, message, actor)
    version = session.get(MessageVersion, message.current_version_id)
    if version is None or version.processed_blob_id is None:
        raise Conflict(N_("This version has not been processed yet."), code="not_processed")
    if version.origin == "facilitator" and case.author_must_accept_edits and version.author_decision != "accepted":
        raise Conflict(N_("The author has not accepted the suggested changes."), code="edit_not_accepted")
    if actor.account_id in approvers_of(session, version.id):
        raise Conflict(N_("You have approved this version already; a second, different facilitator must approve it."),
                       code="needs_second_facilitator")
    resolved = _resolve_flags(version_flags(session, svc, version), resolutions or {})
    approval = Approval(message_id=message.id, version_id=version.id, facilitator_id=actor.account_id,
                        at=svc.now(), resolutions_blob_id=_store_resolutions(session, svc, resolved))
    session.add(approval)
    session.flush()
    ctx = Context(approvals=approvals_of(session, version.id), approvals_required=case.approvals_required)
    lifecycle.transition(session, message, Action.APPROVE, actor, ctx=ctx, now=svc.now(),
                         details={"version": version.number, "approvals": ctx.approvals,
                                  "flags": [{"flag": r.flag_id, "kind": r.kind, "decision": r.decision}
                                            for r in resolved],
                                  "resolutions_sha256": _digest(resolved)})
    message.claimed_by = None
    if message.state == State.APPROVED:
        message.approved_version_id = version.id
        try_release(session, svc, case, message, actor)
    return message


def _resolve_flags(found: list[flags.FlagItem], reasons: Mapping[str, str]) -> list[flags.Resolution]:
    if not isinstance(reasons, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in reasons.items()):
        raise BadInput(N_("'resolutions' maps each flag id to the reason for keeping it."))
    try:
        return flags.resolve(found, reasons)
    except flags.ResolutionError as exc:
        raise Conflict(exc.message, code="flags_unresolved", details={
            "unresolved": [{"flag": f.id, "kind": f.kind, "text": f.text} for f in exc.missing],
            "unresolved_ids": [f.id for f in exc.missing]}) from None


def _resolutions_json(resolved: list[flags.Resolution]) -> str:
    return json.dumps([r.to_dict() for r in resolved], ensure_ascii=False, sort_keys=True)


def _digest(resolved: list[flags.Resolution]) -> str | None:
    """Binds the audit event to the exact (encrypted) resolutions without putting their words in it."""
    return hashlib.sha256(_resolutions_json(resolved).encode()).hexdigest() if resolved else None


def _store_resolutions(session: Session, svc: Services, resolved: list[flags.Resolution]) -> str | None:
    if not resolved:
        return None
    return blobs.store_text(session, svc.store, _resolutions_json(resolved)).id


def approval_records(session: Session, svc: Services, version_id: str) -> list[ApprovalRecord]:
    """Who approved a version (standing approvals) and how each resolved its flags: shown to the
    second facilitator of a four-eyes case before they decide."""
    rows = session.scalars(select(Approval).where(Approval.version_id == version_id,
                                                  Approval.revoked_at.is_(None)).order_by(Approval.id)).all()
    records = []
    for row in rows:
        kept: list[dict[str, str]] = []
        if row.resolutions_blob_id:
            kept = json.loads(blobs.load_text(session, svc.store, row.resolutions_blob_id))
        records.append(ApprovalRecord(row.facilitator_id, row.at, tuple(
            flags.Resolution(k["flag"], k["kind"], k["decision"], k["reason"]) for k in kept)))
    return records


@dataclass(frozen=True)
class ApprovalRecord:
    facilitator_id: str
    at: datetime
    resolutions: tuple[flags.Resolution, ...]


def recall(session: Session, svc: Services, actor: Actor, message_id: str, *, reason: str,
           expected_version: int | None = None) -> Message:
    """Call a released message back before the recipient opens it (a mistake noticed late).

    The recipient is left with no trace of it (it is not delivered any more, and nothing tells
    them); its approvals are revoked, so it needs approving again; it returns to review, held by
    the facilitator who recalled it; the author's page says it was called back. An opened
    message cannot be recalled: record a safeguarding incident instead.
    """
    message, case = reviewer_message(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    if message.state == State.VIEWED:
        raise Conflict(N_("This message has been opened, so it cannot be called back. You can record a "
                          "safeguarding incident about it."), code="already_opened")
    if not reason.strip():
        raise BadInput(N_("Say why you are calling the message back (the other facilitators see it)."))
    lifecycle.transition(session, message, Action.RECALL, actor, now=svc.now())
    now = svc.now()
    for approval in session.scalars(select(Approval).where(Approval.version_id == message.approved_version_id,
                                                           Approval.revoked_at.is_(None))):
        approval.revoked_at = now
    _note(session, svc, message, actor, "recall", reason, for_author=False)
    message.approved_version_id = None
    message.released_at = None
    message.recalled_at = now
    message.claimed_by, message.claimed_at = actor.account_id, now
    session.flush()
    reconcile_case(session, svc, case, actor)  # back in review while the case holds everything: held
    return message


def record_incident(session: Session, svc: Services, actor: Actor, message_id: str, *, note: str,
                    expected_version: int | None = None) -> SafeguardingIncident:
    """A safeguarding concern about a message, kept with its case (encrypted) and audited."""
    message, case = reviewer_message(session, actor, message_id)
    if not note.strip():
        raise BadInput(N_("Describe what happened and what you have done about it."))
    check_letter(svc, note)
    blob = blobs.store_text(session, svc.store, note.strip())
    incident = SafeguardingIncident(case_id=case.id, message_id=message.id, recorded_by=actor.account_id,
                                    at=svc.now(), blob_id=blob.id)
    session.add(incident)
    session.flush()
    audit.record(session, action="case.safeguarding_incident", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="message", subject_id=message.id,
                 details={"incident": incident.id}, now=svc.now())
    return incident


@dataclass(frozen=True)
class IncidentView:
    at: datetime
    recorded_by: str
    note: str


def incidents(session: Session, svc: Services, actor: Actor, message_id: str) -> list[IncidentView]:
    """The incidents recorded about a message, for its facilitators, oldest first."""
    message, _ = reviewer_message(session, actor, message_id)
    rows = session.execute(select(SafeguardingIncident, Account.display_name)
                           .join(Account, Account.id == SafeguardingIncident.recorded_by)
                           .where(SafeguardingIncident.message_id == message.id)
                           .order_by(SafeguardingIncident.at)).all()
    return [IncidentView(row.at, name, blobs.load_text(session, svc.store, row.blob_id)) for row, name in rows]


def schedule_release(session: Session, svc: Services, actor: Actor, message_id: str, at: datetime | None,
                     *, expected_version: int | None = None) -> Message:
    message, case = reviewer_message(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    if message.state in {s.value for s in DELIVERED | FINAL}:
        raise Conflict(N_("This message can no longer be scheduled."), code="not_schedulable")
    message.scheduled_release_at = message.release_due_at = at
    message.updated_at = svc.now()
    audit.record(session, action="message.schedule", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=message.case_id, subject_type="message", subject_id=message.id,
                 details={"at": at.isoformat() if at else None}, now=svc.now())
    session.flush()
    if message.state == State.APPROVED:
        try_release(session, svc, case, message, actor)
    return message


def retry_processing(session: Session, svc: Services, actor: Actor, message_id: str,
                     *, expected_version: int | None = None) -> Message:
    message, _ = reviewer_message(session, actor, message_id)
    lifecycle.transition(session, message, Action.RETRY_PROCESSING, actor, expected_version=expected_version,
                         now=svc.now())
    if message.processing_job_id:
        queue.retry(session, message.processing_job_id, now=svc.now())
    return message


def blockers(session: Session, svc: Services, actor: Actor, message_id: str) -> list[str]:
    message, case = reviewer_message(session, actor, message_id)
    if message.state != State.APPROVED:
        return []
    return release_blockers(release_facts(session, svc, case, message))


def read_version(session: Session, svc: Services, actor: Actor, message_id: str,
                 version_id: str | None = None) -> dict[str, Any]:
    """A version's text and flags for the reviewer; every such view is audited (invariant 8)."""
    message, _ = reviewer_message(session, actor, message_id)
    version = session.get(MessageVersion, version_id or message.current_version_id or "")
    if version is None or version.message_id != message.id:
        raise NotFound()
    return version_content(session, svc, actor, message, version)


def version_content(session: Session, svc: Services, actor: Actor, message: Message,
                    version: MessageVersion) -> dict[str, Any]:
    """`read_version` for a version of a message the caller checked the actor reviews (audited)."""
    wanted = [b for b in (version.processed_blob_id, version.body_blob_id, version.transcript_blob_id,
                          version.report_blob_id) if b]
    # The keys of its blobs in one query; load_text finds them in the session (held here, as the
    # session keeps only weak references).
    held = session.scalars(select(blobs.Blob).where(blobs.Blob.id.in_(wanted))).all() if wanted else []
    processed = version.processed_blob_id is not None
    text = None
    if message.kind == "letter":
        text = blobs.load_text(session, svc.store, version.processed_blob_id or version.body_blob_id or "")
    transcript = None
    if message.kind != "letter" and (version.transcript_blob_id or version.body_blob_id):
        transcript = blobs.load_text(session, svc.store, version.transcript_blob_id or version.body_blob_id or "")
    report: dict[str, Any] = {"flags": []}
    if version.report_blob_id:
        report = json.loads(blobs.load_text(session, svc.store, version.report_blob_id))
    audit.record(session, action="message.view_content", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=message.case_id, subject_type="message_version", subject_id=version.id,
                 now=svc.now())
    del held
    found = report.get("flags", [])
    for flag, item in zip(found, flags.items(found), strict=True):
        flag["id"] = item.id
    return {"version_id": version.id, "number": version.number, "origin": version.origin,
            "processed": processed, "text": text, "flags": found,
            "removed": report.get("removed", []), "duration_ms": version.duration_ms,
            "author_decision": version.author_decision, "transcript": transcript}
