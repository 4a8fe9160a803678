"""What the participants' pages show, as typed view models built in a bounded number of queries.

The pages (`shuttle/web/pages/participants.py`) only parse input, call one of these builders and
render. Each builder loads what it needs in one query per kind of thing (messages with their
versions, authors, writers and jobs; requests; notes), whatever the number of messages, then
builds frozen dataclasses from the preloaded rows. The words for states come from `states.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import cases_of, load_case, load_message
from shuttle.cases.facts import current_consent
from shuttle.cases.models import Case, Participant, other_side
from shuttle.cases.states import Status
from shuttle.dates import on_day
from shuttle.errors import Conflict, NotFound
from shuttle.i18n import N_, Sentence, gettext
from shuttle.messages import author_captions, authoring, delivery, replies, requests, sharing, supported_opening
from shuttle.messages.captions import EditorLine, editor_lines, with_starts
from shuttle.messages.diff import word_diff
from shuttle.messages.drafting import author_flags, flags_key
from shuttle.messages.models import Approval, Message
from shuttle.messages.requests import LatestRequest, RequestView
from shuttle.messages.sharing import SupporterChoice
from shuttle.messages.states import AUTHOR_STEP, AUTHOR_WORDS, AUTHOR_WORDS_RECALLED, DELIVERED, State
from shuttle.messages.supported_opening import SupportedView
from shuttle.messages.text import normalise
from shuttle.messages.views import (
    AuthorView,
    RecipientView,
    author_notes,
    author_view,
    day,
    load_rows,
    recipient_view,
    visible,
)
from shuttle.permissions import Membership
from shuttle.services import Actor, Services
from shuttle.uploads.limits import MAX_RECORDING_SECONDS

#: A kind of message in the participants' words.
KIND_NAMES = {"letter": N_("letter"), "audio": N_("recording"), "video": N_("video"),
              "image": N_("photographed letter")}
#: A message named in a sentence or a title, one pattern per kind (each language says the kind its own way).
SENT_NAMES = {"letter": N_("your letter of %(day)s"), "audio": N_("your recording of %(day)s"),
              "video": N_("your video of %(day)s"), "image": N_("your photographed letter of %(day)s")}
RECEIVED_NAMES = {"letter": N_("the letter from %(label)s delivered %(day)s"),
                  "audio": N_("the recording from %(label)s delivered %(day)s"),
                  "video": N_("the video from %(label)s delivered %(day)s"),
                  "image": N_("the photographed letter from %(label)s delivered %(day)s")}
TITLES_TO = {"letter": N_("Letter to %(label)s"), "audio": N_("Recording to %(label)s"),
             "video": N_("Video to %(label)s"), "image": N_("Photographed letter to %(label)s")}
TITLES_FROM = {"letter": N_("Letter from %(label)s"), "audio": N_("Recording from %(label)s"),
               "video": N_("Video from %(label)s"), "image": N_("Photographed letter from %(label)s")}
#: What the file chooser offers for each kind.
ACCEPT = {"video": "video/*", "audio": "audio/*", "image": "image/jpeg,image/png,image/webp", "letter": ""}
#: Case statuses in which nobody starts a message any more.
ENDING = frozenset({Status.CLOSING, Status.CLOSED})


def refusal(view: AuthorView) -> str | None:
    """Why the worker could not use the author's own letter or file, as a sentence; None otherwise.

    A refusal is stored as `changes_requested` with the version's processing error (see
    processing.fail): it must not read as a facilitator's request for changes."""
    reason = (view.processing_error or "").strip().rstrip(".")
    if view.state != State.CHANGES_REQUESTED or not reason:
        return None
    if not reason[1:2].isupper():  # "The file is empty" reads "the file is empty"; "MP4 ..." stays
        reason = reason[:1].lower() + reason[1:]
    if view.kind == "letter":
        return f"We could not use this letter: {reason}. You can change it and send it again."
    return f"We could not use this file: {reason}. You can send another."


