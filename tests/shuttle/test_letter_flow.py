"""A letter's whole journey through the use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from world import World

from shuttle.errors import Conflict, NotFound
from shuttle.messages import authoring, delivery, queries, review
from shuttle.messages.models import Message
from shuttle.services import Services

LETTER = "Dear Sam,\u200b I want you to know how that night changed things.\r\nCall me on 07700 900123."


def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


def test_letter_travels_author_to_recipient_only_through_approval(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, LETTER)
    world.do(authoring.submit, p.harmed, draft.id)
    assert _state(world, draft.id) == "submitted"
    assert world.do(queries.case_messages, p.responsible, case_id) == []  # not even its existence

    assert world.run_jobs() == 1
    assert _state(world, draft.id) == "awaiting_review"
    world.do(review.claim, p.facilitator, draft.id)
    seen = world.do(review.read_version, p.facilitator, draft.id)
    assert "\u200b" not in seen["text"] and "\r" not in seen["text"]
    assert [f["kind"] for f in seen["flags"]] == ["phone"]

    redacted = seen["text"].replace("Call me on 07700 900123.", "")
    world.do(review.propose_edit, p.facilitator, draft.id, text=redacted, note="I removed your number.")
    world.run_jobs()
    assert _state(world, draft.id) == "awaiting_author"
    world.do(authoring.accept_edit, p.harmed, draft.id)
    world.do(review.approve, p.facilitator, draft.id)
    assert _state(world, draft.id) == "released"

    inbox = world.do(queries.case_messages, p.responsible, case_id)
    assert [m["from"] for m in inbox] == ["the person harmed"]
    assert "text" not in inbox[0] and not inbox[0]["opened"]
    shown = world.do(delivery.open_message, p.responsible, draft.id)
    assert "07700" not in shown and shown.startswith("Dear Sam,")
    assert _state(world, draft.id) == "viewed"


def test_no_message_text_is_stored_in_plain(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    secret = "the blue bicycle behind the chapel"
    draft = world.do(authoring.start_draft, p.harmed, case_id, f"Dear Sam, {secret}.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    with svc.db.uow() as uow:
        for table in ("messages", "message_versions", "blobs", "audit_events", "jobs"):
            dump = " ".join(str(row) for row in uow.session.execute(text(f"select * from {table}")))
            assert secret not in dump, table
    for path in svc.settings.blob_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


def test_two_facilitators_acting_on_a_stale_version_conflict(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case(two_facilitators=True)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, hello.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    seen_version = world.do(queries.review_queue, p.co_facilitator)[0]["version"]
    world.do(review.claim, p.facilitator, draft.id, expected_version=seen_version)
    with pytest.raises(Conflict):
        world.do(review.claim, p.co_facilitator, draft.id, expected_version=seen_version)


def test_four_eyes_needs_two_distinct_facilitators(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case(two_facilitators=True, approvals_required=2)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, hello.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.approve, p.facilitator, draft.id)
    assert _state(world, draft.id) == "awaiting_review"
    world.do(review.claim, p.facilitator, draft.id)
    with pytest.raises(Conflict):
        world.do(review.approve, p.facilitator, draft.id)
    world.do(review.unclaim, p.facilitator, draft.id)
    world.do(review.claim, p.co_facilitator, draft.id)
    world.do(review.approve, p.co_facilitator, draft.id)
    assert _state(world, draft.id) == "released"


def test_responsible_side_cannot_write_first_or_when_replies_are_off(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case(responsible_may_reply=False)
    with pytest.raises(Conflict):
        world.do(authoring.start_draft, p.responsible, case_id, "Hello")
    with pytest.raises(NotFound):
        world.do(authoring.start_draft, p.supporter, case_id, "Hello")


def test_outsiders_get_not_found(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    for outsider in (p.outsider_facilitator, p.outsider_participant, p.coordinator, p.responsible):
        with pytest.raises(NotFound):
            world.do(authoring.read_draft, outsider, draft.id)
    with pytest.raises(NotFound):
        world.do(authoring.read_draft, p.facilitator, draft.id)  # a draft is the author's own


def test_rejected_message_shows_reason_to_author_and_never_reaches_recipient(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, you will pay.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.reject, p.facilitator, draft.id, code="harmful", note="Let's talk about this first.")
    with svc.db.uow() as uow:
        view = queries.case_messages(uow.session, svc, p.harmed, case_id)[0]
    assert view["state"] == "rejected" and view["notes"][0]["text"] == "Let's talk about this first."
    assert world.do(queries.case_messages, p.responsible, case_id) == []
    with pytest.raises(NotFound):
        world.do(delivery.open_message, p.responsible, draft.id)


def test_pause_holds_and_resume_returns_and_releases(svc: Services) -> None:
    from shuttle.cases import service as cases

    world = World(svc)
    case_id, p = world.case(two_facilitators=True, approvals_required=2)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.approve, p.facilitator, draft.id)
    world.do(cases.set_status, p.facilitator, case_id, "paused")
    assert _state(world, draft.id) == "held"
    with pytest.raises(Conflict):
        world.do(review.claim, p.co_facilitator, draft.id)
    world.do(cases.set_status, p.facilitator, case_id, "open")
    assert _state(world, draft.id) == "awaiting_review"
    world.do(review.claim, p.co_facilitator, draft.id)
    world.do(review.approve, p.co_facilitator, draft.id)
    assert _state(world, draft.id) == "released"


def test_approved_message_waits_while_recipient_holds_deliveries(svc: Services) -> None:
    from shuttle.cases import service as cases

    world = World(svc)
    case_id, p = world.case()
    world.do(cases.set_holding, p.responsible, case_id, True)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    world.do(review.approve, p.facilitator, draft.id)
    assert _state(world, draft.id) == "approved"
    assert "asked to hold deliveries" in " ".join(world.do(review.blockers, p.facilitator, draft.id))
    world.do(cases.set_holding, p.responsible, case_id, False)
    assert _state(world, draft.id) == "released"


def test_withdrawn_consent_holds_everything_pending(svc: Services) -> None:
    from shuttle.cases import service as cases

    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(cases.withdraw_own_consent, p.responsible, case_id)
    assert _state(world, draft.id) == "held"
    with svc.db.uow() as uow:
        rows = uow.session.scalars(select(Message.state)).all()
    assert rows == ["held"]
