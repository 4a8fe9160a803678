"""What the rest of the domain reads about a case's people: consents, assessments, who is on
each side, the person gates and the proceedings hold.

Read-only and separate from the case use cases (cases/service.py) so that the release rules
(messages/release.py) can read them while the use cases reconcile a case's messages after a
change, without the two importing each other (tests/test_architecture.py forbids the circle).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.cases.models import Assessment, Case, CaseFacilitator, Consent, Participant
from shuttle.db import utcnow
from shuttle.messages.gates import PersonGate
from shuttle.services import Services


def current_consent(session: Session, participant_id: str, kind: str) -> bool:
    latest = session.scalar(
        select(Consent.granted)
        .where(Consent.participant_id == participant_id, Consent.kind == kind)
        .order_by(Consent.id.desc())
        .limit(1)
    )
    return bool(latest)


def latest_assessment(session: Session, participant_id: str, kind: str) -> Assessment | None:
    return session.scalar(
        select(Assessment)
        .where(Assessment.participant_id == participant_id, Assessment.kind == kind)
        .order_by(Assessment.id.desc())
        .limit(1)
    )


def _in_date(assessment: Assessment | None, today: date) -> bool:
    return assessment is not None and (assessment.review_by is None or assessment.review_by >= today)


def current_assessment(session: Session, participant_id: str, now: datetime | None = None) -> str | None:
    """'suitable' when the person has a current eligible and suitable assessment whose review
    date has not passed; otherwise the latest suitability outcome ('not_suitable'), 'expired',
    or None when there is none yet. Sending and receiving need 'suitable'."""
    today = (now or utcnow()).date()
    return assessment_status(latest_assessment(session, participant_id, "eligibility"),
                             latest_assessment(session, participant_id, "suitability"), today)


def assessment_status(eligibility: Assessment | None, suitability: Assessment | None, today: date) -> str | None:
    """`current_assessment` from the person's latest eligibility and suitability assessments."""
    if suitability is None:
        return None
    if suitability.outcome != "suitable" or (eligibility is not None and eligibility.outcome != "eligible"):
        return "not_suitable"
    if eligibility is None:
        return None
    if not (_in_date(eligibility, today) and _in_date(suitability, today)):
        return "expired"
    return "suitable"


def side_members(session: Session, case_id: str, side: str) -> list[Participant]:
    """The people who write and receive for a side (principals and proxies)."""
    return list(
        session.scalars(
            select(Participant).where(
                Participant.case_id == case_id,
                Participant.side == side,
                Participant.active.is_(True),
                Participant.role.in_(permissions.AUTHORING_ROLES),
            )
        )
    )


def person_gate(session: Session, participant: Participant, label: str, now: datetime | None = None) -> PersonGate:
    return PersonGate(
        label=label,
        takes_part=current_consent(session, participant.id, "take_part"),
        receives=current_consent(session, participant.id, "receive_messages"),
        suitable=current_assessment(session, participant.id, now) == "suitable",
        holding_deliveries=participant.holding_deliveries,
        active=participant.active,
    )


def proceedings_hold(svc: Services, case: Case) -> bool:
    """Court proceedings hold the exchange only where the service waits for them (a setting)."""
    return bool(case.proceedings_ongoing and svc.settings.hold_during_proceedings)


def facilitator_ids(session: Session, case_id: str) -> list[str]:
    return list(session.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case_id)))
