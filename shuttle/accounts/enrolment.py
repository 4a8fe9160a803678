"""Staff accounts from the web: the coordinator creates, deactivates, reactivates and resets them;
the person enrols through a one-time link (a password and an authenticator app, confirmed with a code).

A staff account never signs in with a password alone: it has no password until its enrolment is
confirmed, and resetting a lost second factor takes the password away too, so the only way back
in is a new link where both are chosen again. Use cases never commit; every change is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.accounts import service as accounts
from shuttle.accounts.enrolment_models import StaffEnrolment
from shuttle.accounts.models import STAFF_ROLES, Account
from shuttle.accounts.passwords import PasswordPolicy
from shuttle.accounts.service import IssuedSession, _digest, _now, _start_session
from shuttle.accounts.totp import decrypt_secret, encrypt_secret, match_step, new_secret, totp_uri
from shuttle.audit import log as audit
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.config import Settings
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.services import Actor, Services

#: The roles a coordinator may create (participants are added to a case by its facilitators).
CREATABLE_ROLES = ("facilitator", "coordinator")
TOKEN_MAX = 100
LINK_PATH = "/enrol/"
LINK_INVALID = ("This enrolment link does not work: it may have been used already, replaced by a newer one, "
                "or run out of time. Ask your coordinator for a new link.")
WRONG_CODE = ("That code is not the one your authenticator app shows for this account. Check that you added "
              "the account shown here, wait for the next code and type it.")


@dataclass(frozen=True)
class IssuedEnrolment:
    """A new enrolment link: shown once to the coordinator who asked, never stored (only its digest is)."""

    account_id: str
    username: str
    display_name: str
    role: str
    link: str
    expires_at: datetime


@dataclass(frozen=True)
class EnrolmentPage:
    """What the link's page shows the person enrolling: their account, the QR code and the secret as text."""

    username: str
    display_name: str
    role: str
    purpose: str  # "new" | "reset"
    secret: str
    uri: str
    qr_svg: str  # inline SVG made by segno from `uri` (no script, no third party)
    expires_at: datetime

    @property
    def secret_groups(self) -> str:
        """"ABCD EFGH ...": easier to type into an app by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class StaffRow:
    """One line of the staff list."""

    account_id: str
    username: str
    display_name: str
    role: str
    status: str  # "active" | "waiting to enrol" | "deactivated"
    last_sign_in: datetime | None
    open_cases: int
    is_me: bool

    @property
    def enrolled(self) -> bool:
        return self.status != "waiting to enrol"


# --- the coordinator's use cases -------------------------------------------------------------------


def _coordinator(actor: Actor) -> None:
    if not permissions.may_run_service(actor.role):
        raise NotFound()


def _staff(session: Session, account_id: str) -> Account:
    """A staff account; a participant's (or a missing) one answers like a missing id."""
    account = session.get(Account, account_id)
    if account is None or account.role not in STAFF_ROLES:
        raise NotFound()
    return account


def _not_me(actor: Actor, account: Account, refusal: str) -> None:
    """`refusal`: the whole marked sentence ("You cannot deactivate your own account..."), so each
    language can put the verb where it goes."""
    if actor.account_id == account.id:
        raise BadInput(refusal, code="own_account")


def is_enrolled(account: Account) -> bool:
    """Has a password (staff made here get it only together with their authenticator)."""
    return account.password_hash is not None


def _revoke_links(session: Session, account_id: str, now: datetime) -> None:
    session.execute(update(StaffEnrolment).where(
        StaffEnrolment.account_id == account_id, StaffEnrolment.used_at.is_(None),
        StaffEnrolment.revoked_at.is_(None)).values(revoked_at=now))


def _issue(session: Session, svc: Services, actor: Actor, account: Account, purpose: str) -> IssuedEnrolment:
    """A new link for the account (older unused ones stop working), with a new authenticator secret."""
    now = svc.now()
    _revoke_links(session, account.id, now)
    token = secrets.token_urlsafe(32)
    row = StaffEnrolment(account_id=account.id, token_hash=_digest(svc.settings, "enrolment", token),
                         totp_secret_enc=encrypt_secret(svc.settings.secret_key, account.id, new_secret()),
                         purpose=purpose, created_by=actor.account_id, created_at=now,
                         expires_at=now + timedelta(days=svc.settings.limits.invitation_days))
    session.add(row)
    session.flush()
    return IssuedEnrolment(account_id=account.id, username=account.username, display_name=account.display_name,
                           role=account.role, link=f"{svc.settings.public_base_url}{LINK_PATH}{token}",
                           expires_at=row.expires_at)


