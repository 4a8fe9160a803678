"""A facilitator writes on a participant's behalf (DESIGN.md section 8, issue 10).

A letter the person dictated, or a photographed handwritten letter (a prisoner's letter that
came by post), is entered for a named principal or proxy. It is that person's message
(`author_participant_id`), marked as entered by the facilitator (`written_by`), sent to
review at once and processed and reviewed like any other: the same gates as if the person had
sent it themselves (case open, their consent and assessment, whose turn it is). With two
facilitators, the other one approves it (`permissions.may_approve_as`, kept in
`review.approve`). The recipient sees only the side's label, as always.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_case
from shuttle.cases.facts import facilitator_ids
from shuttle.cases.models import Case, Participant
from shuttle.errors import BadInput, Conflict, NotFound, TooLarge
from shuttle.i18n import N_, Sentence
from shuttle.messages import lifecycle
from shuttle.messages.authoring import (
    _check_may_send,
    _harmed_side_has_sent,
    add_version,
    check_case_takes_writing,
    check_letter,
)
from shuttle.messages.models import Message
from shuttle.messages.states import Action, State
from shuttle.permissions import Membership
from shuttle.services import Actor, Services
from shuttle.uploads.models import Upload, UploadPart

#: Photographed letters: the picture formats the media worker re-renders.
PHOTO_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
MAX_PHOTO_BYTES = 25 * 1024 * 1024


def photo_type(head: bytes) -> str | None:
    """JPEG, PNG or WebP from the first bytes; None for anything else."""
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in PHOTO_MAGIC if head.startswith(magic)), None)


def _author_for(session: Session, actor: Actor, case_id: str, participant_id: str
                ) -> tuple[Case, Participant]:
    """The named person, if the actor is a facilitator of the case and the person may write."""
    case, member = load_case(session, actor, case_id)
    participant = session.get(Participant, participant_id)
    if participant is None or participant.case_id != case.id:
        raise NotFound()
    if not permissions.may_write_on_behalf(member, for_role=participant.role):
        raise NotFound() if not member.is_facilitator else BadInput(
            N_("Only a principal or a proxy writes in this case: a supporter never does."), code="not_an_author")
    if not participant.active:
        raise Conflict(N_("This person no longer takes part in the case."), code="inactive_participant")
    check_case_takes_writing(case)
    as_author = Membership("participant", participant.side, participant.role, participant.id)
    if not permissions.may_start_message(as_author, initiator=case.initiator,
                                         responsible_may_reply=case.responsible_may_reply,
                                         harmed_side_has_sent=_harmed_side_has_sent(session, case.id)):
        raise Conflict(N_("This person's side cannot write to the other side in this case yet."), code="not_your_turn")
    return case, participant


def _new_for(session: Session, svc: Services, actor: Actor, case: Case, participant: Participant,
             kind: str) -> Message:
    """The person's message, marked as entered by the facilitator; the send gates checked first."""
    message = Message(case_id=case.id, author_participant_id=participant.id, written_by=actor.account_id,
                      author_side=participant.side, kind=kind, state=State.DRAFT.value, created_at=svc.now())
    session.add(message)
    session.flush()
    _check_may_send(session, case, message)
    return message


def _send(session: Session, svc: Services, actor: Actor, message: Message, participant: Participant, *,
          body_blob_id: str | None = None, body_upload_id: str | None = None) -> Message:
    """Sent to review at once: the facilitator's typing is not a draft anyone else could read."""
    add_version(session, svc, message, origin="author", created_by=actor.account_id,
                body_blob_id=body_blob_id, body_upload_id=body_upload_id, written_as=participant.id)
    message.submitted_at = message.first_submitted_at = svc.now()
    lifecycle.transition(session, message, Action.SUBMIT, actor, now=svc.now(),
                         details={"on_behalf_of": participant.id})
    return message


def enter_letter(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                 text: str) -> Message:
    """A letter the person dictated (or wrote and handed over), typed in by their facilitator."""
    check_letter(svc, text)
    if not text.strip():
        raise BadInput(N_("The letter is empty."))
    case, participant = _author_for(session, actor, case_id, participant_id)
    message = _new_for(session, svc, actor, case, participant, "letter")
    body = blobs.store_text(session, svc.store, text)
    return _send(session, svc, actor, message, participant, body_blob_id=body.id)


def enter_photo(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                data: bytes, transcript: str = "") -> Message:
    """A photographed handwritten letter (JPEG, PNG or WebP) with, optionally, its words typed out.
    The worker re-renders the picture and strips its metadata like any upload (invariants 2, 3)."""
    if not data:
        raise BadInput(N_("The photo is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        raise TooLarge(Sentence(N_("A photographed letter can be at most %(mib)s MiB."),
                                mib=MAX_PHOTO_BYTES // (1024 * 1024)))
    if photo_type(data[:16]) is None:
        raise BadInput(N_("A photographed letter is a JPEG, PNG or WebP picture."), code="not_a_photo")
    check_letter(svc, transcript)
    case, participant = _author_for(session, actor, case_id, participant_id)
    message = _new_for(session, svc, actor, case, participant, "image")
    stored = svc.store.put_bytes(data)
    blobs.record(session, stored)
    upload = Upload(message_id=message.id, created_by=actor.account_id, length=stored.size, offset=stored.size,
                    state="complete", created_at=svc.now(), expires_at=svc.now(), completed_at=svc.now())
    session.add(upload)
    session.flush()
    session.add(UploadPart(upload_id=upload.id, offset=0, length=stored.size, blob_id=stored.object_id))
    words = blobs.store_text(session, svc.store, transcript.strip()).id if transcript.strip() else None
    return _send(session, svc, actor, message, participant, body_blob_id=words, body_upload_id=upload.id)


def entered_by_staff(message: Message, author_account_id: str | None) -> bool:
    """Whether a facilitator entered this message on its author's behalf."""
    return author_account_id is not None and message.written_by != author_account_id


def check_may_approve(session: Session, message: Message, actor: Actor) -> None:
    """The facilitator who entered a message on someone's behalf does not approve it when the
    case has another facilitator, unless as the second approval after the other's
    (`permissions.may_approve_as`): 409 naming the rule."""

    from shuttle.messages.release import approvers_of  # release imports the review side's modules

    author = session.get(Participant, message.author_participant_id)
    assert author is not None
    others = [a for a in approvers_of(session, message.current_version_id) if a != actor.account_id]
    if not permissions.may_approve_as(actor.account_id, written_by=message.written_by,
                                      author_account_id=author.account_id,
                                      facilitators=len(facilitator_ids(session, message.case_id)),
                                      approved_by_another=bool(others)):
        raise Conflict(N_("You entered this message on the person's behalf, so the case's other facilitator "
                          "approves it first."), code="entered_by_you")
