"""The facilitator's review page as one typed view model: the message as staff see it, its
versions with who made them and their edits, the current version's content with its flags marked
(an audited view of content, invariant 8), the author's original of a recording beside an edit,
two versions of a letter side by side, the recipient's open requests and the safeguarding
incidents recorded about it. The number of statements does not grow with the case's messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.access import load_message_as_facilitator
from shuttle.accounts.models import Account
from shuttle.cases.models import other_side
from shuttle.i18n import N_, Sentence
from shuttle.messages import edits as media_edits
from shuttle.messages.diff import highlight, word_diff
from shuttle.messages.flags import FLAG_WORDS
from shuttle.messages.models import Message, SafeguardingIncident
from shuttle.messages.numbering import KIND_NAMES, Numbered, message_names
from shuttle.messages.request_view import OpenRequest, load_texts, open_requests
from shuttle.messages.review import IncidentView, version_content
from shuttle.messages.staff_view import StaffMessage, StaffRows, VersionRow, duration_words, staff_message
from shuttle.messages.states import DELIVERED, FINAL, State
from shuttle.services import Actor, Services


class SideBySide(TypedDict):
    left: list[tuple[str, str]]  # (op, text): the older text, removals marked
    right: list[tuple[str, str]]  # the newer text, additions marked
    changes: list[int]  # [removals, additions]


def side_by_side(before: str, after: str) -> SideBySide:
    """Two columns from one word diff: the older text with removals marked, the newer with additions."""
    ops = word_diff(before, after)

    def column(keep: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for op, text in ops:
            if op not in ("same", keep):
                continue
            core = text.strip()
            if op == "same" or not core:
                out.append(("same", text))
                continue
            lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            out += [("same", lead), (op, core), ("same", trail)]  # spaces around a change are not the change
        return [(op, text) for op, text in out if text]

    return {"left": column("removed"), "right": column("added"),
            "changes": [sum(1 for op, _ in ops if op == "removed"), sum(1 for op, _ in ops if op == "added")]}


@dataclass(frozen=True)
class ReviewVersion(VersionRow):
    """A version in the page's list: who made it, its media edits in words, its length."""

    by: str | None
    edits: tuple[str, ...]
    duration: str


@dataclass(frozen=True)
class FlagLine:
    kind: str
    words: str
    text: str


@dataclass(frozen=True)
class CurrentVersion:
    """The version under review, read (and the reading audited)."""

    version_id: str
    number: int
    origin: str
    processed: bool
    text: str | None
    transcript: str | None
    removed: tuple[str, ...]  # what processing took out of the file
    author_decision: str | None
    segments: tuple[tuple[str, str | None], ...]  # (text, flag kind or None)
    flag_list: tuple[FlagLine, ...]
    duration: str
    edits: tuple[str, ...]
    is_media_edit: bool


@dataclass(frozen=True)
class Comparison:
    a: ReviewVersion  # the older
    b: ReviewVersion
    left: tuple[tuple[str, str], ...]
    right: tuple[tuple[str, str], ...]
    changes: tuple[int, int]  # removals, additions


@dataclass(frozen=True)
class LifeStep:
    """One dated step of the message's life, for its page."""

    at: str  # ISO 8601, UTC
    words: str


