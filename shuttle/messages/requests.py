"""A recipient asks the facilitators to hold, return or destroy a message delivered to them.

The recipient decides what arrives in their life: besides "open it now" and "not yet", they
can ask their facilitator to keep a message for now, to give it back to its author, or to
destroy it, with a note if they wish. The case's facilitators see the open requests and
record what they did; the recipient sees that answer. Every request and every answer is
audited (without the notes, which are encrypted like any other text).

A message whose "return" or "destroy" request was answered "done" can no longer be opened
by the recipient (see `closed_by_request`, asked by `delivery`). A "destroy" answered "done"
also crypto-shreds the message's content, every version of it, for everyone, staff included
(`retention.shred_message_content`); the message stays in the timeline as a content-free stub.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, i18n, permissions, retention
from shuttle.access import load_case, load_message
from shuttle.audit import log as audit
from shuttle.blobs import Blob
from shuttle.cases.models import Case, Participant
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_
from shuttle.messages.models import Message
from shuttle.messages.request_models import REQUEST_KINDS, REQUEST_OUTCOMES, RecipientRequest
from shuttle.messages.states import State
from shuttle.messages.views import day
from shuttle.services import Actor, Services

MAX_NOTE_CHARS = 2000
#: What each kind of request asks, in words for the people involved.
KIND_WORDS = {
    "hold": N_("hold it for now"),
    "return": N_("return it to the person who sent it"),
    "destroy": N_("destroy it"),
}
OUTCOME_WORDS = {"done": N_("done"), "declined": N_("not done")}  # the API's words (pages say their own)
#: Requests that, once done, close the message to the recipient.
CLOSING_KINDS = ("return", "destroy")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _text(session: Session, svc: Services, blob_id: str | None) -> str:
    return blobs.load_text(session, svc.store, blob_id) if blob_id else ""


def _check_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise BadInput(i18n.Sentence(N_("A note can be at most %(max)s characters."), max=MAX_NOTE_CHARS))
    return note


def request(session: Session, svc: Services, actor: Actor, message_id: str, kind: str,
            note: str = "") -> RecipientRequest:
    """The recipient side asks about a message delivered to it; 404 for anyone else."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    assert member.participant_id is not None
    if kind not in REQUEST_KINDS:
        raise BadInput(i18n.Sentence(N_("A request is one of: %(kinds)s."), kinds=", ".join(REQUEST_KINDS)))
    note = _check_note(note)
    if kind == "hold" and message.state == State.VIEWED:
        raise Conflict(N_("You have already opened this message, so there is nothing to hold. "
                       "You can ask your facilitator to return or destroy it."), code="already_opened")
    if closed_by_request(session, message.id):
        raise Conflict(N_("Your facilitator has already dealt with this message at your request."),
                       code="request_done")
    waiting = session.scalar(select(RecipientRequest.id).where(
        RecipientRequest.message_id == message.id, RecipientRequest.handled_at.is_(None)))
    if waiting:
        raise Conflict(N_("You have already asked your facilitator about this message. "
                       "They will be in touch."), code="request_open")
    row = RecipientRequest(case_id=case.id, message_id=message.id, participant_id=member.participant_id,
                           requested_by=actor.account_id, kind=kind, requested_at=svc.now(),
                           note_blob_id=blobs.store_text(session, svc.store, note).id if note else None)
    session.add(row)
    session.flush()
    audit.record(session, action="recipient_request.create", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="recipient_request", subject_id=row.id,
                 details={"kind": kind, "message": message.id, "with_note": bool(note)}, now=svc.now())
    return row


@dataclass(frozen=True)
class RequestView:
    """A recipient's request about a message, with the facilitators' answer once there is one."""

    id: str
    case_id: str
    case_reference: str
    message_id: str
    message_kind: str
    message_state: str
    kind: str
    kind_words: str
    from_label: str  # who asks: the recipient side
    requested_by_role: str
    note: str
    requested_at: datetime
    handled_at: datetime | None
    outcome: str | None
    outcome_words: str
    outcome_note: str

    @property
    def requested_on(self) -> str | None:
        return day(self.requested_at)

    @property
    def handled_on(self) -> str | None:
        return day(self.handled_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "case_reference": self.case_reference,
            "message_id": self.message_id, "message_kind": self.message_kind, "message_state": self.message_state,
            "kind": self.kind, "kind_words": self.kind_words, "from_label": self.from_label,
            "requested_by_role": self.requested_by_role, "note": self.note,
            "requested_at": _iso(self.requested_at), "handled_at": _iso(self.handled_at), "outcome": self.outcome,
            "outcome_words": self.outcome_words, "outcome_note": self.outcome_note,
        }


