"""The words of a recording or photographed letter (its transcript, for people who cannot hear
or see it) go through the same processing and review as a letter, with the real worker."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import need
from world import World

from shuttle.messages import review
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app

pytestmark = pytest.mark.ffmpeg
WORDS = "Dear Sam,\r\nthis is what my\u200b letter says. I live on Elm Street, 07700 900123."


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(out, "JPEG")
    return out.getvalue()


def _voice(path: Path) -> bytes:
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=2",
                    "-c:a", "aac", str(path)], check=True)
    return path.read_bytes()


def _state(world: World, message_id: str) -> str:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        return message.state


def _sent(world: World, app: Any, p: Any, case_id: str, kind: str, data: bytes, words: str) -> str:
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": kind}).json()
        saved = author.put(f"/api/v1/messages/{message['id']}/draft", json={"text": words})
        assert saved.status_code == 200, saved.text
        flags = author.get(f"/api/v1/messages/{message['id']}/draft/flags").json()["flags"]
        assert "phone" in [f["kind"] for f in flags]  # the author is told before sending
        assert author.put(f"/api/v1/messages/{message['id']}/media", content=data).status_code == 201
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        sent = author.post(f"/api/v1/messages/{message['id']}/actions/submit", json={"version": view["version"]})
        assert sent.status_code == 200, sent.text
    assert world.run_jobs() == 1
    return str(message["id"])


def test_a_photographed_letters_words_are_processed_reviewed_and_delivered(svc: Services) -> None:
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    world = World(svc)
    case_id, p = world.case(watchlist=["Elm Street"])
    app = build_app(svc, check_schema=False)
    message_id = _sent(world, app, p, case_id, "image", _photo(), WORDS)
    assert _state(world, message_id) == "awaiting_review"

    world.do(review.claim, p.facilitator, message_id)
    seen = world.do(review.read_version, p.facilitator, message_id)
    normalised = "Dear Sam,\nthis is what my letter says. I live on Elm Street, 07700 900123."
    assert seen["transcript"] == normalised  # the letter normaliser ran on it
    assert {(f["kind"], f["text"]) for f in seen["flags"]} == {("watchlist", "Elm Street"), ("phone", "07700 900123")}
    staff = world.sign_in(app, p.facilitator)
    assert staff.get(f"/api/v1/messages/{message_id}/transcript").json()["text"] == normalised
    author = world.sign_in(app, p.harmed)
    assert author.get(f"/api/v1/messages/{message_id}/transcript").json()["text"] == normalised
    assert "this is what my letter says" in author.get(f"/me/messages/{message_id}").text  # the author's preview

    kept = {f["id"]: "Agreed with both at preparation." for f in seen["flags"]}  # both flags kept, with reasons
    world.do(review.approve, p.facilitator, message_id, resolutions=kept)
    recipient = world.sign_in(app, p.responsible)
    assert recipient.get(f"/api/v1/messages/{message_id}/transcript").status_code == 404  # not opened yet
    recipient.post(f"/api/v1/messages/{message_id}/open", json={})
    assert recipient.get(f"/api/v1/messages/{message_id}/transcript").json()["text"] == normalised
    page = recipient.get(f"/me/inbox/{message_id}")
    assert "The words of the letter, typed out" in page.text and "this is what my letter says" in page.text
    assert "(its words are typed out below)" in page.text  # the image's text alternative points to them


def test_a_facilitators_media_edit_keeps_the_words(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    message_id = _sent(world, app, p, case_id, "audio", _voice(tmp_path / "voice.m4a"), "Hello Sam. 07700 900123")
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.propose_media_edit, p.facilitator, message_id, edits={"mutes": [{"start": 0.5, "end": 1.0}]})
    assert world.run_jobs() == 1
    assert _state(world, message_id) == "awaiting_author"
    edited = world.do(review.read_version, p.facilitator, message_id)
    assert edited["origin"] == "facilitator" and edited["transcript"] == "Hello Sam. 07700 900123"
    page = world.sign_in(app, p.harmed).get(f"/me/messages/{message_id}")
    assert "<audio" in page.text and 'value="accept-edit"' in page.text and "Hello Sam." in page.text


def test_a_recording_without_words_has_no_transcript(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": "audio"}).json()
        author.put(f"/api/v1/messages/{message['id']}/draft", json={"text": "   "})
        author.put(f"/api/v1/messages/{message['id']}/media", content=_voice(tmp_path / "v.m4a"))
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        author.post(f"/api/v1/messages/{message['id']}/actions/submit", json={"version": view["version"]})
    world.run_jobs()
    world.do(review.claim, p.facilitator, message["id"])
    assert world.do(review.read_version, p.facilitator, message["id"])["transcript"] is None
    with world.sign_in(app, p.harmed) as author:
        assert author.get(f"/api/v1/messages/{message['id']}/transcript").json() == {"text": None}
