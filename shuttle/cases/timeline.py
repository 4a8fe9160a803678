"""A case's exchange as a timeline: who sent what when, what the facilitators did, what
became of each message, and when it was opened (only where the recipient allowed receipts).

`assemble` is pure: it turns facts about the case's messages and its audit events into
sentences. It never sees message content (the audit log holds none), and it words only the
events it knows, so a new kind of event never leaks its details by accident. `case_timeline`
reads those facts for a facilitator of the case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shuttle.access import load_case
from shuttle.accounts.models import Account
from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Case, Participant
from shuttle.errors import NotFound
from shuttle.messages.models import Message
from shuttle.messages.numbering import Numbered, message_names
from shuttle.messages.states import State, describe
from shuttle.services import Actor

KIND_WORDS = {"letter": "letter", "audio": "recording", "video": "video", "image": "photographed letter"}
ROLE_WORDS = {"principal": "", "proxy": "proxy", "supporter": "supporter"}
CONSENT_WORDS = {"take_part": "to take part", "receive_messages": "to receive messages"}
REQUEST_WORDS = {"hold": "hold it for now", "return": "return it to its author", "destroy": "destroy it"}
SETTING_WORDS = {
    "label_harmed": "labels", "label_responsible": "labels", "initiator": "who may write first",
    "responsible_may_reply": "replies", "approvals_required": "approvals needed",
    "author_must_accept_edits": "authors accept edits", "read_receipts_allowed": "read receipts",
    "watchlist": "watch list",
}


@dataclass(frozen=True)
class MessageFacts:
    id: str
    kind: str
    author_side: str
    state_words: str  # the message's state now, in words
    name: str  # "Letter 1": numbering.message_names


@dataclass(frozen=True)
class Person:
    """A participant as the timeline names them: their side's label, and their role."""

    side: str
    role: str


@dataclass(frozen=True)
class Event:
    at: datetime
    action: str
    actor_id: str | None
    actor_role: str
    subject_type: str | None
    subject_id: str | None
    details: Mapping[str, Any]


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    what: str
    message_id: str | None = None
    message_name: str | None = None  # "Letter 1", "Video 2": the case's messages numbered in order
    message_state: str | None = None
    tone: str = "info"  # info | good | warning


@dataclass(frozen=True)
class Cast:
    """Everyone an event may name: side labels, staff names by account, participants."""

    labels: Mapping[str, str]  # side -> label
    staff: Mapping[str, str]  # account id -> display name
    accounts: Mapping[str, Person]  # participant account id -> side, role
    participants: Mapping[str, Person]  # participant id -> side, role

    def person(self, person: Person | None) -> str:
        if person is None:
            return "a participant"
        role = ROLE_WORDS.get(person.role, "")
        label = self.labels.get(person.side, person.side)
        return f"{label} ({role})" if role else label

    def actor(self, event: Event) -> str:
        if event.actor_id is None:
            return "shuttle"
        if event.actor_id in self.staff:
            return self.staff[event.actor_id]
        return self.person(self.accounts.get(event.actor_id))

    def other_side(self, side: str) -> str:
        return self.labels.get("responsible" if side == "harmed" else "harmed", "the other side")


def _words(raw: Any, table: Mapping[str, str]) -> str:
    return table.get(str(raw), str(raw).replace("_", " "))