def _views(session: Session, svc: Services, rows: Sequence[RecipientRequest], case: Case) -> list[RequestView]:
    """The requests' views: their messages, the people who asked and the notes' keys in one
    query each, whatever the number of requests."""
    messages = {m.id: m for m in session.scalars(select(Message).where(
        Message.id.in_({row.message_id for row in rows})))} if rows else {}
    people = {p.id: p for p in session.scalars(select(Participant).where(
        Participant.id.in_({row.participant_id for row in rows})))} if rows else {}
    notes = {b for row in rows for b in (row.note_blob_id, row.outcome_note_blob_id) if b}
    if notes:  # into the session, so that blobs.load_text finds each key without a query
        session.scalars(select(Blob).where(Blob.id.in_(notes))).all()
    return [_view(session, svc, row, case, messages[row.message_id], people[row.participant_id]) for row in rows]


def _view(session: Session, svc: Services, row: RecipientRequest, case: Case, message: Message,
          participant: Participant) -> RequestView:
    return RequestView(
        id=row.id, case_id=row.case_id, case_reference=case.reference,
        message_id=row.message_id, message_kind=message.kind, message_state=message.state,
        kind=row.kind, kind_words=KIND_WORDS[row.kind],
        from_label=case.label_of(participant.side), requested_by_role=participant.role,
        note=_text(session, svc, row.note_blob_id),
        requested_at=row.requested_at, handled_at=row.handled_at, outcome=row.outcome,
        outcome_words=OUTCOME_WORDS.get(row.outcome or "", ""),
        outcome_note=_text(session, svc, row.outcome_note_blob_id),
    )


