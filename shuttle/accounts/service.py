"""Use cases of the accounts feature: accounts, invitations, sign-in, sessions, throttling.

Every function works inside the caller's unit of work and never commits. One thing the
caller must know: a wrong credential raises a `CountedFailure` (`LoginFailed`,
`WrongCurrentPassword`) *after* writing the failure to the throttle table, so the caller
commits its unit of work before turning the error into a response; otherwise the rollback
would erase the count and throttling would never trigger.

Secrets never reach the database in a usable form: session tokens and invitation codes
are stored as HMAC-SHA256 digests keyed with the settings' secret key (a leaked table
cannot be replayed, and a lookup by digest needs no timing-safe comparison), passwords as
argon2id hashes, TOTP secrets AES-GCM encrypted (shuttle.accounts.totp).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_case
from shuttle.accounts.models import (
    ROLES,
    STAFF_ROLES,
    Account,
    AuthSession,
    Invitation,
    LoginFailure,
)
from shuttle.accounts.passwords import MAX_LENGTH, PasswordPolicy
from shuttle.accounts.totp import (
    current_totp,
    decrypt_secret,
    encrypt_secret,
    match_step,
    new_secret,
    totp_uri,
)
from shuttle.audit import log as audit
from shuttle.cases.models import Participant
from shuttle.config import Settings
from shuttle.db import new_id
from shuttle.errors import BadInput, Conflict, NotAuthenticated, NotFound, ShuttleError, TooManyRequests
from shuttle.i18n import N_, Sentence
from shuttle.services import Actor, Services

__all__ = [
    "CountedFailure",
    "IssuedInvitation",
    "IssuedSession",
    "LoginFailed",
    "Principal",
    "WrongCurrentPassword",
    "authenticate",
    "change_password",
    "create_account",
    "current_totp",
    "deactivate",
    "enroll_totp",
    "format_invitation",
    "invite_participant",
    "issue_invitation",
    "login_password",
    "login_totp",
    "logout",
    "prune_login_failures",
    "redeem_invitation",
    "revoke_all",
    "session_stage",
    "set_password",
    "totp_uri",
]

USERNAME_RE = re.compile(r"[a-z0-9._-]{3,40}")
DISPLAY_NAME_MAX = 100
# No 0/O, 1/I/L, U: codes are read aloud and copied from paper.
INVITATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
INVITATION_LENGTH = 12
INVITATION_GROUP = 4
# Writing last_seen on every request would turn every page view into a write.
SLIDE_AFTER_SECONDS = 60
# A half-finished sign-in ("totp", "set_password") is short-lived whatever the idle limit.
PENDING_STAGE_SECONDS = 10 * 60
USER_AGENT_MAX = 200
THROTTLE_VALUE_MAX = 200

LOGIN_FAILURE = "Username or password is wrong."
TOTP_FAILURE = "That code is wrong or was already used. Wait for the next code and try again."
INVITATION_FAILURE = (
    "That invitation code is not valid: it may be mistyped, already used or expired. "
    "Ask your facilitator for a new one."
)
SIGN_IN_AGAIN = N_("Please sign in again.")
# The "choose a password" step exists only after an invitation code, which is spent by then.
CHOOSE_PASSWORD_EXPIRED = N_(
    "This page has run out of time. Ask your facilitator for a new invitation code and start again."
)
ACCOUNT_THROTTLED = "Too many attempts; try again in {wait}."
ADDRESS_THROTTLED = "Too many failed sign-ins from this network; try again in {wait}."


class CountedFailure(ShuttleError):
    """A wrong credential whose failure was written to the throttle table.

    Commit the unit of work before answering, or the count is rolled back.
    """


class LoginFailed(NotAuthenticated, CountedFailure):
    code = "login_failed"


class WrongCurrentPassword(BadInput, CountedFailure):
    code = "wrong_current_password"


@dataclass(frozen=True)
class Principal:
    """Who is acting: all the rest of the application sees of an account and its session."""

    account_id: str
    username: str
    role: str
    display_name: str
    session_id: str
    csrf_token: str
    #: The language chosen on the account ("en", "cy"), None if never chosen (issue 12).
    language: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class IssuedSession:
    """What the web layer puts in the cookie (token) and in forms (csrf_token)."""

    token: str
    stage: str
    csrf_token: str
    expires_at: datetime


# --- small helpers -------------------------------------------------------------------


def _now(now: datetime) -> datetime:
    """The caller's clock (`Services.now`), never the wall clock: one clock for sessions and throttling."""
    if now.tzinfo is None:
        raise ValueError("naive datetime given as now")
    return now


