"""Drill: kill -9 a `shuttle worker` process in the middle of a transcode. Its ffmpeg dies with
it within a second; a worker starting meanwhile wipes no live scratch; the lease expires,
another worker completes the job exactly once, and no half-written output is attached."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import make_services, need
from world import World

from shuttle import schema
from shuttle.audit.models import AuditEvent
from shuttle.blobs import Blob
from shuttle.config import Settings
from shuttle.db import Database
from shuttle.jobs.models import Job
from shuttle.messages import authoring
from shuttle.messages.models import Message, MessageVersion
from shuttle.uploads import service as uploads

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]
LEASE = 3


def _clip(path: Path) -> bytes:
    """Long enough (and big enough) that transcoding takes several seconds here."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=1280x720:rate=30:duration=40", "-f", "lavfi", "-i", "sine=duration=40",
                    "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path)], check=True)
    return path.read_bytes()


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "shuttle.cli", "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (ffmpeg runs in a process group of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _job(svc, message_id: str) -> Job:  # type: ignore[no-untyped-def]
    with svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        job = uow.session.get(Job, message.processing_job_id)
        uow.session.expunge(job)
        return job  # type: ignore[no-any-return]


def test_a_worker_killed_mid_transcode_is_replaced_and_the_job_completes_once(tmp_path: Path) -> None:
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUTTLE_")}
    env |= {"SHUTTLE_DATA_DIR": str(data), "SHUTTLE_SECRET_KEY": "c" * 40, "SHUTTLE_JOB_LEASE_SECONDS": str(LEASE),
            "SHUTTLE_SCRATCH_DIR": str(tmp_path / "scratch")}
    settings = Settings.from_env(env)
    data.mkdir(mode=0o700)
    db = Database(settings.database_url)
    schema.upgrade(db)
    svc = make_services(db, settings)
    world = World(svc)
    case_id, p = world.case()
    message = world.do(authoring.start_media, p.harmed, case_id, "video")
    clip = _clip(tmp_path / "clip.mp4")
    upload = world.do(uploads.create, p.harmed, message.id, len(clip))
    world.do(uploads.record_part, p.harmed, upload.id, 0, svc.store.put_bytes(clip))
    world.do(authoring.submit, p.harmed, message.id)

    first = _worker(env)
    try:
        deadline = time.monotonic() + 60
        while (_job(svc, message.id).progress or 0) < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert 10 <= (_job(svc, message.id).progress or 0) < 100, "the transcode should be under way"
        live = sorted((tmp_path / "scratch").iterdir())
        assert live, "the job works in its scratch folder"
        # A worker starting now wipes crashed workers' scratch at start-up, not this live one.
        bystander = subprocess.Popen([sys.executable, "-m", "shuttle.cli", "worker"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert b"running" in bystander.stdout.readline()  # type: ignore[union-attr]  # past its wipe
        finally:
            bystander.terminate()
            bystander.wait(timeout=20)
            bystander.stdout.close()  # type: ignore[union-attr]
        assert all(folder.exists() for folder in live), "a starting worker wiped a live job's scratch"
        tools = _children(first.pid)
        assert tools, "ffmpeg should be running"
        os.killpg(first.pid, signal.SIGKILL)  # the worker's group: ffmpeg is in a group of its own
        first.wait(timeout=10)
        deadline = time.monotonic() + 1.0
        while any(_alive(pid) for pid in tools) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(_alive(pid) for pid in tools), "ffmpeg outlived its worker by more than 1 s"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    with svc.db.uow() as uow:
        version = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == message.id)).one()
        assert version.processed_blob_id is None  # nothing half-written was attached
    assert list((tmp_path / "scratch").iterdir()), "the crashed worker left its scratch behind"

    second = _worker(env)  # after the lease expires it takes the job over
    try:
        deadline = time.monotonic() + 240
        while _job(svc, message.id).state != "done" and time.monotonic() < deadline:
            time.sleep(0.5)
        deadline = time.monotonic() + 10  # the job is done; its own scratch goes right after
        while any((tmp_path / "scratch").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.terminate()
        second.wait(timeout=20)
    job = _job(svc, message.id)
    assert job.state == "done" and job.attempts == 2
    with svc.db.uow() as uow:
        assert uow.session.get(Message, message.id).state == "awaiting_review"  # type: ignore[union-attr]
        processed = uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.subject_id == message.id, AuditEvent.action == "message.processed"))
        assert processed == 1  # completed exactly once
        version = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == message.id)).one()
        assert uow.session.get(Blob, version.processed_blob_id) is not None
    assert not any(folder.exists() for folder in live), "the new worker wiped the dead one's plaintext"
    assert not any((tmp_path / "scratch").iterdir()), "and its own once the job was done"
    db.dispose()
