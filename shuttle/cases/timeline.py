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
from shuttle.i18n import N_, Sentence
from shuttle.messages import gates
from shuttle.messages.models import Message
from shuttle.messages.numbering import Numbered, message_names
from shuttle.messages.states import State, describe
from shuttle.services import Actor

# The timeline's words are marked for staff.po (babel-staff.cfg): each entry is an i18n.Sentence,
# the English as text (tests, exports) and translated with its names where the case page shows it.
KIND_WORDS = {"letter": N_("letter"), "audio": N_("recording"), "video": N_("video"),
              "image": N_("photographed letter")}
ROLE_WORDS = {"principal": "", "proxy": N_("proxy"), "supporter": N_("supporter")}
CONSENT_WORDS = {"take_part": N_("to take part"), "receive_messages": N_("to receive messages")}
REQUEST_WORDS = {"hold": N_("hold it for now"), "return": N_("return it to its author"),
                 "destroy": N_("destroy it")}
SETTING_WORDS = {
    "label_harmed": N_("labels"), "label_responsible": N_("labels"), "initiator": N_("who may write first"),
    "responsible_may_reply": N_("replies"), "approvals_required": N_("approvals needed"),
    "author_must_accept_edits": N_("authors accept edits"), "read_receipts_allowed": N_("read receipts"),
    "watchlist": N_("watch list"),
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
            return Sentence(N_("a participant"))
        role = ROLE_WORDS.get(person.role, "")
        label = self.labels.get(person.side, person.side)
        return Sentence(N_("%(label)s (%(role)s)"), label=label, role=Sentence(role)) if role else label

    def actor(self, event: Event) -> str:
        if event.actor_id is None:
            return "shuttle"
        if event.actor_id in self.staff:
            return self.staff[event.actor_id]
        return self.person(self.accounts.get(event.actor_id))

    def other_side(self, side: str) -> str:
        return self.labels.get("responsible" if side == "harmed" else "harmed", Sentence(N_("the other side")))


def _words(raw: Any, table: Mapping[str, str]) -> str:
    """A stored value in words: marked words from `table` (translated where shown), else as stored."""
    known = table.get(str(raw))
    return Sentence(known) if known is not None else str(raw).replace("_", " ")


def _said(pattern: str, tone: str, **values: object) -> tuple[str, str]:
    return Sentence(pattern, **values), tone


def _listed(words: list[str]) -> str:
    """Words said one after another ("labels, replies"), each translated where shown (the pattern
    itself is no msgid: only its words are)."""
    return Sentence(", ".join(f"%(w{n})s" for n in range(len(words))), **{f"w{n}": w for n, w in enumerate(words)})


#: A message's events said in one sentence whatever their details: (pattern, tone).
SIMPLE_MESSAGE_WORDS: Mapping[str, tuple[str, str]] = {
    "refuse": (N_("The file could not be used; it went back to %(author)s"), "warning"),
    "processing_failed": (N_("Preparing the %(kind)s failed"), "warning"),
    "retry_processing": (N_("%(who)s retried preparing it"), "info"),
    "request_changes": (N_("%(who)s asked %(author)s for changes"), "info"),
    "propose_edit": (N_("%(who)s suggested changes to %(author)s"), "info"),
    "accept_edit": (N_("%(who)s accepted the suggested changes"), "info"),
    "decline_edit": (N_("%(who)s declined the suggested changes"), "info"),
    "release": (N_("Delivered to %(recipient)s"), "good"),
    "withdraw": (N_("%(who)s withdrew it"), "warning"),
    "lift_hold": (N_("The hold was lifted"), "info"),
}


def _message_sentence(event: Event, message: MessageFacts, cast: Cast, receipts_allowed: bool
                      ) -> tuple[str, str] | None:
    """(what happened, tone) for a message's event, or None when it is not part of the story."""
    d, who = event.details, cast.actor(event)
    kind = Sentence(KIND_WORDS.get(message.kind, N_("message")))
    author = cast.labels.get(message.author_side, message.author_side)
    action = event.action.removeprefix("message.")
    if action == "submit":
        revised = d.get("from") == "changes_requested"
        if event.actor_id in cast.staff:
            return _said(N_("%(who)s sent a revised %(kind)s on behalf of %(author)s") if revised
                         else N_("%(who)s sent a %(kind)s on behalf of %(author)s"), "info",
                         who=who, kind=kind, author=author)
        return _said(N_("%(who)s sent a revised %(kind)s") if revised else N_("%(who)s sent a %(kind)s"), "info",
                     who=who, kind=kind)
    if action == "approve":
        kept = len(d.get("flags") or [])
        second = d.get("to") != "approved"
        if kept:
            return _said(N_("%(who)s approved it, keeping %(count)s flagged passage with a reason%(then)s")
                         if kept == 1 else
                         N_("%(who)s approved it, keeping %(count)s flagged passages with a reason%(then)s"),
                         "info" if second else "good", who=who, count=kept,
                         then=Sentence(N_("; it needs a second facilitator")) if second else "")
        if second:
            return _said(N_("%(who)s approved it; it needs a second facilitator"), "info", who=who)
        return _said(N_("%(who)s approved it"), "good", who=who)
    if action == "recall":
        return _said(N_("%(who)s called it back before it was opened; it is in review again"), "warning", who=who)
    if action == "recount":
        approved = d.get("to") in ("approved", "held(approved)")
        return _said(N_("The case's approvals rule changed: approved") if approved
                     else N_("The case's approvals rule changed: back in the review queue"), "info")
    if event.action == "case.safeguarding_incident":
        return _said(N_("%(who)s recorded a safeguarding incident about it"), "warning", who=who)
    if action == "schedule":
        at = d.get("at")
        if not at:
            return _said(N_("%(who)s cleared the delivery time"), "info", who=who)
        return _said(N_("%(who)s scheduled delivery for %(when)s UTC"), "info", who=who,
                     when=str(at)[:16].replace("T", " "))
    if action == "open":
        if not (d.get("receipt_shared") and receipts_allowed):
            return None  # the recipient did not let the sender know
        return _said(N_("%(who)s opened it"), "good", who=cast.other_side(message.author_side))
    if action == "reject":
        return _said(N_("%(who)s decided not to pass it on (reason: %(code)s)"), "warning", who=who,
                     code=_words(d.get("code"), {}))
    if action == "hold":
        reasons = [gates.reason_said(str(r)) for r in d.get("reasons") or []]
        if reasons:
            return _said(N_("Put on hold: %(reasons)s"), "warning", reasons=reasons)
        return _said(N_("Put on hold"), "warning")
    if action == "escalate":
        return _said(N_("Review overdue: passed to the co-facilitator") if d.get("to") else N_("Review overdue"),
                     "warning")
    said = SIMPLE_MESSAGE_WORDS.get(action)
    if said is None:
        return None
    pattern, tone = said  # each names only some of these values; worded only for its own event
    return _said(pattern, tone, **{name: value for name, value in (
        ("who", who), ("kind", kind), ("author", author), ("recipient", cast.other_side(message.author_side)))
        if f"%({name})s" in pattern})


def _case_sentence(event: Event, cast: Cast) -> tuple[str, str] | None:
    d, who, action = event.details, cast.actor(event), event.action
    subject = cast.person(cast.participants.get(event.subject_id or "")) if event.subject_type == "participant" \
        else ""
    if action == "case.create":
        return _said(N_("%(who)s created the case"), "info", who=who)
    if action == "case.status":
        before, after = d.get("from"), d.get("to")
        words = {"open": N_("%(who)s resumed the case") if before == "paused" else N_("%(who)s opened the exchange"),
                 "paused": N_("%(who)s paused the case"), "closing": N_("%(who)s began closing the case"),
                 "closed": N_("%(who)s closed the case")}
        return _said(words.get(str(after), N_("%(who)s changed the case status")),
                     "warning" if after in ("paused", "closing", "closed") else "good", who=who)
    if action == "case.settings":
        changed = sorted({_words(name, SETTING_WORDS) for name in d.get("changed") or []})
        if not changed:
            return _said(N_("%(who)s changed the case settings (none)"), "info", who=who)
        return _said(N_("%(who)s changed the case settings (%(changed)s)"), "info", who=who,
                     changed=_listed(changed))
    if action == "case.add_participant":
        return _said(N_("%(who)s added %(subject)s"), "info", who=who, subject=subject)
    if action in ("consent.grant", "consent.withdraw"):
        what = _words(d.get("kind"), CONSENT_WORDS)
        if action == "consent.grant":
            return _said(N_("%(who)s recorded the consent of %(subject)s %(what)s"), "info", who=who, subject=subject,
                         what=what)
        if event.actor_id not in cast.staff and event.actor_id is not None:
            return _said(N_("%(subject)s withdrew their consent %(what)s"), "warning", subject=subject, what=what)
        return _said(N_("%(who)s recorded that %(subject)s withdrew consent %(what)s"), "warning", who=who,
                     subject=subject, what=what)
    if action == "assessment.record":
        outcome = _words(d.get("outcome"), {"not_suitable": N_("not suitable"), "suitable": N_("suitable")})
        return _said(N_("%(who)s assessed %(subject)s: %(outcome)s"), "info" if outcome == "suitable" else "warning",
                     who=who, subject=subject, outcome=outcome)
    if action == "participant.hold_deliveries":
        return _said(N_("%(who)s paused deliveries to themselves"), "warning", who=who)
    if action == "participant.resume_deliveries":
        return _said(N_("%(who)s resumed deliveries to themselves"), "info", who=who)
    if action == "case.shred":
        return _said(N_("The case's content was destroyed"), "warning")
    return None


def assemble(*, messages: Iterable[MessageFacts], events: Iterable[Event], cast: Cast,
             receipts_allowed: bool) -> list[Entry]:
    """The case's story, oldest first. Events before the exchange opened are left out except
    the case's own (creation, opening): preparation is what the participants table shows."""
    return assemble_newest(messages=messages, events=events, cast=cast, receipts_allowed=receipts_allowed,
                           newest=None)[0]


def assemble_newest(*, messages: Iterable[MessageFacts], events: Iterable[Event], cast: Cast,
                    receipts_allowed: bool, newest: int | None) -> tuple[list[Entry], int]:
    """The newest `newest` entries of `assemble`'s story (all of them for None), oldest first, and how
    many entries the whole story has. Which events make entries is decided without wording any
    (`_told`); only the entries returned are worded."""
    told = _told(events, {m.id: m for m in messages}, receipts_allowed)
    shown = told if newest is None else told[len(told) - max(0, min(newest, len(told))):]
    entries = [entry for entry in (_entry(event, message, cast, receipts_allowed) for event, message in shown)
               if entry is not None]
    return entries, len(told)


#: The actions (less "message.") a message's story words (`_message_sentence`); "open" only where the
#: recipient let the sender know (`_tells`).
MESSAGE_TOLD = frozenset({
    "submit", "approve", "recall", "recount", "case.safeguarding_incident", "schedule", "open", "reject", "hold",
    "escalate", *SIMPLE_MESSAGE_WORDS})
#: The actions of a recipient's request about a message (`_request_sentence`).
REQUEST_TOLD = frozenset({"recipient_request.create", "recipient_request.handle"})
#: The case's own actions (`_case_sentence`); before the exchange opened, only creation and status.
CASE_TOLD = frozenset({
    "case.create", "case.status", "case.settings", "case.add_participant", "consent.grant", "consent.withdraw",
    "assessment.record", "participant.hold_deliveries", "participant.resume_deliveries", "case.shred"})


def _tells(event: Event, receipts_allowed: bool) -> bool:
    """Whether a message's event (or a request's about it) is part of its story."""
    if event.subject_type == "recipient_request":
        return event.action in REQUEST_TOLD
    action = event.action.removeprefix("message.")
    if action == "open":
        return bool(event.details.get("receipt_shared")) and receipts_allowed  # else the sender was not told
    return action in MESSAGE_TOLD


def _told(events: Iterable[Event], by_id: Mapping[str, MessageFacts], receipts_allowed: bool
          ) -> list[tuple[Event, MessageFacts | None]]:
    """The events that make entries, oldest first, each with its message (None for the case's own)."""
    told: list[tuple[Event, MessageFacts | None]] = []
    opened = False
    for event in sorted(events, key=lambda e: e.at):
        if event.action == "case.status" and event.details.get("to") == "open":
            opened = True
        message_id = _message_of(event)
        if message_id is not None:
            message = by_id.get(message_id)
            if message is not None and _tells(event, receipts_allowed):
                told.append((event, message))
        elif event.action in CASE_TOLD and (opened or event.action in ("case.create", "case.status")):
            told.append((event, None))
    return told


def _entry(event: Event, message: MessageFacts | None, cast: Cast, receipts_allowed: bool) -> Entry | None:
    """A told event in words."""
    if message is None:
        said = _case_sentence(event, cast)
        return None if said is None else Entry(event.at, cast.actor(event), said[0], tone=said[1])
    said = (_request_sentence(event, cast) if event.subject_type == "recipient_request"
            else _message_sentence(event, message, cast, receipts_allowed))
    if said is None:
        return None
    return Entry(event.at, cast.actor(event), said[0], message.id, message.name, message.state_words, said[1])


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
        return _said(N_("%(who)s asked the facilitators to %(wanted)s"), "warning", who=who, wanted=wanted)
    if event.action == "recipient_request.handle":
        outcome = Sentence(N_("done") if d.get("outcome") == "done" else N_("not done"))
        return _said(N_("%(who)s answered the request to %(wanted)s: %(outcome)s"), "info", who=who, wanted=wanted,
                     outcome=outcome)
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
    return timeline_of(case, rows, participants, raw, staff)[0]


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
                raw: Iterable[AuditEvent | Event], staff: Mapping[str, str], *, newest: int | None = None
                ) -> tuple[list[Entry], int]:
    """The timeline from rows already read: the case's messages (those never sent are left out),
    its participants, its events (`timeline_events`, or `timeline_event_rows`) and the names of
    staff who acted in it. Its newest `newest` entries (all for None), oldest first, and how many
    it has in all (`assemble_newest`)."""
    sent = [m for m in rows if m.first_submitted_at is not None]
    names = message_names(Numbered(m.id, m.kind, m.first_submitted_at, m.created_at) for m in sent)
    messages = [MessageFacts(m.id, m.kind, m.author_side, describe(State(m.state)), names[m.id]) for m in sent]
    participants = list(participants)
    cast = Cast(labels={"harmed": case.label_of("harmed"), "responsible": case.label_of("responsible")}, staff=staff,
                accounts={p.account_id: Person(p.side, p.role) for p in participants},
                participants={p.id: Person(p.side, p.role) for p in participants})
    events = [e if isinstance(e, Event) else
              Event(e.at, e.action, e.actor_id, e.actor_role, e.subject_type, e.subject_id, e.details or {})
              for e in raw]
    return assemble_newest(messages=messages, events=events, cast=cast, receipts_allowed=case.read_receipts_allowed,
                           newest=newest)
