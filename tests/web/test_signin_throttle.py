"""Sign-in that does not lock out the wrong person (issue 8, point 7).

Failed sign-ins count per account and per address, with separate limits: one person's wrong
passwords lock their own account, never someone else at the same address (an office, a
hostel, a prison computer room). A locked-out or forgetful participant is told to ask their
facilitator for a new invitation code, and the case's facilitator can give one from the case
page or the API. Every TestClient comes from the same address ("testclient").
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest
from forms import csrf_of, hidden, sign_in_page
from sqlalchemy import select
from world import People, TestClient, World, web_client

from shuttle.accounts.models import Invitation
from shuttle.audit.models import AuditEvent
from shuttle.config import ConfigError, Limits, Settings
from shuttle.web.app import build_app

HELP = ("Forgotten your password or locked out? Ask your facilitator for a new invitation code. "
        "We do not reset passwords by e-mail: an inbox may be shared or watched.")
CODE = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b")
NEW_PASSWORD = "a lantern by the harbour wall"


def _sign_in(client: TestClient, username: str, password: str) -> Any:
    """The sign-in page as a browser uses it: GET the form, POST it back, follow the redirects."""
    form = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_of(form), "username": username, "password": password})


def _text(page: Any) -> str:
    return html.unescape(page.text)


def _fail(client: TestClient, username: str, times: int) -> None:
    for _ in range(times):
        answer = _sign_in(client, username, "not my password at all")
        assert answer.status_code == 200 and "Username or password is wrong." in _text(answer), answer.text[:300]


def _signed_in(answer: Any) -> bool:
    return answer.status_code == 200 and answer.url.path == "/me"


def _error(page: Any) -> str:
    """The page's error summary, for a failing assertion's message."""
    found = re.search(r'role="alert">(.*?)</(?:div|p)>', page.text, re.S)
    words = re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""
    return f"{page.status_code} {page.url.path}: {html.unescape(words).strip()}"


# --- throttling ----------------------------------------------------------------------------------


def test_one_persons_wrong_passwords_do_not_lock_out_another_at_the_same_address(
        world: World, setup: tuple[Any, str, People]) -> None:
    """Reproduces the report: five wrong passwords for Jessica locked Sam out for 15 minutes."""
    app, _, p = setup
    limit = world.svc.settings.limits.login_attempts
    _fail(web_client(app), world.username(p.harmed), limit)
    sam = _sign_in(web_client(app), world.username(p.responsible), World.PASSWORD)
    assert _signed_in(sam), _error(sam)


def test_the_account_itself_is_still_locked(world: World, setup: tuple[Any, str, People]) -> None:
    app, _, p = setup
    jessica = web_client(app)
    _fail(jessica, world.username(p.harmed), world.svc.settings.limits.login_attempts)
    locked = _sign_in(jessica, world.username(p.harmed), World.PASSWORD)  # even the right password
    assert locked.url.path == "/login" and "Too many attempts; try again in 15 minutes." in _text(locked)
    assert HELP in _text(locked)  # and how to get help


def test_the_per_address_limit_is_higher_and_still_applies(world: World, setup: tuple[Any, str, People]) -> None:
    limits = world.svc.settings.limits
    assert limits.login_attempts_per_address > limits.login_attempts
    app, _, p = setup
    room = web_client(app)
    # Many people in one room, each making fewer mistakes than locks their own account...
    for person in range(limits.login_attempts_per_address // (limits.login_attempts - 1)):
        _fail(room, f"visitor{person}", limits.login_attempts - 1)
    _fail(room, "one-more-visitor", limits.login_attempts_per_address % (limits.login_attempts - 1))
    # ... until the address has had too many: then nobody there gets in for a while.
    refused = _sign_in(room, world.username(p.responsible), World.PASSWORD)
    assert refused.url.path == "/login"
    assert "Too many failed sign-ins from this network; try again in 15 minutes." in _text(refused)


def test_a_low_per_address_limit_applies_to_invitation_codes_too(world: World) -> None:
    limits = replace(world.svc.settings.limits, login_attempts=2, login_attempts_per_address=3)
    app = build_app(replace(world.svc, settings=world.svc.settings.with_(limits=limits)), check_schema=False)
    client = web_client(app)
    for guess in ("AAAA-BBBB-CCCC", "2222-3333-4444", "nonsense"):
        form = client.get("/invite")
        wrong = client.post("/invite", data={"csrf_token": csrf_of(form), "code": guess})
        assert "That invitation code is not valid" in _text(wrong)
    form = client.get("/invite")
    refused = client.post("/invite", data={"csrf_token": csrf_of(form), "code": "ZZZZ-ZZZZ-ZZZZ"})
    assert "Too many failed sign-ins from this network" in _text(refused)


def test_settings_read_both_limits_and_refuse_an_address_limit_at_or_under_the_account_limit(
        tmp_path: Any) -> None:
    env = {"SHUTTLE_DATA_DIR": str(tmp_path), "SHUTTLE_SECRET_KEY": "k" * 40}
    defaults = Settings.from_env(env).limits
    assert (defaults.login_attempts, defaults.login_attempts_per_address) == (5, 50)
    limits = Settings.from_env(env | {"SHUTTLE_LOGIN_ATTEMPTS": "3", "SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS": "30"}).limits
    assert (limits.login_attempts, limits.login_attempts_per_address) == (3, 30)
    off = Settings.from_env(env | {"SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS": "0"}).limits
    assert off.login_attempts_per_address == 0
    with pytest.raises(ConfigError, match="SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS"):
        Settings.from_env(env | {"SHUTTLE_LOGIN_ATTEMPTS": "10", "SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS": "10"})
    assert Limits().login_attempts_per_address > Limits().login_attempts


# --- how to get help -----------------------------------------------------------------------------


def test_the_sign_in_pages_say_how_to_get_help(setup: tuple[Any, str, People]) -> None:
    app, _, _ = setup
    client = web_client(app)
    assert HELP in _text(client.get("/login"))
    invite = _text(client.get("/invite"))
    assert "Ask your facilitator for a new one." in invite
    assert "We do not send codes or reset passwords by e-mail" in invite
    assert "ask your facilitator for a new invitation code" in _text(client.get("/set-password"))


def test_an_expired_choose_a_password_page_says_what_to_do(setup: tuple[Any, str, People]) -> None:
    app, _, _ = setup
    client = web_client(app)
    form = client.get("/set-password")
    answer = client.post("/set-password", data={"csrf_token": csrf_of(form), "password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    assert "This page has run out of time. Ask your facilitator for a new invitation code" in _text(answer)


# --- a facilitator gives a new code --------------------------------------------------------------


def _invitation_form(page: Any, participant_id: str) -> dict[str, str]:
    """The case page's "new invitation code" form for one participant."""
    forms = re.findall(r'<form[^>]*>(?:(?!</form>).)*?</form>', page.text, re.S)
    mine = [f for f in forms if 'value="invitation"' in f and f'value="{participant_id}"' in f]
    assert len(mine) == 1, "one invitation form per participant"
    return {"csrf_token": hidden(page, "csrf_token"), "action": "invitation", "participant_id": participant_id}