def author_words(view: AuthorView) -> tuple[str, str]:
    """The author's message in their words (short status, what it means for them)."""
    refused = refusal(view)
    if refused is not None:
        return N_("Could not be used"), refused
    return AUTHOR_WORDS_RECALLED if view.recalled else AUTHOR_WORDS[view.state]


# --- the participant's home ----------------------------------------------------------------------


@dataclass(frozen=True)
class InboxLine:
    """A message delivered to me, as my home lists it."""

    id: str
    from_label: str
    by_proxy: bool
    delivered_on: str  # "Tuesday 1 December 2026", or "" when not known
    opened: bool
    request: LatestRequest | None  # my latest request about it


@dataclass(frozen=True)
class MineLine:
    """A message of my side, as my home lists it."""

    id: str
    kind_name: str
    to: str
    state: State
    words: str
    written_as: str


@dataclass(frozen=True)
class ConversationLine:
    """One message of my exchange, mine or theirs, as the conversation on my home lists it."""

    id: str
    mine: bool  # my side's (its page is /me/messages/<id>), or delivered to me (/me/inbox/<id>)
    title: str  # "Letter to the person responsible", "Recording from the person harmed"
    on: str  # "sent Tuesday 1 December 2026", "delivered ...", "written ..." (a draft)
    words: str  # where it is, in words (states.py for mine)
    state: State | None  # mine: its state as I may know it (for the tag's colour); theirs: None
    answers: str | None  # for a reply: the message it answers, in words
    may_reply: bool  # theirs, opened, and I may write now
    written_by: str | None = None  # mine, written by someone acting for my side: "proxy (her son)"

    @property
    def url(self) -> str:
        return f"/me/messages/{self.id}" if self.mine else f"/me/inbox/{self.id}"


def sent_name(kind: str, sent_at: datetime | None) -> str:
    """My side's message named for me: "your letter of Tuesday 1 December 2026" (no numbers,
    which would count messages this reader does not see)."""
    return Sentence(SENT_NAMES[kind], day=on_day(sent_at))


def received_name(kind: str, from_label: str, delivered_at: datetime | None) -> str:
    """A message delivered to me named for me: "the letter from Sam delivered Tuesday 1 December 2026"."""
    return Sentence(RECEIVED_NAMES[kind], label=from_label, day=on_day(delivered_at))


def _name(view: AuthorView | RecipientView) -> str:
    if isinstance(view, AuthorView):
        return sent_name(view.kind, view.submitted_at or view.created_at)
    return received_name(view.kind, view.from_label, view.delivered_at)


def _answered_name(session: Session, member: Membership, case: Case, message_id: str | None) -> str | None:
    """The message a reply answers, named for this member (one query); None when it answers none."""
    answered = session.get(Message, message_id) if message_id else None
    if answered is None or not visible(member, answered):
        return None
    if permissions.is_author_side(member, answered.author_side):
        return sent_name(answered.kind, answered.submitted_at or answered.created_at)
    return received_name(answered.kind, case.label_of(answered.author_side), answered.released_at)


def _when(view: AuthorView | RecipientView) -> tuple[datetime, str]:
    """When it entered the conversation as this reader knows it, and that date in words."""
    if isinstance(view, RecipientView):
        assert view.delivered_at is not None  # a recipient sees a message once delivered
        return view.delivered_at, gettext("delivered %(day)s") % {"day": on_day(view.delivered_at)}
    if view.delivered_at is not None:
        return view.delivered_at, gettext("delivered %(day)s") % {"day": on_day(view.delivered_at)}
    if view.submitted_at is not None:
        return view.submitted_at, gettext("sent %(day)s") % {"day": on_day(view.submitted_at)}
    return view.created_at, gettext("written %(day)s") % {"day": on_day(view.created_at)}


