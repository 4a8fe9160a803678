"""Rows a version's job needs, read in one query at the start of its transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.blobs import Blob
from shuttle.cases.models import Case
from shuttle.messages.models import Message, MessageVersion


@dataclass(frozen=True)
class Preloaded:
    """Keep it while the transaction lasts: the session holds its objects only weakly."""

    version: MessageVersion
    message: Message
    case: Case
    body: Blob | None


def preload(session: Session, version_id: str) -> Preloaded | None:
    """The version, its message (locked until this transaction ends), its case and its body's
    blob, in one query: the use cases that follow find them in the session, without a query each.

    The message row is locked first, as a request acting on the message would lock it, so the
    job's own row (updated later in the transaction) is always locked after the message's."""
    row = session.execute(
        select(MessageVersion, Message, Case, Blob)
        .join(Message, Message.id == MessageVersion.message_id)
        .join(Case, Case.id == Message.case_id)
        .outerjoin(Blob, Blob.id == MessageVersion.body_blob_id)
        .where(MessageVersion.id == version_id)
        .with_for_update(of=Message)
    ).first()
    return Preloaded(*row) if row is not None else None
