"""Accounts: sign-in with password + TOTP or invitation, sessions, throttling, secrets at rest.

Runs on SQLite and PostgreSQL. Argon2 runs with `PasswordPolicy.for_tests()` (cheapest
parameters) passed explicitly; production code uses argon2-cffi's defaults.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import Parameters, Type
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from shuttle.accounts import service as svc
from shuttle.accounts.models import Account, AuthSession, Invitation, LoginFailure
from shuttle.accounts.passwords import PasswordPolicy
from shuttle.accounts.totp import decrypt_secret, encrypt_secret, time_step
from shuttle.config import Limits, Settings
from shuttle.db import Database
from shuttle.errors import BadInput, Conflict, NotAuthenticated, NotFound, TooManyRequests

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
STAFF_PASSWORD = "correct horse battery staple"
PARTICIPANT_PASSWORD = "river-lantern-morning-42"
POLICY = PasswordPolicy.for_tests()
R = TypeVar("R")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        blob_backend="local",
        blob_dir=tmp_path / "blobs",
        keyring_path=tmp_path / "keyring.json",
        secret_key="test-secret-key-" + "k" * 40,
        public_base_url="http://127.0.0.1:8000",
        in_process_worker=False,
        limits=Limits(),
    )


def run(db: Database, action: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """One unit of work, committed on success and on a counted failure (as the web layer must)."""
    with db.uow() as uow:
        try:
            result = action(uow.session, *args, **kwargs)
        except svc.CountedFailure:
            uow.commit()
            raise
        uow.commit()
        return result


def make_account(
    db: Database,
    settings: Settings,
    username: str,
    role: str,
    password: str | None = None,
    **kwargs: Any,
) -> tuple[str, str | None]:
    account, secret = run(
        db,
        svc.create_account,
        settings,
        username=username,
        role=role,
        display_name=username.title(),
        password=password,
        passwords=POLICY,
        now=T0,
        **kwargs,
    )
    return account.id, secret


def login(db: Database, settings: Settings, username: str, password: str, *, client: str = "10.0.0.1",
          now: datetime = T0) -> svc.IssuedSession:
    return run(db, svc.login_password, settings, username=username, password=password, client=client,
               user_agent="pytest", passwords=POLICY, now=now)


def totp(db: Database, settings: Settings, token: str, code: str, *, client: str = "10.0.0.1",
         now: datetime = T0) -> svc.IssuedSession:
    return run(db, svc.login_totp, settings, token=token, code=code, client=client, now=now)


def auth(db: Database, settings: Settings, token: str, *, now: datetime = T0, stage: str = "full") -> svc.Principal:
    return run(db, svc.authenticate, settings, token, now=now, stage=stage)


def staff_session(db: Database, settings: Settings, *, now: datetime = T0) -> tuple[str, str, svc.IssuedSession]:
    account_id, secret = make_account(db, settings, "fran", "facilitator", STAFF_PASSWORD)
    assert secret is not None
    first = login(db, settings, "fran", STAFF_PASSWORD, now=now)
    full = totp(db, settings, first.token, svc.current_totp(secret, now), now=now)
    return account_id, secret, full


# --- staff: password + TOTP ------------------------------------------------------------


def test_staff_sign_in_needs_password_then_totp(database: Database, settings: Settings) -> None:
    account_id, secret = make_account(database, settings, "Fran", "facilitator", STAFF_PASSWORD)
    assert secret is not None and re.fullmatch(r"[A-Z2-7]+", secret)

    first = login(database, settings, "FRAN ", STAFF_PASSWORD)
    assert first.stage == "totp"
    assert run(database, svc.session_stage, settings, first.token, now=T0) == "totp"
    # A half-signed-in session is not a signed-in one.
    with pytest.raises(NotAuthenticated):
        auth(database, settings, first.token)
    assert auth(database, settings, first.token, stage="totp").account_id == account_id

    full = totp(database, settings, first.token, svc.current_totp(secret, T0))
    assert full.stage == "full"
    assert full.token != first.token and full.csrf_token != first.csrf_token
    # The pre-TOTP token is dead: a fixated token never becomes a signed-in one.
    assert run(database, svc.session_stage, settings, first.token, now=T0) is None
    with pytest.raises(NotAuthenticated):
        totp(database, settings, first.token, svc.current_totp(secret, T0 + timedelta(seconds=30)))

    principal = auth(database, settings, full.token)
    assert principal.account_id == account_id
    assert principal.username == "fran" and principal.role == "facilitator"
    assert principal.display_name == "Fran" and principal.is_staff
    assert principal.csrf_token == full.csrf_token


def test_wrong_totp_is_refused_and_the_session_stays_at_totp(database: Database, settings: Settings) -> None:
    settings = settings.with_(limits=Limits(login_attempts=10))
    _, secret = make_account(database, settings, "fran", "coordinator", STAFF_PASSWORD)
    assert secret is not None
    first = login(database, settings, "fran", STAFF_PASSWORD)
    right = svc.current_totp(secret, T0)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for code in (wrong, "", "abcdef", "1234567", svc.current_totp(secret, T0 - timedelta(minutes=5))):
        with pytest.raises(svc.LoginFailed) as caught:
            totp(database, settings, first.token, code)
        assert caught.value.message == svc.TOTP_FAILURE
    assert run(database, svc.session_stage, settings, first.token, now=T0) == "totp"
    spaced = f"{right[:3]} {right[3:]}"
    assert totp(database, settings, first.token, spaced).stage == "full"


def test_totp_accepts_one_step_of_clock_drift(database: Database, settings: Settings) -> None:
    _, secret = make_account(database, settings, "fran", "facilitator", STAFF_PASSWORD)
    assert secret is not None
    first = login(database, settings, "fran", STAFF_PASSWORD)
    previous = svc.current_totp(secret, T0 - timedelta(seconds=30))
    assert totp(database, settings, first.token, previous).stage == "full"


def test_a_totp_code_cannot_be_replayed(database: Database, settings: Settings) -> None:
    _, secret, _ = staff_session(database, settings)
    assert secret is not None
    used = svc.current_totp(secret, T0)
    earlier = svc.current_totp(secret, T0 - timedelta(seconds=30))

    second = login(database, settings, "fran", STAFF_PASSWORD, now=T0 + timedelta(seconds=10))
    for code in (used, earlier):  # same step, and an older one still inside the window
        with pytest.raises(svc.LoginFailed):
            totp(database, settings, second.token, code, now=T0 + timedelta(seconds=10))
    later = T0 + timedelta(seconds=30)
    assert totp(database, settings, second.token, svc.current_totp(secret, later), now=later).stage == "full"
    with database.uow() as uow:
        account = uow.session.scalar(select(Account).where(Account.username == "fran"))
        assert account is not None and account.totp_last_step == time_step(later)


def test_totp_failures_are_throttled(database: Database, settings: Settings) -> None:
    _, secret = make_account(database, settings, "fran", "facilitator", STAFF_PASSWORD)
    assert secret is not None
    right = svc.current_totp(secret, T0)
    wrong = "000000" if right != "000000" else "111111"
    first = login(database, settings, "fran", STAFF_PASSWORD)
    for _ in range(settings.limits.login_attempts - 1):
        with pytest.raises(svc.LoginFailed):
            totp(database, settings, first.token, wrong)
    # The right password again (elsewhere) does not reset the count while the code is pending,
    # or whoever holds the password could guess codes forever.
    again = login(database, settings, "fran", STAFF_PASSWORD, client="10.9.9.9")
    with pytest.raises(svc.LoginFailed):
        totp(database, settings, again.token, wrong, client="10.9.9.9")
    with pytest.raises(TooManyRequests):
        totp(database, settings, again.token, right, client="10.9.9.9")
    with pytest.raises(TooManyRequests):
        login(database, settings, "fran", STAFF_PASSWORD, client="10.8.8.8")
    after = T0 + timedelta(seconds=settings.limits.login_window_seconds + 1)
    third = login(database, settings, "fran", STAFF_PASSWORD, client="10.8.8.8", now=after)
    assert totp(database, settings, third.token, svc.current_totp(secret, after), client="10.8.8.8",
                now=after).stage == "full"


def test_staff_without_totp_can_enrol_later(database: Database, settings: Settings) -> None:
    account_id, secret = make_account(database, settings, "cora", "coordinator", STAFF_PASSWORD, with_totp=False)
    assert secret is None
    assert login(database, settings, "cora", STAFF_PASSWORD).stage == "full"
    new_secret = run(database, svc.enroll_totp, settings, account_id)
    assert login(database, settings, "cora", STAFF_PASSWORD).stage == "totp"
    assert "secret=" + new_secret in svc.totp_uri(new_secret, "cora")
    assert svc.totp_uri(new_secret, "cora").startswith("otpauth://totp/shuttle:cora?")


# --- participants: invitation, then a password -----------------------------------------


def test_participant_invitation_then_password_then_sign_in(database: Database, settings: Settings) -> None:
    account_id, secret = make_account(database, settings, "jess", "participant")
    assert secret is None
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", code)

    # No password yet: the ordinary sign-in refuses, with the ordinary message.
    with pytest.raises(svc.LoginFailed):
        login(database, settings, "jess", "")

    # Codes are typed by hand: any case, spaces or no dashes.
    typed = code.replace("-", " ").lower()
    pending = run(database, svc.redeem_invitation, settings, code=typed, client="10.0.0.2", now=T0)
    assert pending.stage == "set_password"
    with pytest.raises(NotAuthenticated):
        auth(database, settings, pending.token)

    with pytest.raises(BadInput, match="at least 10 characters"):
        run(database, svc.set_password, settings, token=pending.token, new_password="short",
            passwords=POLICY, now=T0)
    full = run(database, svc.set_password, settings, token=pending.token, new_password=PARTICIPANT_PASSWORD,
               passwords=POLICY, now=T0)
    assert full.stage == "full" and full.token != pending.token
    assert run(database, svc.session_stage, settings, pending.token, now=T0) is None
    principal = auth(database, settings, full.token)
    assert principal.role == "participant" and not principal.is_staff

    later = T0 + timedelta(days=1)
    again = login(database, settings, "jess", PARTICIPANT_PASSWORD, now=later)
    assert again.stage == "full"
    assert auth(database, settings, again.token, now=later).account_id == account_id


def test_invitation_is_single_use(database: Database, settings: Settings) -> None:
    account_id, _ = make_account(database, settings, "jess", "participant")
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.2", now=T0)
    with pytest.raises(svc.LoginFailed) as caught:
        run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.2", now=T0)
    assert caught.value.message == svc.INVITATION_FAILURE


def test_invitation_expires(database: Database, settings: Settings) -> None:
    account_id, _ = make_account(database, settings, "jess", "participant")
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    expiry = T0 + timedelta(days=settings.limits.invitation_days)
    with pytest.raises(svc.LoginFailed):
        run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.2", now=expiry)
    just_before = expiry - timedelta(seconds=1)
    assert run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.2",
               now=just_before).stage == "set_password"


def test_a_new_invitation_supersedes_the_unused_one(database: Database, settings: Settings) -> None:
    account_id, _ = make_account(database, settings, "jess", "participant")
    old = run(database, svc.issue_invitation, settings, account_id, now=T0)
    new = run(database, svc.issue_invitation, settings, account_id, now=T0 + timedelta(minutes=1))
    assert old != new
    with pytest.raises(svc.LoginFailed):
        run(database, svc.redeem_invitation, settings, code=old, client="10.0.0.2", now=T0 + timedelta(minutes=2))
    assert run(database, svc.redeem_invitation, settings, code=new, client="10.0.0.2",
               now=T0 + timedelta(minutes=2)).stage == "set_password"


def test_invitations_are_for_active_participants_only(database: Database, settings: Settings) -> None:
    staff_id, _ = make_account(database, settings, "fran", "facilitator", STAFF_PASSWORD)
    with pytest.raises(BadInput):
        run(database, svc.issue_invitation, settings, staff_id, now=T0)
    with pytest.raises(NotFound):
        run(database, svc.issue_invitation, settings, "no-such-account", now=T0)


def test_invitation_attempts_are_throttled_by_address(database: Database, settings: Settings) -> None:
    settings = settings.with_(limits=Limits(login_attempts=2, login_attempts_per_address=5))
    account_id, _ = make_account(database, settings, "jess", "participant")
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    for guess in ("AAAA-BBBB-CCCC", "nonsense", "", "2222-3333-4444", "ZZZZ-ZZZZ-ZZZZ"):
        with pytest.raises(svc.LoginFailed):
            run(database, svc.redeem_invitation, settings, code=guess, client="10.6.6.6", now=T0)
    with pytest.raises(TooManyRequests):
        run(database, svc.redeem_invitation, settings, code=code, client="10.6.6.6", now=T0)
    assert run(database, svc.redeem_invitation, settings, code=code, client="10.7.7.7",
               now=T0).stage == "set_password"


def test_set_password_revokes_the_accounts_other_sessions(database: Database, settings: Settings) -> None:
    account_id, _ = make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    existing = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    pending = run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.2", now=T0)
    full = run(database, svc.set_password, settings, token=pending.token, new_password="a brand new passphrase",
               passwords=POLICY, now=T0)
    with pytest.raises(NotAuthenticated):
        auth(database, settings, existing.token)
    auth(database, settings, full.token)
    with pytest.raises(svc.LoginFailed):
        login(database, settings, "jess", PARTICIPANT_PASSWORD)


# --- failures and throttling -----------------------------------------------------------


def test_wrong_password_and_unknown_user_answer_alike(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    make_account(database, settings, "newbie", "participant")  # invited, no password yet
    gone_id, _ = make_account(database, settings, "gone", "participant", PARTICIPANT_PASSWORD)
    run(database, svc.deactivate, gone_id, now=T0)
    answers = []
    for username, password in [
        ("jess", "wrong password here"),
        ("nobody", "wrong password here"),
        ("newbie", "wrong password here"),
        ("gone", PARTICIPANT_PASSWORD),  # right password, deactivated account
        ("x", "not a valid username at all"),
    ]:
        with pytest.raises(svc.LoginFailed) as caught:
            login(database, settings, username, password, client=f"10.1.0.{len(answers)}")
        answers.append((type(caught.value), caught.value.message, caught.value.status, caught.value.code))
    assert answers == [(svc.LoginFailed, "Username or password is wrong.", 401, "login_failed")] * 5


def test_throttled_by_username_then_429_until_the_window_passes(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    limits = settings.limits
    for attempt in range(limits.login_attempts):
        with pytest.raises(svc.LoginFailed):
            login(database, settings, "jess", "not the password", client=f"10.2.0.{attempt}",
                  now=T0 + timedelta(seconds=attempt))
    # Blocked even with the right password, from a fresh address, and without checking it.
    with pytest.raises(TooManyRequests) as caught:
        login(database, settings, "JESS", PARTICIPANT_PASSWORD, client="10.3.0.1", now=T0 + timedelta(minutes=1))
    assert caught.value.status == 429
    assert caught.value.message == "Too many attempts; try again in 14 minutes."
    # Other usernames from other addresses are unaffected.
    with pytest.raises(svc.LoginFailed):
        login(database, settings, "someone", "not the password", client="10.3.0.2", now=T0 + timedelta(minutes=1))

    after = T0 + timedelta(seconds=limits.login_window_seconds + 1)
    assert login(database, settings, "jess", PARTICIPANT_PASSWORD, client="10.3.0.1", now=after).stage == "full"


def test_success_clears_the_username_counter(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    limit = settings.limits.login_attempts
    for round_ in range(2):
        for attempt in range(limit - 1):
            with pytest.raises(svc.LoginFailed):
                login(database, settings, "jess", "not the password", client=f"10.4.{round_}.{attempt}")
        login(database, settings, "jess", PARTICIPANT_PASSWORD, client="10.4.9.9")


def test_one_accounts_failures_do_not_lock_out_another_at_the_same_address(
        database: Database, settings: Settings) -> None:
    """Issue 8.7: five wrong passwords for one participant locked another out at a shared address."""
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    make_account(database, settings, "sam", "participant", STAFF_PASSWORD)
    for attempt in range(settings.limits.login_attempts):
        with pytest.raises(svc.LoginFailed):
            login(database, settings, "jess", "not the password", client="192.0.2.7",
                  now=T0 + timedelta(seconds=attempt))
    with pytest.raises(TooManyRequests):
        login(database, settings, "jess", PARTICIPANT_PASSWORD, client="192.0.2.7", now=T0 + timedelta(minutes=1))
    assert login(database, settings, "sam", STAFF_PASSWORD, client="192.0.2.7",
                 now=T0 + timedelta(minutes=1)).stage == "full"


def test_throttled_by_client_address(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    for attempt in range(settings.limits.login_attempts_per_address):
        with pytest.raises(svc.LoginFailed):
            login(database, settings, f"user{attempt}", "not the password", client="192.0.2.7")
    with pytest.raises(TooManyRequests,
                       match=r"^Too many failed sign-ins from this network; try again in 15 minutes\.$"):
        login(database, settings, "jess", PARTICIPANT_PASSWORD, client="192.0.2.7")
    assert login(database, settings, "jess", PARTICIPANT_PASSWORD, client="192.0.2.8").stage == "full"
    after = T0 + timedelta(seconds=settings.limits.login_window_seconds + 1)
    assert login(database, settings, "jess", PARTICIPANT_PASSWORD, client="192.0.2.7", now=after).stage == "full"


def test_a_new_invitation_code_unlocks_a_locked_out_account(database: Database, settings: Settings) -> None:
    """What the sign-in page tells a locked-out participant to do works, from the same address."""
    account_id, _ = make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    for _attempt in range(settings.limits.login_attempts):
        with pytest.raises(svc.LoginFailed):
            login(database, settings, "jess", "not the password", client="192.0.2.7")
    with pytest.raises(TooManyRequests):
        login(database, settings, "jess", PARTICIPANT_PASSWORD, client="192.0.2.7")
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    pending = run(database, svc.redeem_invitation, settings, code=code, client="192.0.2.7", now=T0)
    run(database, svc.set_password, settings, token=pending.token, new_password="a brand new walk home",
        passwords=POLICY, now=T0)
    assert login(database, settings, "jess", "a brand new walk home", client="192.0.2.7").stage == "full"


def test_set_password_on_a_spent_page_says_to_ask_for_a_new_code(database: Database, settings: Settings) -> None:
    account_id, _ = make_account(database, settings, "jess", "participant")
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    pending = run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.2", now=T0)
    late = T0 + timedelta(seconds=svc.PENDING_STAGE_SECONDS)
    with pytest.raises(NotAuthenticated, match="Ask your facilitator for a new invitation code"):
        run(database, svc.set_password, settings, token=pending.token, new_password=PARTICIPANT_PASSWORD,
            passwords=POLICY, now=late)


def test_failure_is_counted_only_if_the_caller_commits(database: Database, settings: Settings) -> None:
    """Documents the contract: CountedFailure means "commit before answering"."""
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    with database.uow() as uow, pytest.raises(svc.CountedFailure):
        svc.login_password(uow.session, settings, username="jess", password="not the password",
                           client="10.5.0.1", passwords=POLICY, now=T0)
    with database.uow() as uow:
        assert uow.session.scalars(select(LoginFailure)).all() == []
    with pytest.raises(svc.CountedFailure):
        login(database, settings, "jess", "not the password", client="10.5.0.1")
    with database.uow() as uow:
        assert len(uow.session.scalars(select(LoginFailure)).all()) == 2  # username + address


# --- sessions ----------------------------------------------------------------------------


def test_idle_expiry_slides_but_not_on_every_request(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    issued = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    idle = timedelta(seconds=settings.limits.session_idle_seconds)
    assert issued.expires_at == T0 + idle

    auth(database, settings, issued.token, now=T0 + timedelta(seconds=30))
    with database.uow() as uow:
        row = uow.session.scalars(select(AuthSession)).one()
        assert row.last_seen_at == T0 and row.expires_at == T0 + idle  # no write within a minute

    touched = T0 + idle - timedelta(seconds=1)
    auth(database, settings, issued.token, now=touched)
    auth(database, settings, issued.token, now=touched + idle - timedelta(seconds=1))  # slid
    with pytest.raises(NotAuthenticated):
        auth(database, settings, issued.token, now=touched + idle - timedelta(seconds=1) + idle)


def test_idle_expiry_ends_an_untouched_session(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    issued = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    with pytest.raises(NotAuthenticated):
        auth(database, settings, issued.token, now=issued.expires_at)
    assert run(database, svc.session_stage, settings, issued.token, now=issued.expires_at) is None


def test_absolute_expiry_ends_even_a_busy_session(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    issued = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    absolute = T0 + timedelta(seconds=settings.limits.session_absolute_seconds)
    moment = T0
    while moment + timedelta(minutes=20) < absolute:
        moment += timedelta(minutes=20)
        auth(database, settings, issued.token, now=moment)
    with pytest.raises(NotAuthenticated):
        auth(database, settings, issued.token, now=absolute)


def test_pending_stage_sessions_are_short_lived(database: Database, settings: Settings) -> None:
    _, secret = make_account(database, settings, "fran", "facilitator", STAFF_PASSWORD)
    assert secret is not None
    first = login(database, settings, "fran", STAFF_PASSWORD)
    late = T0 + timedelta(seconds=svc.PENDING_STAGE_SECONDS)
    with pytest.raises(NotAuthenticated):
        totp(database, settings, first.token, svc.current_totp(secret, late), now=late)


def test_logout_revokes_the_session(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    issued = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    other = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    run(database, svc.logout, settings, issued.token, now=T0)
    run(database, svc.logout, settings, issued.token, now=T0)  # twice is harmless
    run(database, svc.logout, settings, "not-a-token", now=T0)
    with pytest.raises(NotAuthenticated):
        auth(database, settings, issued.token)
    auth(database, settings, other.token)


def test_garbage_tokens_do_not_authenticate(database: Database, settings: Settings) -> None:
    for token in (None, "", "x", "y" * 5000):
        with pytest.raises(NotAuthenticated):
            auth(database, settings, token)  # type: ignore[arg-type]
        assert run(database, svc.session_stage, settings, token, now=T0) is None


def test_change_password_revokes_all_other_sessions(database: Database, settings: Settings) -> None:
    account_id, secret, current = staff_session(database, settings)
    assert secret is not None
    elsewhere = login(database, settings, "fran", STAFF_PASSWORD, now=T0 + timedelta(seconds=30))
    elsewhere = totp(database, settings, elsewhere.token, svc.current_totp(secret, T0 + timedelta(seconds=30)),
                     now=T0 + timedelta(seconds=30))
    principal = auth(database, settings, current.token, now=T0 + timedelta(seconds=40))

    with pytest.raises(svc.WrongCurrentPassword) as caught:
        run(database, svc.change_password, settings, principal, current="not my password",
            new="another good passphrase", passwords=POLICY, now=T0 + timedelta(seconds=40))
    assert caught.value.status == 400
    with pytest.raises(BadInput, match="too common"):
        run(database, svc.change_password, settings, principal, current=STAFF_PASSWORD,
            new="Password123!", passwords=POLICY, now=T0 + timedelta(seconds=40))

    run(database, svc.change_password, settings, principal, current=STAFF_PASSWORD,
        new="another good passphrase", passwords=POLICY, now=T0 + timedelta(seconds=40))
    with pytest.raises(NotAuthenticated):
        auth(database, settings, elsewhere.token, now=T0 + timedelta(seconds=50))
    auth(database, settings, current.token, now=T0 + timedelta(seconds=50))
    with pytest.raises(svc.LoginFailed):
        login(database, settings, "fran", STAFF_PASSWORD, now=T0 + timedelta(minutes=1))
    assert login(database, settings, "fran", "another good passphrase", now=T0 + timedelta(minutes=1)).stage == "totp"
    assert run(database, svc.revoke_all, account_id, now=T0 + timedelta(minutes=2)) == 2


def test_deactivate_revokes_everything(database: Database, settings: Settings) -> None:
    account_id, _ = make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    issued = login(database, settings, "jess", PARTICIPANT_PASSWORD)
    code = run(database, svc.issue_invitation, settings, account_id, now=T0)
    run(database, svc.deactivate, account_id, now=T0)
    with pytest.raises(NotAuthenticated):
        auth(database, settings, issued.token)
    with pytest.raises(svc.LoginFailed):
        login(database, settings, "jess", PARTICIPANT_PASSWORD)
    with pytest.raises(svc.LoginFailed):
        run(database, svc.redeem_invitation, settings, code=code, client="10.0.0.9", now=T0)
    with database.uow() as uow:
        assert all(row.revoked_at is not None for row in uow.session.scalars(select(AuthSession)))
        assert all(row.revoked_at is not None for row in uow.session.scalars(select(Invitation)))
    with pytest.raises(NotFound):
        run(database, svc.deactivate, "no-such-account", now=T0)


# --- accounts and passwords --------------------------------------------------------------


def test_usernames_are_validated_lowercased_and_unique(database: Database, settings: Settings) -> None:
    make_account(database, settings, "Jess.Smith", "participant")
    with pytest.raises(Conflict):
        make_account(database, settings, "jess.smith", "participant")
    for bad in ("ab", "a" * 41, "jess smith", "jéss", "jess@home"):
        with pytest.raises(BadInput):
            make_account(database, settings, bad, "participant")
    with pytest.raises(BadInput):
        make_account(database, settings, "someone", "superuser")
    with database.uow() as uow:
        assert uow.session.scalars(select(Account.username)).all() == ["jess.smith"]


@pytest.mark.committing  # several connections at once
@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)  # SQLite writers queue: no race
def test_a_simultaneous_twin_username_is_a_conflict_not_a_broken_transaction(
    database: Database, settings: Settings
) -> None:
    """Both pass the "is it taken?" check; the loser gets Conflict and can carry on."""
    outcome: dict[str, object] = {}

    def second() -> None:
        with database.uow() as uow:
            try:
                svc.create_account(uow.session, settings, username="twin", role="participant",
                                   display_name="Twin B", now=T0)
            except Conflict as error:
                outcome["error"] = error
            # The transaction is still usable after the refused insert.
            svc.create_account(uow.session, settings, username="other", role="participant",
                               display_name="Other", now=T0)
            uow.commit()

    with database.uow() as uow:
        svc.create_account(uow.session, settings, username="twin", role="participant",
                           display_name="Twin A", now=T0)
        uow.session.flush()
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)  # blocks on the unique index until we commit
        assert thread.is_alive()
        uow.commit()
    thread.join(timeout=30)
    assert isinstance(outcome.get("error"), Conflict)
    with database.uow() as uow:
        assert sorted(uow.session.scalars(select(Account.display_name))) == ["Other", "Twin A"]


@pytest.mark.parametrize(
    "password, message",
    [
        ("short", "at least 10 characters"),
        ("password123", "too common"),
        ("Qwertyuiop!", "too common"),
        ("1234567890", "too common"),
        ("aaaaaaaaaaaa", "too few different characters"),
        ("x" * 1025, "at most 1024"),
        ("my name is fran, hi", "must not contain your username"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_message(password: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        POLICY.check(password, username="fran")


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(database: Database, settings: Settings) -> None:
    make_account(database, settings, "jess", "participant", PARTICIPANT_PASSWORD)
    with database.uow() as uow:
        old = uow.session.scalars(select(Account.password_hash)).one()
    assert old is not None and old.startswith("$argon2id$")
    assert PasswordPolicy().hasher().type is Type.ID  # production default: argon2-cffi's own

    stronger = PasswordPolicy(Parameters(type=Type.ID, version=19, salt_len=16, hash_len=16,
                                         time_cost=2, memory_cost=16, parallelism=1))
    run(database, svc.login_password, settings, username="jess", password=PARTICIPANT_PASSWORD,
        client="10.0.0.1", passwords=stronger, now=T0)
    with database.uow() as uow:
        new = uow.session.scalars(select(Account.password_hash)).one()
    assert new is not None and new != old and new.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    login(database, settings, "jess", PARTICIPANT_PASSWORD)  # the old policy still verifies it


def test_totp_secret_is_bound_to_its_account(settings: Settings) -> None:
    blob = encrypt_secret(settings.secret_key, "account-a", "JBSWY3DPEHPK3PXP")
    assert decrypt_secret(settings.secret_key, "account-a", blob) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidTag):  # AES-GCM: sealed for another account
        decrypt_secret(settings.secret_key, "account-b", blob)
    with pytest.raises(InvalidTag):  # or with another key
        decrypt_secret("another-secret-key-" + "z" * 40, "account-a", blob)


@pytest.mark.committing  # reads the rows through a second connection
def test_the_database_never_holds_secrets_in_plain(database: Database, settings: Settings) -> None:
    participant_id, _ = make_account(database, settings, "jess", "participant")
    code = run(database, svc.issue_invitation, settings, participant_id, now=T0)
    pending = run(database, svc.redeem_invitation, settings, code=code, client="203.0.113.5", now=T0)
    full = run(database, svc.set_password, settings, token=pending.token, new_password=PARTICIPANT_PASSWORD,
               passwords=POLICY, now=T0)
    _, secret, staff = staff_session(database, settings)
    assert secret is not None
    with pytest.raises(svc.LoginFailed):
        login(database, settings, "fran", "typo of the password", client="203.0.113.9")
    fresh_code = run(database, svc.issue_invitation, settings, participant_id, now=T0)

    secrets_ = {
        pending.token, full.token, staff.token, code, code.replace("-", ""), fresh_code,
        fresh_code.replace("-", ""), PARTICIPANT_PASSWORD, STAFF_PASSWORD, "typo of the password",
        secret, "203.0.113.5", "203.0.113.9",
    }
    tables = [Account.__table__, Invitation.__table__, AuthSession.__table__, LoginFailure.__table__]
    seen = 0
    with database.engine.connect() as conn:
        for table in tables:
            for row in conn.execute(table.select()):
                for value in row:
                    seen += 1
                    if isinstance(value, (bytes, memoryview)):
                        blob = bytes(value)
                        assert not any(s.encode() in blob for s in secrets_), (table.name, value)
                    elif value is not None:
                        text = str(value)
                        assert not any(s in text for s in secrets_), (table.name, value)
    assert seen > 40


# --- pure helpers ------------------------------------------------------------------------


@given(st.text(alphabet=svc.INVITATION_ALPHABET, min_size=12, max_size=12))
def test_invitation_codes_survive_the_way_people_type_them(code: str) -> None:
    shown = svc.format_invitation(code)
    assert len(shown) == 14 and shown.replace("-", "") == code
    for typed in (shown, shown.lower(), shown.replace("-", " "), f"  {code.lower()}  "):
        assert svc._normalise_invitation(typed) == code


@given(st.text(min_size=0, max_size=30))
def test_anything_else_is_not_an_invitation_code(raw: str) -> None:
    normal = svc._normalise_invitation(raw)
    if normal is not None:
        assert len(normal) == 12 and set(normal) <= set(svc.INVITATION_ALPHABET)


def test_current_totp_matches_an_authenticator_app() -> None:
    import pyotp

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert svc.current_totp(secret, T0) == pyotp.TOTP(secret).at(T0)