def conversation(views: Sequence[AuthorView | RecipientView], standing: dict[str, requests.RequestStanding],
                 *, may_reply: bool) -> tuple[ConversationLine, ...]:
    """My exchange as one conversation, in the order its messages reached it (no query): mine with
    their state in my words, theirs delivered to me (not those returned or destroyed at my request),
    each reply with the message it answers."""
    names = {v.id: _name(v) for v in views}
    lines = []
    for view in views:
        at, on = _when(view)
        answers = names.get(view.in_reply_to or "") if view.in_reply_to else None
        if isinstance(view, AuthorView):
            line = ConversationLine(view.id, True, Sentence(TITLES_TO[view.kind], label=view.to), on,
                                    author_words(view)[0], view.state, answers, False,
                                    view.written_as if view.written_as != "principal" else None)
        else:
            stand = standing[view.id]
            if stand.closed:
                continue
            words = N_("Opened") if view.opened else N_("Kept for you at your request") if stand.held else N_(
                "Not opened yet")
            line = ConversationLine(view.id, False, Sentence(TITLES_FROM[view.kind], label=view.from_label),
                                    on, words, None, answers, may_reply and view.opened)
        lines.append((at, line))
    return tuple(line for _, line in sorted(lines, key=lambda pair: pair[0]))


@dataclass(frozen=True)
class HomeCase:
    """One exchange on my home page: my place in it, what waits for me, what I wrote."""

    id: str
    reference: str
    status: str
    side: str | None
    participant_role: str | None
    my_label: str
    other_label: str
    acting_for: str
    taking_part: bool
    holding: bool
    may_write: bool
    may_start: bool
    waiting: tuple[InboxLine, ...]  # delivered, not opened, and I may open it now
    on_hold: tuple[InboxLine, ...]  # delivered, not opened, but opening would not work just now
    held: tuple[InboxLine, ...]  # kept for me at my request
    opened: tuple[InboxLine, ...]
    mine: tuple[MineLine, ...]  # newest first
    conversation: tuple[ConversationLine, ...]  # oldest first


def _inbox_line(view: RecipientView, latest: LatestRequest | None) -> InboxLine:
    return InboxLine(view.id, view.from_label, view.by_proxy, on_day(view.delivered_at) or "", view.opened, latest)


def _mine_line(view: AuthorView) -> MineLine:
    return MineLine(view.id, KIND_NAMES[view.kind], view.to, view.state, author_words(view)[0], view.written_as)


def _home_case(session: Session, case: Case, member: Membership, me: Participant,
               views: Sequence[AuthorView | RecipientView], standing: dict[str, requests.RequestStanding]) -> HomeCase:
    taking_part = current_consent(session, me.id, "take_part")
    inbox = [v for v in views if isinstance(v, RecipientView)]
    delivered = [v for v in inbox if not standing[v.id].closed]
    unopened = [v for v in delivered if not v.opened and not standing[v.id].held]
    # "Open it now" only when opening works: while the case is paused (or my consent is not
    # current) a waiting message is on hold for now.
    openable = delivery.may_open_now(session, case.status, me.id, case.label_of(member.side or ""))
    may_start = taking_part and case.status not in ENDING and authoring.may_start(session, case, member)

    def lines(chosen: list[RecipientView]) -> tuple[InboxLine, ...]:
        return tuple(_inbox_line(v, standing[v.id].latest) for v in chosen)

    return HomeCase(
        id=case.id, reference=case.reference, status=case.status, side=member.side,
        participant_role=member.participant_role, my_label=case.label_of(member.side or ""),
        other_label=case.label_of(other_side(member.side or "")),
        acting_for=me.acting_for if me.role == "proxy" else "", taking_part=taking_part,
        holding=me.holding_deliveries, may_write=permissions.may_write(member),
        may_start=may_start,
        waiting=lines(unopened) if openable else (), on_hold=() if openable else lines(unopened),
        held=lines([v for v in delivered if not v.opened and standing[v.id].held]),
        opened=lines([v for v in delivered if v.opened]),
        mine=tuple(_mine_line(v) for v in reversed(views) if isinstance(v, AuthorView)),
        conversation=conversation(views, standing, may_reply=may_start),
    )


