"""Use cases of resumable uploads: create, check an offset, record a part, finish, end.

The bytes themselves are encrypted by the web layer while they stream in (no transaction
is open meanwhile); `record_part` then decides, under a row lock, whether they count.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.blobs import Blob
from shuttle.errors import BadInput, Conflict, NotFound, ShuttleError, TooLarge
from shuttle.i18n import N_, Sentence
from shuttle.messages.authoring import MEDIA_KINDS, as_writer, check_case_takes_writing
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.states import EDITABLE
from shuttle.services import Actor, Services
from shuttle.uploads.models import Upload, UploadPart
from storage.keyring import WrappedKey
from storage.store import BlobStore, StoredObject

LIFETIME = timedelta(hours=24)
MAX_PARTS = 10_000
#: The length of an upload whose size is not known yet (tus creation-defer-length: a recording
#: sent while it is being made). Never a real length: a real one is at least 1.
DEFERRED = -1


class Gone(ShuttleError):
    """An upload that expired or was ended: tus answers 410."""

    status = 410
    code = "gone"


def _author_message(session: Session, actor: Actor, message_id: str) -> Message:
    """A message the actor started: only they upload its recording or photo (issue 13)."""
    return as_writer(session, actor, message_id)[0]


def create(session: Session, svc: Services, actor: Actor, message_id: str, length: int | None) -> Upload:
    """A new upload into the actor's draft; `length` None: deferred, told by a later PATCH."""
    message, case, _ = as_writer(session, actor, message_id)
    check_case_takes_writing(case)
    if message.kind not in MEDIA_KINDS:
        raise BadInput(N_("Uploads are for audio, video and image messages."))
    if message.state not in EDITABLE:
        raise Conflict(N_("This message has already been sent."), code="not_editable")
    if length is None:
        length = DEFERRED
    else:
        _check_length(svc, length)
    upload = Upload(message_id=message.id, created_by=actor.account_id, length=length,
                    created_at=svc.now(), expires_at=svc.now() + LIFETIME)
    session.add(upload)
    session.flush()
    return upload


