"""Issue 10 (facilitator's casework): preparation meetings and wishes, private notes, writing on a
participant's behalf, supporters seeing only what their principal shares. Use cases on SQLite
and PostgreSQL (the `svc` fixture)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from world import People, World

from shuttle import blobs
from shuttle.audit.models import AuditEvent
from shuttle.blobs import Blob
from shuttle.cases import notes, preparation
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.cases.timeline import case_timeline
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages import authoring, delivery, on_behalf, review, sharing
from shuttle.messages.models import Message
from shuttle.messages.views import for_author, for_recipient

SECRET = "He said the brother was at the school gate"



def _pid(p: People, who: str) -> str:
    return p.participant_ids[getattr(p, who).account_id]


@dataclass(frozen=True)
class Event:
    action: str
    actor_id: str | None
    details: dict[str, object]


def _events(world: World, action: str) -> list[Event]:
    with world.svc.db.uow() as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [Event(e.action, e.actor_id, dict(e.details or {})) for e in rows]


def _message(world: World, message_id: str) -> Message:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        uow.session.expunge(message)
        return message


# --- preparation meetings and wishes -------------------------------------------------------------


def test_meetings_and_wishes_are_kept_encrypted_for_both_facilitators(world: World) -> None:
    case_id, p = world.case(two_facilitators=True)
    today = world.svc.now().date()
    world.do(preparation.record_meeting, p.facilitator, case_id, _pid(p, "responsible"),
             held_on=today - timedelta(days=3), how="prison_visit", attended="Sam, Fiona, the wing officer",
             notes=SECRET)
    world.do(preparation.record_wishes, p.facilitator, case_id, _pid(p, "responsible"),
             questions=["Is she safe now?", "  "], wants_reply=True, wants_outcome_news=False)
    seen = world.do(preparation.preparation, p.co_facilitator, case_id, _pid(p, "responsible"))
    assert [(m.how_words, m.attended, m.notes) for m in seen.meetings] == [
        ("prison visit", "Sam, Fiona, the wing officer", SECRET)]
    assert seen.wishes is not None and seen.wishes.questions == ("Is she safe now?",)
    assert (seen.wishes.wants_reply, seen.wishes.wants_outcome_news) == (True, False)
    with world.svc.db.uow() as uow:  # the words are in encrypted blobs, not in any audit detail
        stored = [e.details for e in uow.session.scalars(select(AuditEvent))]
        assert SECRET not in json.dumps(stored) and "Is she safe" not in json.dumps(stored)
        current = preparation.current_wishes(uow.session, _pid(p, "responsible"))
        assert current is not None and current.wants_outcome_news is False


@pytest.mark.parametrize("who", ["harmed", "responsible", "supporter", "coordinator", "outsider_facilitator"])
def test_only_the_cases_facilitators_see_preparation(world: World, who: str) -> None:
    case_id, p = world.case()
    with pytest.raises(NotFound):
        world.do(preparation.preparation, getattr(p, who), case_id, _pid(p, "harmed"))
    with pytest.raises(NotFound):
        world.do(preparation.record_meeting, getattr(p, who), case_id, _pid(p, "harmed"),
                 held_on=date(2026, 1, 5), how="phone", attended="x")


@pytest.mark.parametrize("kwargs, says", [
    ({"how": "carrier pigeon"}, "held by"),
    ({"attended": "  "}, "who attended"),
    ({"held_on": date(2999, 1, 1)}, "already come"),
    ({"notes": "x" * 20_001}, "at most"),
])
def test_a_bad_meeting_is_refused_with_a_reason(world: World, kwargs: dict[str, object], says: str) -> None:
    case_id, p = world.case()
    good = {"held_on": date(2026, 1, 5), "how": "phone", "attended": "Jessica", "notes": ""}
    with pytest.raises(BadInput) as refused:
        world.do(preparation.record_meeting, p.facilitator, case_id, _pid(p, "harmed"), **(good | kwargs))
    assert says in refused.value.message.lower()


# --- private notes -------------------------------------------------------------------------------


def test_private_notes_are_for_the_facilitators_and_every_view_is_audited(world: World) -> None:
    case_id, p = world.case(two_facilitators=True)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.do(notes.add_note, p.facilitator, case_id, SECRET)
    world.do(notes.add_note, p.co_facilitator, case_id, "About letter 1: check the date.", message_id=draft.id)
    everything = world.do(notes.read_notes, p.co_facilitator, case_id)
    assert [n.text for n in everything] == [SECRET, "About letter 1: check the date."]
    on_message = world.do(notes.read_notes, p.facilitator, case_id, message_id=draft.id)
    assert [n.message_id for n in on_message] == [draft.id]
    views = _events(world, "note.view")
    assert [e.actor_id for e in views] == [p.co_facilitator.account_id, p.facilitator.account_id]
    assert SECRET not in json.dumps([e.details for e in _events(world, "note.add") + views])
    for who in ("harmed", "responsible", "harmed_proxy", "supporter", "coordinator", "outsider_facilitator"):
        with pytest.raises(NotFound):
            world.do(notes.read_notes, getattr(p, who), case_id)
        with pytest.raises(NotFound):
            world.do(notes.add_note, getattr(p, who), case_id, "x")
    entries = world.do(lambda s, svc, actor, cid: case_timeline(s, actor, cid), p.facilitator, case_id)
    assert all(SECRET not in e.what for e in entries)


def test_a_note_on_an_unsent_draft_or_another_cases_message_is_refused(world: World) -> None:
    case_id, p = world.case()
    other_case, _ = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "private")
    with pytest.raises(NotFound):
        world.do(notes.add_note, p.facilitator, case_id, "x", message_id=draft.id)
    with pytest.raises(NotFound):
        world.do(notes.add_note, p.facilitator, other_case, "x", message_id=draft.id)
    with pytest.raises(BadInput):
        world.do(notes.add_note, p.facilitator, case_id, "   ")


# --- writing on someone's behalf -----------------------------------------------------------------


def _entered(world: World, p: People, case_id: str, text: str = "Dear Jessica, I am sorry.") -> str:
    message = world.do(on_behalf.enter_letter, p.facilitator, case_id, _pid(p, "responsible"), text)
    world.run_jobs()
    return str(message.id)


def test_a_dictated_letter_is_the_persons_message_marked_as_entered_by_the_facilitator(world: World) -> None:
    case_id, p = world.case(two_facilitators=True)
    first = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, p.harmed, first.id)
    world.run_jobs()
    world.do(review.claim, p.co_facilitator, first.id)
    world.do(review.approve, p.co_facilitator, first.id)
    message_id = _entered(world, p, case_id)
    stored = _message(world, message_id)
    assert (stored.author_side, stored.written_by, stored.state) == (
        "responsible", p.facilitator.account_id, "awaiting_review")
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        case = uow.session.get(Case, case_id)
        assert message is not None and case is not None
        assert for_author(uow.session, world.svc, message, case)["entered_by"] == "Fiona1"
        assert "entered_by" not in for_recipient(uow.session, message, case)
    # the one who entered it cannot approve it; the other facilitator can, and it is delivered
    world.do(review.claim, p.facilitator, message_id)
    with pytest.raises(Conflict) as refused:
        world.do(review.approve, p.facilitator, message_id)
    assert refused.value.code == "entered_by_you"
    world.do(review.unclaim, p.facilitator, message_id)
    world.do(review.claim, p.co_facilitator, message_id)
    world.do(review.approve, p.co_facilitator, message_id)
    assert _message(world, message_id).state == "released"
    assert world.do(delivery.open_message, p.harmed, message_id) == "Dear Jessica, I am sorry."
    entries = world.do(lambda s, svc, actor, cid: case_timeline(s, actor, cid), p.facilitator, case_id)
    assert any("on behalf of" in e.what for e in entries)


def test_with_one_facilitator_the_one_who_entered_it_approves_it(world: World) -> None:
    case_id, p = world.case(initiator="either")
    message_id = _entered(world, p, case_id)
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    assert _message(world, message_id).state == "released"


def test_in_a_four_eyes_case_the_one_who_entered_it_gives_only_the_second_approval(world: World) -> None:
    case_id, p = world.case(two_facilitators=True, approvals_required=2, initiator="either")
    message_id = _entered(world, p, case_id)
    world.do(review.claim, p.facilitator, message_id)
    with pytest.raises(Conflict):
        world.do(review.approve, p.facilitator, message_id)
    world.do(review.unclaim, p.facilitator, message_id)
    world.do(review.claim, p.co_facilitator, message_id)
    world.do(review.approve, p.co_facilitator, message_id)
    assert _message(world, message_id).state != "released"  # one approval of the two
    world.do(review.claim, p.facilitator, message_id, take_over=True)
    world.do(review.approve, p.facilitator, message_id)
    assert _message(world, message_id).state == "released"


def test_writing_on_behalf_keeps_every_gate_of_the_person(world: World) -> None:
    case_id, p = world.case()  # the harmed side leads: the responsible side may not begin
    with pytest.raises(Conflict) as refused:
        world.do(on_behalf.enter_letter, p.facilitator, case_id, _pid(p, "responsible"), "Dear Jessica.")
    assert refused.value.code == "not_your_turn"
    world.do(cases.record_consent, p.facilitator, case_id, _pid(p, "harmed"), kind="take_part", granted=False)
    with pytest.raises(Conflict) as no_consent:
        world.do(on_behalf.enter_letter, p.facilitator, case_id, _pid(p, "harmed"), "Dear Sam.")
    assert no_consent.value.code == "no_consent"
    with pytest.raises(BadInput) as supporter:
        world.do(on_behalf.enter_letter, p.facilitator, case_id, _pid(p, "supporter"), "Dear Sam.")
    assert supporter.value.code == "not_an_author"
    for who in ("harmed", "harmed_proxy", "supporter", "coordinator", "outsider_facilitator"):
        with pytest.raises(NotFound):
            world.do(on_behalf.enter_letter, getattr(p, who), case_id, _pid(p, "harmed"), "Dear Sam.")
    with pytest.raises(BadInput):
        world.do(on_behalf.enter_letter, p.facilitator, case_id, _pid(p, "harmed"), "   ")


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 190, 170)).save(out, "JPEG")
    return out.getvalue()


def test_a_photographed_letter_is_entered_as_a_picture_message(world: World) -> None:
    case_id, p = world.case()
    message = world.do(on_behalf.enter_photo, p.facilitator, case_id, _pid(p, "harmed"), _jpeg(),
                       "Dear Sam, written by hand.")
    stored = _message(world, message.id)
    assert (stored.kind, stored.state, stored.written_by) == ("image", "submitted", p.facilitator.account_id)
    world.run_jobs()  # the media worker re-renders the picture like any upload
    assert _message(world, message.id).state == "awaiting_review"
    with pytest.raises(BadInput) as refused:
        world.do(on_behalf.enter_photo, p.facilitator, case_id, _pid(p, "harmed"), b"%PDF-1.7 not a photo")
    assert refused.value.code == "not_a_photo"


# --- supporters ----------------------------------------------------------------------------------


def _delivered_to_harmed(world: World, p: People, case_id: str) -> str:
    """The responsible side's letter to the harmed side (where the supporter is), released."""
    world.approved_letter(p, case_id, "Dear Sam.")
    return world.approved_letter(p, case_id, "Dear Jessica, thank you.", author=p.responsible)


