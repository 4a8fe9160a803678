"""The coordinator's use cases: staff accounts and their enrolment, case staffing and conflicts of
interest, partner organisations. Each through the real use cases, as a request would run them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from world import People, World

from shuttle.accounts import enrolment
from shuttle.accounts import service as accounts
from shuttle.accounts.enrolment_models import StaffEnrolment
from shuttle.accounts.models import Account, AuthSession
from shuttle.accounts.totp import current_totp
from shuttle.audit.models import AuditEvent
from shuttle.cases import assignment, overview
from shuttle.cases import service as cases
from shuttle.errors import BadInput, Conflict, NotAuthenticated, NotFound
from shuttle.messages import authoring, queries, review
from shuttle.messages.models import Message
from shuttle.organisations import service as organisations
from shuttle.services import Services

PASSWORD = "a lantern by the quay"


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def _enrol(world: World, link: str, *, at: datetime | None = None) -> accounts.IssuedSession:
    svc = world.svc
    now = at or svc.now()
    with svc.db.uow() as uow:
        page = enrolment.enrolment_page(uow.session, svc.settings, _token(link), now=now)
        issued = enrolment.complete_enrolment(uow.session, svc.settings, token=_token(link), password=PASSWORD,
                                              code=current_totp(page.secret, now), passwords=svc.passwords, now=now)
        uow.commit()
    return issued


def _secret(world: World, link: str) -> str:
    with world.svc.db.uow() as uow:
        return enrolment.enrolment_page(uow.session, world.svc.settings, _token(link), now=world.svc.now()).secret


def _sign_in(world: World, username: str, password: str, secret: str, now: datetime) -> str:
    """Password then a code; returns the final stage."""
    svc = world.svc
    with svc.db.uow() as uow:
        first = accounts.login_password(uow.session, svc.settings, username=username, password=password,
                                        client="10.0.0.1", passwords=svc.passwords, now=now)
        uow.commit()
    if first.stage != "totp":
        return first.stage
    with svc.db.uow() as uow:
        done = accounts.login_totp(uow.session, svc.settings, token=first.token, code=current_totp(secret, now),
                                   client="10.0.0.1", now=now)
        uow.commit()
    return done.stage


@dataclass(frozen=True)
class Event:
    action: str
    actor_id: str | None
    subject_id: str | None
    details: dict[str, Any]


def _actions(world: World, action: str) -> list[Event]:
    with world.svc.db.uow() as uow:
        return [Event(e.action, e.actor_id, e.subject_id, dict(e.details or {})) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]



@pytest.fixture
def staffed(world: World) -> tuple[str, People]:
    return world.case()


# --- staff accounts and enrolment ------------------------------------------------------------------------


def test_a_new_facilitator_enrols_through_the_link_and_signs_in_with_both_factors(
        world: World, staffed: tuple[str, People]) -> None:
    _, p = staffed
    issued = world.do(enrolment.create_staff, p.coordinator, username="Nina.Reyes", display_name=" Nina  Reyes ",
                      role="facilitator")
    assert issued.username == "nina.reyes" and issued.link.startswith(world.svc.settings.public_base_url + "/enrol/")
    with world.svc.db.uow() as uow:  # only the digest is kept
        row = uow.session.scalar(select(StaffEnrolment).where(StaffEnrolment.account_id == issued.account_id))
        assert row is not None and _token(issued.link) not in row.token_hash
        account = uow.session.get(Account, issued.account_id)
        assert account is not None and account.password_hash is None and account.totp_secret_enc is None
    with pytest.raises(NotAuthenticated):  # not enrolled yet: cannot sign in at all
        _sign_in(world, "nina.reyes", PASSWORD, "", world.svc.now())
    secret = _secret(world, issued.link)
    assert secret == _secret(world, issued.link)  # looking twice shows the same secret (a GET writes nothing)

    now = world.svc.now()
    with world.svc.db.uow() as uow, pytest.raises(BadInput, match="code is not the one"):
        enrolment.complete_enrolment(uow.session, world.svc.settings, token=_token(issued.link), password=PASSWORD,
                                     code="000000" if current_totp(secret, now) != "000000" else "111111",
                                     passwords=world.svc.passwords, now=now)
    session = _enrol(world, issued.link, at=now)  # the link still works after a wrong code
    assert session.stage == "full"
    with world.svc.db.uow() as uow, pytest.raises(NotFound, match="does not work"):
        enrolment.enrolment_page(uow.session, world.svc.settings, _token(issued.link), now=now)  # used: once only
    with pytest.raises(accounts.LoginFailed):  # the code typed to enrol cannot sign in again
        _sign_in(world, "nina.reyes", PASSWORD, secret, now)
    assert _sign_in(world, "nina.reyes", PASSWORD, secret, now + timedelta(seconds=30)) == "full"
    assert [e.details["role"] for e in _actions(world, "account.create")] == ["facilitator"]
    assert len(_actions(world, "account.enrol")) == 1


def test_an_expired_or_replaced_link_does_not_work(world: World, staffed: tuple[str, People]) -> None:
    _, p = staffed
    first = world.do(enrolment.create_staff, p.coordinator, username="omar", display_name="Omar", role="coordinator")
    second = world.do(enrolment.new_link, p.coordinator, first.account_id)
    with world.svc.db.uow() as uow, pytest.raises(NotFound):
        enrolment.enrolment_page(uow.session, world.svc.settings, _token(first.link), now=world.svc.now())
    later = world.svc.now() + timedelta(days=world.svc.settings.limits.invitation_days, seconds=1)
    with world.svc.db.uow() as uow, pytest.raises(NotFound):
        enrolment.enrolment_page(uow.session, world.svc.settings, _token(second.link), now=later)
    assert _enrol(world, second.link).stage == "full"
    with pytest.raises(Conflict, match="enrolled already"):
        world.do(enrolment.new_link, p.coordinator, first.account_id)


def test_only_the_coordinator_manages_staff_and_participants_are_not_staff(
        world: World, staffed: tuple[str, People]) -> None:
    _, p = staffed
    for actor in (p.facilitator, p.harmed):
        with pytest.raises(NotFound):
            world.do(enrolment.create_staff, actor, username="zed", display_name="Zed", role="facilitator")
        with pytest.raises(NotFound):
            world.do(enrolment.deactivate_staff, actor, p.co_facilitator.account_id)
        with pytest.raises(NotFound):
            world.do(enrolment.staff_list, actor)
    with pytest.raises(NotFound):  # a participant's account is not a staff account
        world.do(enrolment.deactivate_staff, p.coordinator, p.harmed.account_id)
    with pytest.raises(BadInput, match="facilitator or a coordinator"):
        world.do(enrolment.create_staff, p.coordinator, username="zed", display_name="Zed", role="participant")
    with pytest.raises(Conflict, match="taken"):
        world.do(enrolment.create_staff, p.coordinator, username=world.username(p.facilitator),
                 display_name="Again", role="facilitator")
    with pytest.raises(BadInput, match="own account"):
        world.do(enrolment.deactivate_staff, p.coordinator, p.coordinator.account_id)


def _live_sessions(world: World, account_id: str) -> int:
    with world.svc.db.uow() as uow:
        return len(uow.session.scalars(select(AuthSession).where(
            AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))).all())


def test_deactivating_ends_sessions_and_reactivating_restores_sign_in(world: World,
                                                                       staffed: tuple[str, People]) -> None:
    _, p = staffed
    name = world.username(p.facilitator)
    assert _sign_in(world, name, World.PASSWORD, "", world.svc.now()) == "full"
    assert _live_sessions(world, p.facilitator.account_id or "") == 1
    world.do(enrolment.deactivate_staff, p.coordinator, p.facilitator.account_id)
    assert _live_sessions(world, p.facilitator.account_id or "") == 0
    with pytest.raises(accounts.LoginFailed):
        _sign_in(world, name, World.PASSWORD, "", world.svc.now())
    with pytest.raises(Conflict):
        world.do(enrolment.deactivate_staff, p.coordinator, p.facilitator.account_id)
    world.do(enrolment.reactivate_staff, p.coordinator, p.facilitator.account_id)
    assert _sign_in(world, name, World.PASSWORD, "", world.svc.now()) == "full"
    assert len(_actions(world, "account.deactivate")) == 1 and len(_actions(world, "account.reactivate")) == 1


def test_resetting_a_lost_second_factor_needs_a_new_enrolment(world: World, staffed: tuple[str, People]) -> None:
    _, p = staffed
    issued = world.do(enrolment.create_staff, p.coordinator, username="rita", display_name="Rita",
                      role="facilitator")
    old_secret = _secret(world, issued.link)
    start = world.svc.now()
    _enrol(world, issued.link, at=start)
    reset = world.do(enrolment.reset_second_factor, p.coordinator, issued.account_id)
    assert _live_sessions(world, issued.account_id) == 0
    with pytest.raises(accounts.LoginFailed):  # neither the old password nor the old phone gets in
        _sign_in(world, "rita", PASSWORD, old_secret, start + timedelta(minutes=1))
    new_secret = _secret(world, reset.link)
    assert new_secret != old_secret
    with world.svc.db.uow() as uow:
        assert enrolment.enrolment_page(uow.session, world.svc.settings, _token(reset.link),
                                        now=world.svc.now()).purpose == "reset"
    _enrol(world, reset.link, at=start + timedelta(minutes=2))
    assert _sign_in(world, "rita", PASSWORD, new_secret, start + timedelta(minutes=3)) == "full"
    events = _actions(world, "account.reset_second_factor")
    assert [(e.actor_id, e.subject_id) for e in events] == [(p.coordinator.account_id, issued.account_id)]
    with pytest.raises(BadInput, match="own account"):
        world.do(enrolment.reset_second_factor, p.coordinator, p.coordinator.account_id)


def test_the_staff_list_says_status_last_sign_in_and_open_cases(world: World, staffed: tuple[str, People]) -> None:
    case_id, p = staffed
    world.case(people=p)
    pending = world.do(enrolment.create_staff, p.coordinator, username="pat", display_name="Pat", role="facilitator")
    _sign_in(world, world.username(p.facilitator), World.PASSWORD, "", world.svc.now())
    world.do(cases.set_status, p.facilitator, case_id, "closing", reason="completed")  # not closed: still open
    rows = {r.username: r for r in world.do(enrolment.staff_list, p.coordinator)}
    fiona = rows[world.username(p.facilitator)]
    assert fiona.open_cases == 2 and fiona.last_sign_in is not None and fiona.status == "active"
    assert rows["pat"].status == "waiting to enrol" and rows["pat"].account_id == pending.account_id
    assert rows[world.username(p.coordinator)].is_me
    assert world.username(p.harmed) not in rows


# --- case staffing ---------------------------------------------------------------------------------------


def _facilitators(world: World, case_id: str) -> list[str]:
    with world.svc.db.uow() as uow:
        return [f.account_id for f in assignment.facilitators_of(uow.session, case_id)]


def test_replacing_a_facilitator_releases_their_claims_and_keeps_the_participants(
        world: World, staffed: tuple[str, People]) -> None:
    case_id, p = staffed
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I have waited.")
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, message.id)
    joining = world.account("nadia", "facilitator")
    world.do(assignment.replace_facilitator, p.coordinator, case_id, leaving=p.facilitator.account_id,
             joining=joining.account_id, reason="sickness")
    assert _facilitators(world, case_id) == [joining.account_id]
    with world.svc.db.uow() as uow:
        stored = uow.session.get(Message, message.id)
        assert stored is not None and stored.claimed_by is None and stored.state == "awaiting_review"
    with pytest.raises(NotFound):  # the leaving facilitator no longer sees the case
        world.do(cases.update_settings, p.facilitator, case_id, {"label_harmed": "J"})
    world.do(review.claim, joining, message.id)  # the new one takes it from the queue
    assert world.do(lambda s, svc, a: [c["id"] for c in queries.my_cases(s, a)], p.harmed) == [case_id]
    [event] = _actions(world, "case.reassign")
    assert event.details == {"leaving": p.facilitator.account_id, "joining": joining.account_id,
                             "reason": "sickness", "claims_released": 1}


def test_a_conflicted_facilitator_cannot_be_assigned(world: World, staffed: tuple[str, People]) -> None:
    case_id, p = staffed
    assert world.do(assignment.record_own_conflict, p.facilitator, case_id) is True
    assert world.do(assignment.record_own_conflict, p.facilitator, case_id) is False  # once is enough
    with pytest.raises(NotFound):  # not their case
        world.do(assignment.record_own_conflict, p.outsider_facilitator, case_id)
    world.do(assignment.record_conflict, p.coordinator, case_id, p.outsider_facilitator.account_id)
    with pytest.raises(BadInput, match="conflict of interest"):
        world.do(assignment.add_facilitator, p.coordinator, case_id, p.outsider_facilitator.account_id)
    with pytest.raises(BadInput, match="conflict of interest"):
        world.do(assignment.replace_facilitator, p.coordinator, case_id, leaving=p.facilitator.account_id,
                 joining=p.outsider_facilitator.account_id, reason="conflict_of_interest")
    with pytest.raises(BadInput, match="coordinator"):
        world.do(assignment.add_facilitator, p.coordinator, case_id, p.coordinator.account_id)
    world.do(enrolment.deactivate_staff, p.coordinator, p.co_facilitator.account_id)
    with pytest.raises(BadInput, match="deactivated"):
        world.do(assignment.add_facilitator, p.coordinator, case_id, p.co_facilitator.account_id)
    staffing = world.do(overview.case_staffing, p.coordinator, case_id)
    assert {c.person.account_id for c in staffing.conflicts} == {p.facilitator.account_id,
                                                                 p.outsider_facilitator.account_id}
    assert staffing.row.needs_attention == (f"{world.username(p.facilitator).title()}: conflict of interest",)
    assert p.outsider_facilitator.account_id not in {c.account_id for c in staffing.candidates}
    assert len(_actions(world, "case.conflict_of_interest")) == 2


def test_a_case_has_one_or_two_facilitators_and_four_eyes_keeps_two(world: World) -> None:
    case_id, p = world.case(two_facilitators=True, approvals_required=2)
    with pytest.raises(BadInput, match="two facilitators already"):
        world.do(assignment.add_facilitator, p.coordinator, case_id, p.outsider_facilitator.account_id)
    with pytest.raises(BadInput, match="two different facilitators"):
        world.do(assignment.remove_facilitator, p.coordinator, case_id, p.co_facilitator.account_id)
    world.do(cases.update_settings, p.facilitator, case_id, {"approvals_required": 1})
    world.do(assignment.remove_facilitator, p.coordinator, case_id, p.co_facilitator.account_id)
    assert _facilitators(world, case_id) == [p.facilitator.account_id]
    with pytest.raises(BadInput, match="only facilitator"):
        world.do(assignment.remove_facilitator, p.coordinator, case_id, p.facilitator.account_id)
    with pytest.raises(BadInput, match="not a facilitator"):
        world.do(assignment.remove_facilitator, p.coordinator, case_id, p.co_facilitator.account_id)
    world.do(assignment.add_facilitator, p.coordinator, case_id, p.outsider_facilitator.account_id)
    assert _facilitators(world, case_id) == [p.facilitator.account_id, p.outsider_facilitator.account_id]
    with pytest.raises(BadInput, match="Say why"):
        world.do(assignment.replace_facilitator, p.coordinator, case_id, leaving=p.facilitator.account_id,
                 joining=p.co_facilitator.account_id, reason="bored")
    with pytest.raises(NotFound):
        world.do(assignment.add_facilitator, p.facilitator, case_id, p.co_facilitator.account_id)


def test_the_case_list_filters_by_status_facilitator_and_overdue_reviews(world: World) -> None:
    quiet_id, p = world.case()
    busy_id, _ = world.case(people=p)
    other_id, q = world.case()
    world.do(cases.set_status, p.facilitator, quiet_id, "paused")
    message = world.do(authoring.start_draft, p.harmed, busy_id, "Dear Sam.")
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()

    def refs(**filters: Any) -> set[str]:
        listing = world.do(overview.case_list, p.coordinator, overview.CaseFilters(**filters))
        return {r.id for r in listing.rows}

    assert refs() == {quiet_id, busy_id, other_id}
    assert refs(status="paused") == {quiet_id}
    assert refs(facilitator=q.facilitator.account_id) == {other_id}
    assert refs(overdue=True) == set()
    world.svc.clock = lambda: datetime.now(UTC) + timedelta(days=10)
    assert refs(overdue=True) == {busy_id}
    row = next(r for r in world.do(overview.case_list, p.coordinator, overview.CaseFilters()).rows if r.id == busy_id)
    assert (row.waiting, row.overdue) == (1, 1) and "Dear" not in repr(row)  # counts, never content
    with pytest.raises(BadInput):
        refs(status="lost")
    with pytest.raises(BadInput):
        refs(facilitator=p.harmed.account_id)
    with pytest.raises(NotFound):
        world.do(overview.case_list, p.facilitator, overview.CaseFilters())


# --- organisations ---------------------------------------------------------------------------------------


def test_organisations_are_added_renamed_and_deactivated_with_unique_names(world: World) -> None:
    _, p = world.case()
    police = world.do(organisations.add, p.coordinator, name="  Northshire   Police ", kind="police")
    assert police.name == "Northshire Police"
    with pytest.raises(Conflict, match="already"):
        world.do(organisations.add, p.coordinator, name="northshire police", kind="police")
    probation = world.do(organisations.add, p.coordinator, name="Northshire Probation", kind="probation")
    with pytest.raises(Conflict):
        world.do(organisations.rename, p.coordinator, probation.id, name="NORTHSHIRE POLICE")
    assert world.do(organisations.rename, p.coordinator, police.id, name="Northshire Constabulary").name == \
        "Northshire Constabulary"
    world.do(organisations.set_active, p.coordinator, probation.id, False)
    with pytest.raises(Conflict):
        world.do(organisations.set_active, p.coordinator, probation.id, False)
    with world.svc.db.uow() as uow:
        assert [o.name for o in organisations.choices(uow.session)] == ["Northshire Constabulary"]
    assert [o.active for o in world.do(organisations.list_all, p.coordinator)] == [True, False]
    with pytest.raises(BadInput):
        world.do(organisations.add, p.coordinator, name="   ", kind="police")
    with pytest.raises(BadInput):
        world.do(organisations.add, p.coordinator, name="Somewhere", kind="army")
    for actor in (p.facilitator, p.harmed):
        with pytest.raises(NotFound):
            world.do(organisations.add, actor, name="Elsewhere", kind="other")
    assert [e.action for e in _actions(world, "organisation.rename")] == ["organisation.rename"]


def test_the_demo_prints_a_coordinator_sign_in(sqlite_svc: Services) -> None:
    from shuttle.demo import create_demo

    printed = "\n".join(create_demo(sqlite_svc))
    assert "coordinator  username cora" in printed
    with sqlite_svc.db.uow() as uow:
        cora = uow.session.scalar(select(Account).where(Account.username == "cora"))
        assert cora is not None and cora.role == "coordinator" and cora.totp_secret_enc is not None