def _life(message: Any, rows: StaffRows, names: Mapping[str, str], author: str,
          recipient: str) -> tuple[LifeStep, ...]:
    """Every dated step of the message's life, from the rows the page loaded (no query of its own)."""
    steps: list[tuple[datetime, str]] = [
        (message.created_at, Sentence(N_("Draft started by %(author)s"), author=author))]
    if message.first_submitted_at is not None:
        steps.append((message.first_submitted_at, Sentence(N_("Sent for review"))))
    if message.submitted_at is not None and message.submitted_at != message.first_submitted_at:
        steps.append((message.submitted_at, Sentence(N_("Sent again"))))
    for version in rows.versions[message.id]:
        whose = (Sentence(N_("%(who)s's edit"), who=names.get(version.created_by or "", Sentence(N_("a facilitator"))))
                 if version.origin == "facilitator" else Sentence(N_("%(who)s's"), who=author))
        if version.number > 1:
            steps.append((version.created_at, Sentence(N_("Version %(number)s made (%(whose)s)"),
                                                       number=version.number, whose=whose)))
        if version.processed_at is not None:
            steps.append((version.processed_at, Sentence(N_("Version %(number)s (%(whose)s) processed"),
                                                         number=version.number, whose=whose)))
        for approval in rows.approvals.get(version.id, []):
            by = names.get(approval.facilitator_id, Sentence(N_("a former facilitator")))
            steps.append((approval.at, Sentence(N_("Version %(number)s approved by %(who)s, later withdrawn")
                                                if approval.revoked_at is not None
                                                else N_("Version %(number)s approved by %(who)s"),
                                                number=version.number, who=by)))
    if message.claimed_at is not None and message.claimed_by:
        steps.append((message.claimed_at, Sentence(N_("Claimed by %(who)s"),
                                                   who=names.get(message.claimed_by, Sentence(N_("a facilitator"))))))
    if message.released_at is not None:
        steps.append((message.released_at, Sentence(N_("Delivered to %(recipient)s"), recipient=recipient)))
    if message.opened_at is not None:
        steps.append((message.opened_at, Sentence(N_("Opened by %(recipient)s"), recipient=recipient)))
    if message.recalled_at is not None:
        steps.append((message.recalled_at, Sentence(N_("Called back"))))
    return tuple(LifeStep(at.isoformat(), words) for at, words in sorted(steps, key=lambda step: step[0]))


@dataclass(frozen=True)
class ReviewView(StaffMessage):
    versions: tuple[ReviewVersion, ...]
    watchlist: tuple[str, ...]
    kind_name: str
    prefill: Mapping[str, str]  # the media edit form, filled from the current edit list
    approved_by_me: bool
    claimed_at: str | None
    schedulable: bool
    others: tuple[str, ...]  # the case's other facilitators
    entered_by_me: bool  # the reviewer wrote it on the author's behalf (issue 10)
    approved_by_names: tuple[str, ...]
    needs_second: bool
    current: CurrentVersion | None
    original: ReviewVersion | None  # the author's last processed recording, beside an edit
    compare: Comparison | None
    diff: bool
    requests: tuple[OpenRequest, ...]
    incidents: tuple[IncidentView, ...]
    recipient_label: str
    answers: str | None  # the name of the message it answers ("Letter 1"), issue 12
    life: tuple[LifeStep, ...]


def _answered_name(session: Session, message: Message) -> str | None:
    """"Letter 1": the name of the message this one answers (one query, only for a reply)."""
    if message.in_reply_to_id is None:
        return None
    rows = session.execute(select(Message.id, Message.kind, Message.first_submitted_at, Message.created_at)
                           .where(Message.case_id == message.case_id, Message.first_submitted_at.is_not(None))).all()
    return message_names(Numbered(*row) for row in rows).get(message.in_reply_to_id)