def participant_home(session: Session, svc: Services, actor: Actor) -> list[HomeCase]:
    """Every exchange I take part in, newest first. The messages of all of them (with their
    versions, authors and jobs) in one query, my requests about them in another."""
    mine = [(case, member) for case, member in cases_of(session, actor)
            if member.is_participant and member.participant_id is not None]
    rows = load_rows(session, Message.case_id.in_([case.id for case, _ in mine]))
    views: dict[str, list[AuthorView | RecipientView]] = {case.id: [] for case, _ in mine}
    for case, member in mine:
        for row in rows:
            if row.message.case_id == case.id and visible(member, row.message):
                own = permissions.is_author_side(member, row.message.author_side)
                views[case.id].append(author_view(row, case, member=member) if own else recipient_view(row, case))
    standing = requests.standings(session, [v.id for vs in views.values() for v in vs
                                            if isinstance(v, RecipientView)])
    result = []
    for case, member in mine:
        me = session.get(Participant, member.participant_id)  # loaded with the memberships
        assert me is not None
        result.append(_home_case(session, case, member, me, views[case.id], standing))
    return result


# --- my place in one case: writing, pausing -------------------------------------------------------


@dataclass(frozen=True)
class MyCase:
    """One exchange as I stand in it, for the pages where I write, record or pause deliveries."""

    id: str
    reference: str
    status: str
    side: str | None
    participant_role: str | None
    my_label: str
    other_label: str
    read_receipts_allowed: bool
    may_start: bool
    holding: bool
    taking_part: bool
    reply_to: str | None = None  # the id of the message this one will answer
    answers: str | None = None  # that message, in words


def _my_case(session: Session, actor: Actor, case_id: str, *, standing: bool, writing: bool = True,
             reply_to: str | None = None) -> MyCase:
    case, member = load_case(session, actor, case_id)
    answers = None
    if reply_to is not None:
        answered, answered_case, _ = replies.answerable(session, actor, reply_to)  # 404 unless I may answer it
        if answered_case.id != case.id:
            raise NotFound()
        answers = received_name(answered.kind, case.label_of(answered.author_side), answered.released_at)
    if not member.is_participant or (writing and not permissions.may_write(member)) or \
            (standing and member.participant_id is None):
        raise NotFound()
    me = session.get(Participant, member.participant_id) if standing and member.participant_id else None
    return MyCase(
        id=case.id, reference=case.reference, status=case.status, side=member.side,
        participant_role=member.participant_role, my_label=case.label_of(member.side or ""),
        other_label=case.label_of(other_side(member.side or "")), read_receipts_allowed=case.read_receipts_allowed,
        may_start=False if standing else authoring.may_start(session, case, member),
        holding=bool(me and me.holding_deliveries),
        taking_part=bool(me and current_consent(session, me.id, "take_part")),
        reply_to=reply_to, answers=answers,
    )


def case_for_writing(session: Session, svc: Services, actor: Actor, case_id: str,
                     reply_to: str | None = None) -> MyCase:
    """The case I write or record in (404 unless I may write in it), and whether I may start now;
    with `reply_to`, the message delivered to me and opened that I answer (404 unless it is one)."""
    return _my_case(session, actor, case_id, standing=False, reply_to=reply_to)


def my_standing(session: Session, svc: Services, actor: Actor, case_id: str) -> MyCase:
    """Whether I hold deliveries and still take part (404 unless I write in the case)."""
    return _my_case(session, actor, case_id, standing=True)


def case_to_leave(session: Session, svc: Services, actor: Actor, case_id: str) -> MyCase:
    """The case I may stop taking part in (404 unless I take part in it)."""
    return _my_case(session, actor, case_id, standing=True, writing=False)


# --- my own message --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A step of my message's journey: written, with the facilitator, approved, delivered, opened."""

    label: str
    when: str | None
    status: str  # done | current | todo
    current: bool


@dataclass(frozen=True)
class Event:
    """Something that happened to my message, with its day: "Sent to your facilitator", "Tuesday 1 December 2026"."""

    label: str
    on: str


