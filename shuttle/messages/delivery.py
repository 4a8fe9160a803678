"""The recipient's side: what is waiting, and opening it only when they choose to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import load_message
from shuttle.audit import log as audit
from shuttle.blobs import Blob
from shuttle.cases.facts import person_gate
from shuttle.cases.models import Case, CaseFacilitator, Consent, Participant
from shuttle.errors import Conflict, NotFound
from shuttle.i18n import N_
from shuttle.messages import lifecycle, supported_opening
from shuttle.messages.gates import PersonGate, reading_holds
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.request_models import RecipientRequest
from shuttle.messages.requests import CLOSING_KINDS, closed_by_request
from shuttle.messages.states import Action, State
from shuttle.permissions import Membership
from shuttle.services import Actor, Services


def _check_deliverable(session: Session, case_status: str, member_participant_id: str, label: str) -> None:
    """A pause or withdrawn consent stops a delivered message from being opened or read; a closed
    case does not (gates.reading_holds)."""
    participant = session.get(Participant, member_participant_id)
    assert participant is not None
    if reading_holds(case_status, person_gate(session, participant, label)):
        raise Conflict(N_("This message cannot be opened just now. Your facilitator can tell you more."),
                       code="not_deliverable")


def may_open_now(session: Session, case_status: str, participant_id: str, label: str) -> bool:
    """Whether this recipient may open a delivered message now, so a page offers "Open it now"
    only when opening will work (the same rule `open_message` keeps)."""
    try:
        _check_deliverable(session, case_status, participant_id, label)
    except Conflict:
        return False
    return True


def _closed_words(done: str) -> str:
    """The refusal for a message returned or destroyed at the reader's request: one whole sentence each."""
    if done == "return":
        return N_("At your request, your facilitator has returned this message.")
    return N_("At your request, your facilitator has destroyed this message.")


def _check_not_closed(session: Session, message: Message) -> None:
    """A message returned or destroyed at the recipient's request is not shown to them any more."""
    done = closed_by_request(session, message.id)
    if done:
        raise Conflict(_closed_words(done), code="closed_by_request")


def open_message(session: Session, svc: Services, actor: Actor, message_id: str, *,
                 share_receipt: bool = False) -> str | None:
    """Mark the message opened (the first time) and return a letter's processed text;
    None for media, whose bytes are then served by `media_ref`."""
    message, case, member = load_message(session, actor, message_id)
    if not permissions.may_open(member, author_side=message.author_side, state=State(message.state)):
        raise NotFound()
    assert member.participant_id is not None
    _check_deliverable(session, case.status, member.participant_id, case.label_of(member.side or ""))
    _check_not_closed(session, message)
    if message.state == State.RELEASED:
        # asked to open it with the facilitator: only inside the session they started
        supported = supported_opening.check_open(session, svc, message.id)
        lifecycle.transition(session, message, Action.OPEN, actor, now=svc.now(),
                             details={"receipt_shared": share_receipt and case.read_receipts_allowed})
        message.opened_at = svc.now()
        message.receipt_shared = share_receipt and case.read_receipts_allowed
        if supported is not None:
            supported_opening.opened(session, svc, actor, supported)
    return delivered_text(session, svc, message) if message.kind == "letter" else None


def delivered_text(session: Session, svc: Services, message: Message) -> str:
    """Only the worker's output for the approved version ever crosses (invariants 1 and 2)."""
    version = session.get(MessageVersion, message.approved_version_id or "")
    if version is None or version.processed_blob_id is None:
        raise NotFound()
    return blobs.load_text(session, svc.store, version.processed_blob_id)


@dataclass(frozen=True)
class MediaRef:
    """Where the bytes of a processed rendition are, and how to label them."""

    blob_id: str
    wrapped_key: str
    content_type: str
    size: int