def _incidents(session: Session, svc: Services, message_id: str) -> list[IncidentView]:
    """`review.incidents` for a message the caller checked: the rows in one query, the notes in one."""
    rows = session.execute(select(SafeguardingIncident, Account.display_name)
                           .join(Account, Account.id == SafeguardingIncident.recorded_by)
                           .where(SafeguardingIncident.message_id == message_id)
                           .order_by(SafeguardingIncident.at)).all()
    notes = load_texts(session, svc, [row.blob_id for row, _ in rows])
    return [IncidentView(row.at, name, notes[row.blob_id]) for row, name in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def review_view(session: Session, svc: Services, actor: Actor, message_id: str,
                compare: tuple[int | None, int | None]) -> ReviewView:
    """The review page of a message for one of its case's facilitators; NotFound for anyone else.
    `compare`: the version numbers to show side by side (a letter with more than one version)."""
    message, case, facilitators = load_message_as_facilitator(session, actor, message_id)
    rows = StaffRows.load(session, [message], accounts=facilitators)
    base = staff_message(svc, rows, message, case)
    names = {f: rows.names[f] for f in facilitators if f in rows.names}  # the case's facilitators now
    loaded = {v.id: v for v in rows.versions[message.id]}

    versions = tuple(ReviewVersion(**{f.name: getattr(v, f.name) for f in fields(VersionRow)},
                                   by=(names.get(loaded[v.id].created_by or "") if v.origin == "facilitator"
                                       else base.author_label),
                                   edits=tuple(media_edits.in_words(loaded[v.id].edits)),
                                   duration=duration_words(loaded[v.id].duration_ms))
                     for v in base.versions)
    read: dict[str, dict[str, Any]] = {}

    def content(version_id: str) -> dict[str, Any]:
        if version_id not in read:  # each read of content is audited once per page
            read[version_id] = version_content(session, svc, actor, message, loaded[version_id])
        return read[version_id]

    current, prefill = None, {}
    if message.current_version_id:
        seen = content(message.current_version_id)
        row = loaded[message.current_version_id]
        current = CurrentVersion(
            version_id=seen["version_id"], number=seen["number"], origin=seen["origin"],
            processed=seen["processed"], text=seen["text"], transcript=seen["transcript"],
            removed=tuple(seen["removed"]), author_decision=seen["author_decision"],
            segments=tuple(highlight(seen["text"] or seen.get("transcript") or "", seen["flags"])),
            flag_list=tuple(FlagLine(str(f["kind"]), FLAG_WORDS.get(str(f["kind"]), str(f["kind"])),
                                     str(f.get("text", ""))) for f in seen["flags"]),
            duration=duration_words(seen["duration_ms"]), edits=tuple(media_edits.in_words(row.edits)),
            is_media_edit=bool(row.edits))
        prefill = media_edits.form_fields(row.edits)
    original = None
    if message.kind in ("audio", "video"):
        originals = [v for v in versions if v.origin == "author" and v.processed]
        original = originals[-1] if originals else None
    comparison = None
    if message.kind == "letter" and len(versions) > 1:
        numbers = {v.number: v for v in versions}
        first, last = versions[0].number, versions[-1].number
        a, b = compare
        a = a if a is not None and a in numbers else first
        b = b if b is not None and b in numbers else last
        if a == b:
            a, b = first, last
        older, newer = numbers[min(a, b)], numbers[max(a, b)]
        columns = side_by_side(content(older.id)["text"] or "", content(newer.id)["text"] or "")
        comparison = Comparison(older, newer, tuple(columns["left"]), tuple(columns["right"]),
                                (columns["changes"][0], columns["changes"][1]))
    return ReviewView(
        **{f.name: getattr(base, f.name) for f in fields(StaffMessage) if f.name != "versions"},
        versions=versions,
        watchlist=tuple(case.watchlist or []),
        kind_name=KIND_NAMES.get(message.kind, N_("Message")),
        prefill=prefill,
        approved_by_me=actor.account_id in base.approved_by,
        claimed_at=_iso(message.claimed_at),
        schedulable=State(message.state) not in DELIVERED | FINAL,
        others=tuple(names[f] for f in facilitators if f != actor.account_id and f in names),
        entered_by_me=bool(base.entered_by) and message.written_by == actor.account_id,
        approved_by_names=tuple(names.get(a, "a former facilitator") for a in base.approved_by),
        needs_second=case.approvals_required > 1 and 0 < base.approvals < case.approvals_required,
        current=current, original=original, compare=comparison, diff=comparison is not None,
        requests=tuple(open_requests(session, svc, [case], message_id=message.id)),
        incidents=tuple(_incidents(session, svc, message.id)),
        recipient_label=case.label_of(other_side(message.author_side)),
        answers=_answered_name(session, message),
        life=_life(message, rows, names, base.author_label, case.label_of(other_side(message.author_side))),
    )