@dataclass(frozen=True)
class DraftFlag:
    """Something in my draft that looks like contact details, with why it matters (never the watch list)."""

    kind: str
    text: str
    why: str


@dataclass(frozen=True)
class MyMessage(AuthorView):
    """My side's message, with everything its page shows."""

    kind_name: str
    accept: str
    refused: bool
    words: str
    meaning: str
    held_from: str | None
    timeline: tuple[Step, ...]
    history: tuple[Event, ...]  # every step of its life so far, with its day, oldest first
    answers: str | None  # the message it answers, in words
    max_seconds: int
    draft: str
    draft_flags: tuple[DraftFlag, ...]
    flags_key: str
    sent_text: str | None
    transcript: str | None
    diff: tuple[tuple[str, str], ...] | None
    #: returned or destroyed at the recipient's request, in a sentence (`requests.author_notice`)
    request_notice: requests.AuthorNotice | None = None
    captions: bool = False  # the version shown has timed captions (the player's <track>)
    #: the author's cue editor (`author_captions`): the words to time, empty when it does not apply
    cue_lines: tuple[EditorLine, ...] = ()

    def with_draft(self, text: str) -> MyMessage:
        """The page again with the words as they were typed, whatever was (or was not) saved."""
        return replace(self, draft=text)

    def with_cue_starts(self, form: dict[str, str]) -> MyMessage:
        """The page again with the cue editor's times as they were typed."""
        return replace(self, cue_lines=with_starts(self.cue_lines, form))


def approved_at(session: Session, message: Message) -> datetime | None:
    """When the version to be delivered was approved (its last standing approval: a case may
    need two); None when no approval stands (not approved yet, or called back since)."""
    if message.approved_version_id is None:
        return None
    return session.scalar(select(func.max(Approval.at)).where(
        Approval.version_id == message.approved_version_id, Approval.revoked_at.is_(None)))


#: What a facilitator's note for the author says happened, by the note's kind.
NOTE_EVENTS = {"request_changes": N_("Your facilitator asked for changes"),
               "edit": N_("Your facilitator suggested changes"),
               "reject": N_("Your facilitator decided not to pass it on")}


def history(view: AuthorView, message: Message, approved: datetime | None,
            refused_at: datetime | None) -> tuple[Event, ...]:
    """Every step of my message's life that has happened, with its day, oldest first: written,
    sent (and sent again), returned for changes or refused, approved, delivered, called back,
    opened (only when the recipient shares that), withdrawn. Nothing that has not happened."""
    written = N_("Written") if message.kind == "letter" else N_("Started")
    found: list[tuple[datetime, str]] = [(message.created_at, written)]
    if message.first_submitted_at is not None:
        found.append((message.first_submitted_at, N_("Sent to your facilitator")))
    if message.submitted_at is not None and message.submitted_at != message.first_submitted_at:
        found.append((message.submitted_at, N_("Sent to your facilitator again")))
    found += [(note.at, NOTE_EVENTS[note.kind]) for note in view.notes if note.kind in NOTE_EVENTS]
    if refused_at is not None:
        found.append((refused_at, N_("Could not be used")))
    if approved is not None:
        found.append((approved, N_("Approved")))
    if message.released_at is not None:
        found.append((message.released_at, N_("Delivered")))
    if message.recalled_at is not None:
        found.append((message.recalled_at, N_("Called back by your facilitator")))
    if view.opened_at is not None:  # only when the recipient shares that they opened it
        found.append((view.opened_at, N_("Opened")))
    if view.state == State.WITHDRAWN:
        found.append((message.updated_at, N_("Withdrawn")))
    return tuple(Event(label, on_day(at) or "") for at, label in sorted(found, key=lambda pair: pair[0]))