def _audit(session: Session, svc: Services, actor: Actor, action: str, account: Account, **details: str) -> None:
    audit.record(session, action=action, actor_id=actor.account_id, actor_role=actor.role,
                 subject_type="account", subject_id=account.id, details=details, now=svc.now())


def create_staff(session: Session, svc: Services, actor: Actor, *, username: str, display_name: str,
                 role: str) -> IssuedEnrolment:
    """A new facilitator or coordinator, who cannot sign in until they enrol through the returned link."""
    _coordinator(actor)
    if role not in CREATABLE_ROLES:
        raise BadInput(N_("A staff account is a facilitator or a coordinator."), code="role")
    account, _ = accounts.create_account(session, svc.settings, username=username, role=role,
                                         display_name=display_name, with_totp=False, now=svc.now())
    issued = _issue(session, svc, actor, account, "new")
    _audit(session, svc, actor, "account.create", account, role=role, username=account.username,
           expires_at=issued.expires_at.isoformat())
    return issued


def new_link(session: Session, svc: Services, actor: Actor, account_id: str) -> IssuedEnrolment:
    """Another link for someone who has not enrolled yet (lost the first, or it ran out of time)."""
    _coordinator(actor)
    account = _staff(session, account_id)
    if not account.active:
        raise Conflict(Sentence(N_("%(name)s's account is deactivated: reactivate it first."),
                                name=account.display_name), code="inactive")
    if is_enrolled(account):
        raise Conflict(Sentence(N_("%(name)s has enrolled already. If they lost their authenticator, reset their "
                                   "second factor instead."), name=account.display_name), code="enrolled")
    issued = _issue(session, svc, actor, account, "new")
    _audit(session, svc, actor, "account.enrolment_link", account, expires_at=issued.expires_at.isoformat())
    return issued


def reset_second_factor(session: Session, svc: Services, actor: Actor, account_id: str) -> IssuedEnrolment:
    """A lost or replaced phone: the old authenticator and the password stop working, every session
    ends, and the person enrols again through a new link (a password alone never signs staff in)."""
    _coordinator(actor)
    account = _staff(session, account_id)
    _not_me(actor, account, N_("You cannot reset the second factor of your own account: ask another coordinator."))
    if not account.active:
        raise Conflict(Sentence(N_("%(name)s's account is deactivated: reactivate it first."),
                                name=account.display_name), code="inactive")
    if not is_enrolled(account):
        raise Conflict(Sentence(N_("%(name)s has not enrolled yet: give them a new enrolment link instead."),
                                name=account.display_name), code="not_enrolled")
    account.password_hash = None
    account.totp_secret_enc = None
    account.totp_last_step = None
    accounts.revoke_all(session, account.id, now=svc.now())
    issued = _issue(session, svc, actor, account, "reset")
    _audit(session, svc, actor, "account.reset_second_factor", account, expires_at=issued.expires_at.isoformat())
    return issued


def deactivate_staff(session: Session, svc: Services, actor: Actor, account_id: str) -> Account:
    """No more sign-in: every session ends at once and every unused link stops working."""
    _coordinator(actor)
    account = _staff(session, account_id)
    _not_me(actor, account, N_("You cannot deactivate your own account: ask another coordinator."))
    if not account.active:
        raise Conflict(Sentence(N_("%(name)s's account is deactivated already."), name=account.display_name),
                       code="inactive")
    now = svc.now()
    accounts.deactivate(session, account.id, now=now)
    _revoke_links(session, account.id, now)
    _audit(session, svc, actor, "account.deactivate", account)
    return account


def reactivate_staff(session: Session, svc: Services, actor: Actor, account_id: str) -> Account:
    """Sign-in works again with the same password and authenticator (someone back from leave)."""
    _coordinator(actor)
    account = _staff(session, account_id)
    if account.active:
        raise Conflict(Sentence(N_("%(name)s's account is active already."), name=account.display_name), code="active")
    account.active = True
    account.deactivated_at = None
    _audit(session, svc, actor, "account.reactivate", account)
    return account


