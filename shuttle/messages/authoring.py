"""The author's side of a message: drafts, submitting, withdrawing, answering a facilitator's edit."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_case, load_message
from shuttle.cases import states as case_states
from shuttle.cases.facts import current_assessment, current_consent, proceedings_hold
from shuttle.cases.models import Case, Participant
from shuttle.errors import BadInput, Conflict, NotFound, TooLarge
from shuttle.i18n import N_, Sentence
from shuttle.jobs import queue
from shuttle.messages import lifecycle
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.states import DELIVERED, EDITABLE, Action, State
from shuttle.permissions import Membership
from shuttle.services import Actor, Services
from storage.store import StoredObject

PROCESS_JOB = "process_version"


def check_letter(svc: Services, text: str) -> None:
    if not isinstance(text, str):
        raise BadInput(N_("A letter is text."))
    if len(text.encode("utf-8")) > svc.settings.limits.max_letter_bytes:
        raise TooLarge(Sentence(N_("A letter can be at most %(kib)s KiB of text."),
                                kib=svc.settings.limits.max_letter_bytes // 1024))


def _harmed_side_has_sent(session: Session, case_id: str) -> bool:
    delivered = [s.value for s in DELIVERED]
    return bool(session.scalar(select(exists().where(
        Message.case_id == case_id, Message.author_side == "harmed", Message.state.in_(delivered)))))


def may_start(session: Session, case: Case, member: Membership) -> bool:
    """Whether this member may start a message in the case now (pages show the button only then)."""
    return permissions.may_start_message(
        member, initiator=case.initiator, responsible_may_reply=case.responsible_may_reply,
        harmed_side_has_sent=_harmed_side_has_sent(session, case.id))


def _as_author(session: Session, actor: Actor, message_id: str) -> tuple[Message, Case, Membership]:
    """A message of the actor's side (its status, what was sent): 404 for anyone else."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.is_author_side(member, message.author_side):
        raise NotFound()
    return message, case, member


class NotTheWriter(Conflict):
    """The other person of the side (a principal's proxy, or the reverse) tried to change a message."""

    def __init__(self) -> None:
        super().__init__("Only the person who started it can change this message, send it, withdraw it or answer "
                         "your facilitator about it. Your facilitator can tell you more.", code="not_the_writer")


def as_writer(session: Session, actor: Actor, message_id: str) -> tuple[Message, Case, Membership]:
    """A message the actor started (issue 13): only they read its draft, change, send or withdraw
    it, or answer a facilitator's edit. The side's other person learns of it once it is sent
    (`permissions.may_see_message`) and is then told who started it."""
    message, case, member = _as_author(session, actor, message_id)
    if not permissions.may_change_message(member, author_side=message.author_side,
                                          author_participant_id=message.author_participant_id):
        if message.first_submitted_at is None:
            raise NotFound()
        raise NotTheWriter()
    return message, case, member


MEDIA_KINDS = ("audio", "video", "image")


def start_draft(session: Session, svc: Services, actor: Actor, case_id: str, text: str) -> Message:
    """A letter: its draft text is kept encrypted and only its author can read it."""
    check_letter(svc, text)
    message = _new_message(session, svc, actor, case_id, "letter")
    message.draft_blob_id = blobs.store_text(session, svc.store, text).id
    session.flush()
    return message


def start_media(session: Session, svc: Services, actor: Actor, case_id: str, kind: str) -> Message:
    """An audio, video or image message: its content arrives as an upload."""
    if kind not in MEDIA_KINDS:
        raise BadInput(Sentence(N_("A media message is one of: %(kinds)s."), kinds=", ".join(MEDIA_KINDS)))
    return _new_message(session, svc, actor, case_id, kind)


def check_case_takes_writing(case: Case) -> None:
    """Nothing new is written into a closed case (cases/states.writing_possible)."""
    if not case_states.writing_possible(case_states.Status(case.status)):
        raise Conflict(N_("The case is closed, so nothing more can be written in it."), code="case_closed")


def _new_message(session: Session, svc: Services, actor: Actor, case_id: str, kind: str) -> Message:
    case, member = load_case(session, actor, case_id)
    if not permissions.may_write(member):
        raise NotFound()
    check_case_takes_writing(case)
    if not permissions.may_start_message(
        member, initiator=case.initiator, responsible_may_reply=case.responsible_may_reply,
        harmed_side_has_sent=_harmed_side_has_sent(session, case.id),
    ):
        raise Conflict(N_("You cannot write to the other side in this case yet. Your facilitator can tell you more."),
                       code="not_your_turn")
    assert member.participant_id is not None and member.side is not None
    message = Message(case_id=case.id, author_participant_id=member.participant_id, written_by=actor.account_id,
                      author_side=member.side, kind=kind, state=State.DRAFT.value, created_at=svc.now())
    session.add(message)
    session.flush()
    return message


