"""Preparing a case: people on each side, their labels, consent forms, assessments, court
proceedings, and what a participant sees (and withdraws) of their own consents.

Use cases never commit; every change that can open or close a gate reconciles the case's
pending messages in the same transaction (through `shuttle.cases.service`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs
from shuttle.access import load_case
from shuttle.accounts import service as accounts
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases import facts
from shuttle.cases import service as cases
from shuttle.cases.models import (
    ASSESSMENT_OUTCOMES,
    CONSENT_KINDS,
    SIDES,
    Assessment,
    Case,
    Consent,
    Participant,
)
from shuttle.errors import BadInput, NotFound, TooLarge
from shuttle.i18n import N_, Sentence
from shuttle.organisations.models import Organisation
from shuttle.services import Actor, Services

#: A scanned consent form (a photo or PDF of the signed page) is refused above this size.
MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_KINDS = {b"%PDF": "PDF", b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG"}

CONSENT_WORDS = {
    "take_part": "to take part in the process",
    "share_information": "to share information with {organisation}",
    "receive_messages": "to receive messages from the other side",
}
METHOD_WORDS = {"in_person": "in person", "phone": "by phone", "signed_form": "on a signed form",
                "online": "on your page"}
ROLE_WORDS = {"principal": "principal", "proxy": "proxy", "supporter": "supporter"}


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentView:
    """One consent as it stands now (the latest record of its kind, and organisation)."""

    participant_id: str
    kind: str
    organisation_id: str | None
    organisation: str
    granted: bool
    method: str
    given_on: date | None
    recorded_at: datetime
    has_scan: bool

    @property
    def words(self) -> str:
        """'to share information with Northshire Police', as a sentence part."""
        return CONSENT_WORDS[self.kind].format(organisation=self.organisation or "an organisation")

    @property
    def how(self) -> str:
        return METHOD_WORDS.get(self.method, self.method)


@dataclass(frozen=True)
class AssessmentView:
    kind: str
    outcome: str
    review_by: date | None
    recorded_at: datetime
    expired: bool


@dataclass(frozen=True)
class OrganisationChoice:
    id: str
    name: str


@dataclass(frozen=True)
class InvitationLetter:
    """What the printable letter says: for the person invited only, nothing about the other side."""

    name: str
    username: str
    code: str
    expires_at: datetime
    address: str
    facilitators: tuple[str, ...]
    reference: str


@dataclass(frozen=True)
class ExpiredAssessment:
    case_id: str
    reference: str
    participant: str
    kind: str
    review_by: date


def current_consents(session: Session, participant_id: str) -> list[ConsentView]:
    """The latest record of each consent (per organisation for sharing), oldest kind first."""
    rows = session.scalars(select(Consent).where(Consent.participant_id == participant_id)
                           .order_by(Consent.id)).all()
    return consent_views(participant_id, rows,
                         _organisation_names(session, {row.organisation_id for row in rows}))


def consent_views(participant_id: str, rows: Sequence[Consent], names: Mapping[str, str]) -> list[ConsentView]:
    """`current_consents` from the participant's consent records (oldest first) and organisation names."""
    latest: dict[tuple[str, str | None], Consent] = {}
    for row in rows:
        latest[(row.kind, row.organisation_id)] = row
    order = {kind: n for n, kind in enumerate(CONSENT_KINDS)}
    return [ConsentView(participant_id=participant_id, kind=row.kind, organisation_id=row.organisation_id,
                        organisation=names.get(row.organisation_id or "", ""), granted=row.granted,
                        method=row.method, given_on=row.given_on, recorded_at=row.recorded_at,
                        has_scan=row.scan_blob_id is not None)
            for row in sorted(latest.values(), key=lambda r: (order.get(r.kind, 9), r.id))]


def _organisation_names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))).all())


def current_assessments(session: Session, participant_id: str, now: datetime) -> list[AssessmentView]:
    return assessment_views({kind: facts.latest_assessment(session, participant_id, kind)
                             for kind in ASSESSMENT_OUTCOMES}, now)


