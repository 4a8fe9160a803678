"""A video and a photographed letter through the whole flow, with the real ffmpeg:
upload -> worker (re-encode, scrub, verify) -> review -> approval -> the recipient plays it."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from support import need
from world import World

from shuttle.messages import review
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app

pytestmark = pytest.mark.ffmpeg
PLANTED = ("Jessica's iPhone", "51.5074", "Elm Street 12", "RJ-secret-title")


def _phone_video(path: Path) -> bytes:
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    subprocess.run([
        "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-metadata", f"title={PLANTED[3]}", "-metadata", f"comment={PLANTED[0]}",
        "-metadata", f"location=+{PLANTED[1]}-000.1278/", "-metadata", f"artist={PLANTED[2]}",
        "-movflags", "use_metadata_tags", str(path)], check=True)
    return path.read_bytes()


def _photo() -> bytes:
    image = Image.new("RGB", (400, 300), "white")
    exif = Image.Exif()
    exif[0x013B] = PLANTED[0]  # Artist
    exif[0x010E] = PLANTED[2]  # ImageDescription
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _through_review(svc: Services, world: World, p, case_id: str, kind: str, data: bytes) -> str:  # type: ignore[no-untyped-def]
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": kind}).json()
        assert author.put(f"/api/v1/messages/{message['id']}/media", content=data).status_code == 201
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        assert author.post(f"/api/v1/messages/{message['id']}/actions/submit",
                           json={"version": view["version"]}).status_code == 200
    assert world.run_jobs() == 1
    with svc.db.uow() as uow:
        state = uow.session.get(Message, message["id"]).state  # type: ignore[union-attr]
    assert state == "awaiting_review"
    world.do(review.claim, p.facilitator, message["id"])
    seen = world.do(review.read_version, p.facilitator, message["id"])
    assert seen["removed"], "the scrubber reports what it removed"
    world.do(review.approve, p.facilitator, message["id"])
    return str(message["id"])


def _assert_clean(data: bytes) -> None:
    for planted in PLANTED:
        assert planted.encode() not in data, planted


def test_a_phone_video_reaches_the_recipient_re_encoded_and_scrubbed(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    message_id = _through_review(svc, world, p, case_id, "video", _phone_video(tmp_path / "phone.mp4"))
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.responsible) as recipient:
        assert recipient.get(f"/api/v1/messages/{message_id}/media").status_code == 404  # not opened yet
        links = recipient.post(f"/api/v1/messages/{message_id}/open", json={}).json()
        whole = recipient.get(links["media"])
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        assert whole.content[4:8] == b"ftyp"
        _assert_clean(whole.content)
        assert b"Lavf" not in whole.content and b"x264 - core" not in whole.content
        part = recipient.get(links["media"], headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == whole.content[1000:2000]
        poster = recipient.get(links["poster"])
        assert poster.content[:3] == b"\xff\xd8\xff"
        _assert_clean(poster.content)


def test_a_photographed_letter_loses_its_exif(svc: Services) -> None:
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    world = World(svc)
    case_id, p = world.case()
    message_id = _through_review(svc, world, p, case_id, "image", _photo())
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.responsible) as recipient:
        links = recipient.post(f"/api/v1/messages/{message_id}/open", json={}).json()
        image = recipient.get(links["media"]).content
    _assert_clean(image)
    assert not Image.open(io.BytesIO(image)).getexif()


def test_a_playlist_disguised_as_video_is_refused_with_a_reason(svc: Services) -> None:
    """Refused as its first bytes arrive (shuttle/uploads/sniff.py), before anything is sent; the
    worker's own refusal of playlists is tested in tests/workers/media (test_sniff, test_hostile)."""
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": "video"}).json()
        refused = author.put(f"/api/v1/messages/{message['id']}/media", content=playlist)
        assert refused.status_code == 415
        assert "playlist" in refused.json()["message"] and "root:" not in refused.text  # a reason, never the file
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        sent = author.post(f"/api/v1/messages/{message['id']}/actions/submit", json={"version": view["version"]})
        mine = author.get(f"/api/v1/messages/{message['id']}").json()
    assert sent.status_code == 400 and mine["state"] == "draft"  # nothing to send: the author may choose another file
    assert "edit_draft" in mine["actions"]


