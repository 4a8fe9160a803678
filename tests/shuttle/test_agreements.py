"""The outcome agreement, closure with a reason, and feedback kept apart from who gave it (issue 11):
the pure rules first, then the use cases on a real database."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from world import People, World

from shuttle import blobs, retention
from shuttle.agreements import aftercare, rules, service, views
from shuttle.agreements.models import AgreementItem, CheckIn, FeedbackAnswer, FeedbackDone
from shuttle.audit.models import AuditEvent
from shuttle.cases import preparation, states
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.cases.states import ClosureReason, Status
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages import authoring, delivery, review
from shuttle.messages.models import Message
from shuttle.services import Services

D = rules.Decision
TODAY = date(2026, 12, 1)


def _item(what: str = "Sam repairs the fence", owner: str = "responsible", due: date | None = None,
          check: str = "Fiona visits and looks") -> rules.Item:
    return rules.Item(what, owner, due, check)


# --- pure rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "state"), [
    ({}, rules.VersionState.AWAITING),
    ({"harmed": D.AGREE}, rules.VersionState.AWAITING),
    ({"responsible": D.AGREE}, rules.VersionState.AWAITING),
    ({"harmed": D.AGREE, "responsible": D.AGREE}, rules.VersionState.AGREED),
    ({"harmed": D.CHANGE}, rules.VersionState.CHANGE_ASKED),
    ({"harmed": D.AGREE, "responsible": D.CHANGE}, rules.VersionState.CHANGE_ASKED),
])
def test_a_version_is_agreed_only_when_both_sides_agreed(answers: dict[str, rules.Decision],
                                                         state: rules.VersionState) -> None:
    assert rules.version_state(answers) is state


@pytest.mark.parametrize(("items", "field"), [
    ([], "item-1-what"),
    ([_item(what="  ")], "item-1-what"),
    ([_item(), _item(owner="neighbour")], "item-2-owner"),
    ([_item(due=TODAY - timedelta(days=1))], "item-1-due"),
    ([_item(check="")], "item-1-check"),
    ([_item(what="x" * (rules.MAX_WHAT_CHARS + 1))], "item-1-what"),
    ([_item()] * (rules.MAX_ITEMS + 1), ""),
])
def test_bad_items_name_their_field(items: list[rules.Item], field: str) -> None:
    with pytest.raises(rules.RuleBroken) as caught:
        rules.check_items(items, today=TODAY)
    assert caught.value.field == field and caught.value.message


def test_items_are_cleaned() -> None:
    assert rules.check_items([_item(what=" Fence ", due=TODAY)], today=TODAY) == [
        rules.Item("Fence", "responsible", TODAY, "Fiona visits and looks")]


@pytest.mark.parametrize("status", list(Status))
def test_the_agreement_is_worked_on_from_the_exchange_until_closed(status: Status) -> None:
    assert rules.agreement_open(status) is (status in {Status.OPEN, Status.PAUSED, Status.CLOSING})


def test_answers() -> None:
    ok: dict[str, Any] = {"latest": True, "answers": {}, "side": "harmed", "decision": D.AGREE, "note": ""}
    rules.may_answer(Status.CLOSING, **ok)
    changes: list[tuple[dict[str, Any], str]] = [
        ({"latest": False}, "newer version"), ({"answers": {"harmed": D.AGREE}}, "already"),
        ({"answers": {"responsible": D.CHANGE}}, "change was asked"), ({"decision": D.CHANGE}, "would like changed")]
    for change, words in changes:
        with pytest.raises(rules.RuleBroken, match=words):
            rules.may_answer(Status.OPEN, **(ok | change))
    with pytest.raises(rules.RuleBroken, match="closed"):
        rules.may_answer(Status.CLOSED, **ok)


def test_marking_items() -> None:
    rules.may_mark(Status.CLOSING, agreed=True, item_status=rules.ItemStatus.DONE, note="")
    with pytest.raises(rules.RuleBroken, match="varied"):
        rules.may_mark(Status.OPEN, agreed=True, item_status=rules.ItemStatus.VARIED, note=" ")
    with pytest.raises(rules.RuleBroken, match="both sides have agreed"):
        rules.may_mark(Status.OPEN, agreed=False, item_status=rules.ItemStatus.DONE, note="")
    with pytest.raises(rules.RuleBroken, match="closed"):
        rules.may_mark(Status.CLOSED, agreed=True, item_status=rules.ItemStatus.DONE, note="")


@pytest.mark.parametrize(("due", "status", "shown"), [
    (None, None, False), (TODAY + timedelta(days=8), None, False), (TODAY + timedelta(days=7), None, True),
    (TODAY - timedelta(days=30), None, True), (TODAY, rules.ItemStatus.DONE, False),
    (TODAY, rules.ItemStatus.MISSED, False), (TODAY, rules.ItemStatus.VARIED, True),
])
def test_due_items(due: date | None, status: rules.ItemStatus | None, shown: bool) -> None:
    assert rules.is_due(due, status, today=TODAY) is shown


def test_feedback_answers_and_quarters() -> None:
    assert rules.check_answers(rules.Answers(5, None, " thanks ")) == rules.Answers(5, None, "thanks")
    for bad, field in [(rules.Answers(0, None, ""), "satisfied"), (rules.Answers(6, True, ""), "satisfied"),
                       (rules.Answers(None, None, " "), "satisfied"),
                       (rules.Answers(None, True, "x" * (rules.MAX_COMMENT_CHARS + 1)), "comment")]:
        with pytest.raises(rules.RuleBroken) as caught:
            rules.check_answers(bad)
        assert caught.value.field == field
    assert [rules.quarter(date(2026, m, 1)) for m in (1, 3, 4, 9, 10, 12)] == [
        "2026Q1", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026Q4"]
    assert [rules.feedback_offered(s) for s in Status] == [False, False, False, True, True]


def test_only_the_close_step_takes_a_closure_reason_and_it_is_one_of_the_list() -> None:
    assert states.closure_reason(states.Action.CLOSE, "withdrawn_harmed") is ClosureReason.WITHDRAWN_HARMED
    for action, raw in [(states.Action.CLOSE, ""), (states.Action.CLOSE, "bored"), (states.Action.PAUSE, "completed")]:
        with pytest.raises(states.TransitionNotAllowed):
            states.closure_reason(action, raw)
    assert set(states.CLOSURE_WORDS) == set(ClosureReason)


# --- use cases -----------------------------------------------------------------------------------


def _agreed(world: World, case_id: str, p: People, items: list[rules.Item] | None = None) -> None:
    world.do(service.draft_version, p.facilitator, case_id, items or [_item(due=world.svc.now().date())])
    world.do(service.answer, p.harmed, case_id, version=1, decision="agree")
    world.do(service.answer, p.responsible, case_id, version=1, decision="agree")


def test_a_change_asked_makes_a_new_version_both_sides_agree_to_again(world: World) -> None:
    case_id, p = world.case()
    first = world.do(service.draft_version, p.facilitator, case_id, [_item(), _item("Jessica writes back", "harmed")])
    assert world.do(service.answer, p.harmed, case_id, version=1, decision="agree") is rules.VersionState.AWAITING
    with pytest.raises(BadInput):
        world.do(service.answer, p.responsible, case_id, version=1, decision="change", note="")
    assert world.do(service.answer, p.responsible, case_id, version=1, decision="change",
                    note="Not the fence, the window") is rules.VersionState.CHANGE_ASKED
    with pytest.raises(Conflict):  # the harmed side already answered version 1
        world.do(service.answer, p.harmed_proxy, case_id, version=1, decision="agree")
    world.do(service.draft_version, p.facilitator, case_id, [_item("Sam repairs the window")])
    with pytest.raises(Conflict):  # an answer to the old version is refused
        world.do(service.answer, p.harmed, case_id, version=1, decision="agree")
    world.do(service.answer, p.harmed_proxy, case_id, version=2, decision="agree")
    assert world.do(service.answer, p.responsible, case_id, version=2, decision="agree") is rules.VersionState.AGREED
    page = world.do(views.staff_page, p.facilitator, case_id)
    assert page.agreed_version == 2 and page.agreed_at is not None and page.agreed_at <= world.svc.now()
    assert [v.number for v in page.versions] == [2, 1]
    assert page.versions[1].answers[1].note == "Not the fence, the window"  # the facilitators read the note
    assert [i.what for i in page.versions[1].items] == ["Sam repairs the fence", "Jessica writes back"]
    assert page.versions[0].id != first.id
    with pytest.raises(Conflict):  # agreed: not changed any more
        world.do(service.draft_version, p.facilitator, case_id, [_item()])
    # The items' words are encrypted blobs, not columns; the audit log holds no words.
    with world.svc.db.uow() as uow:
        item = uow.session.scalars(select(AgreementItem).where(AgreementItem.number == 1)
                                   .where(AgreementItem.version_id == page.versions[0].id)).one()
        assert "window" not in repr(inspect(item).dict)
        assert "window" in blobs.load_text(uow.session, world.svc.store, item.text_blob_id)
        events = uow.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)).all()
        assert {"agreement.draft", "agreement.agree", "agreement.change", "agreement.agreed"} <= {
            e.action for e in events}
        assert not any("window" in str(e.details) or "fence" in str(e.details) for e in events)


def test_who_may_draft_answer_and_see(world: World) -> None:
    case_id, p = world.case()
    for actor in (p.harmed, p.supporter, p.coordinator, p.outsider_facilitator):
        with pytest.raises(NotFound):
            world.do(service.draft_version, actor, case_id, [_item()])
    world.do(service.draft_version, p.facilitator, case_id, [_item()])
    for actor in (p.supporter, p.facilitator, p.coordinator):
        with pytest.raises(NotFound):
            world.do(service.answer, actor, case_id, version=1, decision="agree")
    supporter = world.do(views.participant_page, p.supporter, case_id)
    assert supporter.latest is None and not supporter.may_answer
    harmed = world.do(views.participant_page, p.harmed, case_id)
    assert harmed.latest is not None and harmed.may_answer and harmed.other_label == "the person responsible"
    assert harmed.latest.items[0].owner_words == "the person responsible"
    sam = world.do(views.participant_page, p.responsible, case_id)
    assert sam.latest is not None and sam.latest.items[0].owner_words == "you"


def test_item_statuses_are_seen_by_facilitators_and_whoever_asked_to_hear_them(world: World) -> None:
    case_id, p = world.case()
    world.do(preparation.record_wishes, p.facilitator, case_id, p.participant_ids[p.harmed.account_id or ""],
             questions=[], wants_reply=None, wants_outcome_news=True)
    _agreed(world, case_id, p)
    item_id = world.do(views.staff_page, p.facilitator, case_id).versions[0].items[0].id
    with pytest.raises(BadInput):
        world.do(service.mark_item, p.facilitator, case_id, item_id, status="varied", note="")
    with pytest.raises(NotFound):
        world.do(service.mark_item, p.harmed, case_id, item_id, status="done")
    world.do(service.mark_item, p.facilitator, case_id, item_id, status="varied", note="Window, not fence")
    world.do(service.mark_item, p.facilitator, case_id, item_id, status="done", note="Seen it")
    staff = world.do(views.staff_page, p.facilitator, case_id).versions[0].items[0]
    assert staff.status == "done" and [u.note for u in staff.history] == ["Window, not fence", "Seen it"]
    jessica = world.do(views.participant_page, p.harmed, case_id)
    assert jessica.sees_statuses and jessica.latest is not None and jessica.latest.items[0].status == "done"
    assert jessica.latest.items[0].history == ()  # the notes are the facilitators'
    sam = world.do(views.participant_page, p.responsible, case_id)  # did not ask
    assert not sam.sees_statuses and sam.latest is not None and sam.latest.items[0].status is None
    mum = world.do(views.participant_page, p.harmed_proxy, case_id)  # her own wishes, not Jessica's
    assert not mum.sees_statuses


def test_due_items_on_the_facilitators_dashboard(world: World) -> None:
    case_id, p = world.case()
    today = world.svc.now().date()
    _agreed(world, case_id, p, [_item(due=today + timedelta(days=3)), _item("Later", due=today + timedelta(days=60)),
                                _item("Whenever")])
    due = world.do(views.due_items, p.facilitator)
    assert [(d.case_id, d.number, d.overdue) for d in due] == [(case_id, 1, False)]
    assert world.do(views.due_items, p.outsider_facilitator) == [] == world.do(views.due_items, p.harmed)
    item_id = world.do(views.staff_page, p.facilitator, case_id).versions[0].items[0].id
    world.do(service.mark_item, p.facilitator, case_id, item_id, status="missed")
    assert world.do(views.due_items, p.facilitator) == []


def _pending_letter(world: World, p: People, case_id: str) -> str:
    letter = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, it has been a year.")
    world.do(authoring.submit, p.harmed, letter.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, letter.id)
    return str(letter.id)


def test_closure_needs_a_reason_holds_everything_and_keeps_what_was_delivered(world: World) -> None:
    case_id, p = world.case()
    delivered = _pending_letter(world, p, case_id)
    world.do(review.approve, p.facilitator, delivered)
    world.do(delivery.open_message, p.responsible, delivered)
    pending = _pending_letter(world, p, case_id)
    with pytest.raises(BadInput):
        world.do(service.close_case, p.facilitator, case_id, reason="")
    with pytest.raises(NotFound):
        world.do(service.close_case, p.harmed, case_id, reason="completed")
    world.do(service.close_case, p.facilitator, case_id, reason="withdrawn_responsible")
    with pytest.raises(Conflict):  # held: nothing is released after closure
        world.do(review.approve, p.facilitator, pending)
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        message = uow.session.get(Message, pending)
        assert case is not None and case.status == "closing"
        assert message is not None and message.released_at is None
    world.do(service.finish_case, p.facilitator, case_id)
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, pending)
        assert message is not None and message.released_at is None
    page = world.do(views.staff_page, p.facilitator, case_id)
    assert page.status == "closed" and page.closure is not None and page.closure.reason == "withdrawn_responsible"
    sam = world.do(views.participant_page, p.responsible, case_id)
    assert sam.closing and [(d.id, d.text) for d in sam.delivered] == [(delivered, "Dear Sam, it has been a year.")]
    assert world.do(views.participant_page, p.harmed, case_id).delivered == ()  # nothing was sent to Jessica


def test_an_older_close_gets_its_reason_when_finished(world: World) -> None:
    case_id, p = world.case()
    world.do(cases.set_status, p.facilitator, case_id, "closing", reason="completed")  # no closure record
    with pytest.raises(BadInput):
        world.do(service.finish_case, p.facilitator, case_id)
    world.do(service.finish_case, p.facilitator, case_id, reason="completed")
    closure = world.do(views.staff_page, p.facilitator, case_id).closure
    assert closure is not None and closure.reason == "completed"


def test_feedback_is_kept_apart_from_who_gave_it(world: World) -> None:
    case_id, p = world.case()
    with pytest.raises(Conflict):  # offered at closure
        world.do(service.give_feedback, p.harmed, case_id, rules.Answers(5, True, ""))
    world.do(service.close_case, p.facilitator, case_id, reason="completed")
    assert world.do(views.participant_page, p.harmed, case_id).feedback_pending
    with pytest.raises(BadInput):
        world.do(service.give_feedback, p.harmed, case_id, rules.Answers(9, True, ""))
    world.do(service.give_feedback, p.harmed, case_id, rules.Answers(4, True, "It helped me sleep"))
    world.do(service.give_feedback, p.responsible, case_id, None)  # declined
    with pytest.raises(Conflict):  # not asked twice
        world.do(service.give_feedback, p.harmed, case_id, rules.Answers(1, False, ""))
    with pytest.raises(NotFound):
        world.do(service.give_feedback, p.facilitator, case_id, rules.Answers(5, True, ""))
    assert not world.do(views.participant_page, p.harmed, case_id).feedback_pending
    assert world.do(views.participant_page, p.supporter, case_id).feedback_pending
    with world.svc.db.uow() as uow:
        answers = uow.session.scalars(select(FeedbackAnswer)).all()
        assert [(a.side, a.satisfied, a.recommend) for a in answers] == [("harmed", 4, True)]
        assert answers[0].quarter == rules.quarter(world.svc.now().date())
        columns = set(FeedbackAnswer.__table__.columns.keys())
        assert columns == {"id", "quarter", "side", "satisfied", "recommend", "comment_blob_id"}
        assert set(FeedbackDone.__table__.columns.keys()) == {"participant_id", "done"}
        done = {d.participant_id: d.done for d in uow.session.scalars(select(FeedbackDone))}
        ids = p.participant_ids
        assert done == {ids[p.harmed.account_id or ""]: True, ids[p.responsible.account_id or ""]: True,
                        ids[p.harmed_proxy.account_id or ""]: False, ids[p.supporter.account_id or ""]: False}
        comment_blob = answers[0].comment_blob_id
        assert comment_blob is not None
        assert blobs.load_text(uow.session, world.svc.store, comment_blob) == "It helped me sleep"
        blob = uow.session.get(blobs.Blob, comment_blob)
        assert blob is not None and blob.created_at.day == 1 and blob.created_at.hour == 0
        events = uow.session.scalars(select(AuditEvent).where(AuditEvent.action.like("feedback.%"))).all()
        assert [e.action for e in events] == ["feedback.done", "feedback.done"]  # answered or declined: alike
        assert all(e.details in ({}, None) for e in events)


# --- aftercare -----------------------------------------------------------------------------------


def test_checkin_offsets_and_records() -> None:
    assert rules.checkin_offsets("3d,14d") == [3, 14] == rules.checkin_offsets(" 14d , 3d,3d ")
    assert rules.checkin_offsets("") == []
    for bad in ("3", "2w", "-1d", "²d", "10000d"):
        with pytest.raises(ValueError):
            rules.checkin_offsets(bad)
    rules.check_checkin("Doing well", "partly")
    for wellbeing, got, field in [(" ", "yes", "wellbeing"), ("Fine", "maybe", "got_what_wanted"),
                                  ("x" * (rules.MAX_WELLBEING_CHARS + 1), "yes", "wellbeing")]:
        with pytest.raises(rules.RuleBroken) as caught:
            rules.check_checkin(wellbeing, got)
        assert caught.value.field == field


def test_checkins_are_scheduled_when_the_exchange_ends_and_recorded_encrypted(world: World) -> None:
    case_id, p = world.case()
    assert world.do(aftercare.checkins, p.facilitator, case_id) == []
    world.do(service.close_case, p.facilitator, case_id, reason="completed")
    today = world.svc.now().date()
    scheduled = world.do(aftercare.checkins, p.facilitator, case_id)
    # the principals and the proxy (not the supporter), at 3 and 14 days
    assert sorted((c.side_label, (c.due_on - today).days) for c in scheduled) == sorted(
        [(label, days) for label in ("the person harmed", "the person harmed", "the person responsible")
         for days in (3, 14)])
    assert world.do(aftercare.due_checkins, p.facilitator) == []  # none due yet
    first = scheduled[0]
    with pytest.raises(NotFound):
        world.do(aftercare.record_checkin, p.harmed, case_id, first.id, wellbeing="Fine", got_what_wanted="yes")
    with pytest.raises(BadInput):
        world.do(aftercare.record_checkin, p.facilitator, case_id, first.id, wellbeing="", got_what_wanted="yes")
    world.do(aftercare.record_checkin, p.facilitator, case_id, first.id, wellbeing="Sleeping better",
             got_what_wanted="partly")
    with pytest.raises(Conflict):
        world.do(aftercare.record_checkin, p.facilitator, case_id, first.id, wellbeing="Again", got_what_wanted="no")
    done = next(c for c in world.do(aftercare.checkins, p.facilitator, case_id) if c.id == first.id)
    assert done.done_at is not None and done.on_time and done.wellbeing == "Sleeping better"
    with world.svc.db.uow() as uow:
        row = uow.session.get(CheckIn, first.id)
        assert row is not None and row.record_blob_id is not None and "Sleeping" not in repr(inspect(row).dict)
        assert row.record_blob_id in aftercare.blob_ids(uow.session, case_id)


def test_due_checkins_reach_the_dashboard(world: World) -> None:
    case_id, p = world.case()
    world.do(service.close_case, p.facilitator, case_id, reason="completed")
    with world.svc.db.uow() as uow:  # the days pass
        for row in uow.session.scalars(select(CheckIn).where(CheckIn.case_id == case_id)):
            row.due_on -= timedelta(days=3)
        uow.commit()
    due = world.do(views.due_items, p.facilitator)
    assert sorted((d.kind, d.owner_words) for d in due) == [
        ("checkin", "the person harmed"), ("checkin", "the person harmed"), ("checkin", "the person responsible")]
    assert world.do(views.due_items, p.outsider_facilitator) == []


def test_signposting_directory_and_sharing(world: World) -> None:
    case_id, p = world.case()
    with pytest.raises(NotFound):
        world.do(aftercare.add_support_service, p.facilitator, name="Victim Support", helps_with="x", how_to_reach="y")
    with pytest.raises(BadInput):
        world.do(aftercare.add_support_service, p.coordinator, name="Victim Support", helps_with=" ", how_to_reach="y")
    entry = world.do(aftercare.add_support_service, p.coordinator, name="Victim Support",
                     helps_with="Emotional support after a crime", how_to_reach="Call 0808 168 9111")
    gone = world.do(aftercare.add_support_service, p.coordinator, name="Old line", helps_with="Nothing now",
                    how_to_reach="Closed")
    world.do(aftercare.set_support_active, p.coordinator, gone.id, False)
    assert [e.name for e in world.do(aftercare.directory, p.facilitator)] == ["Victim Support"]
    jessica = p.participant_ids[p.harmed.account_id or ""]
    with pytest.raises(BadInput):
        world.do(aftercare.share_support, p.facilitator, case_id, jessica, gone.id)
    with pytest.raises(NotFound):
        world.do(aftercare.share_support, p.outsider_facilitator, case_id, jessica, entry.id)
    world.do(aftercare.share_support, p.facilitator, case_id, jessica, entry.id)
    world.do(aftercare.share_support, p.facilitator, case_id, jessica, entry.id)  # once is enough
    assert [e.name for e in world.do(views.participant_page, p.harmed, case_id).support] == ["Victim Support"]
    assert world.do(views.participant_page, p.responsible, case_id).support == ()


def test_shredding_a_case_destroys_its_agreement_notes_and_checkins(world: World) -> None:
    case_id, p = world.case()
    world.do(service.draft_version, p.facilitator, case_id, [_item()])
    world.do(service.answer, p.harmed, case_id, version=1, decision="change", note="Not the fence")
    world.do(service.draft_version, p.facilitator, case_id, [_item("Sam repairs the window")])
    world.do(service.answer, p.harmed, case_id, version=2, decision="agree")
    world.do(service.answer, p.responsible, case_id, version=2, decision="agree")
    item_id = world.do(views.staff_page, p.facilitator, case_id).versions[0].items[0].id
    world.do(service.mark_item, p.facilitator, case_id, item_id, status="varied", note="A door instead")
    world.do(service.close_case, p.facilitator, case_id, reason="completed")
    checkin = world.do(aftercare.checkins, p.facilitator, case_id)[0]
    world.do(aftercare.record_checkin, p.facilitator, case_id, checkin.id, wellbeing="Fine", got_what_wanted="yes")
    with world.svc.db.uow() as uow:
        ids = service.blob_ids(uow.session, case_id) | aftercare.blob_ids(uow.session, case_id)
        assert len(ids) == 2 + 1 + 1 + 1  # two versions' items, the change note, the mark's note, the check-in
        reference = uow.session.scalars(select(Case.reference).where(Case.id == case_id)).one()
    world.do(retention.shred_case, p.coordinator, reference)
    with world.svc.db.uow() as uow:
        for blob_id in ids:
            with pytest.raises(LookupError):
                blobs.load_bytes(uow.session, world.svc.store, blob_id)


# --- any order of steps ---------------------------------------------------------------------------

_WORLDS: dict[int, tuple[World, People]] = {}
STEPS = st.lists(st.one_of(
    st.just(("draft",)),
    st.tuples(st.just("answer"), st.sampled_from(["harmed", "harmed_proxy", "responsible", "supporter"]),
              st.sampled_from(["agree", "change"]), st.integers(-1, 0)),
    st.just(("close",)), st.just(("finish",))), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
@example(steps=[("draft",), ("answer", "harmed", "agree", 0), ("answer", "harmed_proxy", "agree", 0)])
@example(steps=[("draft",), ("draft",), ("answer", "responsible", "agree", -1), ("answer", "harmed", "change", 0)])
@example(steps=[("draft",), ("answer", "harmed", "agree", 0), ("answer", "responsible", "agree", 0), ("draft",),
                ("close",), ("answer", "supporter", "agree", 0), ("finish",), ("draft",)])
def test_any_order_of_steps_keeps_the_agreement_rules(sqlite_svc: Services, steps: list[tuple[Any, ...]]) -> None:
    """Whatever is tried in whatever order: a version is agreed only when both sides agreed to that very
    version, the latest; once agreed it never changes; old versions take no answers; a side answers a
    version once; nothing is drafted or answered once the case is closed."""
    if id(sqlite_svc) not in _WORLDS:  # one world for all the examples: the same people, a new case each
        world = World(sqlite_svc)
        _WORLDS[id(sqlite_svc)] = (world, world.case()[1])
    world, people = _WORLDS[id(sqlite_svc)]
    case_id, p = world.case(people=people)
    latest, agreed = 0, None
    answered: dict[tuple[int, str], str] = {}  # the model: each side's decision on each version
    status = "open"
    for step in steps:
        try:
            if step[0] == "draft":
                world.do(service.draft_version, p.facilitator, case_id, [_item()])
                assert agreed is None and status != "closed"
                latest, status = latest + 1, status
            elif step[0] == "answer":
                _, who, decision, offset = step
                actor = getattr(p, who)
                side = "responsible" if who == "responsible" else "harmed"
                note = "Please change it" if decision == "change" else ""
                state = world.do(service.answer, actor, case_id, version=latest + offset, decision=decision, note=note)
                assert who != "supporter" and latest >= 1 and offset == 0 and status != "closed"
                assert (latest, side) not in answered and "change" not in {
                    d for (v, _), d in answered.items() if v == latest}
                answered[(latest, side)] = decision
                if state is rules.VersionState.AGREED:
                    agreed = latest
            elif step[0] == "close":
                world.do(service.close_case, p.facilitator, case_id, reason="completed")
                assert status == "open"
                status = "closing"
            else:
                world.do(service.finish_case, p.facilitator, case_id)
                assert status == "closing"
                status = "closed"
        except (BadInput, Conflict, NotFound):
            pass
        page = world.do(views.staff_page, p.facilitator, case_id)
        assert page.status == status and len(page.versions) == latest
        assert page.agreed_version == agreed
        if agreed is not None:
            assert agreed == latest and answered[(agreed, "harmed")] == answered[(agreed, "responsible")] == "agree"
        for version in page.versions:
            assert {(version.number, a.side): a.decision for a in version.answers} == {
                key: d for key, d in answered.items() if key[0] == version.number}