def assessment_views(latest: Mapping[str, Assessment | None], now: datetime) -> list[AssessmentView]:
    """`current_assessments` from the latest assessment of each kind."""
    found = []
    for kind in ASSESSMENT_OUTCOMES:
        row = latest.get(kind)
        if row is not None:
            found.append(AssessmentView(kind=kind, outcome=row.outcome, review_by=row.review_by,
                                        recorded_at=row.recorded_at,
                                        expired=row.review_by is not None and row.review_by < now.date()))
    return found


def participant_consents(session: Session, svc: Services, actor: Actor, case_id: str,
                         participant_id: str) -> list[ConsentView]:
    """A participant's current consents, for the case's facilitators."""
    case, _ = cases._managed_case(session, actor, case_id)
    return current_consents(session, cases._participant_of(session, case, participant_id).id)


@dataclass(frozen=True)
class AssessmentWithReasons:
    assessment: AssessmentView
    reasons: str


def participant_assessments(session: Session, svc: Services, actor: Actor, case_id: str,
                            participant_id: str) -> list[AssessmentWithReasons]:
    """A participant's current judgements with their reasons, for the case's facilitators."""
    case, _ = cases._managed_case(session, actor, case_id)
    person = cases._participant_of(session, case, participant_id)
    return [AssessmentWithReasons(a, assessment_reasons(session, svc, actor, case.id, person.id, a.kind))
            for a in current_assessments(session, person.id, svc.now())]


def organisations(session: Session) -> list[OrganisationChoice]:
    """The coordinator's list of partner organisations a consent to share may name (active ones)."""
    return [OrganisationChoice(o.id, o.name) for o in
            session.scalars(select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.name))]


# --- participants --------------------------------------------------------------------------------

USERNAME_PART = re.compile(r"[^a-z0-9]+")


def _username_for(session: Session, display_name: str) -> str:
    """'Jessica Smith' -> 'jessica-4821': readable, unique, nothing about the case."""
    stem = USERNAME_PART.sub("-", display_name.lower().split()[0] if display_name.split() else "").strip("-")
    stem = (stem or "person")[:30]
    if len(stem) < 2:
        stem = f"person-{stem}"
    while True:
        name = f"{stem}-{secrets.randbelow(9000) + 1000}"
        if session.scalar(select(Account.id).where(Account.username == name)) is None:
            return name


def add_person(session: Session, svc: Services, actor: Actor, case_id: str, *, display_name: str, side: str,
               role: str = "principal", acting_for: str = "", username: str = "") -> Participant:
    """A facilitator adds a new person to a side: their participant account (no password: they
    sign in first with an invitation code) and their place in the case."""
    cases._managed_case(session, actor, case_id)  # before creating anything
    if side not in SIDES:
        raise BadInput(N_("Choose a side: harmed or responsible."))
    account, _ = accounts.create_account(session, svc.settings, username=username.strip() or _username_for(
        session, display_name), role="participant", display_name=display_name, password=None, with_totp=False,
        now=svc.now())
    return cases.add_participant(session, svc, actor, case_id, account_id=account.id, side=side, role=role,
                                 acting_for=acting_for)


def set_label(session: Session, svc: Services, actor: Actor, case_id: str, side: str, label: str) -> Case:
    """The words a side is shown as to the other ("Jessica", "the person responsible")."""
    if side not in SIDES:
        raise BadInput(N_("Choose a side: harmed or responsible."))
    return cases.update_settings(session, svc, actor, case_id, {f"label_{side}": label})


def deactivate_participant(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                           *, reason: str = "") -> Participant:
    """A participant leaves the case: their sessions end and pending messages they wrote are held.
    An account in no other case is stopped altogether (no sign-in, unused codes revoked)."""
    case, _ = cases._managed_case(session, actor, case_id)
    participant = cases._participant_of(session, case, participant_id)
    if not participant.active:
        raise BadInput(N_("That person is already no longer part of the case."))
    if len(reason) > cases.MAX_REASON_CHARS:
        raise BadInput(Sentence(N_("The reason is up to %(max)s characters."), max=cases.MAX_REASON_CHARS))
    participant.active = False
    elsewhere = session.scalar(select(Participant.id).where(
        Participant.account_id == participant.account_id, Participant.active.is_(True),
        Participant.id != participant.id))
    if elsewhere is None:
        accounts.deactivate(session, participant.account_id, now=svc.now())
    else:
        accounts.revoke_all(session, participant.account_id, now=svc.now())
    audit.record(session, action="participant.deactivate", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="participant", subject_id=participant.id,
                 details={"reason": reason.strip()}, now=svc.now())
    session.flush()
    cases._reconcile(session, svc, case, actor)
    return participant


