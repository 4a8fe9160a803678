"""Nothing new is written into a closed case: no message started, no draft saved, no upload begun.

Found by the closing state machine: after a case was closed and shredded, a participant could
still start and save drafts, whose keys then outlived the case's destruction (a shredded case has
no destroy date, so nothing would ever destroy them)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from world import World

from shuttle import retention
from shuttle.agreements import service as agreements
from shuttle.cases import states as case_states
from shuttle.cases.models import Case, Participant
from shuttle.errors import Conflict
from shuttle.messages import authoring, on_behalf
from shuttle.services import Services
from shuttle.uploads import service as uploads


def _closed(world: World) -> tuple[str, object, str, str]:
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam.")
    video = world.do(authoring.start_media, p.harmed, case_id, "video")
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    world.do(agreements.finish_case, p.facilitator, case_id)
    return case_id, p, draft.id, video.id


def _participant_id(world: World, actor: object) -> str:
    with world.svc.db.uow() as uow:
        return str(uow.session.scalars(select(Participant.id).where(
            Participant.account_id == actor.account_id)).one())  # type: ignore[attr-defined]


def test_a_closed_case_takes_no_new_writing(svc: Services) -> None:
    world = World(svc)
    case_id, p, draft_id, video_id = _closed(world)
    for attempt in (lambda: world.do(authoring.start_draft, p.harmed, case_id, "More."),  # type: ignore[attr-defined]
                    lambda: world.do(authoring.start_media, p.responsible, case_id, "audio"),  # type: ignore[attr-defined]
                    lambda: world.do(authoring.save_draft, p.harmed, draft_id, "Again."),  # type: ignore[attr-defined]
                    lambda: world.do(uploads.create, p.harmed, video_id, 4),  # type: ignore[attr-defined]
                    lambda: world.do(on_behalf.enter_letter, p.facilitator, case_id,  # type: ignore[attr-defined]
                                     _participant_id(world, p.harmed), "Dictated.")):  # type: ignore[attr-defined]
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "case_closed" and "closed" in refused.value.message
    assert world.do(authoring.read_draft, p.harmed, draft_id) == "Dear Sam."  # what was kept stays readable


def test_a_shredded_case_takes_no_new_writing(svc: Services) -> None:
    world = World(svc)
    case_id, p, draft_id, _ = _closed(world)
    with svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        reference = case.reference
    world.do(retention.shred_case, p.coordinator, reference)  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        world.do(authoring.start_draft, p.harmed, case_id, "After the end.")  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        world.do(authoring.save_draft, p.harmed, draft_id, "After the end.")  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", list(case_states.Status))
def test_only_a_closed_case_refuses_writing(status: case_states.Status) -> None:
    assert case_states.writing_possible(status) is (status is not case_states.Status.CLOSED)
