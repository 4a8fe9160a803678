"""Who wrote each version (issue 13, "Sessions and labels").

A side may have a principal and a proxy. A draft is written, changed and sent only by the person
who started it: the other person of the side neither reads it nor takes it over. Each version
records whose words it carries (`MessageVersion.written_as_participant_id`), and what staff and
the recipient are told ("written by someone acting for them") comes from there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from world import People, World

from shuttle import schema
from shuttle.db import Database
from shuttle.errors import Conflict, NotFound
from shuttle.messages import authoring, drafting, on_behalf, queries, review, views
from shuttle.messages.models import MessageVersion
from shuttle.services import Actor


def _pid(p: People, actor: Actor) -> str:
    return p.participant_ids[actor.account_id or ""]


def _versions(world: World, message_id: str) -> list[MessageVersion]:
    with world.svc.db.uow() as uow:
        rows = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == message_id)
                                   .order_by(MessageVersion.number)).all()
        uow.session.expunge_all()
        return list(rows)


def _view(world: World, actor: Actor, message_id: str) -> dict[str, object]:
    def build(session, svc, actor, message_id):  # type: ignore[no-untyped-def]
        from shuttle.access import load_message

        message, case, member = load_message(session, actor, message_id)
        return views.for_member(session, svc, member, message, case)

    result: dict[str, object] = world.do(build, actor, message_id)
    return result


def _approve(world: World, p: People, message_id: str) -> None:
    world.run_jobs()
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)


def test_a_proxy_cannot_take_over_a_draft_its_principal_started(world: World) -> None:
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I am not sure yet what")
    proxy = p.harmed_proxy
    # Before it is sent, the draft is the principal's alone: the proxy is answered as for a missing id.
    for use_case, args in ((authoring.read_draft, ()), (authoring.save_draft, ("Dear Sam, from me",)),
                           (authoring.submit, ()), (authoring.withdraw, ()), (drafting.draft_flags, ())):
        with pytest.raises(NotFound):
            world.do(use_case, proxy, draft.id, *args)
    listed = world.do(queries.case_messages, proxy, case_id)
    assert draft.id not in [m["id"] for m in listed]
    assert world.do(authoring.read_draft, p.harmed, draft.id) == "Dear Sam, I am not sure yet what"
    # The principal sends it; the facilitator asks for a change: the side knows of it now, and
    # still only the principal changes and sends it again.
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.request_changes, p.facilitator, draft.id, note="Please finish the sentence.")
    seen = _view(world, proxy, draft.id)
    assert seen["has_draft"] is False and seen["actions"] == []
    assert seen["started_by"] == "the principal"
    for use_case, args in ((authoring.read_draft, ()), (authoring.save_draft, ("Dear Sam, from me",)),
                           (authoring.submit, ()), (authoring.withdraw, ())):
        with pytest.raises(Conflict, match="started it"):
            world.do(use_case, proxy, draft.id, *args)
    world.do(authoring.save_draft, p.harmed, draft.id, "Dear Sam, I am not sure yet what to say.")
    world.do(authoring.submit, p.harmed, draft.id)
    principal = _pid(p, p.harmed)
    assert [v.written_as_participant_id for v in _versions(world, draft.id)] == [principal, principal]


def test_each_version_records_whose_words_it_is_and_the_labels_follow(world: World) -> None:
    case_id, p = world.case()
    proxy_id = _pid(p, p.harmed_proxy)
    by_proxy = world.do(authoring.start_draft, p.harmed_proxy, case_id, "Dear Sam, I write for Jessica.")
    world.do(authoring.submit, p.harmed_proxy, by_proxy.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, by_proxy.id)
    world.do(review.propose_edit, p.facilitator, by_proxy.id, text="Dear Sam, I write for the person harmed.")
    world.run_jobs()
    versions = _versions(world, by_proxy.id)
    # the facilitator's edit carries the proxy's words, edited (its origin says who edited them)
    assert [(v.origin, v.written_as_participant_id) for v in versions] == [
        ("author", proxy_id), ("facilitator", proxy_id)]
    world.do(authoring.accept_edit, p.harmed_proxy, by_proxy.id)
    world.do(review.approve, p.facilitator, by_proxy.id)
    # the facilitator's edit of the proxy's letter is still the proxy's letter
    assert _view(world, p.responsible, by_proxy.id)["by_proxy"] is True
    assert _view(world, p.facilitator, by_proxy.id)["written_as"] == "proxy (mother of Jessica)"

    by_principal = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, it is Jessica.")
    world.do(authoring.submit, p.harmed, by_principal.id)
    _approve(world, p, by_principal.id)
    assert _view(world, p.responsible, by_principal.id)["by_proxy"] is False
    assert _view(world, p.facilitator, by_principal.id)["written_as"] == "principal"

    # A letter the facilitator entered for the proxy is the proxy's words: labelled as such.
    entered = world.do(on_behalf.enter_letter, p.facilitator, case_id, proxy_id, "Dear Sam, dictated.")
    assert [v.written_as_participant_id for v in _versions(world, entered.id)] == [proxy_id]
    _approve(world, p, entered.id)
    assert _view(world, p.responsible, entered.id)["by_proxy"] is True


def test_labels_come_from_the_version_not_from_who_started_the_message(world: World) -> None:
    """A letter sent before 0003 by the proxy from a draft its principal started (the migration
    records it as the proxy's words) is labelled as the proxy's, for staff and for the recipient."""
    case_id, p = world.case()
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, begun by Jessica.")
    world.do(authoring.submit, p.harmed, message.id)
    with world.svc.db.uow() as uow:  # what 0003's backfill makes of a proxy's takeover
        version = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == message.id)).one()
        version.written_as_participant_id = _pid(p, p.harmed_proxy)
        uow.commit()
    _approve(world, p, message.id)
    assert _view(world, p.facilitator, message.id)["written_as"] == "proxy (mother of Jessica)"
    listed = {m["id"]: m for m in world.do(queries.case_messages, p.facilitator, case_id)}  # the staff lists
    assert listed[message.id]["written_as"] == "proxy (mother of Jessica)"
    assert _view(world, p.responsible, message.id)["by_proxy"] is True
    assert _view(world, p.harmed, message.id)["written_as"] == "proxy (mother of Jessica)"


# --- the migration's backfill --------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    import shuttle.models  # noqa: F401
    from shuttle.db import Base

    def clean(db: Database) -> None:
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        clean(db)
    yield db
    if request.param == "postgres":
        clean(db)
    db.dispose()


def test_0003_backfills_whose_words_each_old_version_is(empty_db: Database) -> None:
    schema.upgrade(empty_db, "0002")
    at = "2026-11-20 10:00:00"
    rows = [
        "INSERT INTO accounts (id, username, role, display_name, active, created_at) VALUES "
        "('a1', 'fiona', 'facilitator', 'Fiona', true, :at), ('a2', 'jess', 'participant', 'Jess', true, :at),"
        " ('a3', 'mum', 'participant', 'Mum', true, :at)",
        "INSERT INTO cases (id, reference, status, label_harmed, label_responsible, initiator, responsible_may_reply,"
        " approvals_required, author_must_accept_edits, read_receipts_allowed, watchlist, created_at, row_version,"
        " proceedings_ongoing) VALUES ('c1', 'RJ-2026-0001', 'open', 'Jess', 'Sam', 'harmed', true, 1, true, false,"
        " '[]', :at, 1, false)",
        "INSERT INTO participants (id, case_id, account_id, side, role, acting_for, holding_deliveries, active)"
        " VALUES ('p1', 'c1', 'a2', 'harmed', 'principal', '', false, true),"
        " ('p2', 'c1', 'a3', 'harmed', 'proxy', 'mother', false, true)",
        "INSERT INTO messages (id, case_id, author_participant_id, written_by, author_side, kind, state,"
        " receipt_shared, submitted_at, created_at, updated_at, row_version) VALUES"
        " ('m1', 'c1', 'p1', 'a2', 'harmed', 'letter', 'awaiting_review', false, :at, :at, :at, 1),"
        " ('m2', 'c1', 'p2', 'a1', 'harmed', 'letter', 'awaiting_review', false, :at, :at, :at, 1)",
        "INSERT INTO message_versions (id, message_id, number, origin, created_by, created_at, flag_count) VALUES"
        " ('v1', 'm1', 1, 'author', 'a3', :at, 0),"  # the proxy sent the principal's draft
        " ('v2', 'm1', 2, 'facilitator', 'a1', :at, 0),"
        " ('v3', 'm1', 3, 'author', 'a2', :at, 0),"
        " ('v4', 'm2', 1, 'author', 'a1', :at, 0)",  # entered by the facilitator for the proxy
    ]
    with empty_db.engine.begin() as conn:
        for row in rows:
            conn.execute(text(row), {"at": at})
    schema.upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        found = conn.execute(text("SELECT id, written_as_participant_id FROM message_versions ORDER BY id")).all()
    # v2, the facilitator's edit of v1, carries v1's words
    assert [tuple(r) for r in found] == [("v1", "p2"), ("v2", "p2"), ("v3", "p1"), ("v4", "p2")]


def test_the_principal_and_proxy_are_told_who_started_a_sent_message(world: World) -> None:
    case_id, p = world.case()
    message = world.do(authoring.start_draft, p.harmed_proxy, case_id, "Dear Sam, from Jessica's mother.")
    world.do(authoring.submit, p.harmed_proxy, message.id)
    assert _view(world, p.harmed, message.id)["started_by"] == "the proxy (mother of Jessica)"
    assert _view(world, p.harmed_proxy, message.id)["started_by"] is None  # their own
