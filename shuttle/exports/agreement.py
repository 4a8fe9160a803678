"""The outcome agreement in a certified record: every version with its items, each side's answers,
each item's history of marks, and the case's closure reason (shuttle/agreements).

The items' words (what will be done, how it is checked) are what both sides saw and answered, so they
are in the record. The notes the facilitators keep with a mark, and the note a side sent with a change
request, are shown only to the facilitators: they stay out, like assessment reasons.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.accounts.models import Account
from shuttle.agreements import rules, service
from shuttle.agreements.models import AgreementAnswer, AgreementItem, AgreementVersion, ItemUpdate
from shuttle.audit.log import format_at
from shuttle.cases import states
from shuttle.cases.models import Case
from shuttle.services import Services

DECISION_WORDS = {"agree": "agreed", "change": "asked for a change"}
OWNER_WORDS = {"both": "both sides", "service": "the facilitators"}


def _owner(case: Case, owner: str) -> str:
    return OWNER_WORDS.get(owner) or case.label_of(owner)


def _words(session: Session, svc: Services, blob_id: str) -> dict[str, Any]:
    try:
        found = json.loads(blobs.load_text(session, svc.store, blob_id))
        return {"what": str(found.get("what", "")), "check": str(found.get("check", ""))}
    except LookupError:
        return {"what": None, "check": None, "destroyed": "crypto-shredded under the retention policy"}


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all())


def agreement_record(session: Session, svc: Services, case: Case) -> dict[str, Any]:
    """agreement.json: parts that do not exist are null or empty, never invented."""
    agreement = service.agreement_of(session, case.id)
    closure = service.closure_of(session, case.id)
    names = _names(session, {closure.recorded_by} if closure is not None else set())
    closure_fields = ({"reason": closure.reason, "words": states.CLOSURE_WORDS[states.ClosureReason(closure.reason)],
                       "at": format_at(closure.at), "by": names.get(closure.recorded_by, "")}
                      if closure is not None else None)
    if agreement is None:
        return {"agreement": None, "closure": closure_fields}
    versions = list(session.scalars(select(AgreementVersion).where(AgreementVersion.agreement_id == agreement.id)
                                    .order_by(AgreementVersion.number)))
    items = list(session.scalars(select(AgreementItem).where(AgreementItem.version_id.in_([v.id for v in versions]))
                                 .order_by(AgreementItem.number)))
    updates: dict[str, list[ItemUpdate]] = {}
    for row in session.scalars(select(ItemUpdate).where(ItemUpdate.item_id.in_([i.id for i in items]))
                               .order_by(ItemUpdate.id)):
        updates.setdefault(row.item_id, []).append(row)
    answers = list(session.scalars(select(AgreementAnswer).where(AgreementAnswer.version_id.in_(
        [v.id for v in versions])).order_by(AgreementAnswer.id)))
    names.update(_names(session, {v.created_by for v in versions}
                        | {u.recorded_by for rows in updates.values() for u in rows}))
    rows = []
    agreed_number = None
    for version in versions:
        mine = [a for a in answers if a.version_id == version.id]
        if version.id == agreement.agreed_version_id:
            agreed_number = version.number
        rows.append({
            "number": version.number, "created_at": format_at(version.created_at),
            "created_by": names.get(version.created_by, ""),
            "state": rules.version_state({a.side: rules.Decision(a.decision) for a in mine}).value,
            "answers": [{"side": a.side, "side_label": case.label_of(a.side), "decision": a.decision,
                         "words": DECISION_WORDS.get(a.decision, a.decision), "at": format_at(a.at),
                         "note": "kept by the facilitators, not in this record" if a.note_blob_id else None}
                        for a in mine],
            "items": [{
                "number": item.number, "owner": item.owner, "owner_words": _owner(case, item.owner),
                "due_on": item.due_on.isoformat() if item.due_on else None,
                **_words(session, svc, item.text_blob_id),
                "history": [{"status": u.status, "words": rules.ITEM_WORDS[rules.ItemStatus(u.status)],
                             "at": format_at(u.at), "by": names.get(u.recorded_by, ""),
                             "note": "kept by the facilitators, not in this record" if u.note_blob_id else None}
                            for u in updates.get(item.id, [])],
            } for item in items if item.version_id == version.id],
        })
    return {"agreement": {"agreed_version": agreed_number,
                          "agreed_at": format_at(agreement.agreed_at) if agreement.agreed_at else None,
                          "versions": rows},
            "closure": closure_fields}

