"""Referrals as use cases: received encrypted and rate-limited, contact attempts, decline, accept into a
case with the next reference of the year (never reused), the first-contact clock escalated by the tick."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from support import Clock
from world import World

from shuttle.audit.models import AuditEvent
from shuttle.blobs import Blob
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.errors import BadInput, Conflict, NotFound, TooManyRequests
from shuttle.referrals import service, views
from shuttle.referrals.models import CaseCounter, Referral
from shuttle.services import Actor, Services

TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
SELF = {"source": "self_harmed", "person_name": "Jessica Green", "offence": "Burglary at my home",
        "court": "no", "contact_phone": "07700 900982", "safe_message": "yes", "best_time": "after 6pm"}
AGENCY = {"source": "police", "referrer_name": "PC Dawn Price", "referrer_organisation": "Northshire Police",
          "referrer_contact": "dawn.price@example.org", "person_name": "Sam Hill", "side": "responsible",
          "person_knows": "yes", "offence": "Criminal damage", "court": "not_sure", "contact_via_referrer": "yes"}


@pytest.fixture
def world(svc: Services) -> World:
    svc.clock = Clock(TUESDAY)
    return World(svc)


def _staff(world: World, facilitators: int = 2) -> tuple[Actor, list[Actor]]:
    return world.account("cora", "coordinator"), [world.account(f"fac{n}", "facilitator")
                                                   for n in range(facilitators)]


def _submit(world: World, answers: dict[str, Any] = SELF, client: str = "192.0.2.1") -> Referral:
    return world.do(service.submit, answers, client=client)


def test_a_referral_is_stored_encrypted_with_only_what_was_asked(world: World) -> None:
    referral = _submit(world, {**SELF, "referrer_name": "not asked of a self-referral", "shoe_size": "9"})
    assert referral.reference.startswith("REF-") and len(referral.reference) == 13
    assert (referral.status, referral.side, referral.source) == ("new", "harmed", "self_harmed")
    svc = world.svc
    with svc.db.uow() as uow:
        blob = uow.session.get(Blob, referral.details_blob_id)
        assert blob is not None
        stored = service.read_answers(uow.session, svc, uow.session.get(Referral, referral.id))
        events = [(e.action, e.actor_role, e.details) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == referral.id))]
    assert stored == SELF  # the unasked answers are gone
    on_disk = b"".join(p.read_bytes() for p in svc.settings.blob_dir.rglob("*") if p.is_file())
    assert b"Jessica" not in on_disk and b"07700" not in on_disk
    assert events == [
        ("referral.receive", "public", {"source": "self_harmed", "channel": "form"})]


def test_an_incomplete_referral_is_refused_with_each_field_named(world: World) -> None:
    with pytest.raises(BadInput) as refused:
        _submit(world, {"source": "police", "person_name": "Sam"})
    fields = [e["field"] for e in refused.value.details["errors"]]
    assert fields == ["referrer_name", "referrer_organisation", "referrer_contact"]  # the first page with problems
    with pytest.raises(BadInput):
        _submit(world, {**SELF, "offence": "x" * 301})
    with pytest.raises(BadInput):
        _submit(world, {**SELF, "contact_email": "not an address"})


def test_referrals_from_one_address_are_limited(world: World) -> None:
    svc = world.svc
    svc.settings = svc.settings.with_(limits=svc.settings.limits.__class__(referrals_per_address=2))
    _submit(world)
    _submit(world)
    with pytest.raises(TooManyRequests) as refused:
        _submit(world)
    assert "60 minutes" in refused.value.message
    _submit(world, client="198.51.100.7")  # another address is not affected
    svc.clock.now += timedelta(hours=1, minutes=1)
    _submit(world)  # the window has passed


def test_only_the_coordinator_sees_or_acts_on_referrals(world: World) -> None:
    coordinator, (fac, _) = _staff(world)
    referral = _submit(world)
    for actor in (fac, Actor(None, "participant")):
        with pytest.raises(NotFound):
            world.do(views.referral, actor, referral.id)
        with pytest.raises(NotFound):
            world.do(views.inbox, actor)
        with pytest.raises(NotFound):
            world.do(service.decline, actor, referral.id, reason="not_eligible")
    assert world.do(views.referral, coordinator, referral.id)["answers"]["person_name"] == "Jessica Green"


def test_contact_attempts_and_the_first_reached_stops_the_clock(world: World) -> None:
    coordinator, _ = _staff(world)
    referral = _submit(world, AGENCY)
    world.do(service.record_contact, coordinator, referral.id, method="phone", outcome="no_answer",
             note="Rang twice, no voicemail")
    assert world.do(views.referral, coordinator, referral.id)["status"] == "new"
    world.svc.clock.now += timedelta(hours=3)
    world.do(service.record_contact, coordinator, referral.id, method="via_agency", outcome="reached")
    view = world.do(views.referral, coordinator, referral.id)
    assert view["status"] == "contacted" and view["clock"]["state"] == "met"
    assert [(a["method"], a["outcome"], a["note"]) for a in view["contact_attempts"]] == [
        ("phone", "no_answer", "Rang twice, no voicemail"), ("via_agency", "reached", "")]
    with pytest.raises(BadInput):
        world.do(service.record_contact, coordinator, referral.id, method="pigeon", outcome="reached")
    with pytest.raises(BadInput):
        world.do(service.record_contact, coordinator, referral.id, method="phone", outcome="reached",
                 at=TUESDAY + timedelta(days=3))


def test_decline_needs_a_reason_and_is_final(world: World) -> None:
    coordinator, _ = _staff(world)
    referral = _submit(world)
    with pytest.raises(BadInput):
        world.do(service.decline, coordinator, referral.id, reason="other")  # other needs a note
    with pytest.raises(BadInput):
        world.do(service.decline, coordinator, referral.id, reason="bored")
    world.do(service.decline, coordinator, referral.id, reason="court_proceedings", note="Trial in March")
    view = world.do(views.referral, coordinator, referral.id)
    assert (view["status"], view["decline_words"], view["decline_note"]) == (
        "declined", "Court proceedings ongoing", "Trial in March")
    assert view["clock"] is None
    with pytest.raises(Conflict):
        world.do(service.decline, coordinator, referral.id, reason="not_eligible")
    with pytest.raises(Conflict):
        world.do(service.accept, coordinator, referral.id, facilitators=[])


def test_accept_makes_a_case_in_preparation_with_the_next_reference_and_two_facilitators(world: World) -> None:
    coordinator, facs = _staff(world)
    ids = [f.account_id for f in facs]
    first, second = _submit(world), _submit(world, AGENCY)
    with pytest.raises(BadInput):
        world.do(service.accept, coordinator, first.id, facilitators=ids[:1])  # two in a service of two
    with pytest.raises(BadInput):
        world.do(service.accept, coordinator, first.id, facilitators=[ids[0], coordinator.account_id])
    case = world.do(service.accept, coordinator, first.id, facilitators=ids)
    assert (case.reference, case.status) == ("RJ-2026-0001", "preparation")
    with world.svc.db.uow() as uow:
        assigned = uow.session.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case.id)
                                       .order_by(CaseFacilitator.id)).all()
        actions = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)).all()
    assert list(assigned) == ids and {"case.create", "referral.accept"} <= set(actions)
    assert world.do(views.referral, coordinator, first.id)["case"]["reference"] == "RJ-2026-0001"
    with pytest.raises(Conflict):
        world.do(service.accept, coordinator, first.id, facilitators=ids)
    # The case is deleted: its number is never given again.
    with world.svc.db.uow() as uow:
        uow.session.execute(update(Referral).values(case_id=None))
        uow.session.execute(delete(CaseFacilitator).where(CaseFacilitator.case_id == case.id))
        uow.session.execute(delete(Case).where(Case.id == case.id))
        uow.commit()
    assert world.do(service.accept, coordinator, second.id, facilitators=ids[::-1]).reference == "RJ-2026-0002"


def test_a_service_with_one_facilitator_accepts_with_one(world: World) -> None:
    coordinator, (only,) = _staff(world, facilitators=1)
    case = world.do(service.accept, coordinator, _submit(world).id, facilitators=[only.account_id])
    assert case.reference == "RJ-2026-0001"


def test_the_counter_skips_a_reference_already_taken_and_counts_per_year(world: World) -> None:
    coordinator, facs = _staff(world)
    ids = [f.account_id for f in facs]
    world.case()  # World makes RJ-2026-0001 by hand
    assert world.do(service.accept, coordinator, _submit(world).id, facilitators=ids).reference == "RJ-2026-0002"
    world.svc.clock.now = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    assert world.do(service.accept, coordinator, _submit(world).id, facilitators=ids).reference == "RJ-2027-0001"


def test_the_tick_escalates_due_soon_and_overdue_referrals_once_and_a_view_writes_nothing(world: World) -> None:
    from workers.handlers import tick

    coordinator, _ = _staff(world)
    waiting, contacted = _submit(world), _submit(world, AGENCY)
    world.do(service.record_contact, coordinator, contacted.id, method="phone", outcome="reached")

    def escalations() -> list[tuple[str | None, Any]]:
        with world.svc.db.uow() as uow:
            return [(e.subject_id, e.details["state"]) for e in uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == service.ESCALATE).order_by(AuditEvent.seq))]

    tick(world.svc)
    assert escalations() == []
    world.svc.clock.now = TUESDAY + timedelta(hours=40)  # Thursday 02:00: 8 hours left
    seen = world.do(views.inbox, coordinator)
    assert seen[0]["clock"]["state"] == "due_soon" and escalations() == []  # looking writes nothing
    tick(world.svc)
    tick(world.svc)
    assert escalations() == [(waiting.id, "due_soon")]
    world.svc.clock.now = TUESDAY + timedelta(days=2, minutes=1)
    tick(world.svc)
    assert escalations() == [(waiting.id, "due_soon"), (waiting.id, "overdue")]
    with world.svc.db.uow() as uow:
        to = uow.session.scalars(select(AuditEvent.details).where(AuditEvent.action == service.ESCALATE)).first()
    assert to is not None and to["to"] == [coordinator.account_id]
    first = world.do(views.inbox, coordinator)[0]
    assert first["id"] == waiting.id and first["clock"]["escalated"] == ["due_soon", "overdue"]


@pytest.mark.postgres
@pytest.mark.committing
def test_concurrent_accepts_never_share_a_reference(svc: Services) -> None:
    """On PostgreSQL, many transactions take numbers at once: each gets its own, none is skipped."""
    if svc.db.dialect != "postgresql":
        pytest.skip("the row lock is PostgreSQL's; SQLite has one writer")
    barrier = threading.Barrier(8)
    got: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            barrier.wait()
            with svc.db.uow() as uow:
                reference = service.next_case_reference(uow.session, 2026)
                uow.commit()
            got.append(reference)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(got) == [f"RJ-2026-{n:04d}" for n in range(1, 9)]
    with svc.db.uow() as uow:
        counter = uow.session.get(CaseCounter, 2026)
        assert counter is not None and counter.last == 8


def test_the_demo_starts_with_one_referral_waiting(sqlite_svc: Services) -> None:
    from shuttle.demo import create_demo

    lines = create_demo(sqlite_svc)
    again = create_demo(sqlite_svc)  # a rerun keeps the one there is
    coordinator = World(sqlite_svc).account("cora-test", "coordinator")
    waiting = World(sqlite_svc).do(views.inbox, coordinator)
    assert [(r["status"], r["source"]) for r in waiting] == [("new", "victim_services")]
    said = [line for line in lines if line.startswith("referral ")]
    assert len(said) == 1 and waiting[0]["reference"] in said[0] and said[0] in again
