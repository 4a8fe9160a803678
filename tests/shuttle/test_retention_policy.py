"""Retention applied by the periodic tick (issue 11): a closed case is crypto-shredded when its
retention ends on a moved clock, never while on legal hold; the 30-day list; unsent drafts; the
settings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from world import People, World

from shuttle import blobs
from shuttle.agreements import service as agreements
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.blobs import Blob
from shuttle.cases.models import Case
from shuttle.cli import main
from shuttle.config import ConfigError, Settings
from shuttle.errors import Conflict, NotFound
from shuttle.keys import StillInUse, retire, rotate, wrapped_under
from shuttle.messages import authoring, delivery, processing, requests, review
from shuttle.messages.models import Message
from shuttle.retention import _case_blob_ids, message_blob_ids, shred_case, sweep
from shuttle.retention_policy import lift_hold, place_hold, retention_view
from shuttle.services import Services
from shuttle.uploads import service as uploads
from shuttle.uploads.models import Upload, UploadPart
from storage.errors import KeyringError
from storage.keyring import LocalKeyring, WrappedKey
from workers.handlers import tick


def _at(world: World, when: datetime) -> None:
    world.svc.clock = lambda: when


def _closed_case(world: World) -> tuple[str, str, People]:
    """A case with a delivered letter, closed; returns (case id, reference, people)."""
    case_id, p = world.case()
    world.approved_letter(p, case_id, "Dear Sam, this is what happened to me.")
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    world.do(agreements.finish_case, p.facilitator, case_id)
    with world.svc.db.uow() as uow:
        reference = uow.session.get(Case, case_id).reference  # type: ignore[union-attr]
    return case_id, reference, p


def _live_keys(svc: Services, case_id: str) -> int:
    with svc.db.uow() as uow:
        ids = _case_blob_ids(uow.session, case_id)
        return len([b for b in uow.session.scalars(select(Blob).where(Blob.id.in_(ids))) if b.wrapped_key])


def _case(svc: Services, case_id: str) -> Case:
    with svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        uow.session.expunge(case)  # its columns as read now
        return case


def test_the_tick_shreds_a_closed_case_when_its_retention_ends_and_keeps_a_stub(world: World) -> None:
    svc = world.svc
    start = svc.now()
    case_id, reference, p = _closed_case(world)
    assert _live_keys(svc, case_id) > 0
    tick(svc)
    case = _case(svc, case_id)
    assert case.closed_at is not None and abs((case.closed_at - start).total_seconds()) < 120
    assert case.destroy_after == case.closed_at + timedelta(days=7 * 365)
    _at(world, case.destroy_after - timedelta(minutes=1))
    tick(svc)
    assert _live_keys(svc, case_id) > 0 and _case(svc, case_id).shredded_at is None  # not a minute early
    _at(world, case.destroy_after + timedelta(minutes=1))
    tick(svc)
    after = _case(svc, case_id)
    assert _live_keys(svc, case_id) == 0
    assert after.shredded_at is not None and after.destroy_after is None and after.reference == reference
    removed = sweep(svc)["shredded_removed"]
    assert removed > 0
    with svc.db.uow() as uow:
        ids = _case_blob_ids(uow.session, case_id)
        assert ids and not ids & {object_id for object_id, _ in svc.store.list_ids()}  # bytes gone too
        events = [e.action for e in uow.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))]
        assert "case.retention_shred" in events
        assert audit.verify(uow.session).ok
    with pytest.raises(LookupError), svc.db.uow() as uow:
        blobs.load_text(uow.session, svc.store, next(iter(ids)))
    tick(svc)  # once is enough: nothing more to do, nothing fails


def test_a_case_on_legal_hold_is_never_destroyed_and_lifting_the_hold_lets_the_tick_destroy_it(world: World) -> None:
    svc = world.svc
    case_id, reference, p = _closed_case(world)
    tick(svc)
    with pytest.raises(NotFound):
        world.do(place_hold, p.facilitator, reference, "a court order")  # the coordinator's only
    with pytest.raises(NotFound):
        world.do(place_hold, p.coordinator, "RJ-1999-0001", "a court order")  # no such case
    world.do(place_hold, p.coordinator, reference, "Court order 2033/17: keep everything")
    with pytest.raises(Conflict):
        world.do(place_hold, p.coordinator, reference, "again")
    _at(world, svc.now() + timedelta(days=8 * 365))
    tick(svc)
    assert _live_keys(svc, case_id) > 0 and _case(svc, case_id).shredded_at is None
    with pytest.raises(Conflict):  # the one-off command respects the hold too
        world.do(shred_case, p.coordinator, reference)
    world.do(lift_hold, p.coordinator, reference)
    tick(svc)
    assert _live_keys(svc, case_id) == 0 and _case(svc, case_id).shredded_at is not None
    with svc.db.uow() as uow:
        actions = [e.action for e in uow.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                                          .order_by(AuditEvent.seq))]
    assert actions.index("case.legal_hold") < actions.index("case.legal_hold_lifted") \
        < actions.index("case.retention_shred")


def test_the_thirty_day_list_shows_what_is_due_and_the_holds(world: World) -> None:
    svc = world.svc
    first, ref1, p = _closed_case(world)
    _at(world, svc.now() + timedelta(days=40))
    second, ref2, _ = _closed_case(world)
    open_case, _ = world.case()
    tick(svc)
    due1 = _case(svc, first).destroy_after
    assert due1 is not None
    _at(world, due1 - timedelta(days=20))  # the first is due in 20 days, the second in 60
    view = world.do(retention_view, p.coordinator)
    assert [r.reference for r in view.due] == [ref1]
    assert view.due[0].destroy_after == due1 and view.due[0].closed_at == _case(svc, first).closed_at
    world.do(place_hold, p.coordinator, ref2, "an inquiry asked us to keep it")
    view = world.do(retention_view, p.coordinator)
    assert [r.reference for r in view.held] == [ref2] and view.held[0].hold_reason.startswith("an inquiry")
    with pytest.raises(NotFound):
        world.do(retention_view, p.facilitator)


def test_an_unsent_draft_is_emptied_after_its_retention(world: World) -> None:
    svc = world.svc
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I am not sure I will send this.")
    sent = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, this one I send.")
    world.do(authoring.submit, p.harmed, sent.id)
    with svc.db.uow() as uow:
        blob_id = uow.session.get(Message, draft.id).draft_blob_id  # type: ignore[union-attr]
    assert blob_id
    _at(world, svc.now() + timedelta(days=89))
    tick(svc)
    with svc.db.uow() as uow:
        assert uow.session.get(Message, draft.id).state == "draft"  # type: ignore[union-attr]
    _at(world, svc.now() + timedelta(days=2))
    tick(svc)
    with svc.db.uow() as uow:
        message = uow.session.get(Message, draft.id)
        assert message is not None and message.state == "draft" and message.draft_blob_id is None
        assert uow.session.get(Blob, blob_id).wrapped_key is None  # type: ignore[union-attr]
        events = list(uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "message.retention_shred_draft")))
        assert [e.subject_id for e in events] == [draft.id]
    _at(world, svc.now() + timedelta(days=200))
    tick(svc)  # an emptied draft is not found again
    with svc.db.uow() as uow:
        assert len(list(uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "message.retention_shred_draft")))) == 1
    assert world.do(authoring.read_draft, p.harmed, draft.id) == ""  # the author may write it again
    world.run_jobs()
    world.do(review.claim, p.facilitator, sent.id)
    assert world.do(review.read_version, p.facilitator, sent.id)["text"] == "Dear Sam, this one I send."


def test_retention_settings_parse_units_and_refuse_a_bad_value_in_one_sentence(tmp_path: Path) -> None:
    env = {"SHUTTLE_DATA_DIR": str(tmp_path), "SHUTTLE_SECRET_KEY": "x" * 40}
    default = Settings.from_env(env)
    assert (default.retention_closed_case_days, default.retention_unsent_draft_days,
            default.retention_refused_upload_days) == (7 * 365, 90, 30)
    chosen = Settings.from_env({**env, "SHUTTLE_RETENTION_CLOSED_CASES": "6y", "SHUTTLE_RETENTION_UNSENT_DRAFTS": "12w",
                                "SHUTTLE_RETENTION_REFUSED_UPLOADS": "10d"})
    assert (chosen.retention_closed_case_days, chosen.retention_unsent_draft_days,
            chosen.retention_refused_upload_days) == (6 * 365, 84, 10)
    for bad in ("7 years", "0d", "-3d", "y", "7", "1.5y"):
        with pytest.raises(ConfigError) as raised:
            Settings.from_env({**env, "SHUTTLE_RETENTION_CLOSED_CASES": bad})
        assert str(raised.value).startswith("SHUTTLE_RETENTION_CLOSED_CASES is a period like 7y")
        assert str(raised.value).count(". ") == 0


def test_a_destroy_request_done_shreds_every_version_for_everyone_and_leaves_a_stub(world: World) -> None:
    svc = world.svc
    case_id, p = world.case()
    kept = world.approved_letter(p, case_id, "Dear Sam, this one stays.")
    message_id = world.approved_letter(p, case_id, "Dear Sam, please do not keep this.")
    world.do(delivery.open_message, p.responsible, message_id)
    with svc.db.uow() as uow:
        ids = message_blob_ids(uow.session, message_id)
    assert len(ids) >= 3  # the text sent, its processed text and the worker's report at least
    asked = world.do(requests.request, p.responsible, message_id, "destroy", "I do not want it to exist.")
    world.do(requests.handle, p.facilitator, asked.id, "done", "Destroyed, as you asked.")
    with svc.db.uow() as uow:
        keys = {b.id: b.wrapped_key for b in uow.session.scalars(select(Blob).where(Blob.id.in_(ids)))}
        message = uow.session.get(Message, message_id)
        assert message is not None and message.current_version_id  # the stub: the message and its versions stay
    assert set(keys) == ids and not any(keys.values())
    sweep(svc)
    assert not ids & {object_id for object_id, _ in svc.store.list_ids()}  # and the bytes are gone
    with pytest.raises(LookupError):  # staff cannot read it either
        world.do(review.read_version, p.facilitator, message_id)
    with pytest.raises((Conflict, NotFound)):
        world.do(delivery.open_message, p.responsible, message_id)
    assert world.do(review.read_version, p.facilitator, kept)["text"] == "Dear Sam, this one stays."
    assert world.do(requests.for_message, p.responsible, message_id)[0]["outcome_note"] == "Destroyed, as you asked."


def test_a_destroy_request_cannot_be_done_while_the_case_is_on_legal_hold(world: World) -> None:
    case_id, p = world.case()
    message_id = world.approved_letter(p, case_id, "Dear Sam, evidence.")
    with world.svc.db.uow() as uow:
        reference = uow.session.get(Case, case_id).reference  # type: ignore[union-attr]
    world.do(place_hold, p.coordinator, reference, "Police investigation")
    asked = world.do(requests.request, p.responsible, message_id, "destroy", "")
    with pytest.raises(Conflict):
        world.do(requests.handle, p.facilitator, asked.id, "done", "")
    world.do(requests.handle, p.facilitator, asked.id, "declined", "The case is on legal hold.")
    assert world.do(delivery.open_message, p.responsible, message_id) == "Dear Sam, evidence."


def test_retire_refuses_while_a_data_key_is_wrapped_under_the_old_version_and_succeeds_after_rewrap(
        world: World) -> None:
    svc = world.svc
    case_id, reference, p = _closed_case(world)
    other, q = world.case()
    letter = world.approved_letter(q, other, "Dear Sam, kept through the rotation.")
    with svc.db.uow() as uow:
        backup = {b.id: b.wrapped_key for b in uow.session.scalars(select(Blob)) if b.wrapped_key}  # a database backup
    assert backup and svc.store.keyring.primary_version == 1
    assert retire(svc).retired == ()  # only the primary: nothing to retire
    with pytest.raises(StillInUse):
        retire(svc, [1])  # the primary, named: refused
    svc.store.keyring.add_version()  # type: ignore[attr-defined]  # a rotation interrupted before re-wrapping
    with pytest.raises(StillInUse) as refused:
        retire(svc)
    assert "version 1 still wraps" in str(refused.value)
    assert 1 in svc.store.keyring.versions  # type: ignore[attr-defined]  # nothing retired
    world.do(shred_case, p.coordinator, reference)
    rotate(svc)  # re-wraps what is left under version 2
    done = retire(svc)
    assert done.retired == (1,) and done.remaining == (2,)
    assert wrapped_under(svc) == {2: wrapped_under(svc)[2]}
    with svc.db.uow() as uow:
        shredded = _case_blob_ids(uow.session, case_id)
    for blob_id in shredded:  # the backup's keys of the shredded case open nothing now
        with pytest.raises(KeyringError):
            svc.store.keyring.unwrap(WrappedKey.decode(backup[blob_id]), blob_id)
    assert world.do(delivery.open_message, q.responsible, letter) == "Dear Sam, kept through the rotation."


def _refused_video(world: World, p: People, case_id: str) -> tuple[str, str, list[str]]:
    """A video the worker refused (the author's file was unusable): (message, version, part blobs)."""
    svc = world.svc
    message = world.do(authoring.start_media, p.harmed, case_id, "video")
    upload = world.do(uploads.create, p.harmed, message.id, 4)
    world.do(uploads.record_part, p.harmed, upload.id, 0, svc.store.put_bytes(b"orig"))
    world.do(authoring.submit, p.harmed, message.id)
    with svc.db.uow() as uow:
        version_id = uow.session.scalars(select(Message.current_version_id).where(Message.id == message.id)).one()
        assert version_id is not None
        assert processing.begin(uow.session, svc, version_id) is not None
        processing.fail(uow.session, svc, version_id, "The file is not a video we can read", refused=True)
        uow.commit()
        parts = list(uow.session.scalars(select(UploadPart.blob_id).join(Upload, Upload.id == UploadPart.upload_id)
                                         .where(Upload.message_id == message.id)))
    return str(message.id), version_id, parts


def test_a_refused_upload_is_shredded_by_the_sweep_after_its_retention_unless_held(world: World) -> None:
    svc = world.svc
    case_id, p = world.case()
    held_case, q = world.case()
    message_id, version_id, parts = _refused_video(world, p, case_id)
    _, _, held_parts = _refused_video(world, q, held_case)
    with svc.db.uow() as uow:
        held_reference = uow.session.get(Case, held_case).reference  # type: ignore[union-attr]
        assert uow.session.get(Message, message_id).state == "changes_requested"  # type: ignore[union-attr]
    world.do(place_hold, q.coordinator, held_reference, "Police asked us to keep everything")

    def live(ids: list[str]) -> bool:
        with svc.db.uow() as uow:
            return all(uow.session.get(Blob, i).wrapped_key for i in ids)  # type: ignore[union-attr]

    start = svc.now()
    _at(world, start + timedelta(days=29))
    assert sweep(svc)["refused_uploads_shredded"] == 0 and live(parts)
    _at(world, start + timedelta(days=31))
    assert sweep(svc)["refused_uploads_shredded"] == 1
    assert not live(parts) and live(held_parts) and parts
    assert not set(parts) & {object_id for object_id, _ in svc.store.list_ids()}
    assert sweep(svc)["refused_uploads_shredded"] == 0  # once
    with svc.db.uow() as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "message_version.retention_shred")
                                    ).one()
        assert event.subject_id == version_id and event.case_id == case_id


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SHUTTLE_DATABASE_URL", "SHUTTLE_SECRET_KEY", "SHUTTLE_KEYRING", "SHUTTLE_BLOB_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHUTTLE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_keys_retire_through_the_shuttle_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "--no-serve"]) == 0  # objects wrapped under version 1
    capsys.readouterr()
    assert main(["keys", "retire"]) == 1
    assert "add --yes to confirm" in capsys.readouterr().err
    assert main(["keys", "retire", "--yes"]) == 0
    assert "nothing to retire: the keyring holds only the primary version v1" in capsys.readouterr().out
    LocalKeyring.open_or_create(data_dir / "keyring.json").add_version()  # a rotation cut off before re-wrapping
    assert main(["keys", "retire", "--yes"]) == 1
    refused = capsys.readouterr().err
    assert "shuttle: nothing retired: version 1 still wraps 1 data key; re-wrap first (shuttle keys rotate)\n" \
        in refused or re.search(r"shuttle: nothing retired: version 1 still wraps \d+ data keys; re-wrap", refused)
    assert main(["keys", "rotate"]) == 0  # resumes: every data key moves to version 2
    capsys.readouterr()
    assert main(["keys", "retire", "--yes"]) == 0
    assert "retired v1 (removed from the keyring file); the keyring keeps v2." in capsys.readouterr().out
    assert LocalKeyring.open_or_create(data_dir / "keyring.json").versions == [2]
    assert main(["audit", "verify"]) == 0  # and the service still reads what it needs


def test_a_bad_retention_setting_stops_the_command_with_one_sentence(
        data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUTTLE_RETENTION_UNSENT_DRAFTS", "ninety days")
    assert main(["db", "upgrade"]) == 1
    assert capsys.readouterr().err.endswith("shuttle: SHUTTLE_RETENTION_UNSENT_DRAFTS is a period like 7y, 90d or 12w "
                                            "(years, days or weeks), got 'ninety days'\n")