def open_requests(session: Session, svc: Services, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    """The case's requests not yet answered, oldest first: for its facilitators only."""
    case, member = load_case(session, actor, case_id)
    if not member.is_facilitator:
        raise NotFound()
    rows = session.scalars(select(RecipientRequest).where(
        RecipientRequest.case_id == case.id, RecipientRequest.handled_at.is_(None),
    ).order_by(RecipientRequest.requested_at, RecipientRequest.id)).all()
    return [view.as_json() for view in _views(session, svc, rows, case)]


def handle(session: Session, svc: Services, actor: Actor, request_id: str, outcome: str,
           note: str = "") -> RecipientRequest:
    """A facilitator of the case records what they did: `done` or `declined`, with a note
    that the recipient is shown. Answered once; never changed afterwards."""
    row = session.get(RecipientRequest, request_id)
    if row is None:
        raise NotFound()
    case, member = load_case(session, actor, row.case_id)
    if not member.is_facilitator:
        raise NotFound()
    if outcome not in REQUEST_OUTCOMES:
        raise BadInput(i18n.Sentence(N_("An outcome is one of: %(outcomes)s."), outcomes=", ".join(REQUEST_OUTCOMES)))
    note = _check_note(note)
    if row.handled_at is not None:
        raise Conflict(N_("This request has already been answered."), code="already_handled")
    if row.kind == "destroy" and outcome == "done" and case.legal_hold_since is not None:
        raise Conflict(N_("This case is on legal hold, so nothing in it can be destroyed until the coordinator "
                       "lifts the hold."), code="legal_hold")
    row.handled_at, row.handled_by, row.outcome = svc.now(), actor.account_id, outcome
    if note:
        row.outcome_note_blob_id = blobs.store_text(session, svc.store, note).id
    session.flush()
    details: dict[str, Any] = {"kind": row.kind, "outcome": outcome, "message": row.message_id}
    if row.kind == "destroy" and outcome == "done":  # for everyone, staff too: the message stays as a stub
        details["objects_shredded"] = retention.shred_message_content(session, svc, row.message_id)
    audit.record(session, action="recipient_request.handle", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="recipient_request", subject_id=row.id, details=details,
                 now=svc.now())
    return row


def for_message(session: Session, svc: Services, actor: Actor, message_id: str) -> list[dict[str, Any]]:
    """The recipient side's requests about one message delivered to it, newest first (JSON)."""
    return [view.as_json() for view in request_views(session, svc, actor, message_id)]


def request_views(session: Session, svc: Services, actor: Actor, message_id: str) -> list[RequestView]:
    """The recipient side's requests about one message delivered to it, newest first; 404 for anyone else."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    rows = session.scalars(select(RecipientRequest).where(RecipientRequest.message_id == message.id)
                           .order_by(RecipientRequest.requested_at.desc(), RecipientRequest.id)).all()
    return _views(session, svc, rows, case)


def closed_by_request(session: Session, message_id: str) -> str | None:
    """'return' or 'destroy' when the facilitators did that at the recipient's request, else None."""
    return standings(session, [message_id])[message_id].closed


@dataclass(frozen=True)
class LatestRequest:
    """The recipient's latest request about a message, as their home page mentions it."""

    kind: str
    words: str
    handled: bool
    outcome: str | None


@dataclass(frozen=True)
class RequestStanding:
    """What the recipient's requests mean for one message delivered to them."""

    latest: LatestRequest | None
    #: 'return' or 'destroy' once the facilitators did that at the recipient's request: the
    #: message can no longer be opened by them
    closed: str | None
    #: kept for them at their request: their latest request is to hold it, and it was not declined
    held: bool


def standing_of(rows: Sequence[RecipientRequest]) -> RequestStanding:
    """The standing of a message from its requests, oldest first (pure)."""
    closed = next((row.kind for row in rows if row.kind in CLOSING_KINDS and row.outcome == "done"), None)
    last = rows[-1] if rows else None
    latest = None if last is None else LatestRequest(last.kind, KIND_WORDS[last.kind], last.handled_at is not None,
                                                     last.outcome)
    return RequestStanding(latest, closed, bool(last and last.kind == "hold" and last.outcome != "declined"))


def standings(session: Session, message_ids: Collection[str]) -> dict[str, RequestStanding]:
    """The standing of each message, in one query whatever the number of messages."""
    found: dict[str, list[RecipientRequest]] = {m: [] for m in message_ids}
    # asked even for no message, so that a page runs the same statements whatever it lists
    for row in session.scalars(select(RecipientRequest).where(RecipientRequest.message_id.in_(found))
                               .order_by(RecipientRequest.requested_at, RecipientRequest.id)):
        found[row.message_id].append(row)
    return {m: standing_of(rows) for m, rows in found.items()}


@dataclass(frozen=True)
class AuthorNotice:
    """What the author's side is told once the recipient's request to return or destroy their
    message was done: which, when, and (`sentence`) what to say."""

    kind: str  # 'return' | 'destroy'
    to: str  # the recipient side's label
    kind_name: str  # "letter", "video", … (participant_views.KIND_NAMES, in the catalogue)
    handled_at: datetime

    @property
    def destroyed(self) -> bool:
        return self.kind == "destroy"

    @property
    def sentence(self) -> str:
        """In the language being rendered (issue 12): the page reads it while it renders."""
        values = {"who": self.to[:1].upper() + self.to[1:], "to": self.to, "kind": i18n.gettext(self.kind_name),
                  "when": day(self.handled_at)}
        if self.kind == "return":
            return i18n.gettext("%(who)s asked for this %(kind)s to be returned to you. Your facilitator did that on "
                                "%(when)s: %(to)s can no longer open it.") % values
        return i18n.gettext("%(who)s asked for this %(kind)s to be destroyed. Your facilitator did that on %(when)s: "
                            "it has been deleted for good, and nobody can open it any more: not %(to)s, not you and "
                            "not your facilitators.") % values


def author_notice(session: Session, message_id: str, to: str, kind_name: str) -> AuthorNotice | None:
    """The sentence for the author's page when the facilitators returned or destroyed the message at
    the recipient's request (`to`: the recipient side's label, `kind_name`: "letter", "video", …)."""
    row = session.scalar(select(RecipientRequest).where(
        RecipientRequest.message_id == message_id, RecipientRequest.kind.in_(CLOSING_KINDS),
        RecipientRequest.outcome == "done").order_by(RecipientRequest.handled_at).limit(1))
    if row is None or row.handled_at is None:
        return None
    return AuthorNotice(row.kind, to, kind_name, row.handled_at)