def _check_length(svc: Services, length: int) -> None:
    limit = svc.settings.limits.max_upload_bytes
    if length > limit:
        raise TooLarge(Sentence(N_("A recording or file can be at most %(mib)s MiB."), mib=limit // (1024 * 1024)))
    if length <= 0:
        raise BadInput(N_("The upload is empty."))


def deferred(upload: Upload) -> bool:
    """Whether the upload's length is still to be told (tus Upload-Defer-Length)."""
    return upload.length == DEFERRED


def _room(svc: Services, upload: Upload) -> int:
    """The most the upload may still take: up to its length, or up to the limit while deferred."""
    end = svc.settings.limits.max_upload_bytes if deferred(upload) else upload.length
    return end - upload.offset


def get(session: Session, svc: Services, actor: Actor, upload_id: str, *, lock: bool = False) -> Upload:
    """The caller's own upload; 404 for anyone else's, 410 once expired or ended."""
    query = select(Upload).where(Upload.id == upload_id)
    upload = session.scalar(query.with_for_update() if lock else query)
    if upload is None or upload.created_by != actor.account_id:
        raise NotFound()
    _author_message(session, actor, upload.message_id)
    if upload.state in ("expired", "terminated") or (upload.state == "open" and upload.expires_at <= svc.now()):
        raise Gone("This upload has expired. Please start it again.")
    return upload


def check_offset(session: Session, svc: Services, actor: Actor, upload_id: str, offset: int,
                 length: int | None = None) -> int:
    """How many more bytes the upload takes from `offset`; 409 if the client is out of step.

    `length` (a PATCH's Upload-Length) sets a deferred upload's length, once: it must not be
    less than what the server holds, and an upload whose length is known keeps it."""
    upload = get(session, svc, actor, upload_id, lock=length is not None)
    if upload.state != "open":
        raise Conflict(N_("This upload is already complete."), code="complete")
    if offset != upload.offset:
        raise Conflict(Sentence(N_("The upload is at byte %(at)s, not %(offset)s."), at=upload.offset, offset=offset),
                       code="offset_mismatch")
    if length is not None and length != upload.length:
        if not deferred(upload):
            raise Conflict(Sentence(N_("This upload's length is already %(length)s bytes."), length=upload.length),
                           code="length_set")
        _check_length(svc, length)
        if length < upload.offset:
            raise Conflict(Sentence(N_("The server already holds %(held)s bytes, more than %(length)s."),
                                    held=upload.offset, length=length), code="length_too_short")
        upload.length = length
        session.flush()
    return _room(svc, upload)


def finish_if_whole(session: Session, svc: Services, actor: Actor, upload_id: str) -> Upload:
    """After a PATCH that brought no bytes: a deferred upload told a length equal to what it holds
    is complete now."""
    upload = get(session, svc, actor, upload_id, lock=True)
    if upload.state == "open" and upload.offset == upload.length:
        _complete(session, svc, upload)
        session.flush()
    return upload


def record_part(session: Session, svc: Services, actor: Actor, upload_id: str, offset: int,
                stored: StoredObject) -> Upload:
    """Count an encrypted part if the upload is still where it was; finish it when full."""
    upload = get(session, svc, actor, upload_id, lock=True)
    if upload.state != "open" or upload.offset != offset:
        raise Conflict(N_("Another request changed this upload meanwhile."), code="offset_mismatch")
    if stored.size > _room(svc, upload):
        raise TooLarge(N_("More bytes arrived than the upload announced."))
    parts = session.scalar(select(UploadPart.id).where(UploadPart.upload_id == upload.id).offset(MAX_PARTS - 1))
    if parts is not None:
        raise BadInput(N_("This upload has too many pieces; please start it again."))
    blobs.record(session, stored)
    session.flush()
    session.add(UploadPart(upload_id=upload.id, offset=offset, length=stored.size, blob_id=stored.object_id))
    upload.offset += stored.size
    if upload.offset == upload.length:
        _complete(session, svc, upload)
    session.flush()
    return upload


def _complete(session: Session, svc: Services, upload: Upload) -> None:
    """A finished upload becomes the draft's content; a previous take is destroyed."""
    upload.state, upload.completed_at = "complete", svc.now()
    message = session.get(Message, upload.message_id)
    assert message is not None
    if message.state not in EDITABLE:
        raise Conflict(N_("This message has already been sent."), code="not_editable")
    previous = message.draft_upload_id
    message.draft_upload_id = upload.id
    message.updated_at = svc.now()
    if previous and previous != upload.id:
        discard(session, svc, previous, state="terminated")


def terminate(session: Session, svc: Services, actor: Actor, upload_id: str) -> None:
    """End an upload the author no longer wants; once sent, it is a version's body and stays."""
    upload = get(session, svc, actor, upload_id)
    if session.scalar(select(MessageVersion.id).where(MessageVersion.body_upload_id == upload.id)) is not None:
        raise Conflict(N_("This recording has already been sent, so it can no longer be deleted."), code="not_editable")
    message = session.get(Message, upload.message_id)
    if message is not None and message.draft_upload_id == upload.id:
        message.draft_upload_id = None
    discard(session, svc, upload.id, state="terminated")


def discard(session: Session, svc: Services, upload_id: str, *, state: str) -> None:
    """Destroy an upload's parts (crypto-shredding their keys) and mark why."""
    upload = session.get(Upload, upload_id)
    if upload is None:
        return
    for blob_id in session.scalars(select(UploadPart.blob_id).where(UploadPart.upload_id == upload.id)):
        blobs.shred(session, blob_id, now=svc.now())
    upload.state = state


def expire(session: Session, svc: Services, now: datetime | None = None) -> int:
    """Abandoned uploads past their expiry are destroyed (run by the periodic sweeper)."""
    now = now or svc.now()
    stale = session.scalars(select(Upload.id).where(Upload.state == "open", Upload.expires_at <= now)).all()
    for upload_id in stale:
        discard(session, svc, upload_id, state="expired")
    return len(stale)


def read(session: Session, store: BlobStore, upload_id: str) -> Iterator[bytes]:
    """The upload's plaintext, part after part (for the worker's private scratch space)."""
    parts = session.execute(
        select(UploadPart.blob_id, Blob.wrapped_key).join(Blob, Blob.id == UploadPart.blob_id)
        .where(UploadPart.upload_id == upload_id).order_by(UploadPart.offset)
    ).all()
    for blob_id, wrapped in parts:
        if wrapped is None:
            raise LookupError(f"upload {upload_id} has a shredded part")
        yield from store.open(blob_id, WrappedKey.decode(wrapped))
