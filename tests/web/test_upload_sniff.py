"""A file that is not a recording or picture is refused as its first bytes arrive (415, with a
reason), nothing of it is kept; and the web's early check agrees with the worker's sniffing."""

from __future__ import annotations

import base64
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from world import World

from shuttle.blobs import Blob
from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.uploads import sniff
from shuttle.uploads.models import Upload, UploadPart
from shuttle.web.app import build_app
from workers.media import sniff as worker_sniff
from workers.media.errors import MediaRefused

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = {"Content-Type": "application/offset+octet-stream"}
MP4_HEAD = struct.pack(">I4s4s", 24, b"ftyp", b"isom") + b"\0" * 12
ADTS = bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC])
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64])
LETTER = b"Dear Sam,\nThis is a text file that was chosen by mistake.\n" * 20


def _id3(size: int) -> bytes:
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + b"\0" * size


SAMPLES = [
    MP4_HEAD, struct.pack(">I4s4s", 24, b"ftyp", b"qt  ") + b"\0" * 12, struct.pack(">I4s", 8, b"wide") + b"\0" * 8,
    b"\x1a\x45\xdf\xa3" + b"\0" * 20, b"OggS\x00\x02" + b"\0" * 20, b"RIFF\x24\x00\x00\x00WAVEfmt ",
    b"RIFF\x24\x00\x00\x00WEBPVP8 ", b"fLaC\x00\x00\x00\x22", ADTS, MP3_FRAME, b"\xff\xd8\xff\xe0\x00\x10JFIF",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", _id3(100) + MP3_FRAME, _id3(100) + b"fLaC\0\0\0\x22",
    _id3(100) + b"x" * 20,
    b"#EXTM3U\n#EXTINF:10,\n/etc/passwd\n", b"ffconcat version 1.0\nfile '/etc/passwd'\n", b"v=0\no=- 0 0 IN IP4 1\n",
    b"RIFF\x24\x00\x00\x00AVI LIST", LETTER, b"GIF89a\x01\x00\x01\x00", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\0" * 20,
    b"PK\x03\x04\x14\x00\x06\x00" + b"\0" * 30, struct.pack(">I4s4s", 24, b"ftyp", b"heic") + b"\0" * 12,
    b"\x00\x01\x02\x03" * 100, b"{\"not\": \"media\"}",
]


def _worker_says(content: bytes) -> str | None:
    """The worker's verdict on a whole file: None if it accepts it, else its reason."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        path.write_bytes(content)
        try:
            worker_sniff.sniff_file(path)
        except MediaRefused as refused:
            return refused.reason
    return None


@pytest.mark.parametrize("content", SAMPLES)
def test_the_web_and_the_worker_agree_on_whole_files(content: bytes) -> None:
    assert sniff.refusal(content[:sniff.HEAD_BYTES], whole=len(content) <= sniff.HEAD_BYTES) == _worker_says(content)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=40), st.sampled_from(SAMPLES).flatmap(
    lambda s: st.integers(0, len(s)).map(lambda n: s[:n]))))
def test_the_web_and_the_worker_agree_on_any_small_file(content: bytes) -> None:
    assert sniff.refusal(content, whole=True) == _worker_says(content)


def test_a_first_piece_refuses_only_what_the_worker_would_refuse() -> None:
    """A piece that is not the whole file: undecided when it cannot tell, never refusing media."""
    long_tag = _id3(100_000) + MP3_FRAME + b"\0" * 64  # the audio lies past the first piece
    assert _worker_says(long_tag) is None
    assert sniff.refusal(long_tag[:sniff.HEAD_BYTES], whole=False) is None
    assert sniff.refusal(b"abc", whole=False) is None  # too short to tell: the next bytes will
    for content in SAMPLES:
        verdict = sniff.refusal(content[:sniff.MIN_BYTES], whole=False)
        if _worker_says(content) is None:
            assert verdict is None, content


# --- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def author(sqlite_svc: Services) -> Any:
    world = World(sqlite_svc)
    case_id, p = world.case()
    message = world.do(authoring.start_media, p.harmed, case_id, "video")
    with world.sign_in(build_app(sqlite_svc, check_schema=False), p.harmed) as client:
        yield sqlite_svc, client, message.id


def _kept(svc: Services, message_id: str) -> tuple[int, int, str | None]:
    """Upload parts and blobs stored, and the draft's upload: what a refused file must not leave."""
    with svc.db.uow() as uow:
        parts = uow.session.scalar(select(func.count()).select_from(UploadPart))
        blobs = uow.session.scalar(select(func.count()).select_from(Blob).where(Blob.wrapped_key.is_not(None)))
        message = uow.session.get(Message, message_id)
        assert message is not None
        return int(parts or 0), int(blobs or 0), message.draft_upload_id


def _meta(message_id: str) -> str:
    return f"message_id {base64.b64encode(message_id.encode()).decode()}"


def test_a_text_file_is_refused_at_its_first_piece_and_nothing_is_kept(author: Any) -> None:
    svc, client, message_id = author
    before = _kept(svc, message_id)
    created = client.post("/api/v1/uploads", headers=TUS | {"Upload-Length": str(len(LETTER) * 50),
                                                           "Upload-Metadata": _meta(message_id)})
    assert created.status_code == 201
    url = created.headers["Location"]
    refused = client.patch(url, content=LETTER, headers=TUS | OFFSET | {"Upload-Offset": "0"})
    assert refused.status_code == 415
    assert refused.json() == {"error": "not_media", "message": "This is a text file, not a recording or picture; "
                              "we accept MP4/MOV, WebM/MKV, Ogg, WAV, MP3, FLAC, AAC, JPEG, PNG or WebP."}
    assert _kept(svc, message_id) == before and before[2] is None
    assert client.head(url, headers=TUS).status_code == 410  # ended: the next file starts a new upload
    with svc.db.uow() as uow:
        assert uow.session.scalar(select(Upload.state)) == "terminated"
    view = client.get(f"/api/v1/messages/{message_id}").json()
    sent = client.post(f"/api/v1/messages/{message_id}/actions/submit", json={"version": view["version"]})
    assert sent.status_code == 400 and view["state"] == "draft"  # nothing to send: never said "sent"


def test_creation_with_upload_and_a_plain_put_refuse_documents(author: Any) -> None:
    svc, client, message_id = author
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\0" * 5000
    refused = client.post("/api/v1/uploads", content=pdf, headers=TUS | OFFSET | {
        "Upload-Length": str(len(pdf)), "Upload-Metadata": _meta(message_id)})
    assert refused.status_code == 415 and "not a recording or picture" in refused.json()["message"]
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    put = client.put(f"/api/v1/messages/{message_id}/media", content=playlist)
    assert put.status_code == 415 and "playlist" in put.json()["message"]
    assert _kept(svc, message_id) == (0, 0, None)


def test_media_still_goes_through_in_any_pieces(author: Any) -> None:
    svc, client, message_id = author
    video = MP4_HEAD + bytes(range(256)) * 40
    created = client.post("/api/v1/uploads", headers=TUS | {"Upload-Length": str(len(video)),
                                                           "Upload-Metadata": _meta(message_id)})
    url = created.headers["Location"]
    assert client.patch(url, content=video[:5], headers=TUS | OFFSET | {"Upload-Offset": "0"}).status_code == 204
    assert client.patch(url, content=video[5:], headers=TUS | OFFSET | {"Upload-Offset": "5"}).status_code == 204
    assert _kept(svc, message_id)[2] is not None
    put = client.put(f"/api/v1/messages/{message_id}/media", content=video)
    assert put.status_code == 201
