"""A recipient's requests to the facilitators (hold, return, destroy) and the facilitators'
answers, on SQLite and PostgreSQL: who may ask and answer, what is recorded, what changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from world import People, World

from shuttle import blobs
from shuttle.audit.models import AuditEvent
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages import authoring, delivery, requests
from shuttle.messages.drafting import author_flags, flags_key
from shuttle.messages.request_models import RecipientRequest
from shuttle.retention import shred_case
from shuttle.services import Services


def _released(world: World, p: People, case_id: str, text: str = "Dear Sam, this is hard to write.") -> str:
    return world.approved_letter(p, case_id, text)


def test_a_request_is_recorded_shown_to_the_facilitators_and_answered_once(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = _released(world, p, case_id)

    asked = world.do(requests.request, p.responsible, message_id, "hold", "Not before the court date.")
    waiting = world.do(requests.open_requests, p.facilitator, case_id)
    assert [(r["id"], r["kind"], r["note"], r["from_label"], r["requested_by_role"]) for r in waiting] == [
        (asked.id, "hold", "Not before the court date.", "the person responsible", "principal")]
    with pytest.raises(Conflict):  # one open request per message at a time
        world.do(requests.request, p.responsible, message_id, "destroy", "")

    world.do(requests.handle, p.facilitator, asked.id, "done", "I am keeping it for you.")
    assert world.do(requests.open_requests, p.facilitator, case_id) == []
    seen = world.do(requests.for_message, p.responsible, message_id)
    assert (seen[0]["outcome"], seen[0]["outcome_note"]) == ("done", "I am keeping it for you.")
    with pytest.raises(Conflict):
        world.do(requests.handle, p.facilitator, asked.id, "declined", "")

    with svc.db.uow() as uow:
        actions = [e.action for e in uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        row = uow.session.get(RecipientRequest, asked.id)
        assert row is not None and row.note_blob_id is not None
        stored = uow.session.get(blobs.Blob, row.note_blob_id)
        assert stored is not None and stored.wrapped_key  # the note is an encrypted blob
    assert "recipient_request.create" in actions and "recipient_request.handle" in actions
    # The message itself is untouched: the recipient may still open it.
    assert world.do(delivery.open_message, p.responsible, message_id).startswith("Dear Sam")


def test_only_the_recipient_side_asks_and_only_the_cases_facilitators_answer(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    _, foreign = world.case()
    message_id = _released(world, p, case_id)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Not sent yet.")
    for actor in (p.harmed, p.harmed_proxy, p.supporter, p.facilitator, p.coordinator, foreign.responsible):
        with pytest.raises(NotFound):
            world.do(requests.request, actor, message_id, "hold", "")
    with pytest.raises(NotFound):  # not delivered: the other side does not know it exists
        world.do(requests.request, p.responsible, draft.id, "hold", "")
    with pytest.raises(NotFound):
        world.do(requests.request, p.responsible, "0" * 32, "hold", "")
    with pytest.raises(BadInput):
        world.do(requests.request, p.responsible, message_id, "burn", "")
    with pytest.raises(BadInput):
        world.do(requests.request, p.responsible, message_id, "hold", "x" * (requests.MAX_NOTE_CHARS + 1))

    asked = world.do(requests.request, p.responsible, message_id, "return", "")
    for actor in (p.responsible, p.harmed, foreign.facilitator, p.coordinator):
        with pytest.raises(NotFound):
            world.do(requests.handle, actor, asked.id, "done", "")
        with pytest.raises(NotFound):
            world.do(requests.open_requests, actor, case_id)
    with pytest.raises(BadInput):
        world.do(requests.handle, p.facilitator, asked.id, "maybe", "")


def test_a_returned_or_destroyed_message_can_no_longer_be_opened(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = _released(world, p, case_id)
    world.do(delivery.open_message, p.responsible, message_id)  # opened already: hold makes no sense now
    with pytest.raises(Conflict):
        world.do(requests.request, p.responsible, message_id, "hold", "")
    asked = world.do(requests.request, p.responsible, message_id, "destroy", "Please.")
    assert world.do(delivery.open_message, p.responsible, message_id)  # still, until the facilitator acts
    world.do(requests.handle, p.facilitator, asked.id, "done", "")
    with pytest.raises(Conflict) as refused:
        world.do(delivery.open_message, p.responsible, message_id)
    assert refused.value.code == "closed_by_request"
    with pytest.raises(Conflict):
        world.do(requests.request, p.responsible, message_id, "return", "")

    declined = _released(world, p, case_id)
    asked = world.do(requests.request, p.responsible, declined, "return", "")
    world.do(requests.handle, p.facilitator, asked.id, "declined", "Let us talk first.")
    assert world.do(delivery.open_message, p.responsible, declined)  # declined: nothing changed


def test_request_notes_are_shredded_with_the_case(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = _released(world, p, case_id)
    asked = world.do(requests.request, p.responsible, message_id, "hold", "A private note.")
    world.do(requests.handle, p.facilitator, asked.id, "done", "An answer.")
    with svc.db.uow() as uow:
        reference = uow.session.get(RecipientRequest, asked.id).case_id  # type: ignore[union-attr]
    from shuttle.cases.models import Case

    with svc.db.uow() as uow:
        case = uow.session.get(Case, reference)
        assert case is not None
        shred_case(uow.session, svc, p.coordinator, case.reference)
        uow.commit()
    with svc.db.uow() as uow:
        row = uow.session.get(RecipientRequest, asked.id)
        assert row is not None
        for blob_id in (row.note_blob_id, row.outcome_note_blob_id):
            blob = uow.session.get(blobs.Blob, blob_id)
            assert blob is not None and blob.wrapped_key is None


def test_the_author_sees_contact_details_but_never_the_watch_list() -> None:
    flags = author_flags("Meet me on Elm Street, or call 07700 900123, or write to sam@example.org.")
    assert {f["kind"] for f in flags} == {"phone", "email"}
    assert all("Your facilitator will look at it" in f["why"] for f in flags)
    assert flags_key(flags) == flags_key(list(reversed(flags))) != flags_key([])