def _message_sentence(event: Event, message: MessageFacts, cast: Cast, receipts_allowed: bool
                      ) -> tuple[str, str] | None:
    """(what happened, tone) for a message's event, or None when it is not part of the story."""
    d, who = event.details, cast.actor(event)
    kind = KIND_WORDS.get(message.kind, "message")
    author = cast.labels.get(message.author_side, message.author_side)
    action = event.action.removeprefix("message.")
    if action == "submit":
        revised = d.get("from") == "changes_requested"
        sent = f"sent a {'revised ' if revised else ''}{kind}"
        if event.actor_id in cast.staff:
            return f"{who} {sent} on behalf of {author}", "info"
        return f"{who} {sent}", "info"
    if action == "approve":
        kept = len(d.get("flags") or [])
        keeping = f", keeping {kept} flagged passage{'s' if kept != 1 else ''} with a reason" if kept else ""
        if d.get("to") == "approved":
            return f"{who} approved it{keeping}", "good"
        return f"{who} approved it{keeping}; it needs a second facilitator", "info"
    if action == "recall":
        return f"{who} called it back before it was opened; it is in review again", "warning"
    if action == "recount":
        after = "approved" if d.get("to") in ("approved", "held(approved)") else "back in the review queue"
        return f"The case's approvals rule changed: {after}", "info"
    if event.action == "case.safeguarding_incident":
        return f"{who} recorded a safeguarding incident about it", "warning"
    if action == "schedule":
        at = d.get("at")
        if not at:
            return f"{who} cleared the delivery time", "info"
        return f"{who} scheduled delivery for {str(at)[:16].replace('T', ' ')} UTC", "info"
    if action == "open":
        if not (d.get("receipt_shared") and receipts_allowed):
            return None  # the recipient did not let the sender know
        return f"{cast.other_side(message.author_side)} opened it", "good"
    if action == "reject":
        return f"{who} decided not to pass it on (reason: {_words(d.get('code'), {})})", "warning"
    if action == "hold":
        reasons = d.get("reasons") or []
        because = f": {'; '.join(str(r) for r in reasons)}" if reasons else ""
        return f"Put on hold{because}", "warning"
    if action == "escalate":
        return "Review overdue: passed to the co-facilitator" if d.get("to") else "Review overdue", "warning"
    simple = {
        "refuse": (f"The file could not be used; it went back to {author}", "warning"),
        "processing_failed": (f"Preparing the {kind} failed", "warning"),
        "retry_processing": (f"{who} retried preparing it", "info"),
        "request_changes": (f"{who} asked {author} for changes", "info"),
        "propose_edit": (f"{who} suggested changes to {author}", "info"),
        "accept_edit": (f"{who} accepted the suggested changes", "info"),
        "decline_edit": (f"{who} declined the suggested changes", "info"),
        "release": (f"Delivered to {cast.other_side(message.author_side)}", "good"),
        "withdraw": (f"{who} withdrew it", "warning"),
        "lift_hold": ("The hold was lifted", "info"),
    }
    return simple.get(action)


def _case_sentence(event: Event, cast: Cast) -> tuple[str, str] | None:
    d, who, action = event.details, cast.actor(event), event.action
    subject = cast.person(cast.participants.get(event.subject_id or "")) if event.subject_type == "participant" \
        else ""
    if action == "case.create":
        return f"{who} created the case", "info"
    if action == "case.status":
        before, after = d.get("from"), d.get("to")
        words = {"open": "resumed the case" if before == "paused" else "opened the exchange",
                 "paused": "paused the case", "closing": "began closing the case", "closed": "closed the case"}
        return (f"{who} {words.get(str(after), 'changed the case status')}",
                "warning" if after in ("paused", "closing", "closed") else "good")
    if action == "case.settings":
        changed = sorted({_words(name, SETTING_WORDS) for name in d.get("changed") or []})
        return f"{who} changed the case settings ({', '.join(changed) or 'none'})", "info"
    if action == "case.add_participant":
        return f"{who} added {subject}", "info"
    if action in ("consent.grant", "consent.withdraw"):
        what = _words(d.get("kind"), CONSENT_WORDS)
        if action == "consent.grant":
            return f"{who} recorded the consent of {subject} {what}", "info"
        if event.actor_id not in cast.staff and event.actor_id is not None:
            return f"{subject} withdrew their consent {what}", "warning"
        return f"{who} recorded that {subject} withdrew consent {what}", "warning"
    if action == "assessment.record":
        outcome = _words(d.get("outcome"), {"not_suitable": "not suitable"})
        return f"{who} assessed {subject}: {outcome}", "warning" if outcome != "suitable" else "info"
    if action == "participant.hold_deliveries":
        return f"{who} paused deliveries to themselves", "warning"
    if action == "participant.resume_deliveries":
        return f"{who} resumed deliveries to themselves", "info"
    if action == "case.shred":
        return "The case's content was destroyed", "warning"
    return None


