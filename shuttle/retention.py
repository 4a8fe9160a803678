"""Retention: crypto-shredding a case, and sweeping bytes nobody references.

Shredding destroys the wrapped data keys (in the database) first: from that commit on, the
ciphertext is noise wherever a copy of it survives. The bytes are removed afterwards.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.agreements import aftercare
from shuttle.agreements import service as agreement_service
from shuttle.audit import log as audit
from shuttle.blobs import Blob
from shuttle.cases import notes, participation, preparation
from shuttle.cases.models import Case
from shuttle.errors import Conflict, NotFound
from shuttle.messages.models import Approval, Message, MessageVersion, ReviewNote, SafeguardingIncident
from shuttle.messages.request_models import RecipientRequest
from shuttle.messages.supported_models import SupportedOpening
from shuttle.services import Actor, Services
from shuttle.uploads import service as uploads
from shuttle.uploads.models import Upload, UploadPart

GRACE = timedelta(hours=1)


def _case_blob_ids(session: Session, case_id: str) -> set[str]:
    messages = select(Message.id).where(Message.case_id == case_id)
    ids: set[str] = set()
    for draft in session.execute(select(Message.draft_blob_id).where(Message.case_id == case_id)):
        ids.update(filter(None, draft))
    for version in session.execute(select(MessageVersion.body_blob_id, MessageVersion.processed_blob_id,
                                      MessageVersion.report_blob_id, MessageVersion.poster_blob_id,
                                      MessageVersion.transcript_blob_id, MessageVersion.captions_blob_id)
                               .where(MessageVersion.message_id.in_(messages))):
        ids.update(filter(None, version))
    ids.update(session.scalars(select(ReviewNote.blob_id).where(ReviewNote.message_id.in_(messages))))
    ids.update(filter(None, session.scalars(select(Approval.resolutions_blob_id)
                                            .where(Approval.message_id.in_(messages)))))
    ids.update(session.scalars(select(SafeguardingIncident.blob_id).where(SafeguardingIncident.case_id == case_id)))
    for request in session.execute(select(RecipientRequest.note_blob_id, RecipientRequest.outcome_note_blob_id)
                                   .where(RecipientRequest.case_id == case_id)):
        ids.update(filter(None, request))
    ids.update(filter(None, session.scalars(select(SupportedOpening.note_blob_id)  # issue 12: supported opening
                                            .where(SupportedOpening.case_id == case_id))))
    ids.update(session.scalars(select(UploadPart.blob_id).join(Upload, Upload.id == UploadPart.upload_id)
                               .where(Upload.message_id.in_(messages))))
    ids |= notes.blob_ids(session, case_id) | preparation.blob_ids(session, case_id)  # issue 10: facilitator notes
    ids |= participation.blob_ids(session, case_id)  # issue 10: consent scans, assessment reasons
    ids |= agreement_service.blob_ids(session, case_id) | aftercare.blob_ids(session, case_id)  # issue 11
    return ids


def shred_case_content(session: Session, svc: Services, case: Case) -> int:
    """Destroy the data key of every encrypted object of a case, in the caller's transaction; the
    case stays as a content-free stub (closed, `shredded_at` set). Returns how many objects."""
    ids = _case_blob_ids(session, case.id)
    for blob_id in ids:
        blobs.shred(session, blob_id, now=svc.now())
    case.status = "closed"
    case.closed_at = case.closed_at or svc.now()
    case.shredded_at, case.destroy_after = svc.now(), None
    # what the case row itself said of the people and places: the labels ("Jessica") and the watch list
    case.watchlist = []
    case.label_harmed, case.label_responsible = "the person harmed", "the person responsible"
    return len(ids)


def message_blob_ids(session: Session, message_id: str) -> set[str]:
    """Every encrypted object of a message's content: the draft and, of every version, the text,
    the media (original upload and processed), its poster, transcript and processing report."""
    ids: set[str] = set(filter(None, session.scalars(select(Message.draft_blob_id).where(Message.id == message_id))))
    for version in session.execute(select(MessageVersion.body_blob_id, MessageVersion.processed_blob_id,
                                          MessageVersion.report_blob_id, MessageVersion.poster_blob_id,
                                          MessageVersion.transcript_blob_id, MessageVersion.captions_blob_id)
                                   .where(MessageVersion.message_id == message_id)):
        ids.update(filter(None, version))
    ids.update(session.scalars(select(UploadPart.blob_id).join(Upload, Upload.id == UploadPart.upload_id)
                               .where(Upload.message_id == message_id)))
    return ids


def shred_message_content(session: Session, svc: Services, message_id: str) -> int:
    """Destroy the data keys of a message's content for everyone, in the caller's transaction;
    its review notes and the audit log stay. Returns how many objects."""
    ids = message_blob_ids(session, message_id)
    for blob_id in ids:
        blobs.shred(session, blob_id, now=svc.now())
    return len(ids)


def shred_case(session: Session, svc: Services, actor: Actor, reference: str) -> int:
    """Destroy every message body, media file and note of a case; returns how many objects."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"No case {reference}.")
    if case.legal_hold_since is not None:
        raise Conflict(f"{reference} is on legal hold ({case.legal_hold_reason}); lift the hold first.",
                       code="legal_hold")
    count = shred_case_content(session, svc, case)
    audit.record(session, action="case.shred", actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                 subject_type="case", subject_id=case.id, details={"objects": count}, now=svc.now())
    return count


