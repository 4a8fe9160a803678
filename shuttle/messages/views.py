"""What each audience is shown of a message. The recipient's view names no author, account or file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.accounts.models import Account
from shuttle.cases.models import Case, Participant
from shuttle.jobs.models import Job
from shuttle.messages.gates import release_blockers
from shuttle.messages.lifecycle import position
from shuttle.messages.models import Approval, Message, MessageVersion, ReviewNote
from shuttle.messages.release import approvals_of, release_facts
from shuttle.messages.states import (
    DELIVERED,
    EDITABLE,
    IN_REVIEW_STATES,
    Action,
    Context,
    State,
    allowed_actions,
    describe,
)
from shuttle.permissions import Membership
from shuttle.services import Services

AUTHOR_ACTIONS = {Action.SUBMIT, Action.WITHDRAW, Action.ACCEPT_EDIT, Action.DECLINE_EDIT}
REVIEW_ACTIONS = {Action.CLAIM, Action.UNCLAIM, Action.REQUEST_CHANGES, Action.PROPOSE_EDIT,
                  Action.REJECT, Action.APPROVE, Action.RETRY_PROCESSING}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _username(session: Session, account_id: str | None) -> str | None:
    if account_id is None:
        return None
    account = session.get(Account, account_id)
    return account.display_name if account else None


def _versions(session: Session, message: Message) -> list[MessageVersion]:
    return list(session.scalars(select(MessageVersion).where(MessageVersion.message_id == message.id)
                                .order_by(MessageVersion.number)))


def _actions(message: Message, case: Case, allowed: set[Action]) -> list[str]:
    ctx = Context(approvals_required=case.approvals_required)
    return sorted(a.value for a in allowed_actions(position(message), ctx) & allowed)


def for_staff(session: Session, svc: Services, message: Message, case: Case) -> dict[str, Any]:
    versions = _versions(session, message)
    job = session.get(Job, message.processing_job_id) if message.processing_job_id else None
    approvers = session.scalars(select(Approval.facilitator_id).where(
        Approval.version_id == (message.current_version_id or ""))).all()
    blockers = (release_blockers(release_facts(session, svc, case, message))
                if message.state == State.APPROVED else [])
    return {
        "id": message.id, "case_id": case.id, "case_reference": case.reference,
        "kind": message.kind, "author_side": message.author_side,
        "author_label": case.label_of(message.author_side),
        "written_as": _written_as(session, message),
        "entered_by": _entered_by(session, message),  # a facilitator who wrote it on the author's behalf
        "state": message.state, "status": describe(State(message.state)),
        "held_from": message.held_from, "version": message.row_version,
        "claimed_by": _username(session, message.claimed_by), "claimed_by_id": message.claimed_by,
        "current_version_id": message.current_version_id,
        "approved_version_id": message.approved_version_id,
        "approvals": approvals_of(session, message.current_version_id),
        "approved_by": list(approvers),
        "approvals_required": case.approvals_required,
        "versions": [{"id": v.id, "number": v.number, "origin": v.origin, "processed": v.processed_blob_id is not None,
                      "flag_count": v.flag_count, "author_decision": v.author_decision,
                      "created_at": _iso(v.created_at)} for v in versions],
        "processing": None if job is None else {
            "state": job.state, "attempts": job.attempts, "max_attempts": job.max_attempts,
            "progress": job.progress, "error": job.last_error},
        "release_blockers": blockers,
        "processing_error": _problem(session, message),
        "scheduled_release_at": _iso(message.scheduled_release_at),
        "submitted_at": _iso(message.submitted_at), "released_at": _iso(message.released_at),
        "opened_at": _iso(message.opened_at) if message.receipt_shared else None,
        "recalled_at": _iso(message.recalled_at),
        "actions": _actions(message, case, REVIEW_ACTIONS),
    }


def _progress(session: Session, message: Message) -> int | None:
    """How far the worker is with this message (0-100), while it is being prepared."""
    if message.state != State.PROCESSING or not message.processing_job_id:
        return None
    job = session.get(Job, message.processing_job_id)
    return job.progress if job is not None else None


def _problem(session: Session, message: Message) -> str | None:
    """Why processing refused the current version: a sentence for the author and facilitator."""
    version = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
    return version.processing_error if version is not None else None


def _written_as(session: Session, message: Message) -> str:
    participant = session.get(Participant, message.author_participant_id)
    if participant is not None and participant.role == "proxy":
        return f"proxy ({participant.acting_for})"
    return "principal"


def _entered_by(session: Session, message: Message) -> str | None:
    """The facilitator's name when they entered the message on its author's behalf (issue 10)."""
    participant = session.get(Participant, message.author_participant_id)
    if participant is None or participant.account_id == message.written_by:
        return None
    return _username(session, message.written_by)


def for_author(session: Session, svc: Services, message: Message, case: Case) -> dict[str, Any]:
    notes = session.scalars(select(ReviewNote).where(ReviewNote.message_id == message.id,
                                                     ReviewNote.for_author.is_(True))
                            .order_by(ReviewNote.id)).all()
    current = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
    receipt = message.receipt_shared and case.read_receipts_allowed
    # Whether it was opened is the recipient's to share: without their receipt the author sees
    # "delivered" for a delivered message, opened or not.
    shown = State.RELEASED if message.state == State.VIEWED and not receipt else State(message.state)
    return {
        "id": message.id, "case_id": case.id, "kind": message.kind,
        "to": case.label_of("responsible" if message.author_side == "harmed" else "harmed"),
        "written_as": _written_as(session, message),
        "entered_by": _entered_by(session, message),
        "state": shown.value, "status": "delivered" if shown == State.RELEASED else describe(shown),
        "version": message.row_version,
        "has_draft": message.draft_blob_id is not None,
        "upload_ready": message.draft_upload_id is not None,
        "preview": bool(current and current.processed_blob_id and message.kind != "letter"),
        "pending_edit": bool(current and current.origin == "facilitator" and message.state == State.AWAITING_AUTHOR),
        "notes": [{"kind": n.kind, "at": _iso(n.at), "text": blobs.load_text(session, svc.store, n.blob_id)}
                  for n in notes],
        "rejection_code": message.rejection_code,
        "processing_error": _problem(session, message),
        "processing_progress": _progress(session, message),
        "submitted_at": _iso(message.submitted_at),
        # called back after delivery, before it was opened, and being looked at again
        "recalled": message.recalled_at is not None and State(message.state) in IN_REVIEW_STATES,
        "delivered": message.state in DELIVERED,
        "opened_at": _iso(message.opened_at) if receipt else None,
        "actions": _actions(message, case, AUTHOR_ACTIONS) + (["edit_draft"] if message.state in EDITABLE else []),
    }


def for_recipient(session: Session, message: Message, case: Case) -> dict[str, Any]:
    """Only the facilitator-set label of the author's side, and whether a proxy wrote it for that side."""
    author = session.get(Participant, message.author_participant_id)
    return {
        "id": message.id, "case_id": case.id, "kind": message.kind,
        "from": case.label_of(message.author_side),
        "by_proxy": bool(author is not None and author.role == "proxy"),
        "delivered_at": _iso(message.released_at),
        "opened": message.state == State.VIEWED,
    }


def for_member(session: Session, svc: Services, member: Membership, message: Message, case: Case) -> dict[str, Any]:
    if member.is_facilitator:
        return for_staff(session, svc, message, case)
    if permissions.is_author_side(member, message.author_side):
        return for_author(session, svc, message, case)
    return for_recipient(session, message, case)
