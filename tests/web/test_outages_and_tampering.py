"""An object-store outage is a 503 with Retry-After and a sentence; tampered or truncated
media is a clear 5xx before any body byte, logged as tampering (never a 200 cut short)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from world import TestClient, World

from shuttle.services import Services
from shuttle.web import media
from shuttle.web.app import build_app
from storage.errors import StorageUnavailable

PLAY = os.urandom(300_000)  # stands in for the worker's delivery file (several segments)


def processed_video(svc: Services, world: World, p, case_id: str) -> str:  # type: ignore[no-untyped-def]
    return world.processed_video(p, case_id, PLAY, poster=None)


@pytest.fixture
def staff(sqlite_svc: Services) -> Iterator[tuple[Services, TestClient, str]]:
    svc = sqlite_svc
    world = World(svc)
    case_id, p = world.case()
    message_id = processed_video(svc, world, p, case_id)
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.facilitator) as client:
        yield svc, client, message_id


def _media_file(svc: Services, client: TestClient, message_id: str):  # type: ignore[no-untyped-def]
    blob_id = client.get(f"/api/v1/messages/{message_id}/media", headers={"Range": "bytes=0-0"}).headers["etag"]
    blob_id = blob_id.strip('"')
    [path] = [p for p in svc.settings.blob_dir.rglob(blob_id) if p.is_file()]
    return path


def test_an_object_store_outage_answers_503_with_retry_after_and_a_sentence(
        staff, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    svc, client, message_id = staff

    def down(*_args: object, **_kw: object) -> bytes:
        raise StorageUnavailable("S3 read of 'x' in bucket 'b' failed: connection refused")

    monkeypatch.setattr(svc.store._backend, "read", down)
    for url in (f"/api/v1/messages/{message_id}/media", f"/api/v1/messages/{message_id}"):
        answer = client.get(url)
        if url.endswith("/media"):
            assert answer.status_code == 503, answer.text
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) > 0
            assert answer.json()["error"] == "unavailable"
            assert "try again" in answer.json()["message"] and "bucket" not in answer.text
    page = client.get(f"/staff/messages/{message_id}", headers={"accept": "text/html"})
    assert page.status_code in (200, 503)


@pytest.mark.parametrize("all_at_once", [media.WHOLE_RANGE, 10], ids=["short-ranges-at-once", "streamed"])
@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_media_is_a_clear_5xx_before_any_body_byte(
        staff: tuple[Services, TestClient, str], damage: str, all_at_once: int, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "WHOLE_RANGE", all_at_once)
    svc, client, message_id = staff
    path = _media_file(svc, client, message_id)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[200] ^= 0x01  # inside the first segment: the one a whole-file answer needs first
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(bytes(data[: len(data) // 2]))
    caplog.set_level(logging.WARNING)
    for headers in ({}, {"Range": "bytes=0-99"}, {"Range": "bytes=-100"}):
        answer = client.get(f"/api/v1/messages/{message_id}/media", headers=headers)
        if damage == "flip" and "-100" in headers.get("Range", ""):
            assert answer.status_code == 206 and answer.content == PLAY[-100:]  # its segments are intact
            continue
        assert answer.status_code == 500, (headers, answer.status_code)
        assert answer.json()["error"] == "integrity" and "content-range" not in answer.headers
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "tamper" in logged or "integrity" in logged
    assert "ValueError" not in caplog.text


def test_a_short_range_with_a_damaged_later_segment_is_a_clear_5xx_not_a_206_cut_short(
        staff: tuple[Services, TestClient, str], caplog: pytest.LogCaptureFixture) -> None:
    """A seek's range is decrypted whole before the status line: damage in its third segment is a
    500 with a sentence, where streaming it would have sent a 206 and then cut the connection."""
    svc, client, message_id = staff
    path = _media_file(svc, client, message_id)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # in segment 2 of the five (64 KiB each)
    path.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING)
    answer = client.get(f"/api/v1/messages/{message_id}/media", headers={"Range": "bytes=1000-250000"})
    assert answer.status_code == 500 and answer.json()["error"] == "integrity"
    assert "content-range" not in answer.headers
    assert "integrity" in " ".join(record.getMessage() for record in caplog.records)
    intact = client.get(f"/api/v1/messages/{message_id}/media", headers={"Range": "bytes=1000-2000"})
    assert intact.status_code == 206 and intact.content == PLAY[1000:2001]