def staff_list(session: Session, svc: Services, actor: Actor) -> list[StaffRow]:
    """Every staff account, active first, with its last sign-in and how many cases it has that are not closed."""
    _coordinator(actor)
    open_cases = dict(session.execute(
        select(CaseFacilitator.account_id, func.count()).join(Case, Case.id == CaseFacilitator.case_id)
        .where(Case.status != "closed").group_by(CaseFacilitator.account_id)).all())
    rows = session.scalars(select(Account).where(Account.role.in_(STAFF_ROLES))
                           .order_by(Account.active.desc(), Account.display_name, Account.username)).all()
    return [StaffRow(account_id=a.id, username=a.username, display_name=a.display_name, role=a.role,
                     status=_status(a), last_sign_in=a.last_login_at, open_cases=int(open_cases.get(a.id, 0)),
                     is_me=a.id == actor.account_id) for a in rows]


def _status(account: Account) -> str:
    if not account.active:
        return "deactivated"
    return "active" if is_enrolled(account) else "waiting to enrol"


# --- the person enrolling (no session yet: the link is their credential) --------------------------------


def _live_link(session: Session, settings: Settings, token: str, now: datetime) -> tuple[StaffEnrolment, Account]:
    if not token or len(token) > TOKEN_MAX:
        raise NotFound(LINK_INVALID, code="enrolment_link")
    row = session.scalar(select(StaffEnrolment).where(
        StaffEnrolment.token_hash == _digest(settings, "enrolment", token)))
    account = session.get(Account, row.account_id) if row is not None else None
    if row is None or account is None or not account.active or row.used_at is not None \
            or row.revoked_at is not None or row.expires_at <= now:
        raise NotFound(LINK_INVALID, code="enrolment_link")
    return row, account


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (dark on white, so it scans in dark mode too)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                     title="QR code for your authenticator app"))


def enrolment_page(session: Session, settings: Settings, token: str, *, now: datetime) -> EnrolmentPage:
    """What the link shows; reads only (opening the link twice shows the same secret)."""
    row, account = _live_link(session, settings, token, _now(now))
    secret = decrypt_secret(settings.secret_key, account.id, row.totp_secret_enc)
    uri = totp_uri(secret, account.username)
    return EnrolmentPage(username=account.username, display_name=account.display_name, role=account.role,
                         purpose=row.purpose, secret=secret, uri=uri, qr_svg=qr_svg(uri), expires_at=row.expires_at)


def complete_enrolment(session: Session, settings: Settings, *, token: str, password: str, code: str,
                       now: datetime, user_agent: str = "",
                       passwords: PasswordPolicy | None = None) -> IssuedSession:
    """The person chose a password and typed a code from their app: the account is ready and they are
    signed in. A refused password or code changes nothing, and the link keeps working for a retry."""
    now = _now(now)
    row, account = _live_link(session, settings, token, now)
    policy = passwords if passwords is not None else PasswordPolicy()
    policy.check(password, username=account.username)
    secret = decrypt_secret(settings.secret_key, account.id, row.totp_secret_enc)
    step = match_step(secret, code, now, after=None)
    if step is None:
        raise BadInput(WRONG_CODE, code="wrong_code")
    claimed = session.execute(update(StaffEnrolment).where(
        StaffEnrolment.id == row.id, StaffEnrolment.used_at.is_(None), StaffEnrolment.revoked_at.is_(None))
        .values(used_at=now)).rowcount  # type: ignore[attr-defined]
    if not claimed:  # a twin request won
        raise NotFound(LINK_INVALID, code="enrolment_link")
    account.password_hash = policy.hash(password)
    account.password_changed_at = now
    account.totp_secret_enc = row.totp_secret_enc
    account.totp_last_step = step  # the code just typed cannot be used again to sign in
    account.last_login_at = now
    accounts.revoke_all(session, account.id, now=now)
    audit.record(session, action="account.enrol", actor_id=account.id, actor_role=account.role,
                 subject_type="account", subject_id=account.id, details={"purpose": row.purpose}, now=now)
    return _start_session(session, settings, account, "full", user_agent, now)
