"""Use cases of the outcome agreement, the closure of a case, and feedback (issue 11).

Each takes `session, svc, actor, ...`, loads through `shuttle.access`, asks `shuttle.permissions`,
applies the pure rules (`shuttle.agreements.rules`, `shuttle.cases.states`), audits without any
words (ids, numbers, decisions only), and never commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_case
from shuttle.agreements import aftercare, rules
from shuttle.agreements.models import (
    Agreement,
    AgreementAnswer,
    AgreementItem,
    AgreementVersion,
    CaseClosure,
    FeedbackAnswer,
    FeedbackDone,
    ItemUpdate,
)
from shuttle.audit import log as audit
from shuttle.cases import service as cases
from shuttle.cases import states
from shuttle.cases.models import Case, Participant
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.permissions import Membership
from shuttle.services import Actor, Services

refused = rules.refused


def _case(session: Session, actor: Actor, case_id: str,
          allowed: Callable[[Membership], bool]) -> tuple[Case, Membership]:
    case, member = load_case(session, actor, case_id)
    if not allowed(member):
        raise NotFound()
    return case, member


def agreement_of(session: Session, case_id: str) -> Agreement | None:
    return session.scalar(select(Agreement).where(Agreement.case_id == case_id))


def latest_version(session: Session, agreement: Agreement | None) -> AgreementVersion | None:
    if agreement is None:
        return None
    return session.scalar(select(AgreementVersion).where(AgreementVersion.agreement_id == agreement.id)
                          .order_by(AgreementVersion.number.desc()).limit(1))


def answers_to(session: Session, version_id: str) -> dict[str, rules.Decision]:
    rows = session.scalars(select(AgreementAnswer).where(AgreementAnswer.version_id == version_id))
    return {row.side: rules.Decision(row.decision) for row in rows}


def _audit(session: Session, svc: Services, actor: Actor, action: str, case_id: str, subject_type: str,
           subject_id: str, details: dict[str, object]) -> None:
    audit.record(session, action=action, actor_id=actor.account_id, actor_role=actor.role, case_id=case_id,
                 subject_type=subject_type, subject_id=subject_id, details=details, now=svc.now())


# --- the agreement -------------------------------------------------------------------------------


def draft_version(session: Session, svc: Services, actor: Actor, case_id: str,
                  items: list[rules.Item]) -> AgreementVersion:
    """A facilitator proposes the agreement (or, after a change was asked for, a new version of it)."""
    case, _ = _case(session, actor, case_id, permissions.may_draft_agreement)
    agreement = agreement_of(session, case.id)
    try:
        rules.may_draft(states.Status(case.status), agreed=agreement is not None and agreement.agreed_at is not None)
        cleaned = rules.check_items(items, today=svc.now().date())
    except rules.RuleBroken as exc:
        raise refused(exc) from None
    if agreement is None:
        agreement = Agreement(case_id=case.id)
        session.add(agreement)
        session.flush()
    before = latest_version(session, agreement)
    version = AgreementVersion(agreement_id=agreement.id, number=(before.number if before else 0) + 1,
                               created_by=actor.account_id, created_at=svc.now())
    session.add(version)
    session.flush()
    texts = [blobs.store_text(session, svc.store, json.dumps({"what": item.what, "check": item.check}))
             for item in cleaned]
    session.flush()  # the blobs first: the items refer to them
    for number, (item, blob) in enumerate(zip(cleaned, texts, strict=True), start=1):
        session.add(AgreementItem(version_id=version.id, number=number, owner=item.owner, due_on=item.due_on,
                                  text_blob_id=blob.id))
    session.flush()
    _audit(session, svc, actor, "agreement.draft", case.id, "agreement", agreement.id,
           {"version": version.number, "items": len(cleaned)})
    return version


def answer(session: Session, svc: Services, actor: Actor, case_id: str, *, version: int, decision: str,
           note: str = "") -> rules.VersionState:
    """A side agrees to the latest version, or asks for a change with a note (kept encrypted).
    When both sides agreed to it, the agreement is recorded as agreed by both, with the date."""
    case, member = _case(session, actor, case_id, permissions.may_answer_agreement)
    agreement = agreement_of(session, case.id)
    latest = latest_version(session, agreement)
    if agreement is None or latest is None:
        raise NotFound()
    if decision not in set(rules.Decision):
        raise BadInput(N_("Choose to agree or to ask for a change."), details={"field": "decision"})
    chosen = rules.Decision(decision)
    assert member.side is not None and member.participant_id is not None
    answers = answers_to(session, latest.id)
    try:
        rules.may_answer(states.Status(case.status), latest=version == latest.number, answers=answers,
                         side=member.side, decision=chosen, note=note)
    except rules.RuleBroken as exc:
        raise refused(exc) from None
    note_blob = blobs.store_text(session, svc.store, note.strip()) if note.strip() else None
    session.flush()
    session.add(AgreementAnswer(version_id=latest.id, side=member.side, participant_id=member.participant_id,
                                decision=chosen.value, note_blob_id=note_blob.id if note_blob else None,
                                at=svc.now()))
    answers[member.side] = chosen
    state = rules.version_state(answers)
    _audit(session, svc, actor, f"agreement.{chosen.value}", case.id, "agreement", agreement.id,
           {"version": latest.number, "side": member.side})
    if state is rules.VersionState.AGREED:
        agreement.agreed_version_id, agreement.agreed_at = latest.id, svc.now()
        _audit(session, svc, actor, "agreement.agreed", case.id, "agreement", agreement.id,
               {"version": latest.number})
    session.flush()
    return state


def mark_item(session: Session, svc: Services, actor: Actor, case_id: str, item_id: str, *, status: str,
              note: str = "") -> ItemUpdate:
    """A facilitator marks an item of the agreed version done, missed or varied, with a note."""
    case, _ = _case(session, actor, case_id, permissions.may_draft_agreement)
    agreement = agreement_of(session, case.id)
    item = session.get(AgreementItem, item_id)
    if agreement is None or item is None or item.version_id != agreement.agreed_version_id:
        raise NotFound()
    if status not in set(rules.ItemStatus):
        raise BadInput(N_("Choose done, missed or varied."), details={"field": "status"})
    marked = rules.ItemStatus(status)
    try:
        rules.may_mark(states.Status(case.status), agreed=True, item_status=marked, note=note)
    except rules.RuleBroken as exc:
        raise refused(exc) from None
    note_blob = blobs.store_text(session, svc.store, note.strip()) if note.strip() else None
    session.flush()
    update = ItemUpdate(item_id=item.id, status=marked.value, note_blob_id=note_blob.id if note_blob else None,
                        recorded_by=actor.account_id, at=svc.now())
    session.add(update)
    session.flush()
    _audit(session, svc, actor, "agreement.item", case.id, "agreement_item", item.id,
           {"item": item.number, "status": marked.value})
    return update


def item_statuses(session: Session, item_ids: list[str]) -> dict[str, ItemUpdate]:
    """The latest update of each item that has one."""
    if not item_ids:
        return {}
    rows = session.scalars(select(ItemUpdate).where(ItemUpdate.item_id.in_(item_ids)).order_by(ItemUpdate.id))
    return {row.item_id: row for row in rows}


# --- closure -------------------------------------------------------------------------------------


def close_case(session: Session, svc: Services, actor: Actor, case_id: str, *, reason: str,
               expected_version: int | None = None) -> CaseClosure:
    """The close step, with its reason: the case becomes closing (everything pending is held by the
    case state machine), and each participant is offered the feedback questionnaire."""
    case, _ = _case(session, actor, case_id, permissions.may_draft_agreement)
    try:
        why = states.closure_reason(states.Action.CLOSE, reason)
    except states.TransitionNotAllowed as exc:
        raise BadInput(str(exc), details={"field": "reason"}) from None
    cases.set_status(session, svc, actor, case.id, states.Status.CLOSING.value, expected_version=expected_version,
                     reason=why.value)
    closure = _record_closure(session, svc, actor, case, why)
    for participant_id in session.scalars(select(Participant.id).where(Participant.case_id == case.id)
                                          .order_by(Participant.id)):
        if session.get(FeedbackDone, participant_id) is None:
            session.add(FeedbackDone(participant_id=participant_id, done=False))
    aftercare.schedule_checkins(session, svc, case)  # the exchange has ended
    session.flush()
    return closure


def _record_closure(session: Session, svc: Services, actor: Actor, case: Case,
                    why: states.ClosureReason) -> CaseClosure:
    closure = session.get(CaseClosure, case.id)
    if closure is None:
        closure = CaseClosure(case_id=case.id, reason=why.value, recorded_by=actor.account_id, at=svc.now())
        session.add(closure)
    else:
        closure.reason = why.value
    _audit(session, svc, actor, "case.closure_reason", case.id, "case", case.id, {"reason": why.value})
    return closure


def move_case(session: Session, svc: Services, actor: Actor, case_id: str, status: str, *, reason: str = "",
              expected_version: int | None = None) -> Case:
    """Every change of a case's status asked for by a page or the API. Closing is always the one
    close step (closure record, questionnaire offers, check-ins), however it is asked for; a case
    without its closure record is finished by `finish_case`; the other moves are the status step."""
    if status == states.Status.CLOSING.value:
        closure = close_case(session, svc, actor, case_id, reason=reason, expected_version=expected_version)
        return session.get_one(Case, closure.case_id)
    case = session.get(Case, case_id)  # which step: each checks who may take it
    finishing = case is not None and case.status == states.Status.CLOSING.value
    if status == states.Status.CLOSED.value and finishing and closure_of(session, case_id) is None:
        return finish_case(session, svc, actor, case_id, reason=reason, expected_version=expected_version)
    return cases.set_status(session, svc, actor, case_id, status, expected_version=expected_version, reason=reason)


def finish_case(session: Session, svc: Services, actor: Actor, case_id: str, *, reason: str = "",
                expected_version: int | None = None) -> Case:
    """closing -> closed. A case closed without a reason (an older close) is given one now."""
    case, _ = _case(session, actor, case_id, permissions.may_draft_agreement)
    closure = session.get(CaseClosure, case.id)
    if closure is None or reason:
        try:
            why = states.closure_reason(states.Action.CLOSE, reason)
        except states.TransitionNotAllowed as exc:
            raise BadInput(str(exc), details={"field": "reason"}) from None
        if states.Status(case.status) is not states.Status.CLOSING:
            raise Conflict(Sentence(N_("A case that is %(status)s cannot be finished."),
                                    status=Sentence(states.describe(states.Status(case.status)))),
                           code="case_status")
        if closure is None:  # closed by the case's status step alone: its check-ins were never scheduled
            aftercare.schedule_checkins(session, svc, case)
        _record_closure(session, svc, actor, case, why)
    return cases.set_status(session, svc, actor, case.id, states.Status.CLOSED.value,
                            expected_version=expected_version)


def closure_of(session: Session, case_id: str) -> CaseClosure | None:
    return session.get(CaseClosure, case_id)


# --- feedback ------------------------------------------------------------------------------------


def feedback_pending(session: Session, case: Case, member: Membership) -> bool:
    """Whether this participant is offered the questionnaire now (closure begun, not yet done)."""
    if not permissions.may_give_feedback(member) or not rules.feedback_offered(states.Status(case.status)):
        return False
    done = session.get(FeedbackDone, member.participant_id)
    return done is None or not done.done


def give_feedback(session: Session, svc: Services, actor: Actor, case_id: str,
                  answers: rules.Answers | None) -> None:
    """A participant answers the questionnaire (or declines it: `answers` None). The answers are kept
    apart from them: no participant, case or time; the only link left is that they are done."""
    case, member = _case(session, actor, case_id, permissions.may_give_feedback)
    if not rules.feedback_offered(states.Status(case.status)):
        raise Conflict(N_("The questionnaire is offered when the case closes."), code="feedback")
    if not feedback_pending(session, case, member):
        raise Conflict(N_("You have already answered or declined the questionnaire. Thank you."), code="feedback")
    assert member.participant_id is not None and member.side is not None
    if answers is not None:
        try:
            checked = rules.check_answers(answers)
        except rules.RuleBroken as exc:
            raise refused(exc) from None
        closure = closure_of(session, case.id)
        day = (closure.at if closure else svc.now()).date()
        comment = None
        if checked.comment:
            comment = blobs.store_text(session, svc.store, checked.comment)
            start = datetime(day.year, 3 * ((day.month - 1) // 3) + 1, 1, tzinfo=UTC)
            comment.created_at = start  # the blob's own time would point at the moment of answering
            session.flush()
        session.add(FeedbackAnswer(quarter=rules.quarter(day), side=member.side, satisfied=checked.satisfied,
                                   recommend=checked.recommend, comment_blob_id=comment.id if comment else None))
    done = session.get(FeedbackDone, member.participant_id)
    if done is None:
        session.add(FeedbackDone(participant_id=member.participant_id, done=True))
    else:
        done.done = True
    # One event whether they answered or declined: the log does not say which.
    _audit(session, svc, actor, "feedback.done", case.id, "case", case.id, {})
    session.flush()


def feedback_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(FeedbackAnswer)) or 0)


# --- retention -----------------------------------------------------------------------------------


def blob_ids(session: Session, case_id: str) -> set[str]:
    """Every encrypted item, answer note and item note of a case (for crypto-shredding the case).
    Feedback comments belong to no case and are not listed."""
    versions = select(AgreementVersion.id).join(Agreement, Agreement.id == AgreementVersion.agreement_id) \
        .where(Agreement.case_id == case_id)
    items = select(AgreementItem.id).where(AgreementItem.version_id.in_(versions))
    ids = set(session.scalars(select(AgreementItem.text_blob_id).where(AgreementItem.version_id.in_(versions))))
    ids.update(filter(None, session.scalars(select(AgreementAnswer.note_blob_id)
                                            .where(AgreementAnswer.version_id.in_(versions)))))
    ids.update(filter(None, session.scalars(select(ItemUpdate.note_blob_id).where(ItemUpdate.item_id.in_(items)))))
    return ids