def test_a_facilitators_cut_becomes_a_new_version_the_author_accepts(svc: Services, tmp_path: Path) -> None:
    from sqlalchemy import select

    from shuttle.messages.models import MessageVersion

    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    data = _phone_video(tmp_path / "phone.mp4")
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": "video"}).json()
        author.put(f"/api/v1/messages/{message['id']}/media", content=data)
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        author.post(f"/api/v1/messages/{message['id']}/actions/submit", json={"version": view["version"]})
    world.run_jobs()
    world.do(review.claim, p.facilitator, message["id"])
    with pytest.raises(Exception, match="overlap"):
        world.do(review.propose_media_edit, p.facilitator, message["id"],
                 edits={"cuts": [{"start": 0.2, "end": 0.8}, {"start": 0.5, "end": 1.0}]})
    world.do(review.propose_media_edit, p.facilitator, message["id"],
             edits={"cuts": [{"start": 0.5, "end": 1.2}], "blurs": [{"x": 0, "y": 0, "w": 0.5, "h": 0.5,
                                                                     "start": 0, "end": 2}]},
             note="I took out the part where you say where you live.")
    world.run_jobs()
    with world.sign_in(app, p.harmed) as author:
        mine = author.get(f"/api/v1/messages/{message['id']}").json()
        assert mine["state"] == "awaiting_author" and mine["pending_edit"]
        assert author.get(f"/api/v1/messages/{message['id']}/media").status_code == 200  # the author previews it
        author.post(f"/api/v1/messages/{message['id']}/actions/accept-edit", json={"version": mine["version"]})
    world.do(review.approve, p.facilitator, message["id"])
    with svc.db.uow() as uow:
        versions = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == message["id"])
                                       .order_by(MessageVersion.number)).all()
        original, edited = versions
        assert original.body_upload_id == edited.body_upload_id  # rendered from the untouched original
        assert original.processed_blob_id != edited.processed_blob_id
        assert original.duration_ms and edited.duration_ms
        assert abs((original.duration_ms - edited.duration_ms) - 700) < 150


# --- media as phones really make it (issue 15), through the worker ----------------------------------

PHONE_MEDIA = {  # fixture -> (message kind, seconds)
    "vfr_mp4": ("video", 2.0),
    "still_with_sound": ("video", 3.0),
    "vbr_mp3_no_header": ("audio", 30.0),
    "hdr_hevc": ("video", 1.0),
}


@pytest.mark.parametrize("fixture", sorted(PHONE_MEDIA))
def test_phone_made_media_reaches_the_recipient(svc: Services, tmp_path: Path, fixture: str) -> None:
    """Variable frame rate, a still picture with sound, VBR MP3 without a header, HLG video:
    processed by the worker, verified, with their real length, and playable by the recipient."""
    from fixtures import Fixtures
    from sqlalchemy import select

    from shuttle.messages.models import MessageVersion
    from workers.media.errors import ToolsMissing
    from workers.media.tools import find_tools

    try:
        tools = find_tools()
    except ToolsMissing as exc:
        need(False, f"ffmpeg is missing: {exc}")
        raise
    kind, seconds = PHONE_MEDIA[fixture]
    data = getattr(Fixtures(tmp_path, tools), fixture)().read_bytes()
    world = World(svc)
    case_id, p = world.case()
    message_id = _through_review(svc, world, p, case_id, kind, data)
    with svc.db.uow() as uow:
        version = uow.session.scalars(select(MessageVersion).where(MessageVersion.message_id == message_id)).one()
        assert version.duration_ms == pytest.approx(seconds * 1000, abs=150)
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.responsible) as recipient:
        links = recipient.post(f"/api/v1/messages/{message_id}/open", json={}).json()
        media = recipient.get(links["media"])
        assert media.status_code == 200 and media.content[4:8] == b"ftyp"
        if kind == "video":
            assert recipient.get(links["poster"]).content[:3] == b"\xff\xd8\xff"