def test_a_supporter_sees_only_what_the_principal_shares_and_only_while_shared(world: World) -> None:
    case_id, p = world.case()
    message_id = _delivered_to_harmed(world, p, case_id)
    supporter = _pid(p, "supporter")
    assert world.do(sharing.shared_with_me, p.supporter) == []
    with pytest.raises(NotFound):
        world.do(sharing.shared_item, p.supporter, message_id)
    with pytest.raises(Conflict) as unopened:  # the principal reads it first
        world.do(sharing.share, p.harmed, message_id, supporter)
    assert unopened.value.code == "not_opened"
    world.do(delivery.open_message, p.harmed, message_id)
    assert [c.shared for c in world.do(sharing.supporters_for, p.harmed, message_id)] == [False]
    world.do(sharing.share, p.harmed, message_id, supporter)
    listed = world.do(sharing.shared_with_me, p.supporter)
    assert [(i.message_id, i.opened, i.text) for i in listed] == [(message_id, False, None)]
    assert world.do(sharing.shared_item, p.supporter, message_id).text is None  # not before choosing
    opened = world.do(sharing.open_shared, p.supporter, message_id)
    assert opened.text == "Dear Jessica, thank you." and opened.from_label == "the person responsible"
    world.do(sharing.unshare, p.harmed, message_id, supporter)
    with pytest.raises(NotFound):
        world.do(sharing.shared_item, p.supporter, message_id)
    assert world.do(sharing.shared_with_me, p.supporter) == []
    assert [e.action for e in _events(world, "supporter.share") + _events(world, "supporter.unshare")] == [
        "supporter.share", "supporter.unshare"]
    assert len(_events(world, "supporter.open")) == 1


