"""Many processes, one service: two `shuttle serve` and two `shuttle worker` processes on
PostgreSQL, with the S3 backend and KMS on moto's server over HTTP (as docker-compose runs it).

A person signed in on one web process is signed in on the other; a letter and a video travel
the whole way with requests alternating between the two; a tus upload started on one resumes
on the other; killing one web process with -9 mid-journey loses nothing."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer
from moto_support import FAKE_CREDENTIALS, REGION, new_kms_client, new_s3_client
from support import need
from world import World

from shuttle import schema
from shuttle.bootstrap import build_services
from shuttle.config import Settings
from shuttle.db import Database

pytestmark = [pytest.mark.postgres, pytest.mark.ffmpeg, pytest.mark.slow]
TUS = {"Tus-Resumable": "1.0.0"}
LETTER = "Dear Sam, I have thought about what happened for a long time."
ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clip(path: Path) -> bytes:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=duration=2", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(path)], check=True)
    return path.read_bytes()


@pytest.fixture
def service(tmp_path: Path, postgres_url: str,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], Any]]:
    """moto (S3 + KMS) in a thread, a migrated PostgreSQL database, and the environment every
    shuttle process of the service shares."""
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"shuttle-many-{uuid.uuid4().hex[:12]}"
    new_s3_client(endpoint).create_bucket(Bucket=bucket)
    key_id = new_kms_client(endpoint).create_key()["KeyMetadata"]["Arn"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHUTTLE_", "AWS_"))}
    env |= {"SHUTTLE_DATA_DIR": str(tmp_path / "data"), "SHUTTLE_SECRET_KEY": "m" * 40,
            "SHUTTLE_DATABASE_URL": postgres_url, "SHUTTLE_BLOB_BACKEND": "s3", "SHUTTLE_S3_BUCKET": bucket,
            "SHUTTLE_S3_ENDPOINT_URL": endpoint, "SHUTTLE_S3_REGION": REGION, "SHUTTLE_KEYRING_KIND": "kms",
            "SHUTTLE_KMS_KEY_ID": key_id, "SHUTTLE_KMS_ENDPOINT_URL": endpoint, "SHUTTLE_IN_PROCESS_WORKER": "false",
            "SHUTTLE_JOB_LEASE_SECONDS": "10", "SHUTTLE_SCRATCH_DIR": str(tmp_path / "scratch"),
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": FAKE_CREDENTIALS["aws_session_token"], "AWS_DEFAULT_REGION": REGION}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, env[name])  # this process builds the same services
    db = Database(postgres_url)
    schema.upgrade(db)
    db.dispose()
    svc = build_services(Settings.from_env(env))
    try:
        yield env, svc
    finally:
        svc.db.dispose()
        moto.stop()


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "shuttle.cli", *args], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} never became ready: {log.read_text()[-2000:]}")


class Person:
    """One person's browser: one cookie jar, any web process (cookies do not depend on the port)."""

    def __init__(self, username: str, password: str, web: str) -> None:
        self.http = httpx.Client(timeout=60)
        answer = self.http.post(f"{web}/api/v1/session", json={"username": username, "password": password})
        assert answer.status_code == 200 and answer.json()["stage"] == "full", answer.text
        self.http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]

    def ok(self, method: str, url: str, status: int = 200, **kw: Any) -> Any:
        answer = self.http.request(method, url, **kw)
        assert answer.status_code == status, (method, url, answer.status_code, answer.text[:500])
        return answer.json() if answer.content and "json" in answer.headers.get("content-type", "") else answer


def _wait_state(person: Person, url: str, wanted: str, seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = person.ok("GET", url)
        if seen["state"] == wanted:
            return seen  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"{url} never reached {wanted}: {seen}")