def timeline(view: AuthorView, message: Message, read_receipts: bool, refused: bool,
             approved: datetime | None = None) -> tuple[Step, ...]:
    steps = [(N_("Written"), day(message.created_at)), (N_("With your facilitator"), day(view.submitted_at)),
             (N_("Approved"), day(approved)), (N_("Delivered"), day(message.released_at))]
    if read_receipts:
        steps.append((N_("Opened (if they tell you)"), day(view.opened_at)))
    state = view.state
    at = 0 if refused else AUTHOR_STEP.get(state)  # refused: back with its author, not with staff
    if state == State.HELD and message.held_from:
        at = AUTHOR_STEP.get(State(message.held_from))
    if at is None:
        return ()  # rejected or withdrawn: no journey left to show
    result = []
    for i, (label, when) in enumerate(steps):
        status = "done" if i < at or (i == at and state in DELIVERED) else "current" if i == at else "todo"
        result.append(Step(label, when if status != "todo" else None, status, i == at))
    return tuple(result)


def my_message(session: Session, svc: Services, actor: Actor, message_id: str) -> MyMessage:
    """My side's message and everything its page shows (404 for anyone not on the author's side:
    recipients read in /me/inbox, facilitators in /staff)."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.is_author_side(member, message.author_side):
        raise NotFound()
    row = load_rows(session, Message.id == message.id)[0]
    view = author_view(row, case, author_notes(session, svc, [message.id])[message.id], member)
    refused = refusal(view) is not None
    words, meaning = author_words(view)
    draft = authoring.read_draft(session, svc, actor, message_id) if view.has_draft else ""
    flags = author_flags(draft)  # never the watch list (invariant 10)
    approved = approved_at(session, message)
    diff = None
    if view.pending_edit and message.kind == "letter":
        diff = tuple(readable_diff(word_diff(*authoring.pending_edit_texts(session, svc, message))))
    notice = requests.author_notice(session, message.id, view.to, KIND_NAMES[view.kind])
    gone = notice is not None and notice.destroyed  # its words were shredded, for everyone
    return MyMessage(
        **{name: getattr(view, name) for name in AuthorView.__dataclass_fields__},
        kind_name=KIND_NAMES[view.kind], accept=ACCEPT[view.kind], refused=refused, words=words, meaning=meaning,
        held_from=message.held_from,
        timeline=timeline(view, message, case.read_receipts_allowed, refused, approved),
        history=history(view, message, approved, row.current.processed_at if refused and row.current else None),
        answers=_answered_name(session, member, case, message.in_reply_to_id),
        max_seconds=MAX_RECORDING_SECONDS.get(message.kind, 0),
        draft=draft, draft_flags=tuple(DraftFlag(f["kind"], f["text"], f["why"]) for f in flags),
        flags_key=flags_key(flags),
        sent_text=None if gone else authoring.sent_text(session, svc, actor, message_id),
        transcript=delivery.transcript(session, svc, actor, message_id) if view.preview and not gone else None,
        diff=diff, request_notice=notice,
        captions=delivery.has_captions(session, actor, message_id) if view.preview and not gone else False,
        cue_lines=editor_lines(draft) if "edit_draft" in view.actions
        and author_captions.timeable(message, row.current) else (),
    )


@dataclass(frozen=True)
class CheckMessage:
    """"Check your message" before sending it (GOV.UK's check-answers pattern): what the
    facilitator will receive, and the flags its author may see (never the watch list)."""

    m: MyMessage
    text: str  # the saved words as processing passes them on (normalised), "" when there are none
    may_send: bool  # the author may send it now (a media message: once its file is uploaded)


def check_message(session: Session, svc: Services, actor: Actor, message_id: str) -> CheckMessage:
    """My draft as my facilitator will receive it (404 for anyone but its author's side)."""
    m = my_message(session, svc, actor, message_id)
    return CheckMessage(m, normalise(m.draft) if m.draft.strip() else "",
                        "submit" in m.actions and (m.kind == "letter" or m.upload_ready))


def readable_diff(diff: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Neighbouring changes separated only by spaces read as one: "Elm Street" crossed out and
    "the street" added, rather than word by word."""
    out: list[tuple[str, str]] = []
    removed: list[str] = []
    added: list[str] = []
    spaces = ""

    def flush() -> None:
        for op, parts in (("removed", removed), ("added", added)):
            if "".join(parts).strip():
                out.append((op, "".join(parts).rstrip()))
            parts.clear()

    for op, text in diff:
        if op == "same" and not text.strip() and (removed or added):
            spaces += text
            continue
        if op == "same":
            flush()
            out.append(("same", spaces + text))
        else:
            for parts in (removed, added):
                if parts:
                    parts.append(spaces)
            (removed if op == "removed" else added).append(text)
        spaces = ""
    flush()
    if spaces:
        out.append(("same", spaces))
    return out


# --- a message delivered to me ---------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem(RecipientView):
    """A message delivered to me, with my choices about it."""

    kind_name: str
    read_receipts_allowed: bool
    requests: tuple[RequestView, ...]  # newest first
    waiting_request: RequestView | None  # asked, not yet answered
    closed: str | None  # 'return' or 'destroy': done at my request, it cannot be opened any more
    may_ask: bool
    supporters: tuple[SupporterChoice, ...]
    blocked: str | None  # why it cannot be shown just now
    text: str | None  # a letter's words, once opened
    transcript: str | None  # the words of a recording or a photographed letter, once opened
    answers: str | None  # the message of mine it answers, in words
    delivered_on: str | None  # "Tuesday 1 December 2026"
    may_reply: bool  # opened, and I may write now: "Reply" starts a message answering it
    captions: bool = False  # a recording with timed captions (the player's <track>), once opened
    #: issue 12: my waiting request to open it with my facilitator (it then opens only in their session)
    supported: SupportedView | None = None


def inbox_item(session: Session, svc: Services, actor: Actor, message_id: str) -> InboxItem:
    """A message delivered to my side (404 for anything else)."""
    message, case, member = load_message(session, actor, message_id)
    if member.is_facilitator or permissions.is_author_side(member, message.author_side):
        raise NotFound()
    view = recipient_view(load_rows(session, Message.id == message.id)[0], case)  # labelled by its words' writer
    asked = tuple(requests.request_views(session, svc, actor, message_id))
    waiting = next((r for r in asked if r.handled_at is None), None)
    closed = requests.standings(session, [message.id])[message.id].closed
    showing = view.opened and not closed
    # issue 10: share an opened message with a supporter
    supporters = tuple(sharing.supporters_for(session, svc, actor, message_id)) if showing else ()
    blocked, text, transcript, timed = None, None, None, False
    if not view.opened and not closed and member.participant_id is not None and \
            not delivery.may_open_now(session, case.status, member.participant_id, case.label_of(member.side or "")):
        blocked = "on hold"  # the page offers no "Open it now" that could not work
    supported = supported_opening.for_recipient(session, svc, message.id) if not view.opened and not closed else None
    if showing:
        try:
            if message.kind == "letter":
                text = delivery.open_message(session, svc, actor, message_id)
            else:
                transcript = delivery.transcript(session, svc, actor, message_id)
                timed = delivery.has_captions(session, actor, message_id)
        except Conflict as exc:  # paused, or consent withdrawn since: say so instead of showing it
            blocked = exc.message
    return InboxItem(
        **{name: getattr(view, name) for name in RecipientView.__dataclass_fields__},
        kind_name=KIND_NAMES[view.kind], read_receipts_allowed=case.read_receipts_allowed,
        requests=asked, waiting_request=waiting, closed=closed, may_ask=not closed and waiting is None,
        supporters=supporters, blocked=blocked, text=text, transcript=transcript, captions=timed, supported=supported,
        answers=_answered_name(session, member, case, message.in_reply_to_id),
        delivered_on=on_day(view.delivered_at),
        may_reply=showing and replies.may_answer(member, message) and case.status not in ENDING
        and member.participant_id is not None and current_consent(session, member.participant_id, "take_part")
        and authoring.may_start(session, case, member),
    )
