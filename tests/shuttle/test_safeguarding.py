"""Safeguarding at the review desk (issue 8): flags resolved before approval, calling a delivered
message back, settings that cannot strand a message, drafts private, one numbering.

Each reproduction named in the issue is a test here that failed on the code before the fix.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from world import People, World

from shuttle import blobs
from shuttle.audit.models import AuditEvent
from shuttle.cases import service as cases
from shuttle.cases.timeline import case_timeline
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages import approval_view, authoring, delivery, processing, queries, review
from shuttle.messages.models import Approval, Message, SafeguardingIncident
from shuttle.messages.text import scan
from shuttle.services import Services
from shuttle.uploads import service as uploads

#: The letter of the issue's reproduction: an e-mail address, a phone number and a school on the watch list.
RISKY = ("email me at jess.h@example.com or text 07700 900456. "
         "I go to Riverside Academy parents evening on Thursdays.")
WATCH = ["Riverside Academy"]



def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


def _sent(world: World, p: People, case_id: str, text: str = RISKY, *, claim: bool = True) -> str:
    draft = world.do(authoring.start_draft, p.harmed, case_id, text)
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    if claim:
        world.do(review.claim, p.facilitator, draft.id)
    return str(draft.id)


def _flag_ids(world: World, p: People, message_id: str, who: str = "facilitator") -> dict[str, str]:
    """kind -> flag id of the current version, as the approval sheet lists them."""
    sheet = world.do(approval_view.approval_sheet, getattr(p, who), message_id)
    return {f.kind: f.id for f in sheet.flags}


def _keep_all(world: World, p: People, message_id: str, who: str = "facilitator") -> dict[str, str]:
    return {fid: "Agreed with both sides at the preparation meeting." for fid in
            _flag_ids(world, p, message_id, who).values()}


# --- 1. flags must be resolved before approval ------------------------------------------------------


def test_the_reproduction_cannot_be_delivered_on_one_click(world: World) -> None:
    case_id, p = world.case(watchlist=WATCH)
    message_id = _sent(world, p, case_id)
    flags = _flag_ids(world, p, message_id)
    assert sorted(flags) == ["email", "phone", "watchlist"]

    with pytest.raises(Conflict) as refused:
        world.do(review.approve, p.facilitator, message_id)
    assert refused.value.code == "flags_unresolved"
    assert sorted(f["kind"] for f in refused.value.details["unresolved"]) == ["email", "phone", "watchlist"]
    assert _state(world, message_id) == "in_review"
    assert world.do(queries.case_messages, p.responsible, case_id) == []

    # Two of three, or a reason too short to be one, still leave the message where it was.
    partial = {flags["email"]: "She asked for this.", flags["phone"]: "She asked for this."}
    with pytest.raises(Conflict) as still:
        world.do(review.approve, p.facilitator, message_id, resolutions=partial)
    assert [f["kind"] for f in still.value.details["unresolved"]] == ["watchlist"]
    with pytest.raises(Conflict):
        world.do(review.approve, p.facilitator, message_id, resolutions={**partial, flags["watchlist"]: "ok"})
    with pytest.raises(Conflict, match="not on this version"):
        world.do(review.approve, p.facilitator, message_id,
                 resolutions={**partial, flags["watchlist"]: "Known to both.", "phone-0-3": "A guess."})
    with pytest.raises(BadInput):
        world.do(review.approve, p.facilitator, message_id, resolutions={flags["phone"]: 7})  # type: ignore[dict-item]
    assert _state(world, message_id) == "in_review"
    with world.svc.db.uow() as uow:
        assert uow.session.scalars(select(Approval)).all() == []

    reasons = {**partial, flags["watchlist"]: "The school is already known to both; agreed at preparation."}
    world.do(review.approve, p.facilitator, message_id, resolutions=reasons)
    assert _state(world, message_id) == "released"


def test_resolutions_are_recorded_encrypted_with_the_approval_and_audited(world: World) -> None:
    case_id, p = world.case(watchlist=WATCH)
    message_id = _sent(world, p, case_id)
    reasons = _keep_all(world, p, message_id)
    world.do(review.approve, p.facilitator, message_id, resolutions=reasons)
    with world.svc.db.uow() as uow:
        approval = uow.session.scalars(select(Approval)).one()
        assert approval.resolutions_blob_id is not None
        stored = json.loads(blobs.load_text(uow.session, world.svc.store, approval.resolutions_blob_id))
        assert {r["flag"]: r["reason"] for r in stored} == reasons
        assert {r["decision"] for r in stored} == {"kept"}
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "message.approve")).one()
        assert sorted(f["kind"] for f in event.details["flags"]) == ["email", "phone", "watchlist"]
        assert len(event.details["resolutions_sha256"]) == 64
        assert "preparation meeting" not in json.dumps(event.details)  # the reason is a note: encrypted only
        assert "07700" not in json.dumps(event.details)


def test_a_flag_redacted_by_an_edit_needs_no_reason_and_is_listed_as_redacted(world: World) -> None:
    case_id, p = world.case(watchlist=WATCH)
    message_id = _sent(world, p, case_id)
    world.do(review.propose_edit, p.facilitator, message_id,
             text="I go to Riverside Academy parents evening on Thursdays.")
    world.run_jobs()
    world.do(authoring.accept_edit, p.harmed, message_id)
    sheet = world.do(approval_view.approval_sheet, p.facilitator, message_id)
    assert [f.kind for f in sheet.flags] == ["watchlist"]
    assert sorted(f.kind for f in sheet.redacted) == ["email", "phone"]
    with pytest.raises(Conflict):
        world.do(review.approve, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id,
             resolutions={sheet.flags[0].id: "Known to both; agreed at preparation."})
    shown = world.do(delivery.open_message, p.responsible, message_id)
    assert "07700" not in shown and "@" not in shown


def test_flags_in_a_recordings_transcript_must_be_resolved_too(world: World) -> None:
    case_id, p = world.case()
    message_id = _processed_recording(world, p, case_id, "Ring me on 07700 900456 after the hearing.")
    world.do(review.claim, p.facilitator, message_id)
    with pytest.raises(Conflict) as refused:
        world.do(review.approve, p.facilitator, message_id)
    assert [f["kind"] for f in refused.value.details["unresolved"]] == ["phone"]
    world.do(review.approve, p.facilitator, message_id, resolutions=_keep_all(world, p, message_id))
    assert _state(world, message_id) == "released"


def _processed_recording(world: World, p: People, case_id: str, transcript: str) -> str:
    """A recording with a transcript, sent; the worker's reporting use cases stand in for the
    media pipeline (the transcript is scanned as the worker scans it)."""
    message = world.do(authoring.start_media, p.harmed, case_id, "audio")
    upload = world.do(uploads.create, p.harmed, message.id, 5)
    world.do(uploads.record_part, p.harmed, upload.id, 0, world.svc.store.put_bytes(b"hello"))
    world.do(authoring.save_draft, p.harmed, message.id, transcript)
    world.do(authoring.submit, p.harmed, message.id)
    svc = world.svc
    with svc.db.uow() as uow:
        version_id = uow.session.get(Message, message.id).current_version_id  # type: ignore[union-attr]
        wanted = processing.begin(uow.session, svc, version_id)
        assert wanted is not None
        found = [f.to_dict() for f in scan(transcript)]
        media = blobs.store_bytes(uow.session, svc.store, b"sound" * 100)
        text = blobs.store_text(uow.session, svc.store, transcript)
        report = blobs.store_text(uow.session, svc.store, json.dumps({"flags": found}))
        uow.session.flush()
        processing.finish(uow.session, svc, wanted.version_id, processed_blob_id=media.id, report_blob_id=report.id,
                          flag_count=len(found), media=processing.MediaFacts("audio/mp4", 1000),
                          transcript_blob_id=text.id)
        uow.commit()
    return str(message.id)


def test_the_second_facilitator_sees_the_first_ones_resolutions_and_resolves_too(world: World) -> None:
    case_id, p = world.case(watchlist=WATCH, two_facilitators=True, approvals_required=2)
    message_id = _sent(world, p, case_id)
    world.do(review.approve, p.facilitator, message_id, resolutions=_keep_all(world, p, message_id))
    assert _state(world, message_id) == "awaiting_review"
    world.do(review.claim, p.co_facilitator, message_id)
    sheet = world.do(approval_view.approval_sheet, p.co_facilitator, message_id)
    assert [e.by for e in sheet.earlier] == ["Fiona1"]
    assert {r.reason for r in sheet.earlier[0].resolutions} == {"Agreed with both sides at the preparation meeting."}
    assert "delivered to the person responsible" in sheet.then
    with pytest.raises(Conflict):
        world.do(review.approve, p.co_facilitator, message_id)
    world.do(review.approve, p.co_facilitator, message_id,
             resolutions=_keep_all(world, p, message_id, "co_facilitator"))
    assert _state(world, message_id) == "released"


def test_after_approval_the_next_item_in_the_queue_is_offered(world: World) -> None:
    case_id, p = world.case()
    first = _sent(world, p, case_id, "Dear Sam, I am sorry.")
    second = _sent(world, p, case_id, "Dear Sam, one more thing.", claim=False)
    world.do(review.approve, p.facilitator, first)
    after = world.do(approval_view.after_approval, p.facilitator, first)
    assert after.outcome == "Delivered to the person responsible."
    assert after.next is not None and after.next.message_id == second
    world.do(review.claim, p.facilitator, second)
    world.do(review.approve, p.facilitator, second)
    assert world.do(approval_view.after_approval, p.facilitator, second).next is None


# --- 2. a mistake can be called back -------------------------------------------------------------------


def test_a_released_unopened_message_is_recalled_without_a_trace_for_the_recipient(world: World) -> None:
    case_id, p = world.case()
    message_id = _sent(world, p, case_id, "Dear Sam, I am sorry.")
    world.do(review.approve, p.facilitator, message_id)
    assert [m["id"] for m in world.do(queries.case_messages, p.responsible, case_id)] == [message_id]

    with pytest.raises(BadInput):
        world.do(review.recall, p.facilitator, message_id, reason="  ")
    with pytest.raises(NotFound):  # not the author's nor the recipient's to do
        world.do(review.recall, p.harmed, message_id, reason="Oops")
    world.do(review.recall, p.facilitator, message_id, reason="Sent before the support session.")

    assert _state(world, message_id) == "in_review"
    assert world.do(queries.case_messages, p.responsible, case_id) == []  # as if never released
    for use_case in (delivery.open_message, delivery.transcript):
        with pytest.raises(NotFound):
            world.do(use_case, p.responsible, message_id)
    authors = world.do(queries.case_messages, p.harmed, case_id)
    assert authors[0]["recalled"] and not authors[0]["delivered"]
    staff_view = world.do(queries.case_messages, p.facilitator, case_id)[0]
    assert staff_view["released_at"] is None and staff_view["claimed_by_id"] == p.facilitator.account_id
    assert staff_view["approvals"] == 0  # the approval was revoked: approve again, or edit, or reject

    world.do(review.approve, p.facilitator, message_id)  # the same facilitator may approve again
    assert _state(world, message_id) == "released"
    assert not world.do(queries.case_messages, p.harmed, case_id)[0]["recalled"]


def test_an_opened_message_cannot_be_recalled_but_an_incident_can_be_recorded(world: World) -> None:
    case_id, p = world.case()
    message_id = _sent(world, p, case_id, "Dear Sam, I am sorry.")
    world.do(review.approve, p.facilitator, message_id)
    world.do(delivery.open_message, p.responsible, message_id)
    with pytest.raises(Conflict, match="opened"):
        world.do(review.recall, p.facilitator, message_id, reason="Too late")
    assert _state(world, message_id) == "viewed"
    world.do(review.record_incident, p.facilitator, message_id, note="It named the school; I called Sam's mum.")
    seen = world.do(review.incidents, p.facilitator, message_id)
    assert [i.note for i in seen] == ["It named the school; I called Sam's mum."]
    with pytest.raises(NotFound):
        world.do(review.incidents, p.responsible, message_id)
    with world.svc.db.uow() as uow:
        row = uow.session.scalars(select(SafeguardingIncident)).one()
        assert row.case_id == case_id
        assert uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.safeguarding_incident")).one().details == {"incident": row.id}
    words = [e.what for e in world.do(_timeline, p.facilitator, case_id)]
    assert "Fiona1 recorded a safeguarding incident about it" in words


# --- 5. settings that cannot strand a message -------------------------------------------------------------


def test_a_one_facilitator_case_refuses_two_approvals(world: World) -> None:
    case_id, p = world.case()
    with pytest.raises(BadInput, match="cannot need 2"):
        world.do(cases.update_settings, p.facilitator, case_id, {"approvals_required": 2})
    with pytest.raises(BadInput, match="cannot need 2"):
        world.case(approvals_required=2)


def test_lowering_the_approvals_needed_approves_what_has_enough(world: World) -> None:
    case_id, p = world.case(two_facilitators=True, approvals_required=2)
    message_id = _sent(world, p, case_id, "Dear Sam, I am sorry.")
    world.do(review.approve, p.facilitator, message_id)
    assert _state(world, message_id) == "awaiting_review"  # 1 of 2
    world.do(cases.update_settings, p.facilitator, case_id, {"approvals_required": 1})
    assert _state(world, message_id) == "released"  # not stranded at "1 of 1, a second must approve"


def test_raising_the_approvals_needed_sends_an_approved_message_back_for_a_second(world: World) -> None:
    case_id, p = world.case(two_facilitators=True)
    message_id = _sent(world, p, case_id, "Dear Sam, I am sorry.")
    world.do(review.schedule_release, p.facilitator, message_id, world.svc.now().replace(year=2099))
    world.do(review.approve, p.facilitator, message_id)
    assert _state(world, message_id) == "approved"  # waiting for its time
    world.do(cases.update_settings, p.facilitator, case_id, {"approvals_required": 2})
    assert _state(world, message_id) == "awaiting_review"
    world.do(review.claim, p.facilitator, message_id)
    with pytest.raises(Conflict, match="second, different facilitator"):
        world.do(review.approve, p.facilitator, message_id)
    world.do(review.claim, p.co_facilitator, message_id, take_over=True)
    world.do(review.approve, p.co_facilitator, message_id)
    assert _state(world, message_id) == "approved"


# --- 6. drafts are private; one numbering -----------------------------------------------------------------


def test_an_unsent_draft_is_invisible_to_staff(world: World) -> None:
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, not ready yet.")
    assert world.do(queries.case_messages, p.facilitator, case_id) == []
    assert world.do(queries.review_queue, p.facilitator) == []
    for use_case, kwargs in ((review.claim, {}), (review.schedule_release, {"at": None})):
        with pytest.raises(NotFound):
            world.do(use_case, p.facilitator, draft.id, **kwargs)
    assert all(e.message_id != draft.id for e in world.do(_timeline, p.facilitator, case_id))
    world.do(authoring.withdraw, p.harmed, draft.id)  # withdrawn before it was ever sent: still private
    assert world.do(queries.case_messages, p.facilitator, case_id) == []


def test_messages_are_numbered_once_in_the_order_they_were_sent(world: World) -> None:
    case_id, p = world.case()
    early = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, started first.")
    sent = _sent(world, p, case_id, "Dear Sam, sent first.", claim=False)
    names = world.do(_names, p, case_id)
    assert names == {sent: "Letter 1"}
    world.do(authoring.submit, p.harmed, early.id)
    world.run_jobs()
    names = world.do(_names, p, case_id)
    assert names == {sent: "Letter 1", early.id: "Letter 2"}
    timeline = {e.message_id: e.message_name for e in world.do(_timeline, p.facilitator, case_id)
                if e.message_id}
    assert timeline == names


def _names(session: Any, svc: Services, p: People, case_id: str) -> dict[str, str]:
    return queries.case_message_names(session, case_id)


def _timeline(session: Any, svc: Services, actor: Any, case_id: str) -> Any:
    return case_timeline(session, actor, case_id)
