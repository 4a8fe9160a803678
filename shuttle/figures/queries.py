"""The rows the figures are counted from, read in a fixed number of statements whatever the period
or the size of the service (one per kind of thing: see `load`). Only codes, times and ids are read:
never a name, never content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from shuttle.agreements.models import Agreement, AgreementItem, CaseClosure, CheckIn, FeedbackAnswer, ItemUpdate
from shuttle.cases.models import Case
from shuttle.figures.counting import CheckInRow, Decision, FeedbackRow, ReferralRow, Submission
from shuttle.figures.rules import Period
from shuttle.messages.models import Approval, Message, MessageVersion, ReviewNote
from shuttle.referrals.models import Referral


@dataclass(frozen=True)
class Rows:
    referrals: list[ReferralRow]
    case_statuses: list[str]  # of the cases begun in the period, as they stand now
    closure_reasons: list[str]  # of the closures recorded in the period
    delivered_kinds: list[str]  # of the messages released in the period (and not called back)
    submissions: list[Submission]
    decisions: list[Decision]
    agreements: int  # agreed by both in the period
    item_statuses: list[str | None]  # each item of those agreed versions: its latest mark, or None
    feedback: list[FeedbackRow]
    checkins: list[CheckInRow]


def _within(column: Any, period: Period) -> list[Any]:
    if period.start is None or period.end is None:
        return []
    return [column >= period.start, column < period.end]


def _before_end(column: Any, period: Period) -> list[Any]:
    return [] if period.end is None else [column < period.end]


def load(session: Session, period: Period, *, today: date) -> Rows:
    """Twelve statements, whatever the period holds."""
    referrals = [ReferralRow(source, received, contacted) for source, received, contacted in session.execute(
        select(Referral.source, Referral.received_at, Referral.contacted_at)
        .where(*_within(Referral.received_at, period)))]
    statuses = list(session.scalars(select(Case.status).where(*_within(Case.created_at, period))))
    reasons = list(session.scalars(select(CaseClosure.reason).where(*_within(CaseClosure.at, period))))
    kinds = list(session.scalars(select(Message.kind).where(Message.released_at.is_not(None),
                                                            *_within(Message.released_at, period))))

    # review: the messages with a decision in the period, with every submission and decision before its end
    approvals = select(Approval.message_id).where(*_within(Approval.at, period))
    returns = select(ReviewNote.message_id).where(ReviewNote.kind == "request_changes",
                                                  *_within(ReviewNote.at, period))
    decided = union(approvals, returns).subquery()
    submissions = [Submission(m, at) for m, at in session.execute(
        select(MessageVersion.message_id, MessageVersion.created_at)
        .where(MessageVersion.origin == "author", MessageVersion.message_id.in_(select(decided.c.message_id)),
               *_before_end(MessageVersion.created_at, period)))]
    decisions = [Decision(m, at, "approved") for m, at in session.execute(
        select(Approval.message_id, Approval.at).where(Approval.message_id.in_(select(decided.c.message_id)),
                                                       *_before_end(Approval.at, period)))]
    decisions += [Decision(m, at, "returned") for m, at in session.execute(
        select(ReviewNote.message_id, ReviewNote.at).where(ReviewNote.kind == "request_changes",
                                                           ReviewNote.message_id.in_(select(decided.c.message_id)),
                                                           *_before_end(ReviewNote.at, period)))]

    agreed = select(Agreement.agreed_version_id).where(Agreement.agreed_at.is_not(None),
                                                       *_within(Agreement.agreed_at, period))
    agreements = len(session.scalars(agreed).all())
    items = list(session.scalars(select(AgreementItem.id).where(AgreementItem.version_id.in_(agreed))))
    latest: dict[str, str] = {}
    for item_id, status in session.execute(
            select(ItemUpdate.item_id, ItemUpdate.status)
            .where(ItemUpdate.item_id.in_(select(AgreementItem.id).where(AgreementItem.version_id.in_(agreed))))
            .order_by(ItemUpdate.id)):
        latest[item_id] = status  # the latest mark counts

    feedback_query = select(FeedbackAnswer.satisfied, FeedbackAnswer.recommend)
    if period.start is not None:
        feedback_query = feedback_query.where(FeedbackAnswer.quarter == period.key)
    feedback = [FeedbackRow(s, r) for s, r in session.execute(feedback_query)]

    checkin_query = select(CheckIn.due_on, CheckIn.done_at).where(CheckIn.due_on <= today)
    if period.start is not None and period.end is not None:
        checkin_query = checkin_query.where(CheckIn.due_on >= period.start.date(), CheckIn.due_on < period.end.date())
    checkins = [CheckInRow(due, done) for due, done in session.execute(checkin_query)]

    return Rows(referrals, statuses, reasons, kinds, submissions, decisions, agreements,
                [latest.get(i) for i in items], feedback, checkins)