def invitation_letter(session: Session, svc: Services, actor: Actor, case_id: str,
                      issued: accounts.IssuedInvitation) -> InvitationLetter:
    """The printable letter for a code just issued (shown once, never stored)."""
    case, _ = cases._managed_case(session, actor, case_id)
    participant = cases._participant_of(session, case, issued.participant_id)
    account = session.get(Account, participant.account_id)
    assert account is not None
    names = tuple(a.display_name for a in (session.get(Account, i) for i in facts.facilitator_ids(session, case.id))
                  if a is not None)
    return InvitationLetter(name=account.display_name, username=issued.username, code=issued.code,
                            expires_at=issued.expires_at, address=f"{svc.settings.public_base_url}/invite",
                            facilitators=names, reference=case.reference)


# --- consent forms -------------------------------------------------------------------------------


def check_scan(data: bytes) -> None:
    """A scanned form is a PDF, JPEG or PNG up to MAX_SCAN_BYTES."""
    if len(data) > MAX_SCAN_BYTES:
        raise TooLarge(Sentence(N_("The scanned form is over %(mb)s MB. Scan it at a lower resolution and try "
                                   "again."), mb=MAX_SCAN_BYTES // (1024 * 1024)))
    if not any(data.startswith(magic) for magic in SCAN_KINDS):
        raise BadInput(N_("The scanned form must be a PDF, JPEG or PNG file."))


def record_consent_form(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str, *,
                        kind: str, granted: bool, method: str, given_on: date | None = None,
                        organisation_id: str | None = None, scan: bytes | None = None, note: str = "") -> Consent:
    """A consent form as the facilitator took it: how, when, and an optional scanned copy (encrypted)."""
    cases._managed_case(session, actor, case_id)  # 404 before storing any bytes
    scan_id = None
    if scan:
        check_scan(scan)
        scan_id = blobs.store_bytes(session, svc.store, scan).id
    return cases.record_consent(session, svc, actor, case_id, participant_id, kind=kind, granted=granted,
                                note=note, method=method, given_on=given_on, organisation_id=organisation_id,
                                scan_blob_id=scan_id)


@dataclass(frozen=True)
class MyConsents:
    case_id: str
    reference: str
    my_label: str
    consents: tuple[ConsentView, ...]


def my_consents(session: Session, svc: Services, actor: Actor) -> list[MyConsents]:
    """A participant's own consents in each of their cases (never anyone else's)."""
    from shuttle.access import cases_of

    found = []
    for case, member in cases_of(session, actor):
        if member.is_participant and member.participant_id:
            found.append(MyConsents(case.id, case.reference, case.label_of(member.side or ""),
                                    tuple(current_consents(session, member.participant_id))))
    return found


def withdraw_my_consent(session: Session, svc: Services, actor: Actor, case_id: str, *, kind: str,
                        organisation_id: str | None = None) -> Consent:
    """A participant withdraws one of their own consents at any time; every gate reacts at once."""
    case, member = load_case(session, actor, case_id)
    if not member.is_participant or member.participant_id is None:
        raise NotFound()
    if kind not in CONSENT_KINDS:
        raise BadInput(N_("Choose which consent to withdraw."))
    standing = {(c.kind, c.organisation_id): c for c in current_consents(session, member.participant_id)}
    current = standing.get((kind, organisation_id or None))
    if current is None or not current.granted:
        raise BadInput(N_("That consent is not in place, so there is nothing to withdraw."))
    participant = cases._participant_of(session, case, member.participant_id)
    consent = cases._append_consent(session, svc, actor, case, participant, kind, False,
                                    "withdrawn by the participant", method="online",
                                    organisation_id=organisation_id or None)
    return consent


# --- assessments and proceedings ---------------------------------------------------------------


def set_proceedings(session: Session, svc: Services, actor: Actor, case_id: str, ongoing: bool, *,
                    reason: str = "") -> Case:
    """Mark court proceedings ongoing (or over); the service's setting decides whether that holds."""
    case, _ = cases._managed_case(session, actor, case_id)
    if len(reason) > cases.MAX_REASON_CHARS:
        raise BadInput(Sentence(N_("The reason is up to %(max)s characters."), max=cases.MAX_REASON_CHARS))
    case.proceedings_ongoing = ongoing
    audit.record(session, action="case.proceedings", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="case", subject_id=case.id,
                 details={"ongoing": ongoing, "holds": facts.proceedings_hold(svc, case),
                          "reason": reason.strip()}, now=svc.now())
    session.flush()
    cases._reconcile(session, svc, case, actor)
    return case


def assessment_reasons(session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str,
                       kind: str) -> str:
    """The reasons of the current assessment of a kind (the case's facilitators only)."""
    case, _ = cases._managed_case(session, actor, case_id)
    participant = cases._participant_of(session, case, participant_id)
    row = facts.latest_assessment(session, participant.id, kind)
    if row is None or row.reasons_blob_id is None:
        return ""
    return blobs.load_text(session, svc.store, row.reasons_blob_id)


def blob_ids(session: Session, case_id: str) -> set[str]:
    """Every scanned consent form and assessment's reasons of a case (for `shuttle.retention`)."""
    people = select(Participant.id).where(Participant.case_id == case_id)
    ids = set(filter(None, session.scalars(select(Consent.scan_blob_id).where(Consent.participant_id.in_(people)))))
    ids.update(filter(None, session.scalars(select(Assessment.reasons_blob_id)
                                            .where(Assessment.participant_id.in_(people)))))
    return ids


def lapse_expired_assessments(session: Session, svc: Services, *, limit: int = 100) -> int:
    """Periodic: an assessment whose review date passed closes the gates by itself. Marks each
    once, audits it, and reconciles its case (holds, releases). Returns how many it looked at."""
    today = svc.now().date()
    due = session.scalars(select(Assessment).where(Assessment.review_by < today, Assessment.lapsed_at.is_(None),
                                                   Assessment.kind.in_(("eligibility", "suitability")))
                          .order_by(Assessment.id).limit(limit)).all()
    touched: dict[str, Case] = {}
    for row in due:
        if facts.latest_assessment(session, row.participant_id, row.kind) is not row:
            row.lapsed_at = svc.now()  # replaced by a newer judgement: nothing lapses
            continue
        row.lapsed_at = svc.now()
        participant = session.get(Participant, row.participant_id)
        assert participant is not None
        case = session.get(Case, participant.case_id)
        assert case is not None
        audit.record(session, action="assessment.lapsed", actor_id=None, actor_role="system", case_id=case.id,
                     subject_type="participant", subject_id=participant.id,
                     details={"kind": row.kind, "review_by": row.review_by.isoformat() if row.review_by else None},
                     now=svc.now())
        touched[case.id] = case
    session.flush()
    for case in touched.values():
        cases._reconcile(session, svc, case, Actor.system())
    return len(due)


def expired_assessments(session: Session, svc: Services, actor: Actor) -> list[ExpiredAssessment]:
    """For the dashboard: current judgements past their review date in the facilitator's cases."""
    from shuttle.access import cases_of

    today = svc.now().date()
    found = []
    for case, member in cases_of(session, actor):
        if not member.is_facilitator:
            continue
        for participant in session.scalars(select(Participant).where(Participant.case_id == case.id,
                                                                     Participant.active.is_(True))):
            account = session.get(Account, participant.account_id)
            for kind in ("eligibility", "suitability"):
                row = facts.latest_assessment(session, participant.id, kind)
                if row is not None and row.review_by is not None and row.review_by < today:
                    found.append(ExpiredAssessment(case.id, case.reference, account.display_name if account else "",
                                                   kind, row.review_by))
    return found

