"""What a facilitator and a participant are shown of a case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.access import load_case
from shuttle.accounts.models import Account
from shuttle.cases.facts import current_assessment, current_consent, facilitator_ids
from shuttle.cases.models import Case, Consent, Participant, other_side
from shuttle.services import Actor

SETTINGS = ("label_harmed", "label_responsible", "initiator", "responsible_may_reply", "approvals_required",
            "author_must_accept_edits", "read_receipts_allowed")


def _participant(session: Session, p: Participant) -> dict[str, Any]:
    account = session.get(Account, p.account_id)
    return {
        "id": p.id, "side": p.side, "role": p.role, "acting_for": p.acting_for,
        "name": account.display_name if account else "", "username": account.username if account else "",
        "consent_take_part": current_consent(session, p.id, "take_part"),
        "consent_receive": current_consent(session, p.id, "receive_messages"),
        "assessment": current_assessment(session, p.id),
        "holding_deliveries": p.holding_deliveries, "active": p.active,
        "withdrew_at": withdrew_at(session, p),
    }


def withdrew_at(session: Session, p: Participant) -> str | None:
    """When the participant themselves withdrew from the process (their latest take-part
    consent is a withdrawal they recorded), for the facilitators to see and act on."""
    latest = session.scalar(select(Consent).where(Consent.participant_id == p.id, Consent.kind == "take_part")
                            .order_by(Consent.id.desc()).limit(1))
    if latest is None or latest.granted or latest.recorded_by != p.account_id:
        return None
    return latest.recorded_at.isoformat()


def for_staff(session: Session, case: Case) -> dict[str, Any]:
    participants = session.scalars(select(Participant).where(Participant.case_id == case.id)
                                   .order_by(Participant.side, Participant.role)).all()
    facilitators = [session.get(Account, a) for a in facilitator_ids(session, case.id)]
    return {
        "id": case.id, "reference": case.reference, "status": case.status, "version": case.row_version,
        "settings": {name: getattr(case, name) for name in SETTINGS},
        "watchlist": list(case.watchlist or []),
        "facilitators": [{"id": f.id, "name": f.display_name} for f in facilitators if f],
        "participants": [_participant(session, p) for p in participants],
    }


def for_participant(case: Case, side: str | None, role: str | None) -> dict[str, Any]:
    return {
        "id": case.id, "reference": case.reference, "status": case.status,
        "side": side, "participant_role": role,
        "my_label": case.label_of(side or ""), "other_label": case.label_of(other_side(side or "")),
        "read_receipts_allowed": case.read_receipts_allowed,
    }


def case_view(session: Session, actor: Actor, case_id: str) -> dict[str, Any]:
    case, member = load_case(session, actor, case_id)
    if member.is_facilitator:
        return for_staff(session, case)
    return for_participant(case, member.side, member.participant_role)