def assemble(*, messages: Iterable[MessageFacts], events: Iterable[Event], cast: Cast,
             receipts_allowed: bool) -> list[Entry]:
    """The case's story, oldest first. Events before the exchange opened are left out except
    the case's own (creation, opening): preparation is what the participants table shows."""
    by_id = {m.id: m for m in messages}
    entries: list[Entry] = []
    opened = False
    for event in sorted(events, key=lambda e: e.at):
        if event.action == "case.status" and event.details.get("to") == "open":
            opened = True
        message_id = _message_of(event)
        if message_id is not None:
            message = by_id.get(message_id)
            if message is None:
                continue
            sentence = (_request_sentence(event, cast) if event.subject_type == "recipient_request"
                        else _message_sentence(event, message, cast, receipts_allowed))
            if sentence is None:
                continue
            entries.append(Entry(event.at, cast.actor(event), sentence[0], message.id, message.name,
                                 message.state_words, sentence[1]))
            continue
        if not opened and event.action not in ("case.create", "case.status"):
            continue
        sentence = _case_sentence(event, cast)
        if sentence is not None:
            entries.append(Entry(event.at, cast.actor(event), sentence[0], tone=sentence[1]))
    return entries


def _message_of(event: Event) -> str | None:
    if event.subject_type == "message":
        return event.subject_id
    if event.subject_type == "recipient_request":
        return str(event.details.get("message") or "") or None
    return None


def _request_sentence(event: Event, cast: Cast) -> tuple[str, str] | None:
    d, who = event.details, cast.actor(event)
    wanted = _words(d.get("kind"), REQUEST_WORDS)
    if event.action == "recipient_request.create":
        return f"{who} asked the facilitators to {wanted}", "warning"
    if event.action == "recipient_request.handle":
        outcome = "done" if d.get("outcome") == "done" else "not done"
        return f"{who} answered the request to {wanted}: {outcome}", "info"
    return None


# --- reading the facts (not pure) ----------------------------------------------------------------


def case_timeline(session: Session, actor: Actor, case_id: str) -> list[Entry]:
    """The timeline of a case for one of its facilitators; NotFound for anyone else."""
    case, member = load_case(session, actor, case_id)
    if not member.is_facilitator:
        raise NotFound()
    rows = list(session.scalars(select(Message).where(Message.case_id == case.id,
                                                       Message.first_submitted_at.is_not(None))))
    participants = list(session.scalars(select(Participant).where(Participant.case_id == case.id)))
    raw = list(session.scalars(timeline_events(case.id)))
    actor_ids = {e.actor_id for e in raw if e.actor_id}
    staff = {a.id: a.display_name for a in session.scalars(
        select(Account).where(Account.id.in_(actor_ids), Account.role != "participant"))}
    return timeline_of(case, rows, participants, raw, staff)


def timeline_events(case_id: str) -> Select[AuditEvent]:
    """The audit events a case's timeline reads: as audit.events_for_case, less the many views."""
    return select(AuditEvent).where(AuditEvent.case_id == case_id,
                                    AuditEvent.action != "message.view_content").order_by(AuditEvent.seq)


def timeline_event_rows(session: Session, case_id: str) -> list[Event]:
    """`timeline_events` read as columns straight into `Event`s (no ORM objects: a case has
    hundreds of events, and the timeline only reads them)."""
    query = select(AuditEvent.at, AuditEvent.action, AuditEvent.actor_id, AuditEvent.actor_role,
                   AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.details).where(
        AuditEvent.case_id == case_id, AuditEvent.action != "message.view_content").order_by(AuditEvent.seq)
    return [Event(at, action, actor_id, actor_role, subject_type, subject_id, details or {})
            for at, action, actor_id, actor_role, subject_type, subject_id, details in session.execute(query)]


def timeline_of(case: Case, rows: Iterable[Message], participants: Iterable[Participant],
                raw: Iterable[AuditEvent | Event], staff: Mapping[str, str]) -> list[Entry]:
    """The timeline from rows already read: the case's messages (those never sent are left out),
    its participants, its events (`timeline_events`, or `timeline_event_rows`) and the names of
    staff who acted in it."""
    sent = [m for m in rows if m.first_submitted_at is not None]
    names = message_names(Numbered(m.id, m.kind, m.first_submitted_at, m.created_at) for m in sent)
    messages = [MessageFacts(m.id, m.kind, m.author_side, describe(State(m.state)), names[m.id]) for m in sent]
    participants = list(participants)
    cast = Cast(labels={"harmed": case.label_harmed, "responsible": case.label_responsible}, staff=staff,
                accounts={p.account_id: Person(p.side, p.role) for p in participants},
                participants={p.id: Person(p.side, p.role) for p in participants})
    events = [e if isinstance(e, Event) else
              Event(e.at, e.action, e.actor_id, e.actor_role, e.subject_type, e.subject_id, e.details or {})
              for e in raw]
    return assemble(messages=messages, events=events, cast=cast, receipts_allowed=case.read_receipts_allowed)
