"""Preparation meetings and what each person wants from the process (issue 10).

A facilitator logs every preparation meeting with a participant (when, how, who attended,
notes) and records what the person wants: the questions they want answered, whether they
want a reply, whether they want to hear how the outcome is kept. Both are kept so the other
facilitator never has to ask again. Who attended, the notes and the questions are encrypted
(`shuttle.blobs`); only the case's facilitators read them. Records are append-only: the
latest wishes are the current ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shuttle import blobs, permissions
from shuttle.access import load_case
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.models import Case, Participant
from shuttle.db import Base, UTCDateTime, new_id, utcnow
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.services import Actor, Services

#: How a preparation meeting was held, marked for staff.po; translated where a page shows it.
MEETING_WAYS = {"phone": N_("phone"), "video_call": N_("video call"), "in_person": N_("in person"),
                "prison_visit": N_("prison visit")}
MAX_NOTE_CHARS = 20_000
MAX_ATTENDED_CHARS = 500
MAX_QUESTIONS = 30
MAX_QUESTION_CHARS = 1_000


class PreparationMeeting(Base):
    """One preparation meeting with a participant; who attended and the notes are one encrypted blob."""

    __tablename__ = "preparation_meetings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    how: Mapped[str] = mapped_column(String(20))
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"))
    recorded_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParticipantWishes(Base):
    """What a person wants from the process. Append-only: the latest record is current.

    `wants_outcome_news` (whether they want to hear how the outcome agreement is kept) is read
    by the outcome-agreement work; None means not asked yet."""

    __tablename__ = "participant_wishes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    questions_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    wants_reply: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    wants_outcome_news: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class MeetingView:
    id: str
    held_on: date
    how: str
    how_words: str
    attended: str
    notes: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class WishesView:
    questions: tuple[str, ...]
    wants_reply: bool | None
    wants_outcome_news: bool | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class PreparationView:
    participant_id: str
    meetings: tuple[MeetingView, ...]  # newest first
    wishes: WishesView | None


def _prepared_participant(session: Session, actor: Actor, case_id: str, participant_id: str
                          ) -> tuple[Case, Participant]:
    case, member = load_case(session, actor, case_id)
    if not permissions.may_keep_private_notes(member):
        raise NotFound()
    participant = session.get(Participant, participant_id)
    if participant is None or participant.case_id != case.id:
        raise NotFound()
    return case, participant


def _check_text(value: str, limit: int, not_text: str, too_long: str) -> str:
    """`not_text` and `too_long` (with %(max)s): whole marked sentences, so each language says its own."""
    if not isinstance(value, str):
        raise BadInput(not_text)
    if len(value) > limit:
        raise BadInput(Sentence(too_long, max=limit))
    return value.strip()


def record_meeting(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str, *,
                   held_on: date, how: str, attended: str, notes: str = "") -> PreparationMeeting:
    case, participant = _prepared_participant(session, actor, case_id, participant_id)
    if how not in MEETING_WAYS:
        raise BadInput(Sentence(N_("A meeting is held by: %(ways)s."), ways=", ".join(MEETING_WAYS)))
    if not isinstance(held_on, date) or held_on > svc.now().date():
        raise BadInput(N_("The meeting's date is a day that has already come (today or before)."))
    attended = _check_text(attended, MAX_ATTENDED_CHARS, N_("Who attended is text."),
                           N_("Who attended can be at most %(max)s characters."))
    if not attended:
        raise BadInput(N_("Say who attended the meeting."))
    notes = _check_text(notes, MAX_NOTE_CHARS, N_("The notes is text."),
                        N_("The notes can be at most %(max)s characters."))
    blob = blobs.store_text(session, svc.store, json.dumps({"attended": attended, "notes": notes},
                                                           ensure_ascii=False))
    meeting = PreparationMeeting(case_id=case.id, participant_id=participant.id, held_on=held_on, how=how,
                                 blob_id=blob.id, recorded_by=actor.account_id, recorded_at=svc.now())
    session.add(meeting)
    session.flush()
    audit.record(session, action="preparation.meeting", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="participant", subject_id=participant.id,
                 details={"meeting": meeting.id, "how": how, "held_on": held_on.isoformat()}, now=svc.now())
    return meeting


def record_wishes(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str, *,
                  questions: list[str], wants_reply: bool | None, wants_outcome_news: bool | None
                  ) -> ParticipantWishes:
    case, participant = _prepared_participant(session, actor, case_id, participant_id)
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise BadInput(N_("'questions' is a list of the questions the person wants answered (text)."))
    kept = [_check_text(q, MAX_QUESTION_CHARS, N_("A question is text."),
                        N_("A question can be at most %(max)s characters.")) for q in questions]
    kept = [q for q in kept if q]
    if len(kept) > MAX_QUESTIONS:
        raise BadInput(Sentence(N_("Up to %(max)s questions can be kept."), max=MAX_QUESTIONS))
    for name, value in (("wants_reply", wants_reply), ("wants_outcome_news", wants_outcome_news)):
        if value is not None and not isinstance(value, bool):
            raise BadInput(Sentence(N_("'%(name)s' is true, false or null (not asked yet)."), name=name))
    blob_id = blobs.store_text(session, svc.store, json.dumps(kept, ensure_ascii=False)).id if kept else None
    wishes = ParticipantWishes(participant_id=participant.id, questions_blob_id=blob_id, wants_reply=wants_reply,
                               wants_outcome_news=wants_outcome_news, recorded_by=actor.account_id,
                               recorded_at=svc.now())
    session.add(wishes)
    session.flush()
    audit.record(session, action="preparation.wishes", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="participant", subject_id=participant.id,
                 details={"questions": len(kept), "wants_reply": wants_reply,
                          "wants_outcome_news": wants_outcome_news}, now=svc.now())
    return wishes


def current_wishes(session: Session, participant_id: str) -> ParticipantWishes | None:
    """The latest wishes of a participant (for other features, e.g. the outcome agreement)."""
    return session.scalar(select(ParticipantWishes).where(ParticipantWishes.participant_id == participant_id)
                          .order_by(ParticipantWishes.id.desc()).limit(1))


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all())


def preparation(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str
                ) -> PreparationView:
    """A participant's meetings (newest first) and current wishes, for the case's facilitators."""
    _, participant = _prepared_participant(session, actor, case_id, participant_id)
    rows = session.scalars(select(PreparationMeeting).where(PreparationMeeting.participant_id == participant.id)
                           .order_by(PreparationMeeting.held_on.desc(), PreparationMeeting.recorded_at.desc())).all()
    wishes = current_wishes(session, participant.id)
    names = _names(session, {r.recorded_by for r in rows} | ({wishes.recorded_by} if wishes else set()))
    meetings = []
    for row in rows:
        body = json.loads(blobs.load_text(session, svc.store, row.blob_id))
        meetings.append(MeetingView(row.id, row.held_on, row.how, MEETING_WAYS[row.how], body["attended"],
                                    body["notes"], names.get(row.recorded_by, ""), row.recorded_at))
    wishes_view = None
    if wishes is not None:
        questions = json.loads(blobs.load_text(session, svc.store, wishes.questions_blob_id)) \
            if wishes.questions_blob_id else []
        wishes_view = WishesView(tuple(questions), wishes.wants_reply, wishes.wants_outcome_news,
                                 names.get(wishes.recorded_by, ""), wishes.recorded_at)
    return PreparationView(participant.id, tuple(meetings), wishes_view)


def blob_ids(session: Session, case_id: str) -> set[str]:
    """Every encrypted meeting record and list of questions of a case (for `shuttle.retention`)."""
    ids = set(session.scalars(select(PreparationMeeting.blob_id).where(PreparationMeeting.case_id == case_id)))
    people = select(Participant.id).where(Participant.case_id == case_id)
    ids.update(filter(None, session.scalars(select(ParticipantWishes.questions_blob_id)
                                            .where(ParticipantWishes.participant_id.in_(people)))))
    return ids
