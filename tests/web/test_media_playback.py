"""Processed media is served with HTTP Range to those who may see it, decrypting only
what a range covers; nothing is shown to the recipient before they choose to open it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from world import TestClient, World

from shuttle.messages import review
from shuttle.services import Services
from shuttle.web import media
from shuttle.web.app import build_app

PLAY = os.urandom(700_000)  # stands in for the worker's delivery file
POSTER = os.urandom(5_000)


def _processed_video(svc: Services, world: World, p, case_id: str) -> str:  # type: ignore[no-untyped-def]
    return world.processed_video(p, case_id, PLAY, poster=POSTER, report='{"flags": [], "removed": ["gps"]}')


@pytest.fixture
def played(svc: Services) -> Iterator[tuple[Services, World, object, str, TestClient, TestClient]]:
    world = World(svc)
    case_id, p = world.case()
    message_id = _processed_video(svc, world, p, case_id)
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.facilitator) as staff, world.sign_in(app, p.responsible) as recipient:
        yield svc, world, p, message_id, staff, recipient


@pytest.mark.parametrize("all_at_once", [media.WHOLE_RANGE, 1000], ids=["short-ranges-at-once", "streamed"])
def test_ranges_are_served_exactly(played, all_at_once: int, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The same answers whether a range is read at once (up to WHOLE_RANGE) or streamed."""
    monkeypatch.setattr(media, "WHOLE_RANGE", all_at_once)
    _, _, _, message_id, staff, _ = played
    url = f"/api/v1/messages/{message_id}/media"
    whole = staff.get(url)
    assert whole.status_code == 200 and whole.content == PLAY and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(PLAY)) and whole.headers["content-type"] == "video/mp4"
    middle = staff.get(url, headers={"Range": "bytes=100000-299999"})  # several segments, neither end on one
    assert middle.status_code == 206 and middle.content == PLAY[100000:300000]
    assert middle.headers["content-length"] == "200000"
    part = staff.get(url, headers={"Range": "bytes=630000-631048"})
    assert part.status_code == 206 and part.content == PLAY[630000:631049]
    assert part.headers["content-range"] == f"bytes 630000-631048/{len(PLAY)}"
    assert part.headers["content-length"] == "1049"
    tail = staff.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == PLAY[-10:]
    bad = staff.get(url, headers={"Range": f"bytes={len(PLAY)}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(PLAY)}"
    several = staff.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and several.content == PLAY
    etag = whole.headers["etag"]
    assert staff.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    assert staff.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'}).status_code == 200
    poster = staff.get(f"/api/v1/messages/{message_id}/poster")
    assert poster.content == POSTER and poster.headers["content-type"] == "image/jpeg"


def test_recipient_gets_media_only_after_approval_and_opening(played) -> None:  # type: ignore[no-untyped-def]
    svc, world, p, message_id, staff, recipient = played
    url = f"/api/v1/messages/{message_id}/media"
    assert recipient.get(url).status_code == 404
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    assert recipient.get(url).status_code == 404  # released, but not opened yet
    opened = recipient.post(f"/api/v1/messages/{message_id}/open", json={})
    assert opened.status_code == 200, opened.text
    part = recipient.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == PLAY[100:200]
    assert recipient.get(f"/api/v1/messages/{message_id}/media?version=whatever").content[:100] == PLAY[:100]


def test_only_the_segments_a_range_covers_are_read(played) -> None:  # type: ignore[no-untyped-def]
    svc, _, _, message_id, staff, _ = played
    backend = svc.store._backend  # noqa: SLF001  (the test watches what is read from storage)
    reads: list[tuple[int, int]] = []
    original, original_into = backend.read, backend.read_into

    def counting(object_id: str, offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return original(object_id, offset, length)

    def counting_into(object_id: str, offset: int, buffer: memoryview) -> int:  # a short range's one read
        reads.append((offset, len(buffer)))
        return int(original_into(object_id, offset, buffer))

    backend.read, backend.read_into = counting, counting_into
    try:
        part = staff.get(f"/api/v1/messages/{message_id}/media", headers={"Range": "bytes=600000-600099"})
    finally:
        backend.read, backend.read_into = original, original_into
    assert part.status_code == 206 and part.content == PLAY[600000:600100]
    assert sum(length for _, length in reads) < 3 * 65_600  # header + one or two segments, not 700 kB