def test_a_locked_out_participant_gets_a_new_code_from_the_facilitator_and_uses_it(
        world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    jessica_id = p.participant_ids[p.harmed.account_id or ""]
    jessica = web_client(app)
    _fail(jessica, world.username(p.harmed), world.svc.settings.limits.login_attempts)

    facilitator, _ = sign_in_page(app, world, p.facilitator)
    case_page = facilitator.get(f"/staff/cases/{case_id}")
    shown = facilitator.post(f"/staff/cases/{case_id}", data=_invitation_form(case_page, jessica_id),
                             follow_redirects=False)
    # Shown once, in the answer to the POST itself: no redirect to a GET, nothing in a URL.
    assert shown.status_code == 200 and "location" not in shown.headers, _error(shown)
    codes = set(CODE.findall(shown.text))  # once on the page and once in its printable invitation letter
    assert len(codes) == 1, shown.text
    code = codes.pop()
    assert "It is shown only now" in _text(shown) and world.username(p.harmed) in shown.text
    assert code not in facilitator.get(f"/staff/cases/{case_id}").text
    with world.svc.db.uow() as uow:
        assert code.replace("-", "") not in str(uow.session.scalars(select(Invitation.code_hash)).all())
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.invitation")).one()
        assert (event.actor_id, event.case_id, event.subject_id) == (p.facilitator.account_id, case_id, jessica_id)
        assert code not in str(event.details) and code.replace("-", "") not in str(event.details)

    # Jessica, still locked out of her password, uses the code at the same address.
    form = jessica.get("/invite")
    choose = jessica.post("/invite", data={"csrf_token": csrf_of(form), "code": code.lower()})
    assert choose.url.path == "/set-password", _error(choose)
    home = jessica.post("/set-password", data={"csrf_token": csrf_of(choose), "password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert _signed_in(home), _error(home)
    # Her account is unlocked for the new password; the old password and the code are spent.
    assert _signed_in(_sign_in(web_client(app), world.username(p.harmed), NEW_PASSWORD))
    old = _sign_in(web_client(app), world.username(p.harmed), World.PASSWORD)
    assert "Username or password is wrong." in _text(old)
    again = jessica.post("/invite", data={"csrf_token": csrf_of(jessica.get("/invite")), "code": code})
    assert "That invitation code is not valid" in _text(again)


def test_a_second_code_replaces_the_first(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    sam_id = p.participant_ids[p.responsible.account_id or ""]
    facilitator, _ = sign_in_page(app, world, p.facilitator)
    page = facilitator.get(f"/staff/cases/{case_id}")
    first = CODE.findall(facilitator.post(f"/staff/cases/{case_id}", data=_invitation_form(page, sam_id)).text)[0]
    second = CODE.findall(facilitator.post(f"/staff/cases/{case_id}", data=_invitation_form(page, sam_id)).text)[0]
    client = web_client(app)
    refused = client.post("/invite", data={"csrf_token": csrf_of(client.get("/invite")), "code": first})
    assert "That invitation code is not valid" in _text(refused)
    used = client.post("/invite", data={"csrf_token": csrf_of(client.get("/invite")), "code": second})
    assert used.url.path == "/set-password"


def test_only_the_cases_facilitator_gives_codes_to_its_participants(world: World,
                                                                   setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    _, other = world.case()
    jessica_id = p.participant_ids[p.harmed.account_id or ""]
    outsider, page = sign_in_page(app, world, p.outsider_facilitator)
    answer = outsider.post(f"/staff/cases/{case_id}", data={"csrf_token": csrf_of(page), "action": "invitation",
                                                            "participant_id": jessica_id})
    assert answer.status_code == 404 and not CODE.search(answer.text)
    # A participant of another case, through one's own case: as if missing too.
    facilitator, page = sign_in_page(app, world, p.facilitator)
    foreign = other.participant_ids[other.harmed.account_id or ""]
    answer = facilitator.post(f"/staff/cases/{case_id}", data={"csrf_token": csrf_of(page), "action": "invitation",
                                                               "participant_id": foreign})
    assert answer.status_code == 404 and not CODE.search(answer.text)
    with world.svc.db.uow() as uow:
        assert uow.session.scalars(select(Invitation)).all() == []


def test_the_api_gives_a_code_to_the_cases_facilitator_only(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    sam_id = p.participant_ids[p.responsible.account_id or ""]
    url = f"/api/v1/cases/{case_id}/participants/{sam_id}/invitation"
    for someone in (p.outsider_facilitator, p.coordinator, p.responsible, p.harmed):
        answer = world.sign_in(app, someone).post(url)
        assert (answer.status_code, answer.json()) == (404, {"error": "not_found", "message": "Not found."})
    answer = world.sign_in(app, p.facilitator).post(url)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert CODE.fullmatch(body["code"]) and body["participant_id"] == sam_id and body["expires_at"]
    redeemed = web_client(app).post("/api/v1/session/invitation", json={"code": body["code"]})
    assert redeemed.status_code == 200 and redeemed.json()["stage"] == "set_password"
