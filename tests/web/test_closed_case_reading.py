"""After closure (issue 11): "participants ... keep read access to what was delivered to them until
retention ends". Closing holds what is pending; what was released to a person stays theirs to read,
watch and open, through the pages and the API, until the case is shredded. A pause still stops it."""

from __future__ import annotations

import os
from typing import Any

from world import World

from shuttle.agreements import service as agreements
from shuttle.cases import service as cases
from shuttle.messages import authoring, delivery, review
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app

PLAY = os.urandom(100_000)


def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        return uow.session.get_one(Message, message_id).state


def _delivered(world: World, p: Any, case_id: str) -> tuple[str, str, str]:
    """A letter opened, a recording opened, and a letter released but not yet opened, to the person responsible."""
    opened = world.approved_letter(p, case_id, "Dear Sam, the blue umbrella was mine.")
    world.do(delivery.open_message, p.responsible, opened)
    video = world.processed_video(p, case_id, PLAY)
    world.do(review.claim, p.facilitator, video)
    world.do(review.approve, p.facilitator, video)
    world.do(delivery.open_message, p.responsible, video)
    waiting = world.approved_letter(p, case_id, "Dear Sam, one more thing.")
    assert [_state(world, m) for m in (opened, video, waiting)] == ["viewed", "viewed", "released"]
    return opened, video, waiting


def test_what_was_delivered_stays_readable_after_the_case_closes(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    opened, video, waiting = _delivered(world, p, case_id)
    pending = world.do(authoring.start_draft, p.harmed, case_id, "Not sent yet.")
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    app = build_app(svc, check_schema=False)
    for step in ("closing", "closed"):
        if step == "closed":
            world.do(agreements.finish_case, p.facilitator, case_id)
        with world.sign_in(app, p.responsible) as reader:
            page = reader.get(f"/me/inbox/{opened}")
            assert page.status_code == 200 and "the blue umbrella was mine" in page.text, step
            played = reader.get(f"/api/v1/messages/{video}/media")
            assert played.status_code == 200 and played.content == PLAY, (step, played.text[:200])
            ranged = reader.get(f"/api/v1/messages/{video}/media", headers={"Range": "bytes=10-19"})
            assert ranged.status_code == 206 and ranged.content == PLAY[10:20], step
            assert reader.get(f"/me/inbox/{video}").status_code == 200
            assert "You can still read, watch or listen to what was delivered to you." in reader.get("/me").text
            closing_page = reader.get(f"/me/cases/{case_id}/agreement").text
            assert f'<a href="/me/inbox/{video}">Play it on its own page</a>' in closing_page
    with world.sign_in(app, p.responsible) as reader:  # released before the close: still theirs to open
        assert "Open it now" in reader.get(f"/me/inbox/{waiting}").text
        answer = reader.post(f"/api/v1/messages/{waiting}/open", json={})
        assert answer.status_code == 200, answer.text
        assert "one more thing" in answer.text
    assert _state(world, pending.id) == "draft"  # nothing pending moved
    with world.sign_in(app, p.harmed) as other:  # nothing crosses to the other side: no new release
        assert other.get(f"/api/v1/messages/{video}/media").status_code == 200  # the author's own recording


def test_a_pause_still_stops_reading_and_playback(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    opened, video, waiting = _delivered(world, p, case_id)
    world.do(cases.set_status, p.facilitator, case_id, "paused", reason="A safety check.")
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.responsible) as reader:
        assert reader.get(f"/api/v1/messages/{video}/media").status_code == 409
        assert "the blue umbrella" not in reader.get(f"/me/inbox/{opened}").text
        assert reader.post(f"/api/v1/messages/{waiting}/open", json={}).status_code == 409


def test_withdrawn_consent_to_receive_still_stops_reading_after_closure(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    _opened, video, _waiting = _delivered(world, p, case_id)
    world.do(agreements.close_case, p.facilitator, case_id, reason="withdrawn_responsible")
    participant_id = world.do(lambda s, svc_, actor: delivery.load_message(s, actor, video)[2].participant_id,
                              p.responsible)
    world.do(cases.record_consent, p.facilitator, case_id, participant_id, kind="receive_messages", granted=False)
    with world.sign_in(build_app(svc, check_schema=False), p.responsible) as reader:
        assert reader.get(f"/api/v1/messages/{video}/media").status_code == 409


def test_once_retention_shreds_the_case_nothing_delivered_can_be_read_and_nothing_fails(svc: Services) -> None:
    from shuttle import blobs, retention
    from shuttle.cases.models import Case

    world = World(svc)
    case_id, p = world.case()
    opened, video, waiting = _delivered(world, p, case_id)
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    world.do(agreements.finish_case, p.facilitator, case_id)
    with svc.db.uow() as uow:
        reference = uow.session.get_one(Case, case_id).reference
    world.do(retention.shred_case, world.account("coordinator1", "coordinator"), reference)
    world.do(lambda s, svc_: blobs.remove_shredded_bytes(s, svc_.store, now=svc_.now()))
    with world.sign_in(build_app(svc, check_schema=False), p.responsible) as reader:
        assert reader.get("/me").status_code == 200
        for message_id in (opened, video, waiting):
            page = reader.get(f"/me/inbox/{message_id}")
            assert page.status_code in (200, 404, 409, 410) and "the blue umbrella" not in page.text, page.status_code
        assert reader.get(f"/api/v1/messages/{video}/media").status_code in (404, 409, 410)
        assert reader.post(f"/api/v1/messages/{waiting}/open", json={}).status_code in (404, 409, 410)
