"""Messages, their immutable versions, approvals and review notes.

No message text is stored here: every body, note and flag list is an encrypted blob.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuttle.db import Base, UTCDateTime, new_id, utcnow


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    author_participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    written_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))  # a facilitator on behalf, or the author
    author_side: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="letter")
    state: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    held_from: Mapped[str | None] = mapped_column(String(30), nullable=True)
    draft_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    draft_upload_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    current_version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    approved_version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processing_job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rejection_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    scheduled_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the scheduled time while the periodic tick has yet to act on it (cleared once it has: from
    #: then on the time gate is open and every other gate reconciles when its facts change)
    release_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: set once, at the first submission: staff see a message only from then on (a draft is private),
    #: and the case's messages are numbered in this order
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: a facilitator called the message back after release, before it was opened
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: since when it waits on its facilitators (set by `lifecycle` on entering a waiting state):
    #: the review deadline runs from here, and the periodic escalation finds due ones by index
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: when an overdue review was last escalated (once per time it waits)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receipt_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the message this one answers: one of the same case delivered to the author's side and opened
    #: by it (`replies.start_reply` checks); None for a message that answers none
    in_reply_to_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        Index("ix_messages_case_state", "case_id", "state"),  # a case's messages in a state (pages, holds)
        Index("ix_messages_state_release", "state", "release_due_at"),  # scheduled releases now due
        Index("ix_messages_state_waiting", "state", "waiting_since"),  # reviews now overdue
    )


class MessageVersion(Base):
    """Immutable once written; processing fills in the processed blob and the flags once."""

    __tablename__ = "message_versions"
    __table_args__ = (UniqueConstraint("message_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(20))  # 'author' | 'facilitator'
    created_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))  # the account that typed or sent it
    #: whose words these are: the participant (principal or proxy) who wrote and sent them, or for
    #: whom a facilitator entered them (`created_by` is then that facilitator); a facilitator's
    #: proposed edit carries the participant of the version it edits. Labels ("written by someone
    #: acting for them") come from here (`messages.writers`).
    written_as_participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)  # letter; media: transcript
    body_upload_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # media: the upload's parts
    poster_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    edits: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # a facilitator's media edit list
    processing_error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # why it was refused
    processed_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    #: audio/video/image: the worker's normalised transcript of the author's text (body_blob_id)
    transcript_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    #: audio/video whose transcript was timed (WebVTT in body_blob_id): the worker's captions, checked
    #: against the delivered media's length and reduced to plain-text cues (`messages.captions`)
    captions_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    report_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    flag_count: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    author_decision: Mapped[str | None] = mapped_column(String(20), nullable=True)  # accepted | declined


class Approval(Base):
    """One facilitator's approval of one version, with how they resolved each of its flags.

    A recall revokes the approvals of the recalled version (`revoked_at`): only approvals not
    revoked count, and a facilitator has at most one of those per version (checked in
    `review.approve`).
    """

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("message_versions.id"), index=True)
    facilitator_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the flag resolutions (JSON, encrypted like every facilitator note); None when it had no flags
    resolutions_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SafeguardingIncident(Base):
    """A facilitator's record of a safeguarding concern about a message (e.g. one opened before a
    mistake was noticed, so it can no longer be recalled). Kept with the case; the note is encrypted."""

    __tablename__ = "safeguarding_incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), nullable=True, index=True)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"))


class ReviewNote(Base):
    """A facilitator's note, encrypted; `for_author` notes (changes asked, rejection) are shown to the author."""

    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    written_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(30))  # request_changes | reject | internal | edit
    for_author: Mapped[bool] = mapped_column(Boolean, default=False)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