def test_only_the_recipient_side_shares_and_only_with_its_own_supporters(world: World) -> None:
    case_id, p = world.case()
    message_id = _delivered_to_harmed(world, p, case_id)
    world.do(delivery.open_message, p.harmed, message_id)
    for who in ("responsible", "supporter", "facilitator", "coordinator"):
        with pytest.raises(NotFound):
            world.do(sharing.share, getattr(p, who), message_id, _pid(p, "supporter"))
    with pytest.raises(NotFound):  # not a supporter of my side: as if missing
        world.do(sharing.share, p.harmed, message_id, _pid(p, "responsible"))


def test_a_supporter_opens_only_with_their_own_assessment_and_consent(world: World) -> None:
    case_id, p = world.case()
    message_id = _delivered_to_harmed(world, p, case_id)
    world.do(delivery.open_message, p.harmed, message_id)
    world.do(sharing.share, p.harmed, message_id, _pid(p, "supporter"))
    world.do(cases.record_assessment, p.facilitator, case_id, _pid(p, "supporter"), outcome="not_suitable")
    assert world.do(sharing.shared_item, p.supporter, message_id).may_open is False
    with pytest.raises(Conflict):
        world.do(sharing.open_shared, p.supporter, message_id)
    world.do(cases.record_assessment, p.facilitator, case_id, _pid(p, "supporter"), outcome="suitable")
    world.do(cases.set_status, p.facilitator, case_id, "paused")
    with pytest.raises(Conflict):
        world.do(sharing.open_shared, p.supporter, message_id)