def test_two_web_and_two_worker_processes_share_one_service(service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env, svc = service
    world = World(svc)
    case_id, p = world.case()
    ports = [_free_port(), _free_port()]
    webs = [f"http://127.0.0.1:{port}" for port in ports]
    procs = []
    try:
        for i, port in enumerate(ports):
            procs.append(_start(["serve", "--port", str(port), "--no-worker"], env, tmp_path / f"web{i}.log"))
        for i in range(2):
            procs.append(_start(["worker"], env, tmp_path / f"worker{i}.log"))
        for i, base in enumerate(webs):
            _wait_healthy(base, procs[i], tmp_path / f"web{i}.log")
        a, b = webs
        _journey(world, p, case_id, a, b, procs[0], tmp_path)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _journey(world: World, p, case_id: str, a: str, b: str, web_a: subprocess.Popen[bytes],  # type: ignore[no-untyped-def]
             tmp_path: Path) -> None:
    people = [Person(world.username(who), world.PASSWORD, web)
              for who, web in ((p.harmed, a), (p.facilitator, b), (p.responsible, a))]
    try:
        _exchange(people, case_id, a, b, web_a, tmp_path)
    finally:
        for person in people:  # (connections to the killed process too: no socket left open)
            person.http.close()


def _exchange(people: list[Person], case_id: str, a: str, b: str, web_a: subprocess.Popen[bytes],
              tmp_path: Path) -> None:
    harmed, staff, responsible = people
    assert harmed.ok("GET", f"{b}/api/v1/me")["role"] == "participant"  # signed in on A, known on B

    # A letter, requests alternating between the two web processes.
    draft = harmed.ok("POST", f"{a}/api/v1/cases/{case_id}/messages", 201, json={"text": "Dear Sam,"})
    saved = harmed.ok("PUT", f"{b}/api/v1/messages/{draft['id']}/draft", json={"text": LETTER,
                                                                               "version": draft["version"]})
    harmed.ok("POST", f"{a}/api/v1/messages/{draft['id']}/actions/submit", json={"version": saved["version"]})

    # A video by tus: started on A, which is killed -9 mid-upload ...
    clip = _clip(tmp_path / "clip.mp4")
    video = harmed.ok("POST", f"{b}/api/v1/cases/{case_id}/messages", 201, json={"kind": "video"})
    meta = f"message_id {base64.b64encode(video['id'].encode()).decode()}"
    created = harmed.ok("POST", f"{a}/api/v1/uploads", 201, headers=TUS | {"Upload-Length": str(len(clip)),
                                                                           "Upload-Metadata": meta})
    upload_url = created.headers["Location"]
    path = upload_url if upload_url.startswith("/") else "/" + upload_url.split("/", 3)[3]
    half = len(clip) // 2
    harmed.ok("PATCH", f"{a}{path}", 204, content=clip[:half], headers=TUS | {
        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    os.killpg(web_a.pid, signal.SIGKILL)
    web_a.wait(timeout=10)

    # ... and resumed on B, from the offset B reads from the shared database.
    offset = int(harmed.http.head(f"{b}{path}", headers=TUS).headers["Upload-Offset"])
    assert offset == half
    harmed.ok("PATCH", f"{b}{path}", 204, content=clip[offset:], headers=TUS | {
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
    view = harmed.ok("GET", f"{b}/api/v1/messages/{video['id']}")
    harmed.ok("POST", f"{b}/api/v1/messages/{video['id']}/actions/submit", json={"version": view["version"]})

    # The workers process both; the facilitator approves both; the recipient receives both.
    for message_id in (draft["id"], video["id"]):
        item = _wait_state(staff, f"{b}/api/v1/messages/{message_id}", "awaiting_review")
        claimed = staff.ok("POST", f"{b}/api/v1/messages/{message_id}/actions/claim", json={"version": item["version"]})
        assert staff.ok("POST", f"{b}/api/v1/messages/{message_id}/actions/approve",
                        json={"version": claimed["version"]})["state"] == "released"
    # The recipient signed in on A before it was killed: that session still works on B.
    assert responsible.ok("POST", f"{b}/api/v1/messages/{draft['id']}/open", json={}) == {"text": LETTER}
    responsible.ok("POST", f"{b}/api/v1/messages/{video['id']}/open", json={})
    played = responsible.http.get(f"{b}/api/v1/messages/{video['id']}/media")
    assert played.status_code == 200 and played.content[4:8] == b"ftyp"