def seal_draft(svc: Services, text: str) -> StoredObject:
    """A draft's text encrypted and written to the blob store, outside any transaction: a caller
    that seals before its unit of work begins keeps the encryption and the file's fsync out of
    the database's write lock (SQLite has one for the whole service), and hands the result to
    `save_draft(sealed=...)`. If the save is then refused, the ciphertext has no recorded key:
    unreadable, and removed by the orphan sweeper (or at once with `discard_sealed`)."""
    check_letter(svc, text)
    return svc.store.put_bytes(text.encode("utf-8"))


def discard_sealed(svc: Services, sealed: StoredObject) -> None:
    """A sealed draft whose save was refused: its ciphertext removed now rather than by the sweeper."""
    svc.store.delete(sealed.object_id)


def save_draft(session: Session, svc: Services, actor: Actor, message_id: str, text: str,
               *, expected_version: int | None = None, sealed: StoredObject | None = None) -> Message:
    """Autosave: the new text replaces the draft; the old draft's key is destroyed.
    For an audio, video or image message the text is its transcript (captions for people who
    cannot hear or see it), which goes through processing and review with the media.
    `sealed`: the text already encrypted and written by `seal_draft` (only its key is recorded here)."""
    return save_draft_in_case(session, svc, actor, message_id, text, expected_version=expected_version,
                              sealed=sealed)[0]


def save_draft_in_case(session: Session, svc: Services, actor: Actor, message_id: str, text: str,
                       *, expected_version: int | None = None, sealed: StoredObject | None = None
                       ) -> tuple[Message, Case, Membership]:
    """`save_draft`, answering also the case and the actor's membership it loaded (for a view)."""
    check_letter(svc, text)
    if sealed is not None and sealed.size != len(text.encode("utf-8")):
        raise ValueError("the sealed draft is not this text")
    message, case, member = as_writer(session, actor, message_id)
    check_case_takes_writing(case)
    lifecycle.check_fresh(message, expected_version)
    if message.state not in EDITABLE:
        raise Conflict(N_("This message can no longer be changed."), code="not_editable")
    old = message.draft_blob_id
    stored = sealed if sealed is not None else svc.store.put_bytes(text.encode("utf-8"))
    message.draft_blob_id = blobs.record(session, stored).id
    message.updated_at = svc.now()
    session.flush()
    if old:
        blobs.shred(session, old, now=svc.now())
    return message, case, member


def read_draft(session: Session, svc: Services, actor: Actor, message_id: str) -> str:
    message, _, _ = as_writer(session, actor, message_id)
    if message.draft_blob_id is None:
        return ""
    return blobs.load_text(session, svc.store, message.draft_blob_id)


def _check_may_send(session: Session, case: Case, message: Message) -> None:
    if not case_states.exchange_possible(case_states.Status(case.status)):
        raise Conflict(Sentence(N_("The case is %(status)s, so nothing can be sent just now. Your draft is kept."),
                                status=Sentence(case_states.describe(case_states.Status(case.status)))),
                       code="case_not_open")
    author = session.get(Participant, message.author_participant_id)
    assert author is not None
    if not current_consent(session, author.id, "take_part"):
        raise Conflict(N_("Your consent to take part is not recorded, so nothing can be sent."), code="no_consent")
    if current_assessment(session, author.id) != "suitable":
        raise Conflict(N_("Your facilitator has not yet finished preparing you to send messages."),
                       code="not_assessed")


def next_version_number(session: Session, message_id: str) -> int:
    numbers = session.scalars(select(MessageVersion.number).where(MessageVersion.message_id == message_id)).all()
    return max(numbers, default=0) + 1


def add_version(session: Session, svc: Services, message: Message, *, origin: str, created_by: str | None,
                body_blob_id: str | None = None, body_upload_id: str | None = None,
                payload: dict[str, object] | None = None, written_as: str | None = None) -> MessageVersion:
    """Record a new immutable version and queue it for processing, in the caller's transaction.
    `written_as`: the participant whose words it is; a facilitator's edit carries the participant
    of the version it edits (`messages.writers`)."""
    if written_as is None and origin == "facilitator" and message.current_version_id is not None:
        edited = session.get(MessageVersion, message.current_version_id)
        written_as = edited.written_as_participant_id if edited is not None else None
    version = MessageVersion(message_id=message.id, number=next_version_number(session, message.id),
                             origin=origin, created_by=created_by, created_at=svc.now(),
                             written_as_participant_id=written_as,
                             body_blob_id=body_blob_id, body_upload_id=body_upload_id)
    session.add(version)
    session.flush()
    message.current_version_id = version.id
    job = queue.enqueue(session, PROCESS_JOB, {"version_id": version.id, **(payload or {})},
                        max_attempts=svc.settings.job_max_attempts, now=svc.now())
    message.processing_job_id = job.id
    return version


