"""Use cases for cases: creation, participants, consent, assessment, status and settings.

Every change that can open or close a release gate ends by reconciling the case's pending
messages, in the same transaction, so a withdrawal or a pause takes effect at once.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_case
from shuttle.audit import log as audit
from shuttle.cases import states
from shuttle.cases.facts import facilitator_ids
from shuttle.cases.models import (
    ASSESSMENT_OUTCOMES,
    CASE_STATUSES,
    CONSENT_KINDS,
    CONSENT_METHODS,
    PARTICIPANT_ROLES,
    SIDES,
    Assessment,
    Case,
    CaseFacilitator,
    Consent,
    Participant,
)
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.messages.release import reconcile_case
from shuttle.services import Actor, Services

REFERENCE = re.compile(r"^[A-Z]{2,5}-\d{4}-\d{3,6}$")
#: Which status a case may move to from each status (from the case state machine).
STATUS_MOVES = {
    status.value: {states.next_status(status, action).value for action in states.allowed_actions(status)}
    for status in states.Status
}
MAX_REASON_CHARS = 500


def create_case(
    session: Session,
    actor: Actor,
    *,
    reference: str,
    facilitators: list[str],
    now: Any,
    **settings: Any,
) -> Case:
    if not REFERENCE.match(reference):
        raise BadInput(N_("A case reference looks like RJ-2026-0042."))
    if not 1 <= len(set(facilitators)) <= 2:
        raise BadInput(N_("A case has one or two facilitators."))
    if session.scalar(select(Case.id).where(Case.reference == reference)):
        raise Conflict(Sentence(N_("A case with reference %(reference)s already exists."), reference=reference))
    case = Case(reference=reference, created_at=now)
    session.add(case)
    session.flush()
    _apply_settings(case, settings)
    _check_approvals_possible(case, len(set(facilitators)))
    for account_id in dict.fromkeys(facilitators):
        session.add(CaseFacilitator(case_id=case.id, account_id=account_id))
    audit.record(session, action="case.create", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="case", subject_id=case.id,
                 details={"reference": reference}, now=now)
    session.flush()
    return case


def _apply_settings(case: Case, settings: dict[str, Any]) -> None:
    allowed = {
        "label_harmed": str, "label_responsible": str, "initiator": str,
        "responsible_may_reply": bool, "approvals_required": int,
        "author_must_accept_edits": bool, "read_receipts_allowed": bool, "watchlist": list,
    }
    for name, value in settings.items():
        if name not in allowed or not isinstance(value, allowed[name]) or (
                allowed[name] is int and isinstance(value, bool)):
            raise BadInput(Sentence(N_("Unknown or malformed case setting: %(name)s."), name=name))
    if settings.get("initiator", case.initiator) not in {"harmed", "either"}:
        raise BadInput(N_("initiator is 'harmed' or 'either'."))
    if settings.get("approvals_required", case.approvals_required or 1) not in {1, 2}:
        raise BadInput(N_("approvals_required is 1 or 2."))
    for label in ("label_harmed", "label_responsible"):
        if label in settings and not 1 <= len(settings[label].strip()) <= 80:
            raise BadInput(N_("A side's label is 1 to 80 characters."))
    if "watchlist" in settings:
        if not all(isinstance(t, str) for t in settings["watchlist"]):
            raise BadInput(N_("The watch list is a list of words or phrases (strings)."))
        terms = [t.strip() for t in settings["watchlist"] if t.strip()]
        if len(terms) > 200 or any(len(t) > 100 for t in terms):
            raise BadInput(N_("The watch list holds up to 200 terms of up to 100 characters."))
        settings = {**settings, "watchlist": terms}
    for name, value in settings.items():
        setattr(case, name, value.strip() if isinstance(value, str) else value)


def update_settings(session: Session, svc: Services, actor: Actor, case_id: str,
                    settings: dict[str, Any], *, expected_version: int | None = None) -> Case:
    case, member = _managed_case(session, actor, case_id)
    if expected_version is not None and expected_version != case.row_version:
        raise Conflict(N_("The case settings changed since you opened them. Reload and try again."), code="stale")
    _apply_settings(case, settings)
    _check_approvals_possible(case, len(facilitator_ids(session, case.id)))
    audit.record(session, action="case.settings", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="case", subject_id=case.id,
                 details={"changed": sorted(settings)}, now=svc.now())
    _reconcile(session, svc, case, actor)
    return case


def _check_approvals_possible(case: Case, facilitators: int) -> None:
    """Two approvals need two different facilitators: a case with one cannot ask for two."""
    if case.approvals_required > facilitators:
        pattern = (N_("This case has %(count)s facilitator, so it cannot need %(required)s different facilitators "
                      "to approve a message.") if facilitators == 1 else
                   N_("This case has %(count)s facilitators, so it cannot need %(required)s different facilitators "
                      "to approve a message."))
        raise BadInput(Sentence(pattern, count=facilitators, required=case.approvals_required),
                       code="approvals_impossible")


def _managed_case(session: Session, actor: Actor, case_id: str) -> tuple[Case, permissions.Membership]:
    case, member = load_case(session, actor, case_id)
    if not permissions.may_manage_case(member):
        raise NotFound()
    return case, member


def _participant_of(session: Session, case: Case, participant_id: str) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.case_id != case.id:
        raise NotFound()
    return participant


def add_participant(session: Session, svc: Services, actor: Actor, case_id: str, *, account_id: str,
                    side: str, role: str = "principal", acting_for: str = "") -> Participant:
    case, _ = _managed_case(session, actor, case_id)
    if side not in SIDES or role not in PARTICIPANT_ROLES:
        raise BadInput(N_("side is harmed or responsible; role is principal, proxy or supporter."))
    if role == "proxy" and not acting_for.strip():
        raise BadInput(N_("Say whom the proxy acts for (e.g. 'mother of Jessica')."))
    existing = session.scalar(select(Participant).where(Participant.case_id == case.id,
                                                        Participant.account_id == account_id))
    if existing is not None:
        raise Conflict(N_("That person is already part of this case."))
    participant = Participant(case_id=case.id, account_id=account_id, side=side, role=role,
                              acting_for=acting_for.strip())
    session.add(participant)
    session.flush()
    audit.record(session, action="case.add_participant", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="participant", subject_id=participant.id,
                 details={"side": side, "role": role}, now=svc.now())
    return participant


def record_consent(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                   *, kind: str, granted: bool, note: str = "", method: str = "in_person",
                   given_on: date | None = None, organisation_id: str | None = None,
                   scan_blob_id: str | None = None) -> Consent:
    """A facilitator records a consent form (or its withdrawal): how it was given and when."""
    case, _ = _managed_case(session, actor, case_id)
    participant = _participant_of(session, case, participant_id)
    if kind not in CONSENT_KINDS:
        raise BadInput(N_("Consent is to take_part, share_information or receive_messages."))
    if method not in CONSENT_METHODS or method == "online":
        raise BadInput(N_("Say how the consent was given: in_person, phone or signed_form."))
    if given_on is not None and given_on > svc.now().date():
        raise BadInput(N_("The date the consent was given cannot be in the future."))
    if kind == "share_information":
        _check_organisation(session, organisation_id)
    elif organisation_id:
        raise BadInput(N_("Only a consent to share information names an organisation."))
    return _append_consent(session, svc, actor, case, participant, kind, granted, note, method=method,
                           given_on=given_on, organisation_id=organisation_id, scan_blob_id=scan_blob_id)


def _check_organisation(session: Session, organisation_id: str | None) -> None:
    from shuttle.organisations.models import Organisation  # the coordinator's list

    found = session.get(Organisation, organisation_id) if organisation_id else None
    if found is None or not found.active:
        raise BadInput(N_("Choose an organisation from the service's list to share information with."))


def _append_consent(session: Session, svc: Services, actor: Actor, case: Case, participant: Participant,
                    kind: str, granted: bool, note: str, *, method: str = "in_person",
                    given_on: date | None = None, organisation_id: str | None = None,
                    scan_blob_id: str | None = None) -> Consent:
    consent = Consent(participant_id=participant.id, kind=kind, granted=granted,
                      recorded_by=actor.account_id, recorded_at=svc.now(), note=note[:500], method=method,
                      given_on=given_on or svc.now().date(), organisation_id=organisation_id,
                      scan_blob_id=scan_blob_id)
    session.add(consent)
    details: dict[str, Any] = {"kind": kind, "method": method}
    if organisation_id:
        details["organisation_id"] = organisation_id
    audit.record(session, action="consent.grant" if granted else "consent.withdraw",
                 actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                 subject_type="participant", subject_id=participant.id, details=details,
                 now=svc.now())
    session.flush()
    _reconcile(session, svc, case, actor)
    return consent


def withdraw_own_consent(session: Session, svc: Services, actor: Actor, case_id: str) -> None:
    """A participant leaves the process: everything pending is held at once."""
    case, member = load_case(session, actor, case_id)
    if not member.is_participant or member.participant_id is None:
        raise NotFound()
    participant = _participant_of(session, case, member.participant_id)
    _append_consent(session, svc, actor, case, participant, "take_part", False, "withdrawn by the participant",
                    method="online")


def set_holding(session: Session, svc: Services, actor: Actor, case_id: str, holding: bool) -> None:
    """A recipient pauses (or resumes) deliveries to themselves."""
    case, member = load_case(session, actor, case_id)
    if not permissions.may_write(member) or member.participant_id is None:
        raise NotFound()
    participant = _participant_of(session, case, member.participant_id)
    participant.holding_deliveries = holding
    audit.record(session, action="participant.hold_deliveries" if holding else "participant.resume_deliveries",
                 actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                 subject_type="participant", subject_id=participant.id, now=svc.now())
    session.flush()
    _reconcile(session, svc, case, actor)


def record_assessment(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                      *, outcome: str, kind: str | None = None, reasons: str = "",
                      review_by: date | None = None) -> Assessment:
    """A facilitator's judgement on a participant: eligibility, suitability or risk, with reasons
    (stored encrypted) and a review-by date. Without `kind`, 'suitable' records the person
    eligible and suitable (and 'not_suitable' not suitable), as a completed assessment."""
    case, _ = _managed_case(session, actor, case_id)
    participant = _participant_of(session, case, participant_id)
    if kind is None:
        if outcome not in {"suitable", "not_suitable"}:
            raise BadInput(N_("An assessment is suitable or not_suitable."))
        if outcome == "suitable":
            _append_assessment(session, svc, actor, case, participant, "eligibility", "eligible", reasons, review_by)
        kind = "suitability"
    if kind not in ASSESSMENT_OUTCOMES:
        raise BadInput(N_("An assessment is of eligibility, suitability or risk."))
    if outcome not in ASSESSMENT_OUTCOMES[kind]:
        raise BadInput(Sentence(N_("A %(kind)s assessment is %(outcomes)s."), kind=kind,
                                outcomes=" or ".join(ASSESSMENT_OUTCOMES[kind])))
    assessment = _append_assessment(session, svc, actor, case, participant, kind, outcome, reasons, review_by)
    _reconcile(session, svc, case, actor)
    return assessment


def _append_assessment(session: Session, svc: Services, actor: Actor, case: Case, participant: Participant,
                       kind: str, outcome: str, reasons: str, review_by: date | None) -> Assessment:
    from shuttle import blobs  # the reasons are encrypted like every other text

    today = svc.now().date()
    if review_by is None:
        review_by = today + timedelta(days=svc.settings.assessment_review_days)
    if review_by < today:
        raise BadInput(N_("The review-by date of an assessment cannot be in the past."))
    if len(reasons) > 20_000:
        raise BadInput(N_("The reasons are too long (up to 20,000 characters)."))
    reasons_blob = blobs.store_text(session, svc.store, reasons.strip()) if reasons.strip() else None
    assessment = Assessment(participant_id=participant.id, kind=kind, outcome=outcome,
                            recorded_by=actor.account_id, recorded_at=svc.now(), review_by=review_by,
                            reasons_blob_id=reasons_blob.id if reasons_blob else None)
    session.add(assessment)
    audit.record(session, action="assessment.record", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="participant", subject_id=participant.id,
                 details={"kind": kind, "outcome": outcome, "review_by": review_by.isoformat()}, now=svc.now())
    session.flush()
    return assessment


def set_status(session: Session, svc: Services, actor: Actor, case_id: str, status: str,
               *, expected_version: int | None = None, reason: str = "") -> Case:
    """Move a case through its life (shuttle/cases/states.py), audited with who and why."""
    case, _ = _managed_case(session, actor, case_id)
    if status not in CASE_STATUSES:
        raise BadInput(N_("A case is in preparation, open, paused, closing or closed."))
    if len(reason) > MAX_REASON_CHARS:
        raise BadInput(Sentence(N_("The reason is up to %(max)s characters."), max=MAX_REASON_CHARS))
    if expected_version is not None and expected_version != case.row_version:
        raise Conflict(N_("The case changed since you opened it. Reload and try again."), code="stale")
    before = states.Status(case.status)
    try:
        action = states.action_to(before, states.Status(status))
    except states.TransitionNotAllowed as exc:
        raise Conflict(str(exc), code="case_status") from None
    if action is states.Action.CLOSE:  # the one close step takes one of the closure reasons
        try:
            reason = states.closure_reason(action, reason.strip()).value
        except states.TransitionNotAllowed as exc:
            raise BadInput(str(exc), details={"field": "reason"}) from None
    case.status = states.next_status(before, action).value
    audit.record(session, action="case.status", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="case", subject_id=case.id,
                 details={"from": before.value, "to": case.status, "action": action.value,
                          "reason": reason.strip()}, now=svc.now())
    session.flush()
    _reconcile(session, svc, case, actor)
    return case


def _reconcile(session: Session, svc: Services, case: Case, actor: Actor) -> None:
    reconcile_case(session, svc, case, actor)