def _version_for(session: Session, message: Message, member: Membership, version_id: str | None) -> MessageVersion:
    """Recipients get the approved version once they opened it; staff any processed version;
    the author the current one (to see what will be sent)."""
    if member.is_facilitator:
        wanted = version_id or message.current_version_id
    elif permissions.is_author_side(member, message.author_side):
        wanted = message.current_version_id
    elif message.state == State.VIEWED:
        wanted = message.approved_version_id
    else:
        wanted = None  # not opened yet: nothing is shown before the recipient chooses
    version = session.get(MessageVersion, wanted) if wanted else None
    if version is None or version.message_id != message.id:
        raise NotFound()
    return version


def _media_version(session: Session, actor: Actor, message_id: str,
                   version_id: str | None) -> tuple[Message, Membership, MessageVersion]:
    """A media message's version, for whoever may see it now (the recipient: still deliverable)."""
    message, case, member = load_message(session, actor, message_id)
    if message.kind == "letter":
        raise NotFound()
    if not member.is_facilitator and not permissions.is_author_side(member, message.author_side):
        assert member.participant_id is not None
        _check_deliverable(session, case.status, member.participant_id, case.label_of(member.side or ""))
        _check_not_closed(session, message)
    return message, member, _version_for(session, message, member, version_id)


_MEDIA_CHECKS: dict[tuple[str, bool], Select[Any]] = {}


def _media_check_statement(role: str, poster: bool) -> Select[Any]:
    """The one statement of a media check: exactly the columns the permission and gate checks
    need (the message, its case's status and labels, the actor's membership, for a participant
    their consents and whether it was returned or destroyed at the recipient's request, as
    `closed_by_request` answers) with the candidate versions (asked for, current, approved) and their blob.
    Core tables and bound parameters (message_id, account_id, version_id), built once per kind of
    actor and rendition: building and keying a statement costs more than running it."""
    key = (role if role in ("facilitator", "participant") else "other", poster)
    if key in _MEDIA_CHECKS:
        return _MEDIA_CHECKS[key]
    m, c, v, b = (Message.__table__.c, Case.__table__.c, MessageVersion.__table__.c, Blob.__table__.c)
    blob_of = v.poster_blob_id if poster else v.processed_blob_id
    candidates = and_(v.message_id == m.id,
                      v.id.in_([m.current_version_id, m.approved_version_id, bindparam("version_id")]))
    statement = (select(m.case_id, m.kind, m.author_side, m.state, m.first_submitted_at, m.author_participant_id,
                        m.current_version_id, m.approved_version_id, c.status, c.label_harmed, c.label_responsible,
                        v.id.label("version_id"), v.content_type,
                        b.id.label("blob_id"), b.wrapped_key, b.size)
                 .select_from(Message.__table__).join(Case.__table__, c.id == m.case_id)
                 .outerjoin(MessageVersion.__table__, candidates).outerjoin(Blob.__table__, b.id == blob_of)
                 .where(m.id == bindparam("message_id")))
    if key[0] == "facilitator":
        f = CaseFacilitator.__table__.c
        statement = statement.add_columns(f.id.label("facilitating")).outerjoin(
            CaseFacilitator.__table__, and_(f.case_id == m.case_id, f.account_id == bindparam("account_id")))
    elif key[0] == "participant":
        pt, k = Participant.__table__.c, Consent.__table__.c

        def consent(kind: str) -> Any:
            return (select(k.granted).where(k.participant_id == pt.id, k.kind == kind)
                    .order_by(k.id.desc()).limit(1).scalar_subquery())
        q = RecipientRequest.__table__.c
        closed = (select(q.kind).where(q.message_id == m.id, q.kind.in_(CLOSING_KINDS), q.outcome == "done")
                  .order_by(q.requested_at, q.id).limit(1).scalar_subquery())  # the first one done
        statement = statement.add_columns(
            pt.id.label("participant_id"), pt.side, pt.role,
            consent("take_part").label("takes_part"), consent("receive_messages").label("receives"),
            closed.label("closed_by_request"),
        ).outerjoin(Participant.__table__, and_(pt.case_id == m.case_id, pt.account_id == bindparam("account_id"),
                                                pt.active.is_(True)))
    _MEDIA_CHECKS[key] = statement
    return statement


