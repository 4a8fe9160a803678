"""Recipients' open requests as the facilitators' pages list them, for any number of cases in
three queries (the requests with their messages and askers, the notes' keys, nothing per row).

The words are `messages.requests`' (KIND_WORDS, OUTCOME_WORDS); the fields are those of its
`open_requests`, typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.blobs import Blob
from shuttle.cases.models import Case, Participant
from shuttle.messages.models import Message
from shuttle.messages.request_models import RecipientRequest
from shuttle.messages.requests import KIND_WORDS, OUTCOME_WORDS
from shuttle.services import Services
from storage.keyring import WrappedKey


@dataclass(frozen=True)
class OpenRequest:
    id: str
    case_id: str
    case_reference: str
    message_id: str
    message_kind: str
    message_state: str
    kind: str
    kind_words: str
    from_label: str  # who asks: the recipient side
    requested_by_role: str
    note: str
    requested_at: str | None
    handled_at: str | None
    outcome: str | None
    outcome_words: str
    outcome_note: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def load_texts(session: Session, svc: Services, blob_ids: Iterable[str | None]) -> dict[str, str]:
    """Several encrypted texts, their keys read in one query (`blobs.load_text` for each)."""
    wanted = {b for b in blob_ids if b}
    if not wanted:
        return {}
    texts = {}
    for blob in session.scalars(select(Blob).where(Blob.id.in_(wanted))):
        if blob.wrapped_key is None:
            raise LookupError(f"blob {blob.id} is missing or shredded")
        texts[blob.id] = svc.store.get_bytes(blob.id, WrappedKey.decode(blob.wrapped_key)).decode("utf-8")
    missing = wanted - texts.keys()
    if missing:
        raise LookupError(f"blob {sorted(missing)[0]} is missing or shredded")
    return texts


def open_requests(session: Session, svc: Services, cases: Sequence[Case], *,
                  message_id: str | None = None) -> list[OpenRequest]:
    """The cases' requests not yet answered (only those about `message_id` when given), oldest
    first. For their facilitators: the caller checked that the actor is one in each case."""
    if not cases:
        return []
    by_id = {c.id: c for c in cases}
    query = (select(RecipientRequest, Message.kind, Message.state, Participant.side, Participant.role)
             .join(Message, Message.id == RecipientRequest.message_id)
             .join(Participant, Participant.id == RecipientRequest.participant_id)
             .where(RecipientRequest.case_id.in_(by_id), RecipientRequest.handled_at.is_(None))
             .order_by(RecipientRequest.requested_at, RecipientRequest.id))
    if message_id is not None:
        query = query.where(RecipientRequest.message_id == message_id)
    rows = session.execute(query).all()
    texts = load_texts(session, svc, [b for row, *_ in rows for b in (row.note_blob_id, row.outcome_note_blob_id)])
    found = []
    for row, message_kind, message_state, side, role in rows:
        case = by_id[row.case_id]
        found.append(OpenRequest(
            id=row.id, case_id=row.case_id, case_reference=case.reference, message_id=row.message_id,
            message_kind=message_kind, message_state=message_state, kind=row.kind, kind_words=KIND_WORDS[row.kind],
            from_label=case.label_of(side), requested_by_role=role,
            note=texts.get(row.note_blob_id or "", ""), requested_at=_iso(row.requested_at),
            handled_at=_iso(row.handled_at), outcome=row.outcome,
            outcome_words=OUTCOME_WORDS.get(row.outcome or "", ""),
            outcome_note=texts.get(row.outcome_note_blob_id or "", "")))
    order = {c.id: n for n, c in enumerate(cases)}
    return sorted(found, key=lambda r: order[r.case_id])  # case by case, as the cases are given