def test_blob_texts_are_encrypted(world: World) -> None:
    """Nothing typed into a note lands in the database in clear."""
    case_id, p = world.case()
    world.do(notes.add_note, p.facilitator, case_id, SECRET)
    with world.svc.db.uow() as uow:
        blob_ids = list(uow.session.scalars(select(Blob.id)))
        assert blob_ids
        assert all(SECRET.encode() not in world.svc.store.get_raw(b) for b in blob_ids
                   if hasattr(world.svc.store, "get_raw"))
        assert SECRET in [blobs.load_text(uow.session, world.svc.store, b) for b in blob_ids]


def test_shredding_a_case_destroys_its_notes_meetings_and_wishes(world: World) -> None:
    from shuttle.retention import shred_case

    case_id, p = world.case()
    world.do(notes.add_note, p.facilitator, case_id, SECRET)
    world.do(preparation.record_meeting, p.facilitator, case_id, _pid(p, "harmed"), held_on=date(2026, 1, 5),
             how="phone", attended="Jessica", notes=SECRET)
    world.do(preparation.record_wishes, p.facilitator, case_id, _pid(p, "harmed"), questions=["Why us?"],
             wants_reply=None, wants_outcome_news=True)
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        reference = case.reference
        kept = notes.blob_ids(uow.session, case_id) | preparation.blob_ids(uow.session, case_id)
    assert len(kept) == 3
    world.do(shred_case, p.coordinator, reference)
    with world.svc.db.uow() as uow:
        assert all(getattr(uow.session.get(Blob, b), "wrapped_key", "missing") is None for b in kept)


def test_a_message_destroyed_at_the_recipients_request_is_gone_for_the_supporter_too(world: World) -> None:
    from shuttle.messages import requests as recipient_requests

    case_id, p = world.case()
    message_id = _delivered_to_harmed(world, p, case_id)
    world.do(delivery.open_message, p.harmed, message_id)
    world.do(sharing.share, p.harmed, message_id, _pid(p, "supporter"))
    made = world.do(recipient_requests.request, p.harmed, message_id, "destroy", "")
    world.do(recipient_requests.handle, p.facilitator, made.id, "done", "")
    with pytest.raises(NotFound):
        world.do(sharing.shared_item, p.supporter, message_id)
    assert world.do(sharing.shared_with_me, p.supporter) == []
