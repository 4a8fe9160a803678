"""Helpers the tests share (importable as `support`; conftest files only hold fixtures)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import event
from starlette.types import ASGIApp

from shuttle.accounts.passwords import PasswordPolicy
from shuttle.config import Settings
from shuttle.db import Database
from shuttle.jobs import queue
from shuttle.jobs.models import Job
from shuttle.services import Services
from storage.backends.local import LocalBackend
from storage.keyring import LocalKeyring
from storage.store import BlobStore

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip locally when a tool or service is missing; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def voice_clip(path: Path, seconds: int = 2) -> bytes:
    """A short AAC tone made by the real ffmpeg at `path` (a recording's stand-in); its bytes."""
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
                    "-c:a", "aac", str(path)], check=True)
    return path.read_bytes()


def make_services(db: Database, settings: Settings) -> Services:
    """The services as the composition root builds them, with cheap password hashing."""
    store = BlobStore(LocalBackend(settings.blob_dir), LocalKeyring.open_or_create(settings.keyring_path))
    return Services(settings=settings.with_(database_url=db.url), db=db, store=store,
                    passwords=PasswordPolicy.for_tests())


def enqueue_job(db: Database, kind: str = "process_version", payload: dict[str, Any] | None = None,
                **kw: Any) -> str:
    """A job in the queue, committed in a unit of work of its own; its id."""
    with db.uow() as uow:
        job = queue.enqueue(uow.session, kind, payload or {}, **kw)
        uow.commit()
        return job.id


def job_row(db: Database, job_id: str) -> Job:
    """The job's row as it is now, readable after its unit of work has closed."""
    with db.uow() as uow:
        job = queue.get(uow.session, job_id)
        assert job is not None
        uow.session.expunge(job)
        return job


def serve_in_thread(app: ASGIApp) -> tuple[str, Callable[[], None]]:
    """Start uvicorn on a free loopback port; returns the base URL and a stop function."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


class Clock:
    """A clock a test moves by hand: `svc.clock = Clock(start)`, then `clock.now += timedelta(...)`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def statements_of(svc: Services, *, ignoring: re.Pattern[str]) -> Iterator[list[str]]:
    """The SQL statements run on `svc`'s engine inside the block, but those `ignoring` matches."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not ignoring.match(statement):
            statements.append(statement)

    event.listen(svc.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", count)