def _membership_of(actor: Actor, row: Any) -> Membership:
    if actor.account_id is None:
        return permissions.NO_MEMBERSHIP
    if actor.role == "facilitator":
        return Membership("facilitator") if row.facilitating is not None else permissions.NO_MEMBERSHIP
    if actor.role == "participant":
        return (Membership("participant", row.side, row.role, row.participant_id) if row.participant_id is not None
                else permissions.NO_MEMBERSHIP)
    if actor.role == "coordinator":
        return Membership("coordinator")
    return permissions.NO_MEMBERSHIP


def media_ref(session: Session, svc: Services, actor: Actor, message_id: str, *, version_id: str | None = None,
              rendition: str = "media", audit_view: bool = True) -> MediaRef:
    """The worker's output only (invariant 2); staff views are audited (invariant 8).

    Re-checked on every range a player asks for (a pause stops playback at once), so it is cheap:
    the same rules as `load_message`, `_check_deliverable` and `_version_for`, read in one
    statement (`_media_check_statement`), a recipient's with what `closed_by_request` answers."""
    if actor.account_id is None:
        raise NotFound()
    statement = _media_check_statement(actor.role, rendition == "poster")
    rows = session.connection().execute(statement, {"message_id": message_id, "account_id": actor.account_id,
                                                    "version_id": version_id}).all()
    if not rows:
        raise NotFound()
    row = rows[0]
    member = _membership_of(actor, row)
    if row.kind == "letter" or not permissions.may_see_message(
            member, author_side=row.author_side, state=State(row.state), submitted=row.first_submitted_at is not None,
            author_participant_id=row.author_participant_id):
        raise NotFound()
    if member.is_facilitator:
        wanted = version_id or row.current_version_id
    elif permissions.is_author_side(member, row.author_side):
        wanted = row.current_version_id
    else:  # the recipient: still deliverable (as `_check_deliverable`), and not returned or destroyed
        gate = PersonGate(label=row.label_harmed if member.side == "harmed" else row.label_responsible,
                          takes_part=bool(row.takes_part), receives=bool(row.receives),
                          suitable=False)  # not read by reading_holds, nor here: receiving needs consent
        if reading_holds(row.status, gate):
            raise Conflict(N_("This message cannot be opened just now. Your facilitator can tell you more."),
                           code="not_deliverable")
        done = row.closed_by_request
        if done:
            raise Conflict(_closed_words(done), code="closed_by_request")
        wanted = row.approved_version_id if row.state == State.VIEWED else None
    found = next((r for r in rows if wanted and r.version_id == wanted), None)
    if found is None or found.blob_id is None or found.wrapped_key is None:
        raise NotFound()
    if member.is_facilitator and audit_view:
        audit.record(session, action="message.view_content", actor_id=actor.account_id, actor_role=actor.role,
                     case_id=row.case_id, subject_type="message_version", subject_id=found.version_id,
                     details={"rendition": rendition}, now=svc.now())
    content_type = "image/jpeg" if rendition == "poster" else (found.content_type or "application/octet-stream")
    return MediaRef(found.blob_id, found.wrapped_key, content_type, found.size)


def transcript(session: Session, svc: Services, actor: Actor, message_id: str) -> str | None:
    """The processed transcript of an audio, video or image message (the worker's normalised
    text, like a letter's), for whoever may see its media: the recipient once they opened it,
    the author side for the current version, staff for the current version. None if it has none."""
    _, _, version = _media_version(session, actor, message_id, None)
    if version.transcript_blob_id is None:
        return None
    return blobs.load_text(session, svc.store, version.transcript_blob_id)


def has_captions(session: Session, actor: Actor, message_id: str) -> bool:
    """Whether `captions` would answer captions now (the player then offers its track)."""
    return _media_version(session, actor, message_id, None)[2].captions_blob_id is not None


def captions(session: Session, svc: Services, actor: Actor, message_id: str) -> str | None:
    """The captions (WebVTT, plain-text cues the worker checked) of a recording whose transcript
    was timed, under the same gate as its transcript. None if it has none."""
    _, _, version = _media_version(session, actor, message_id, None)
    if version.captions_blob_id is None:
        return None
    return blobs.load_text(session, svc.store, version.captions_blob_id)