def shred_refused_uploads(session: Session, svc: Services, *, limit: int = 100) -> int:
    """The original bytes of media the worker refused (never processed, so never seen by anyone),
    once SHUTTLE_RETENTION_REFUSED_UPLOADS has passed since they were sent: their upload parts
    are shredded. Not while the refused version may still be retried (its message waits on staff
    with it), nor in a case on legal hold. Run by the storage sweep: there is no index on a
    version's refusal, and the sweep is the pass that reads whole tables. Returns how many versions."""
    now = svc.now()
    cutoff = now - timedelta(days=svc.settings.retention_refused_upload_days)
    live_part = select(UploadPart.id).join(Upload, Upload.id == UploadPart.upload_id) \
        .join(Blob, Blob.id == UploadPart.blob_id) \
        .where(Upload.id == MessageVersion.body_upload_id, Blob.wrapped_key.is_not(None))
    rows = session.execute(
        select(MessageVersion.id, MessageVersion.body_upload_id, Message.case_id)
        .join(Message, Message.id == MessageVersion.message_id).join(Case, Case.id == Message.case_id)
        .where(MessageVersion.processing_error.is_not(None), MessageVersion.processed_blob_id.is_(None),
               MessageVersion.origin == "author", MessageVersion.body_upload_id.is_not(None),
               MessageVersion.created_at <= cutoff, Case.legal_hold_since.is_(None),
               (Message.current_version_id != MessageVersion.id) | Message.state.in_(
                   ["changes_requested", "withdrawn", "rejected"]),
               live_part.exists())
        .order_by(MessageVersion.created_at, MessageVersion.id).limit(limit)).all()
    for version_id, upload_id, case_id in rows:
        parts = list(session.scalars(select(UploadPart.blob_id).where(UploadPart.upload_id == upload_id)))
        for blob_id in parts:
            blobs.shred(session, blob_id, now=now)
        audit.record(session, action="message_version.retention_shred", actor_role="system", case_id=case_id,
                     subject_type="message_version", subject_id=version_id,
                     details={"objects": len(parts), "refused_upload": True,
                              "retention_days": svc.settings.retention_refused_upload_days}, now=now)
    return len(rows)


def sweep(svc: Services) -> dict[str, int]:
    """Expire abandoned uploads, shred refused uploads past their retention, remove shredded bytes,
    and delete stored objects that no database row references once they are older than the grace
    period (interrupted writes)."""
    with svc.db.uow() as uow:
        expired = uploads.expire(uow.session, svc)
        uow.commit()
    refused = 0
    while True:  # in batches, each its own transaction
        with svc.db.uow() as uow:
            done = shred_refused_uploads(uow.session, svc)
            uow.commit()
        refused += done
        if done < 100:
            break
    with svc.db.uow() as uow:
        removed = blobs.remove_shredded_bytes(uow.session, svc.store, now=svc.now())
        known = set(uow.session.scalars(select(Blob.id)))
        uow.commit()
    cutoff = (svc.now() - GRACE).timestamp()
    orphans = [object_id for object_id, mtime in svc.store.list_ids() if object_id not in known and mtime < cutoff]
    for object_id in orphans:
        svc.store.delete(object_id)
    now = svc.now().timestamp()
    # Interrupted writes left by crashes: S3 multipart uploads, local dot-named temp files.
    aborted = svc.store.abort_stale_uploads(GRACE.total_seconds(), now=now)
    temp = svc.store.remove_stale_temp(GRACE.total_seconds(), now=now)
    return {"expired_uploads": expired, "refused_uploads_shredded": refused, "shredded_removed": removed,
            "orphans_removed": len(orphans),
            "multipart_aborted": aborted, "temp_removed": temp}