def _digest(settings: Settings, purpose: str, value: str) -> str:
    """HMAC-SHA256 with the secret key; the purpose keeps digests of different things apart."""
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _policy(passwords: PasswordPolicy | None) -> PasswordPolicy:
    return passwords if passwords is not None else PasswordPolicy()


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def format_invitation(code: str) -> str:
    """ "K7QM4TZP9WXD" -> "K7QM-4TZP-9WXD": easier to read out and copy."""
    return "-".join(code[i : i + INVITATION_GROUP] for i in range(0, len(code), INVITATION_GROUP))


def _normalise_invitation(raw: str) -> str | None:
    """Accept any case, spaces and dashes; None if it cannot be a code at all."""
    code = "".join(ch for ch in raw.upper() if not ch.isspace() and ch != "-")
    if len(code) != INVITATION_LENGTH or any(ch not in INVITATION_ALPHABET for ch in code):
        return None
    return code


def _account_or_404(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    return account


def _principal(account: Account, row: AuthSession) -> Principal:
    return Principal(
        account_id=account.id,
        username=account.username,
        role=account.role,
        display_name=account.display_name,
        session_id=row.id,
        csrf_token=row.csrf_token,
        language=account.language,
    )


# --- throttling ------------------------------------------------------------------------


def _throttle_key(settings: Settings, kind: str, value: str) -> str:
    """Digest, not plain: the table must not become a log of names typed and addresses."""
    return _digest(settings, "throttle", f"{kind}:{value[:THROTTLE_VALUE_MAX]}")


def _username_key(settings: Settings, username: str) -> str:
    return _throttle_key(settings, "username", normalise_username(username))


def _client_key(settings: Settings, client: str) -> str:
    return _throttle_key(settings, "client", client)


@dataclass(frozen=True)
class _Counter:
    """One throttle counter: failures under `key`, refused from `limit` on (0: never), saying `refusal`."""

    key: str
    limit: int
    refusal: str


def _per_account(settings: Settings, username: str) -> _Counter:
    """A person's own mistakes lock only their own account, wherever they sign in from."""
    return _Counter(_username_key(settings, username), settings.limits.login_attempts, ACCOUNT_THROTTLED)


def _per_address(settings: Settings, client: str) -> _Counter:
    """Guessing across many accounts from one place; the limit is far higher than one account's,
    so one person's mistakes never lock out the others at a shared address."""
    return _Counter(_client_key(settings, client), settings.limits.login_attempts_per_address, ADDRESS_THROTTLED)


def _wait_seconds(session: Session, counter: _Counter, window: timedelta, now: datetime) -> float:
    """How long until the counter drops under its limit again; 0 if it is under already."""
    if counter.limit <= 0:
        return 0.0
    times = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.key == counter.key, LoginFailure.at > now - window)
        .order_by(LoginFailure.at)
    ).all()
    if len(times) < counter.limit:
        return 0.0
    # Free again once enough failures have left the window to drop under the limit.
    free_at = times[len(times) - counter.limit] + window
    return max(0.0, (free_at - now).total_seconds())


def _check_throttle(session: Session, settings: Settings, counters: list[_Counter], now: datetime) -> None:
    """TooManyRequests if any counter has reached its limit inside the window.

    Checked before any credential, so a blocked attempt learns nothing, costs no hash and
    is not counted (a locked-out person adds nothing more to their address's count).
    """
    window = timedelta(seconds=settings.limits.login_window_seconds)
    waits = [(_wait_seconds(session, counter, window, now), counter) for counter in counters]
    wait, counter = max(waits, key=lambda pair: pair[0])
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        unit = "minute" if minutes == 1 else "minutes"
        raise TooManyRequests(counter.refusal.format(wait=f"{minutes} {unit}"))


def _record_failure(session: Session, settings: Settings, counters: list[_Counter], now: datetime) -> None:
    window = timedelta(seconds=settings.limits.login_window_seconds)
    keys = [counter.key for counter in counters]
    session.execute(
        delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= now - window)
    )
    for key in keys:
        session.add(LoginFailure(id=new_id(), key=key, at=now))
    session.flush()


def _clear_failures(session: Session, key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))


