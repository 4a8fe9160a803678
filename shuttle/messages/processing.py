"""What the worker reports back: a version started, finished or failed processing.

The worker knows content, not rules: these use cases decide what its results mean for the
message, through the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.cases.models import Case
from shuttle.jobs.models import Job
from shuttle.messages import lifecycle
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.states import Action, Context, State
from shuttle.services import Actor, Services

WANTS_PROCESSING = {State.SUBMITTED.value, State.PROCESSING.value}


@dataclass(frozen=True)
class ProcessingInput:
    version_id: str
    kind: str
    body_blob_id: str | None
    body_upload_id: str | None
    watchlist: tuple[str, ...]
    edits: dict[str, object] | None = None


def _still_wanted(message: Message, version: MessageVersion) -> bool:
    state = message.held_from if message.state == State.HELD else message.state
    return message.current_version_id == version.id and state in WANTS_PROCESSING


def begin(session: Session, svc: Services, version_id: str) -> ProcessingInput | None:
    """Mark the message as processing; None when the version is no longer wanted (withdrawn, superseded)."""
    version = session.get(MessageVersion, version_id)
    if version is None:
        return None
    message = session.get(Message, version.message_id)
    assert message is not None
    if not _still_wanted(message, version):
        return None
    lifecycle.transition(session, message, Action.START_PROCESSING, Actor.system(), now=svc.now())
    case = session.get(Case, message.case_id)
    assert case is not None
    return ProcessingInput(version.id, message.kind, version.body_blob_id, version.body_upload_id,
                           tuple(case.watchlist or ()), version.edits)


@dataclass(frozen=True)
class MediaFacts:
    """What the media worker learned about its output, for the review queue and the player."""

    content_type: str
    duration_ms: int | None = None
    poster_blob_id: str | None = None


def finish(session: Session, svc: Services, version_id: str, *, processed_blob_id: str,
           report_blob_id: str, flag_count: int, media: MediaFacts | None = None,
           transcript_blob_id: str | None = None, captions_blob_id: str | None = None) -> bool:
    """Attach the worker's output to the version and move the message on. False if no longer wanted."""
    version = session.get(MessageVersion, version_id)
    assert version is not None
    message = session.get(Message, version.message_id)
    assert message is not None
    if not _still_wanted(message, version):
        return False
    case = session.get(Case, message.case_id)
    assert case is not None
    version.processed_blob_id = processed_blob_id
    version.report_blob_id = report_blob_id
    version.flag_count = flag_count
    version.transcript_blob_id = transcript_blob_id
    version.captions_blob_id = captions_blob_id
    version.processed_at = svc.now()
    version.content_type = media.content_type if media else "text/plain; charset=utf-8"
    if media is not None:
        version.duration_ms, version.poster_blob_id = media.duration_ms, media.poster_blob_id
    ctx = Context(version_origin=version.origin, author_must_accept=case.author_must_accept_edits)
    lifecycle.transition(session, message, Action.PROCESSED, Actor.system(), ctx=ctx, now=svc.now(),
                         details={"flags": flag_count})
    return True


def fail(session: Session, svc: Services, version_id: str, reason: str, *, refused: bool = False) -> None:
    """Processing failed (`refused`: because of the content itself, so the author can send
    another file; otherwise a facilitator may retry)."""
    version = session.get(MessageVersion, version_id)
    if version is None:
        return
    message = session.get(Message, version.message_id)
    assert message is not None
    if _still_wanted(message, version):
        version.processing_error = reason[:300]
        # only the author's own content goes back to them; a facilitator's edit stays with staff
        refused = refused and version.origin == "author"
        action = Action.REFUSE if refused else Action.PROCESSING_FAILED
        if refused and version.body_blob_id:  # a letter comes back to revise
            text = blobs.load_text(session, svc.store, version.body_blob_id)
            message.draft_blob_id = blobs.store_text(session, svc.store, text).id
        lifecycle.transition(session, message, action, Actor.system(), now=svc.now(),
                             details={"reason": reason[:200]})


def sync_dead_jobs(session: Session, svc: Services, *, limit: int = 100) -> int:
    """Messages whose processing job died (e.g. the worker crashed on its last try) show as failed;
    at most `limit` in this transaction."""
    rows = session.execute(
        select(Message, Job).join(Job, Job.id == Message.processing_job_id).where(
            Job.state == "dead", Message.state.in_([*WANTS_PROCESSING, State.HELD.value])).limit(limit)
    ).all()
    count = 0
    for message, job in rows:
        version = session.get(MessageVersion, message.current_version_id) if message.current_version_id else None
        if version is not None and _still_wanted(message, version):
            fail(session, svc, version.id, job.last_error or "processing failed")
            count += 1
    return count
