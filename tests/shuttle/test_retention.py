"""Key rotation re-wraps without re-encrypting, resumes when interrupted; a shredded case
cannot be recovered even from a copy of its ciphertext; the sweeper removes orphans."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from world import World

from shuttle import blobs
from shuttle.blobs import Blob
from shuttle.keys import rotate
from shuttle.messages import authoring, review
from shuttle.retention import shred_case, sweep
from shuttle.services import Actor, Services
from storage.errors import StorageError
from storage.keyring import WrappedKey


def _files(svc: Services) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in svc.settings.blob_dir.rglob("*") if p.is_file()}


def _letters(svc: Services, n: int) -> tuple[World, str, object, list[str]]:
    world = World(svc)
    case_id, p = world.case()
    ids = []
    for i in range(n):
        draft = world.do(authoring.start_draft, p.harmed, case_id, f"Dear Sam, letter number {i}.")
        world.do(authoring.submit, p.harmed, draft.id)
        ids.append(draft.id)
    world.run_jobs()
    return world, case_id, p, ids


def test_rotation_rewraps_every_key_and_never_touches_a_payload(svc: Services) -> None:
    world, case_id, p, ids = _letters(svc, 3)
    before = _files(svc)
    result = rotate(svc, batch=2)
    assert result.version == 2 and result.rewrapped == len(before) and not result.resumed
    assert _files(svc) == before  # not one ciphertext byte rewritten
    with svc.db.uow() as uow:
        assert set(uow.session.scalars(select(Blob.kek_version))) == {2}
    world.do(review.claim, p.facilitator, ids[0])
    assert world.do(review.read_version, p.facilitator, ids[0])["text"] == "Dear Sam, letter number 0."


def test_an_interrupted_rotation_resumes_and_everything_still_decrypts(svc: Services) -> None:
    world, case_id, p, ids = _letters(svc, 4)
    calls = 0

    def crash_after_first_batch(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyboardInterrupt  # the operator's terminal closed mid-way

    with pytest.raises(KeyboardInterrupt):
        rotate(svc, batch=3, progress=crash_after_first_batch)
    with svc.db.uow() as uow:
        versions = list(uow.session.scalars(select(Blob.kek_version)))
    assert set(versions) == {1, 2}  # half-way: both versions in use, both decrypt
    for message_id in ids:
        world.do(review.claim, p.facilitator, message_id)
        assert world.do(review.read_version, p.facilitator, message_id)["text"].startswith("Dear Sam")
    again = rotate(svc)
    assert again.resumed and again.version == 2  # resumed; no third version
    with svc.db.uow() as uow:
        assert set(uow.session.scalars(select(Blob.kek_version))) == {2}


def test_a_shredded_case_cannot_be_recovered_from_a_backup_of_its_ciphertext(svc: Services, tmp_path: Path) -> None:
    world, case_id, p, ids = _letters(svc, 2)
    backup = tmp_path / "backup"
    shutil.copytree(svc.settings.blob_dir, backup)
    with svc.db.uow() as uow:
        doomed = {b.id: b.wrapped_key for b in uow.session.scalars(select(Blob))}
        reference = uow.session.execute(select(blobs.Blob.id)).first()
    with svc.db.uow() as uow:
        count = shred_case(uow.session, svc, Actor(None, "coordinator"), "RJ-2026-0001")
        uow.commit()
    assert count == len(doomed) and reference is not None
    sweep(svc)
    assert _files(svc) == {}
    with svc.db.uow() as uow:
        assert all(b.wrapped_key is None for b in uow.session.scalars(select(Blob)))
    # a surviving copy of the ciphertext is noise without its destroyed key: no other key opens it
    survivor = next(iter(doomed))
    copy = next(path for path in backup.rglob(survivor))
    os.makedirs(svc.settings.blob_dir / copy.parent.name, exist_ok=True)
    shutil.copy(copy, svc.settings.blob_dir / copy.parent.name / copy.name)
    fresh = svc.store.put_bytes(b"another object")
    for other_key in (fresh.key, WrappedKey.decode(next(v for k, v in doomed.items() if k != survivor))):
        with pytest.raises(StorageError):
            svc.store.get_bytes(survivor, other_key)
    with pytest.raises(LookupError, match="shredded"):  # nothing readable is left through the service either
        world.do(review.read_version, p.facilitator, ids[0])


def test_the_sweeper_removes_unreferenced_objects_only_after_the_grace_period(svc: Services) -> None:
    _letters(svc, 1)
    referenced = set(_files(svc))
    orphan = svc.store.put_bytes(b"written, but its transaction rolled back")
    assert sweep(svc)["orphans_removed"] == 0  # too young: it may be an upload in progress
    later = svc.now() + timedelta(hours=2)
    svc.clock = lambda: later
    assert sweep(svc)["orphans_removed"] == 1
    assert set(_files(svc)) == referenced and orphan.object_id not in _files(svc)


def test_shredding_a_case_also_destroys_flag_resolutions_and_incident_notes(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, ring me on 07700 900123.")
    world.do(authoring.submit, p.harmed, draft.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, draft.id)
    flag = world.do(review.read_version, p.facilitator, draft.id)["flags"][0]["id"]
    world.do(review.approve, p.facilitator, draft.id, resolutions={flag: "It is the service's own number."})
    world.do(review.record_incident, p.facilitator, draft.id, note="Checked with Sam's worker.")
    with svc.db.uow() as uow:
        count = shred_case(uow.session, svc, Actor(None, "coordinator"), "RJ-2026-0001")
        uow.commit()
    with svc.db.uow() as uow:
        every = list(uow.session.scalars(select(Blob)))
        assert count == len(every) and all(b.wrapped_key is None for b in every)


def test_the_sweeper_removes_ciphertext_temp_files_a_killed_server_left_only_after_the_grace_period(
        svc: Services) -> None:
    """kill -9 mid-upload leaves a dot-named temp file next to where the object would be."""
    from storage.fsutil import create_private_temp

    _letters(svc, 1)
    kept = set(_files(svc))
    folder = svc.settings.blob_dir / "ab"
    folder.mkdir(exist_ok=True)
    fd, temp = create_private_temp(folder, "ab" + "0" * 30)
    os.write(fd, b"half an upload's ciphertext")
    os.close(fd)
    stranger = folder / ".not-ours"
    stranger.write_bytes(b"x")
    assert temp.exists() and sweep(svc)["temp_removed"] == 0  # perhaps a write in progress
    later = svc.now() + timedelta(hours=2)
    svc.clock = lambda: later
    assert sweep(svc)["temp_removed"] == 1
    assert not temp.exists() and stranger.exists()
    assert set(_files(svc)) == kept | {stranger.name}