def submit(session: Session, svc: Services, actor: Actor, message_id: str,
           *, expected_version: int | None = None) -> Message:
    message, case, member = as_writer(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    if message.state not in EDITABLE:
        raise Conflict(N_("This message has already been sent."), code="not_editable")
    _check_may_send(session, case, message)
    if proceedings_hold(svc, case):
        raise Conflict(N_("Nothing can be sent while court proceedings are ongoing. Your draft is kept; your "
                       "facilitator will tell you when that changes."), code="proceedings")
    if message.kind == "letter":
        if message.draft_blob_id is None or not blobs.load_text(session, svc.store, message.draft_blob_id).strip():
            raise BadInput(N_("The letter is empty."))
        add_version(session, svc, message, origin="author", created_by=actor.account_id,
                    body_blob_id=message.draft_blob_id, written_as=member.participant_id)
    else:
        if message.draft_upload_id is None:
            raise BadInput(N_("Record or upload your message first, and wait until the upload has finished."))
        transcript = message.draft_blob_id
        if transcript is not None and not blobs.load_text(session, svc.store, transcript).strip():
            blobs.shred(session, transcript, now=svc.now())
            transcript = None
        add_version(session, svc, message, origin="author", created_by=actor.account_id,
                    body_upload_id=message.draft_upload_id, body_blob_id=transcript,
                    written_as=member.participant_id)
    message.draft_blob_id = None
    message.draft_upload_id = None
    message.submitted_at = svc.now()
    message.first_submitted_at = message.first_submitted_at or message.submitted_at
    lifecycle.transition(session, message, Action.SUBMIT, actor, now=svc.now())
    return message


def withdraw(session: Session, svc: Services, actor: Actor, message_id: str,
             *, expected_version: int | None = None) -> Message:
    message, _, _ = as_writer(session, actor, message_id)
    lifecycle.transition(session, message, Action.WITHDRAW, actor, expected_version=expected_version,
                         now=svc.now())
    message.claimed_by = None
    return message


def _pending_edit(session: Session, message: Message) -> MessageVersion:
    version = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
    if version is None or version.origin != "facilitator" or message.state != State.AWAITING_AUTHOR:
        raise Conflict(N_("There is no suggested change waiting for you."), code="no_pending_edit")
    return version


def accept_edit(session: Session, svc: Services, actor: Actor, message_id: str,
                *, expected_version: int | None = None) -> Message:
    message, _, _ = as_writer(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    version = _pending_edit(session, message)
    version.author_decision = "accepted"
    lifecycle.transition(session, message, Action.ACCEPT_EDIT, actor, now=svc.now(),
                         details={"version": version.number})
    return message


def decline_edit(session: Session, svc: Services, actor: Actor, message_id: str,
                 *, expected_version: int | None = None) -> Message:
    """The facilitator's wording is set aside; the author's last text comes back as a draft to revise."""
    message, _, _ = as_writer(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    version = _pending_edit(session, message)
    version.author_decision = "declined"
    last_own = session.scalar(select(MessageVersion).where(
        MessageVersion.message_id == message.id, MessageVersion.origin == "author",
    ).order_by(MessageVersion.number.desc()).limit(1))
    assert last_own is not None
    message.current_version_id = last_own.id
    if last_own.body_blob_id is not None:
        text = blobs.load_text(session, svc.store, last_own.body_blob_id)
        message.draft_blob_id = blobs.store_text(session, svc.store, text).id
    lifecycle.transition(session, message, Action.DECLINE_EDIT, actor, now=svc.now(),
                         details={"version": version.number})
    message.claimed_by = None
    return message


def pending_edit_texts(session: Session, svc: Services, message: Message) -> tuple[str, str]:
    """The text before the facilitator's suggested edit and the edit itself, for a diff."""
    edit = _pending_edit(session, message)
    previous = session.scalar(select(MessageVersion).where(
        MessageVersion.message_id == message.id, MessageVersion.number < edit.number,
    ).order_by(MessageVersion.number.desc()).limit(1))
    before = _version_text(session, svc, previous) if previous else ""
    return before, _version_text(session, svc, edit)


def _version_text(session: Session, svc: Services, version: MessageVersion) -> str:
    """A letter version's text as the facilitator has it: processed once there is one."""
    blob_id = version.processed_blob_id or version.body_blob_id
    if blob_id is None:  # as blobs.load_text would say of a missing blob
        raise LookupError(f"blob {blob_id} is missing or shredded")
    return blobs.load_text(session, svc.store, blob_id)


def sent_text(session: Session, svc: Services, actor: Actor, message_id: str) -> str | None:
    """The text of the author side's current version of a letter (what the facilitator has):
    the processed text once there is one. None for a draft or a media message."""
    message, _, _ = _as_author(session, actor, message_id)
    version = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
    if message.kind != "letter" or version is None or message.state in EDITABLE:
        return None
    blob_id = version.processed_blob_id or version.body_blob_id
    return blobs.load_text(session, svc.store, blob_id) if blob_id else None
