"""Memory stays flat for a large upload: measured with tracemalloc, not timed.

A 200 MiB body generated on the fly goes through the real PUT endpoint of a live server
(in this process, so tracemalloc sees the server's allocations as well as the client's);
the Python heap's peak stays at a few batches, nowhere near the body's size, and the
stored object decrypts to exactly the bytes sent.
"""

from __future__ import annotations

import hashlib
import random
import tracemalloc
from collections.abc import Iterator

import httpx
from support import serve_in_thread
from world import World

from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.uploads import service as uploads
from shuttle.web.app import build_app

MiB = 1024 * 1024
SIZE = 200 * MiB
BOUND = 32 * MiB  # a few 1 MiB batches and segment buffers; the body is 200 MiB


def _generated(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """`size` pseudo-random bytes in 1 MiB chunks (each new), hashed as they are sent; they begin
    like an MP4 file, as an upload must (shuttle/uploads/sniff.py)."""
    rng = random.Random(2026)
    sent = 0
    while sent < size:
        chunk = rng.randbytes(min(MiB, size - sent))
        if sent == 0:
            chunk = b"\x00\x00\x00\x18ftypisom" + chunk[12:]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk


def test_a_large_upload_keeps_the_heap_flat_and_arrives_whole(sqlite_svc: Services) -> None:
    svc = sqlite_svc
    world = World(svc)
    case_id, p = world.case()
    message_id = world.do(authoring.start_media, p.harmed, case_id, "video").id
    base, stop = serve_in_thread(build_app(svc, check_schema=False))
    sent = hashlib.sha256()
    try:
        with httpx.Client(base_url=f"{base}/api/v1", timeout=120) as client:
            answer = client.post("/session", json={"username": world.username(p.harmed), "password": World.PASSWORD})
            client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
            tracemalloc.start()
            try:
                answer = client.put(f"/messages/{message_id}/media", content=_generated(SIZE, sent),
                                    headers={"Content-Length": str(SIZE), "Content-Type": "video/mp4"})
                current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        stop()
    assert answer.status_code == 201, answer.text
    assert answer.json()["size"] == SIZE
    assert peak < BOUND, f"heap peak {peak / MiB:.1f} MiB for a {SIZE // MiB} MiB upload"
    assert current < BOUND

    stored = hashlib.sha256()
    with svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None and message.draft_upload_id is not None
        for chunk in uploads.read(uow.session, svc.store, message.draft_upload_id):
            stored.update(chunk)
    assert stored.hexdigest() == sent.hexdigest()
