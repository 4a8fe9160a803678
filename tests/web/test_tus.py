"""Resumable uploads (tus 1.0): cut connections resume from the server's offset, every
byte arrives encrypted, and a finished upload becomes the draft's content."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlparse

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from support import serve_in_thread
from world import World

from shuttle.accounts import service as accounts
from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.uploads import service as uploads
from shuttle.web.app import build_app

TUS = {"Tus-Resumable": "1.0.0"}
#: An upload must start like a recording or picture (shuttle/uploads/sniff.py): an MP4 header.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12


def _video(size: int) -> bytes:
    """`size` random bytes that begin like an MP4 file."""
    return MP4_HEAD + os.urandom(size - len(MP4_HEAD))


def _client(base: str, svc: Services, username: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{base}/api/v1")
    answer = client.post("/session", json={"username": username, "password": "a long pass phrase"}).json()
    client.headers["X-CSRF-Token"] = answer["csrf_token"]
    return client


@pytest.fixture
def setup(sqlite_svc: Services) -> Iterator[tuple[Services, str, httpx.Client, httpx.Client, str, str]]:
    svc = sqlite_svc
    world = World(svc)
    case_id, p = world.case()
    with svc.db.uow() as uow:
        for actor in (p.harmed, p.responsible):
            account = uow.session.get(accounts.Account, actor.account_id)
            account.password_hash = svc.passwords.hash("a long pass phrase")
        uow.commit()
    message = world.do(authoring.start_media, p.harmed, case_id, "video")
    base, stop = serve_in_thread(build_app(svc, check_schema=False))
    harmed = _client(base, svc, f"jessica{1}")
    other = _client(base, svc, f"sam{1}")
    yield svc, base, harmed, other, message.id, case_id
    harmed.close()
    other.close()
    stop()


def _create(client: httpx.Client, message_id: str, length: int) -> str:
    meta = (f"message_id {base64.b64encode(message_id.encode()).decode()},"
            f"filename {base64.b64encode(b'IMG_0042 at home.mov').decode()}")
    answer = client.post("/uploads", headers=TUS | {"Upload-Length": str(length), "Upload-Metadata": meta})
    assert answer.status_code == 201, answer.text
    return answer.headers["Location"].rsplit("/", 1)[1]


def _offset(client: httpx.Client, upload_id: str) -> int:
    answer = client.head(f"/uploads/{upload_id}", headers=TUS)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    return int(answer.headers["Upload-Offset"])


def _patch(client: httpx.Client, upload_id: str, offset: int, data: bytes, **headers: str) -> httpx.Response:
    return client.patch(f"/uploads/{upload_id}", content=data, headers=TUS | {
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **headers})


def _cut_patch(base: str, client: httpx.Client, upload_id: str, offset: int, data: bytes, sent: int) -> None:
    """Announce the whole rest, send only `sent` bytes, then drop the connection."""
    url = urlparse(base)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: {url.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(data)}\r\nX-CSRF-Token: {client.headers['X-CSRF-Token']}\r\n"
            f"Cookie: {cookie}\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head + data[:sent])
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1024)  # the server notices the cut and answers or closes


def _resume(client: httpx.Client, upload_id: str, data: bytes) -> None:
    """What a tus client does after a cut: ask for the offset, send the rest; on 409 (the cut
    request was still being recorded) ask again."""
    for _ in range(20):
        offset = _offset(client, upload_id)
        if offset == len(data):
            return
        answer = _patch(client, upload_id, offset, data[offset:])
        if answer.status_code == 204:
            assert int(answer.headers["Upload-Offset"]) == len(data)
            return
        assert answer.status_code == 409, answer.text
        time.sleep(0.05)
    raise AssertionError("the upload never completed")


def _stored(svc: Services, message_id: str) -> bytes:
    with svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None and message.draft_upload_id is not None
        return b"".join(uploads.read(uow.session, svc.store, message.draft_upload_id))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3))
def test_an_upload_cut_at_any_byte_resumes_from_the_servers_offset(setup, cuts: list[float]) -> None:  # type: ignore[no-untyped-def]
    svc, base, harmed, _, message_id, _ = setup
    data = _video(300_000)
    upload_id = _create(harmed, message_id, len(data))
    for cut in cuts:
        offset = _offset(harmed, upload_id)
        _cut_patch(base, harmed, upload_id, offset, data[offset:], int(cut * (len(data) - offset)))
    _resume(harmed, upload_id, data)
    assert _stored(svc, message_id) == data
    for path in svc.settings.blob_dir.rglob("*"):
        if path.is_file():
            assert data[1000:1064] not in path.read_bytes()  # encrypted as it arrived


def test_wrong_offset_is_409_and_a_bad_checksum_is_460(setup) -> None:  # type: ignore[no-untyped-def]
    _, _, harmed, _, message_id, _ = setup
    upload_id = _create(harmed, message_id, 10)
    assert _patch(harmed, upload_id, 3, b"abc").status_code == 409
    wrong = base64.b64encode(hashlib.sha1(b"xyz").digest()).decode()
    assert _patch(harmed, upload_id, 0, b"abc", **{"Upload-Checksum": f"sha1 {wrong}"}).status_code == 460
    assert _offset(harmed, upload_id) == 0
    right = base64.b64encode(hashlib.sha1(b"abc").digest()).decode()
    assert _patch(harmed, upload_id, 0, b"abc", **{"Upload-Checksum": f"sha1 {right}"}).status_code == 204
    assert _offset(harmed, upload_id) == 3
    assert _patch(harmed, upload_id, 3, b"0123456789").status_code == 413  # more than announced
    assert _offset(harmed, upload_id) == 3


def test_protocol_errors_are_clear(setup) -> None:  # type: ignore[no-untyped-def]
    _, _, harmed, other, message_id, _ = setup
    options = harmed.options("/uploads")
    assert options.status_code == 204 and "checksum" in options.headers["Tus-Extension"]
    assert harmed.post("/uploads", headers={"Upload-Length": "5"}).status_code == 412
    meta = f"message_id {base64.b64encode(message_id.encode()).decode()}"
    too_big = harmed.post("/uploads", headers=TUS | {"Upload-Length": str(2**40), "Upload-Metadata": meta})
    assert too_big.status_code == 413 and "MiB" in too_big.json()["message"]
    upload_id = _create(harmed, message_id, 10)
    assert harmed.patch(f"/uploads/{upload_id}", content=b"x", headers=TUS | {"Upload-Offset": "0"}).status_code == 415
    # the other side, or a guessed id, learns nothing
    assert other.head(f"/uploads/{upload_id}", headers=TUS).status_code == 404
    assert harmed.head(f"/uploads/{'0' * 32}", headers=TUS).status_code == 404
    assert other.post("/uploads", headers=TUS | {"Upload-Length": "5", "Upload-Metadata": meta}).status_code == 404


def test_creation_with_upload_and_termination(setup) -> None:  # type: ignore[no-untyped-def]
    svc, _, harmed, _, message_id, _ = setup
    meta = f"message_id {base64.b64encode(message_id.encode()).decode()}"
    answer = harmed.post("/uploads", content=MP4_HEAD, headers=TUS | {
        "Upload-Length": str(len(MP4_HEAD)), "Upload-Metadata": meta,
        "Content-Type": "application/offset+octet-stream"})
    assert answer.status_code == 201 and answer.headers["Upload-Offset"] == str(len(MP4_HEAD))
    assert _stored(svc, message_id) == MP4_HEAD
    upload_id = answer.headers["Location"].rsplit("/", 1)[1]
    assert harmed.delete(f"/uploads/{upload_id}", headers=TUS).status_code == 204
    assert harmed.head(f"/uploads/{upload_id}", headers=TUS).status_code == 410
    with svc.db.uow() as uow:
        assert uow.session.get(Message, message_id).draft_upload_id is None  # type: ignore[union-attr]


def test_abandoned_uploads_expire_and_are_destroyed(setup) -> None:  # type: ignore[no-untyped-def]
    svc, _, harmed, _, message_id, _ = setup
    upload_id = _create(harmed, message_id, 10)
    assert _patch(harmed, upload_id, 0, b"abc").status_code == 204
    with svc.db.uow() as uow:
        assert uploads.expire(uow.session, svc, now=svc.now() + timedelta(hours=25)) == 1
        uow.commit()
    assert harmed.head(f"/uploads/{upload_id}", headers=TUS).status_code == 410
    with svc.db.uow() as uow, pytest.raises(LookupError):
        list(uploads.read(uow.session, svc.store, upload_id))


def test_a_finished_upload_is_submitted_as_the_message(setup) -> None:  # type: ignore[no-untyped-def]
    svc, _, harmed, _, message_id, _ = setup
    answer = harmed.put(f"/messages/{message_id}/media", content=MP4_HEAD + b"not really a video")
    assert answer.status_code == 201, answer.text
    view = harmed.get(f"/messages/{message_id}").json()
    sent = harmed.post(f"/messages/{message_id}/actions/submit", json={"version": view["version"]})
    assert sent.status_code == 200 and sent.json()["state"] == "submitted"
    assert "IMG_0042" not in str(sent.json())


def test_what_arrived_before_a_cut_is_kept(setup) -> None:  # type: ignore[no-untyped-def]
    svc, base, harmed, _, message_id, _ = setup
    data = _video(200_000)
    upload_id = _create(harmed, message_id, len(data))
    _cut_patch(base, harmed, upload_id, 0, data, 80_000)
    for _ in range(50):  # the server records what arrived once it notices the cut
        if _offset(harmed, upload_id):
            break
        time.sleep(0.02)
    assert 0 < _offset(harmed, upload_id) <= 80_000
    _resume(harmed, upload_id, data)
    assert _stored(svc, message_id) == data


def test_a_refused_concurrent_piece_leaves_no_ciphertext_behind(setup) -> None:  # type: ignore[no-untyped-def]
    """Two PATCHes at the same offset: the slower one is refused (409) and its encrypted part
    is removed at once, not left for the sweeper's hour of grace."""
    from shuttle.blobs import Blob

    svc, base, harmed, _, message_id, _ = setup
    data = _video(200_000)
    upload_id = _create(harmed, message_id, len(data))
    url = urlparse(base)
    cookie = "; ".join(f"{k}={v}" for k, v in harmed.cookies.items())
    head = (f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: {url.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(data)}\r\nX-CSRF-Token: {harmed.headers['X-CSRF-Token']}\r\n"
            f"Cookie: {cookie}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port)) as slow:
        slow.sendall(head + data[:100_000])  # the slow request is under way at offset 0 ...
        time.sleep(0.3)
        assert _patch(harmed, upload_id, 0, data).status_code == 204  # ... the fast one wins
        slow.sendall(data[100_000:])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 409"), answer[:200]
    with svc.db.uow() as uow:
        known = set(uow.session.scalars(select(Blob.id)))
    stored = {object_id for object_id, _ in svc.store.list_ids()}
    assert stored <= known, "the refused piece's ciphertext is still stored"


def _create_deferred(client: httpx.Client, message_id: str, first: bytes = b"") -> httpx.Response:
    meta = f"message_id {base64.b64encode(message_id.encode()).decode()}"
    extra = {"Content-Type": "application/offset+octet-stream"} if first else {}
    return client.post("/uploads", content=first, headers=TUS | {
        "Upload-Defer-Length": "1", "Upload-Metadata": meta, **extra})


def test_a_recording_of_unknown_length_is_sent_while_it_is_made(setup) -> None:  # type: ignore[no-untyped-def]
    """creation-defer-length: pieces go up before the size is known; the last PATCH tells it."""
    svc, _, harmed, _, message_id, _ = setup
    assert "creation-defer-length" in harmed.options("/uploads").headers["Tus-Extension"]
    data = _video(30_000)
    answer = _create_deferred(harmed, message_id, data[:10_000])  # creation-with-upload, deferred
    assert answer.status_code == 201, answer.text
    assert answer.headers["Upload-Defer-Length"] == "1" and "Upload-Length" not in answer.headers
    upload_id = answer.headers["Location"].rsplit("/", 1)[1]
    piece = _patch(harmed, upload_id, 10_000, data[10_000:20_000])
    assert piece.status_code == 204 and piece.headers["Upload-Defer-Length"] == "1"
    head = harmed.head(f"/uploads/{upload_id}", headers=TUS)
    assert head.headers["Upload-Offset"] == "20000" and head.headers["Upload-Defer-Length"] == "1"
    assert "Upload-Length" not in head.headers
    with svc.db.uow() as uow:  # not the draft's content until it is whole
        assert uow.session.get(Message, message_id).draft_upload_id is None  # type: ignore[union-attr]
    last = _patch(harmed, upload_id, 20_000, data[20_000:], **{"Upload-Length": str(len(data))})
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Length"] == str(len(data)) and "Upload-Defer-Length" not in last.headers
    assert _stored(svc, message_id) == data
    # the length is told once: again (even the same) on a complete upload is refused
    assert _patch(harmed, upload_id, len(data), b"", **{"Upload-Length": str(len(data))}).status_code == 409


def test_a_deferred_length_can_be_told_by_an_empty_last_patch(setup) -> None:  # type: ignore[no-untyped-def]
    svc, _, harmed, _, message_id, _ = setup
    data = _video(5_000)
    upload_id = _create_deferred(harmed, message_id).headers["Location"].rsplit("/", 1)[1]
    assert _patch(harmed, upload_id, 0, data).status_code == 204
    with svc.db.uow() as uow:
        assert uow.session.get(Message, message_id).draft_upload_id is None  # type: ignore[union-attr]
    done = _patch(harmed, upload_id, len(data), b"", **{"Upload-Length": str(len(data))})
    assert done.status_code == 204 and done.headers["Upload-Length"] == str(len(data))
    assert _stored(svc, message_id) == data
    from shuttle.blobs import Blob

    with svc.db.uow() as uow:
        known = set(uow.session.scalars(select(Blob.id)))
    stored = {object_id for object_id, _ in svc.store.list_ids()}
    assert stored <= known, "the empty PATCH left an empty object behind"


def test_deferred_length_refusals(setup) -> None:  # type: ignore[no-untyped-def]
    _, _, harmed, _, message_id, _ = setup
    meta = f"message_id {base64.b64encode(message_id.encode()).decode()}"
    both = harmed.post("/uploads", headers=TUS | {"Upload-Defer-Length": "1", "Upload-Length": "5",
                                                  "Upload-Metadata": meta})
    assert both.status_code == 400
    two = harmed.post("/uploads", headers=TUS | {"Upload-Defer-Length": "2", "Upload-Metadata": meta})
    assert two.status_code == 400
    assert harmed.post("/uploads", headers=TUS | {"Upload-Metadata": meta}).status_code == 400  # neither
    data = _video(4_000)
    upload_id = _create_deferred(harmed, message_id).headers["Location"].rsplit("/", 1)[1]
    assert _patch(harmed, upload_id, 0, data).status_code == 204
    # shorter than what the server holds; more than the limit; not a number
    assert _patch(harmed, upload_id, 4_000, b"", **{"Upload-Length": "3999"}).status_code == 409
    assert _patch(harmed, upload_id, 4_000, b"", **{"Upload-Length": str(2**40)}).status_code == 413
    assert _patch(harmed, upload_id, 4_000, b"", **{"Upload-Length": "-1"}).status_code == 400
    head = harmed.head(f"/uploads/{upload_id}", headers=TUS)
    assert head.headers["Upload-Defer-Length"] == "1" and head.headers["Upload-Offset"] == "4000"
    # a piece longer than the length it tells is refused, and the length then stands
    assert _patch(harmed, upload_id, 4_000, b"x" * 100, **{"Upload-Length": "4050"}).status_code == 413
    assert _offset(harmed, upload_id) == 4_000
    head = harmed.head(f"/uploads/{upload_id}", headers=TUS)
    assert head.headers["Upload-Length"] == "4050"
    # once set, a different length is refused
    assert _patch(harmed, upload_id, 4_000, b"x" * 50, **{"Upload-Length": "4060"}).status_code == 409
    assert _patch(harmed, upload_id, 4_000, b"x" * 50, **{"Upload-Length": "4050"}).status_code == 204
    # an upload made with a length cannot be told another
    fixed = _create(harmed, message_id, 10)
    assert _patch(harmed, fixed, 0, b"abc", **{"Upload-Length": "11"}).status_code == 409
    assert _offset(harmed, fixed) == 0