def prune_login_failures(session: Session, settings: Settings, *, now: datetime) -> int:
    """Drop failures older than the window (for a periodic job); returns how many."""
    cutoff = _now(now) - timedelta(seconds=settings.limits.login_window_seconds)
    result = session.execute(delete(LoginFailure).where(LoginFailure.at <= cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- sessions --------------------------------------------------------------------------


def _start_session(
    session: Session, settings: Settings, account: Account, stage: str, user_agent: str, now: datetime
) -> IssuedSession:
    limits = settings.limits
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    absolute = now + timedelta(seconds=limits.session_absolute_seconds)
    if stage != "full":
        absolute = min(absolute, now + timedelta(seconds=PENDING_STAGE_SECONDS))
    expires = min(now + timedelta(seconds=limits.session_idle_seconds), absolute)
    session.add(
        AuthSession(
            id=new_id(),
            token_hash=_digest(settings, "session", token),
            account_id=account.id,
            stage=stage,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            absolute_expires_at=absolute,
            user_agent=(user_agent or "")[:USER_AGENT_MAX],
        )
    )
    session.flush()
    return IssuedSession(token=token, stage=stage, csrf_token=csrf_token, expires_at=expires)


def _live_session(
    session: Session, settings: Settings, token: str | None, now: datetime
) -> tuple[AuthSession, Account] | None:
    """The session row and its account if the token is current; None for anything else."""
    if not token or len(token) > 200:
        return None
    found = session.execute(  # one statement: the session row and its account together
        select(AuthSession, Account)
        .join(Account, Account.id == AuthSession.account_id)
        .where(AuthSession.token_hash == _digest(settings, "session", token))
    ).first()
    if found is None:
        return None
    row, account = found
    if row.revoked_at is not None:
        return None
    if row.expires_at <= now or row.absolute_expires_at <= now:
        return None
    if not account.active:
        return None
    return row, account


def _revoke(session: Session, row: AuthSession, now: datetime) -> bool:
    """Revoke one session; False if someone else revoked it first (a concurrent rotation)."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.id == row.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _stage_after_password(account: Account) -> str:
    return "totp" if account.has_totp else "full"


# --- accounts --------------------------------------------------------------------------


def create_account(
    session: Session,
    settings: Settings,
    *,
    username: str,
    role: str,
    display_name: str,
    password: str | None = None,
    with_totp: bool | None = None,
    passwords: PasswordPolicy | None = None,
    now: datetime,
) -> tuple[Account, str | None]:
    """Create an account; returns it and, when TOTP is on, the base32 secret to show once.

    Staff get TOTP unless `with_totp=False`. Participants usually get no password here:
    a facilitator issues them an invitation instead.
    """
    now = _now(now)
    name = normalise_username(username)
    if not USERNAME_RE.fullmatch(name):
        raise BadInput(
            N_("A username has 3 to 40 characters: letters a-z, digits, dots, dashes or underscores.")
        )
    if role not in ROLES:
        raise BadInput(Sentence(N_("Role must be one of: %(roles)s."), roles=", ".join(ROLES)))
    display = " ".join(display_name.split())
    if not 1 <= len(display) <= DISPLAY_NAME_MAX:
        raise BadInput(Sentence(N_("Give a display name of 1 to %(max)s characters."), max=DISPLAY_NAME_MAX))
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise Conflict(N_("That username is taken."))
    account = Account(
        id=new_id(), username=name, role=role, display_name=display, active=True, created_at=now
    )
    if password is not None:
        policy = _policy(passwords)
        policy.check(password, username=name)
        account.password_hash = policy.hash(password)
        account.password_changed_at = now
    secret: str | None = None
    if with_totp if with_totp is not None else role in STAFF_ROLES:
        secret = new_secret()
        account.totp_secret_enc = encrypt_secret(settings.secret_key, account.id, secret)
    try:
        # A savepoint, so a concurrent twin of this username leaves the caller's
        # transaction usable (PostgreSQL aborts the whole transaction otherwise).
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("That username is taken.")) from None
    return account, secret


def enroll_totp(session: Session, settings: Settings, account_id: str) -> str:
    """Give an account a new TOTP secret (lost phone, or turning TOTP on); show it once."""
    account = _account_or_404(session, account_id)
    secret = new_secret()
    account.totp_secret_enc = encrypt_secret(settings.secret_key, account.id, secret)
    account.totp_last_step = None
    return secret


def revoke_all(
    session: Session, account_id: str, *, now: datetime, keep: str | None = None
) -> int:
    """Revoke every live session of an account (except session id `keep`); returns how many."""
    statement = (
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=_now(now))
    )
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def deactivate(session: Session, account_id: str, *, now: datetime) -> None:
    """Stop an account: no sign-in, every session and unused invitation revoked."""
    now = _now(now)
    account = _account_or_404(session, account_id)
    account.active = False
    account.deactivated_at = now
    revoke_all(session, account_id, now=now)
    session.execute(
        update(Invitation)
        .where(
            Invitation.account_id == account_id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


# --- invitations -----------------------------------------------------------------------


def issue_invitation(
    session: Session, settings: Settings, account_id: str, *, now: datetime
) -> str:
    """A new one-time code for a participant's first sign-in ("K7QM-4TZP-9WXD"); show once.

    Older unused codes of the account stop working: only the latest handed-out code counts.
    The password, if any, keeps working until the code is used to choose a new one.
    Staff get none: an invitation skips the second factor.
    """
    return _issue(session, settings, account_id, _now(now))[0]


def _issue(session: Session, settings: Settings, account_id: str, now: datetime) -> tuple[str, Invitation]:
    account = _account_or_404(session, account_id)
    if not account.active:
        raise NotFound()
    if account.role != "participant":
        raise BadInput(N_("Invitation codes are for participants; staff sign in with an authenticator app."))
    session.execute(
        update(Invitation)
        .where(
            Invitation.account_id == account.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    code = "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_LENGTH))
    invitation = Invitation(
        id=new_id(),
        account_id=account.id,
        code_hash=_digest(settings, "invitation", code),
        created_at=now,
        expires_at=now + timedelta(days=settings.limits.invitation_days),
    )
    session.add(invitation)
    session.flush()
    return format_invitation(code), invitation


@dataclass(frozen=True)
class IssuedInvitation:
    """A new code for one participant of a case: shown once to the facilitator who asked, never stored."""

    participant_id: str
    username: str
    code: str
    expires_at: datetime


def invite_participant(
    session: Session, svc: Services, actor: Actor, case_id: str, participant_id: str
) -> IssuedInvitation:
    """A facilitator of the case gives one of its participants a new invitation code.

    For a forgotten password or a locked-out account: there is no e-mail reset on purpose (an
    inbox may be shared or watched), so the way back is a code handed over by the facilitator.
    Anyone else, and any participant not (or no longer) in this case, gets NotFound. Audited,
    without the code.
    """
    case, member = load_case(session, actor, case_id)
    if not permissions.may_manage_case(member):
        raise NotFound()
    participant = session.get(Participant, participant_id)
    if participant is None or participant.case_id != case.id or not participant.active:
        raise NotFound()
    now = svc.now()
    code, invitation = _issue(session, svc.settings, participant.account_id, now)
    audit.record(session, action="participant.invitation", actor_id=actor.account_id, actor_role=actor.role,
                 case_id=case.id, subject_type="participant", subject_id=participant.id,
                 details={"expires_at": invitation.expires_at.isoformat()}, now=now)
    account = _account_or_404(session, participant.account_id)
    return IssuedInvitation(participant_id=participant.id, username=account.username, code=code,
                            expires_at=invitation.expires_at)


def redeem_invitation(
    session: Session,
    settings: Settings,
    *,
    code: str,
    client: str,
    user_agent: str = "",
    now: datetime,
) -> IssuedSession:
    """Exchange an invitation code for a session in stage "set_password".

    Failures count against the client address, like password attempts from it; not against
    any account, so a participant locked out of their password can still use a new code.
    """
    now = _now(now)
    keys = [_per_address(settings, client)]
    _check_throttle(session, settings, keys, now)
    normal = _normalise_invitation(code)
    invitation = None
    if normal is not None:
        invitation = session.scalar(
            select(Invitation).where(Invitation.code_hash == _digest(settings, "invitation", normal))
        )
    account = session.get(Account, invitation.account_id) if invitation is not None else None
    usable = (
        invitation is not None
        and account is not None
        and account.active
        and invitation.used_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > now
    )
    if usable:
        assert invitation is not None
        # Conditional, so two simultaneous redemptions cannot both win.
        claimed = session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .values(used_at=now)
        ).rowcount  # type: ignore[attr-defined]
        usable = bool(claimed)
    if not usable:
        _record_failure(session, settings, keys, now)
        raise LoginFailed(INVITATION_FAILURE)
    assert account is not None
    return _start_session(session, settings, account, "set_password", user_agent, now)


# --- sign-in ---------------------------------------------------------------------------


def login_password(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str,
    client: str,
    user_agent: str = "",
    passwords: PasswordPolicy | None = None,
    now: datetime,
) -> IssuedSession:
    """First step of sign-in. Stage "totp" for accounts with TOTP (staff), else "full".

    Unknown user, no password yet, deactivated or wrong password all answer the same
    message after the same amount of hashing.
    """
    now = _now(now)
    policy = _policy(passwords)
    name = normalise_username(username)
    keys = [_per_account(settings, name), _per_address(settings, client)]
    _check_throttle(session, settings, keys, now)
    account = None
    if USERNAME_RE.fullmatch(name):
        account = session.scalar(select(Account).where(Account.username == name))
    ok = False
    if len(password) > MAX_LENGTH:
        pass  # never a valid password; refuse without hashing megabytes
    elif account is None or account.password_hash is None or not account.active:
        policy.verify_dummy(password)
    else:
        ok = policy.verify(account.password_hash, password)
    if not ok:
        _record_failure(session, settings, keys, now)
        raise LoginFailed(LOGIN_FAILURE)
    assert account is not None and account.password_hash is not None
    if policy.needs_rehash(account.password_hash):
        account.password_hash = policy.hash(password)
    stage = _stage_after_password(account)
    if stage == "full":
        # With TOTP the counter is cleared only after the code: clearing it here would let
        # someone holding the password guess codes forever.
        _clear_failures(session, keys[0].key)
        account.last_login_at = now
    return _start_session(session, settings, account, stage, user_agent, now)


def login_totp(
    session: Session,
    settings: Settings,
    *,
    token: str,
    code: str,
    client: str,
    now: datetime,
) -> IssuedSession:
    """Second step for TOTP accounts; the "totp" session is replaced by a new "full" one.

    A new token on every stage change means a token planted before sign-in (session
    fixation) never becomes a signed-in one.
    """
    now = _now(now)
    found = _live_session(session, settings, token, now)
    if found is None or found[0].stage != "totp" or not found[1].has_totp:
        raise NotAuthenticated(SIGN_IN_AGAIN)
    row, account = found
    keys = [_per_account(settings, account.username), _per_address(settings, client)]
    _check_throttle(session, settings, keys, now)
    assert account.totp_secret_enc is not None
    secret = decrypt_secret(settings.secret_key, account.id, account.totp_secret_enc)
    step = match_step(secret, code, now, after=account.totp_last_step)
    claimed = False
    if step is not None:
        # Conditional on the stored step, so the same code cannot win twice concurrently.
        claimed = bool(
            session.execute(
                update(Account)
                .where(
                    Account.id == account.id,
                    or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
                )
                .values(totp_last_step=step)
            ).rowcount  # type: ignore[attr-defined]
        )
    if not claimed:
        _record_failure(session, settings, keys, now)
        raise LoginFailed(TOTP_FAILURE)
    if not _revoke(session, row, now):
        raise NotAuthenticated(SIGN_IN_AGAIN)
    _clear_failures(session, keys[0].key)
    account.last_login_at = now
    return _start_session(session, settings, account, "full", row.user_agent, now)


def set_password(
    session: Session,
    settings: Settings,
    *,
    token: str,
    new_password: str,
    passwords: PasswordPolicy | None = None,
    now: datetime,
) -> IssuedSession:
    """After an invitation: choose a password; every session of the account is replaced.

    A refused password (BadInput) leaves the "set_password" session usable for a retry.
    """
    now = _now(now)
    policy = _policy(passwords)
    found = _live_session(session, settings, token, now)
    if found is None or found[0].stage != "set_password":
        raise NotAuthenticated(CHOOSE_PASSWORD_EXPIRED)
    row, account = found
    policy.check(new_password, username=account.username)
    account.password_hash = policy.hash(new_password)
    account.password_changed_at = now
    revoke_all(session, account.id, now=now)
    _clear_failures(session, _username_key(settings, account.username))
    stage = _stage_after_password(account)
    if stage == "full":
        account.last_login_at = now
    return _start_session(session, settings, account, stage, row.user_agent, now)


def change_password(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    current: str,
    new: str,
    passwords: PasswordPolicy | None = None,
    now: datetime,
) -> None:
    """Change one's own password; every other session of the account is revoked.

    The acting session stays signed in. Wrong current passwords count against the
    username like failed sign-ins, so a borrowed open session cannot guess it.
    """
    now = _now(now)
    policy = _policy(passwords)
    account = session.get(Account, principal.account_id)
    if account is None or not account.active:
        raise NotAuthenticated(SIGN_IN_AGAIN)
    keys = [_per_account(settings, account.username)]
    _check_throttle(session, settings, keys, now)
    if account.password_hash is None or not policy.verify(account.password_hash, current):
        _record_failure(session, settings, keys, now)
        raise WrongCurrentPassword(N_("Your current password is wrong."))
    if new == current:
        raise BadInput(N_("Choose a new password that differs from the current one."))
    policy.check(new, username=account.username)
    account.password_hash = policy.hash(new)
    account.password_changed_at = now
    _clear_failures(session, keys[0].key)
    revoke_all(session, account.id, now=now, keep=principal.session_id)


_S, _A = AuthSession.__table__.c, Account.__table__.c
#: The one statement a request's sign-in check runs (a session and its account, columns only:
#: no ORM objects); built once from the Core tables, so only its parameter changes from request to
#: request and it runs on the connection, past the ORM's per-statement work (bench/seek.py).
_SESSION_CHECK = (
    select(
        _S.id.label("session_id"), _S.stage, _S.csrf_token, _S.last_seen_at, _S.expires_at, _S.absolute_expires_at,
        _S.revoked_at, _A.id.label("account_id"), _A.username, _A.role, _A.display_name, _A.active, _A.language,
    )
    .select_from(AuthSession.__table__.join(Account.__table__, _A.id == _S.account_id))
    .where(_S.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class SessionCheck:
    """A current session's principal, and the idle expiry to slide to if a slide is due."""

    principal: Principal
    slide_to: datetime | None


def check_session(
    session: Session, settings: Settings, token: str | None, *, now: datetime, stage: str = "full"
) -> SessionCheck:
    """The principal behind a session token, without writing anything (one statement);
    NotAuthenticated if the token is not a current session at `stage`."""
    now = _now(now)
    if not token or len(token) > 200:
        raise NotAuthenticated(SIGN_IN_AGAIN)
    found = session.connection().execute(_SESSION_CHECK, {"token_hash": _digest(settings, "session", token)}).first()
    if (found is None or found.revoked_at is not None or found.expires_at <= now
            or found.absolute_expires_at <= now or not found.active or found.stage != stage):
        raise NotAuthenticated(SIGN_IN_AGAIN)
    principal = Principal(account_id=found.account_id, username=found.username, role=found.role,
                          display_name=found.display_name, session_id=found.session_id,
                          csrf_token=found.csrf_token, language=found.language)
    slide_to = None
    if (now - found.last_seen_at).total_seconds() > SLIDE_AFTER_SECONDS:
        slide_to = min(now + timedelta(seconds=settings.limits.session_idle_seconds), found.absolute_expires_at)
    return SessionCheck(principal, slide_to)


def slide_session(session: Session, session_id: str, *, now: datetime, expires_at: datetime) -> None:
    """Move a session's idle expiry (what `check_session` said is due)."""
    session.execute(update(AuthSession).where(AuthSession.id == session_id)
                    .values(last_seen_at=_now(now), expires_at=expires_at))


def authenticate(
    session: Session,
    settings: Settings,
    token: str | None,
    *,
    now: datetime,
    stage: str = "full",
) -> Principal:
    """The principal behind a session token, for one request; slides the idle expiry.

    The expiry is moved (a write) only when the last move is over a minute old, so the
    effective idle timeout is between idle-60 s and idle.
    """
    checked = check_session(session, settings, token, now=now, stage=stage)
    if checked.slide_to is not None:
        slide_session(session, checked.principal.session_id, now=now, expires_at=checked.slide_to)
    return checked.principal


def session_stage(
    session: Session, settings: Settings, token: str | None, *, now: datetime
) -> str | None:
    """The stage of a current session ("totp", "set_password", "full"), or None. Read-only."""
    found = _live_session(session, settings, token, _now(now))
    return found[0].stage if found is not None else None


def logout(session: Session, settings: Settings, token: str | None, *, now: datetime) -> None:
    """Revoke the session of this token, if any; silent otherwise (logging out twice is fine)."""
    if not token or len(token) > 200:
        return
    row = session.scalar(
        select(AuthSession).where(AuthSession.token_hash == _digest(settings, "session", token))
    )
    if row is not None:
        _revoke(session, row, _now(now))
