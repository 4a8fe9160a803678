"""The author's cue editor (issue 12): on their own recording's page, when a facilitator asked for
changes, the author times its words while it plays and sends the same recording again with them
(`author_captions.send_timed`): a new version of their own, processed by the real worker (captions
checked against the recording) and reviewed like any other. Only the one who may change the
message, only while they may change it, only for the recording they can play."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from forms import csrf_of, hidden
from support import voice_clip
from world import World

from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.messages import author_captions, authoring, captions, review
from shuttle.messages.models import Message, MessageVersion
from shuttle.services import Services
from shuttle.uploads import service as uploads
from shuttle.web.app import build_app

TIMED = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello Sam.\n"


def _returned(world: World, app: Any, p: Any, case_id: str, data: bytes, words: str) -> str:
    """An audio message sent by the person harmed, processed by the worker, then returned to them
    by the facilitator with a request for changes. Its id."""
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": "audio"}).json()
        assert author.put(f"/api/v1/messages/{message['id']}/draft", json={"text": words}).status_code == 200
        assert author.put(f"/api/v1/messages/{message['id']}/media", content=data).status_code == 201
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        assert author.post(f"/api/v1/messages/{message['id']}/actions/submit",
                           json={"version": view["version"]}).status_code == 200
    assert world.run_jobs() == 1
    world.do(review.claim, p.facilitator, message["id"])
    world.do(review.request_changes, p.facilitator, message["id"], note="Could you add times to your words?")
    return str(message["id"])


def _current(world: World, message_id: str) -> tuple[Message, MessageVersion]:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        version = uow.session.get(MessageVersion, message.current_version_id)
        assert version is not None
        uow.session.expunge_all()
        return message, version


@pytest.mark.ffmpeg
def test_the_author_times_the_words_and_sends_the_same_recording_again(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    message_id = _returned(world, app, p, case_id, voice_clip(tmp_path / "v.m4a"), "Hello Sam.\nI am <sorry>.")
    _, first = _current(world, message_id)
    author = world.sign_in(app, p.harmed)
    url = f"/me/messages/{message_id}"
    page = author.get(url)
    assert '<section class="captions-editor" id="captions"' in page.text
    assert '<script src="/static/captions.js" defer>' in page.text
    assert re.search(r'id="captions-player">\s*<audio [^>]*src="/api/v1/messages/[0-9a-f]{32}/media"', page.text)
    assert 'name="line-0" value="Hello Sam."' in page.text and 'name="line-1" value="I am &lt;sorry&gt;."' in page.text
    assert '<span class="visually-hidden">Start of line 2: </span>I am &lt;sorry&gt;.</label>' in page.text
    fields = {"csrf_token": csrf_of(page), "version": hidden(page, "version"), "action": "captions",
              "line-0": hidden(page, "line-0"), "line-1": hidden(page, "line-1")}

    refused = author.post(url, data=fields | {"start-0": "00:00.0", "start-1": "1:75"}, follow_redirects=False)
    assert refused.status_code == 400 and "Line 2: &#39;1:75&#39; is not a time like 01:23.4" in refused.text
    assert 'href="#cue-error"' in refused.text and 'id="cue-1"' in refused.text and 'value="1:75"' in refused.text
    assert 'class="field field-with-error"' not in refused.text  # the words above are not at fault
    assert _current(world, message_id)[0].state == "changes_requested"  # nothing sent

    sent = author.post(url, data=fields | {"start-0": "00:00.2", "start-1": "00:01.1"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith(url)
    assert "Sent to your facilitator" in author.get(sent.headers["location"]).text
    assert world.run_jobs() == 1
    message, second = _current(world, message_id)
    assert (second.number, second.origin, second.body_upload_id) == (2, "author", first.body_upload_id)
    assert second.captions_blob_id is not None and message.state == "awaiting_review"
    assert message.draft_upload_id is None and message.draft_blob_id is None
    staff = world.sign_in(app, p.facilitator)
    cues = captions.parse(staff.get(f"/api/v1/messages/{message_id}/captions.vtt").text)
    assert [(c.start_ms, c.text) for c in cues] == [(200, "Hello Sam."), (1100, "I am .")]
    assert world.sign_in(app, p.responsible).get(f"/api/v1/messages/{message_id}/captions.vtt").status_code == 404
    assert '<section class="captions-editor"' not in author.get(url).text  # sent: no longer theirs to change


def _returned_video(world: World, p: Any, case_id: str, words: str = "Hello Sam.") -> str:
    """A processed video (World's stand-in for the worker) returned to its author for changes."""
    video = world.processed_video(p, case_id, b"play")
    world.do(review.claim, p.facilitator, video)
    world.do(review.request_changes, p.facilitator, video, note="Please add times.")
    world.do(authoring.save_draft, p.harmed, video, words)
    return video


def test_only_its_author_while_they_may_change_it_and_only_the_recording_they_can_play(world: World) -> None:
    case_id, p = world.case()
    video = _returned_video(world, p, case_id)
    for someone in (p.responsible, p.facilitator, p.supporter, p.outsider_participant):
        with pytest.raises(NotFound):
            world.do(author_captions.send_timed, someone, video, TIMED)
    with pytest.raises(captions.InvalidCaptions):
        world.do(author_captions.send_timed, p.harmed, video, "Hello Sam.")  # not timed
    with pytest.raises(BadInput):
        world.do(author_captions.send_timed, p.harmed, video, "WEBVTT\n\n00:02.000 --> 00:01.000\nBackwards.\n")

    letter = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,")
    with pytest.raises(BadInput):
        world.do(author_captions.send_timed, p.harmed, letter.id, TIMED)
    unsent = world.do(authoring.start_media, p.harmed, case_id, "audio")  # nothing processed to play
    with pytest.raises(Conflict):
        world.do(author_captions.send_timed, p.harmed, unsent.id, TIMED)
    awaiting = world.processed_video(p, case_id, b"play")  # sent and waiting for review: not theirs to change
    with pytest.raises(Conflict):
        world.do(author_captions.send_timed, p.harmed, awaiting, TIMED)

    # A new recording waits in the draft: the times would belong to another recording.
    upload = world.do(uploads.create, p.harmed, video, 4)
    world.do(uploads.record_part, p.harmed, upload.id, 0, world.svc.store.put_bytes(b"take"))
    with pytest.raises(Conflict):
        world.do(author_captions.send_timed, p.harmed, video, TIMED)
    assert _current(world, video)[0].state == "changes_requested"


def test_the_editor_is_offered_only_when_it_applies(sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    app = build_app(sqlite_svc, check_schema=False)
    timed = _returned_video(world, p, case_id, words="WEBVTT\n\n00:00.500 --> 00:02.000\nHello\nSam.\n")
    author = world.sign_in(app, p.harmed)
    page = author.get(f"/me/messages/{timed}").text
    # a timed transcript's cues come with their times (a cue of two lines is one line here)
    assert 'name="line-0" value="Hello Sam."' in page and re.search(r'id="cue-0"[^>]*value="00:00.5"', page)
    untimed = _returned_video(world, p, case_id, words="")
    assert '<section class="captions-editor"' not in author.get(f"/me/messages/{untimed}").text  # no words yet
    waiting = world.processed_video(p, case_id, b"play")
    assert '<section class="captions-editor"' not in author.get(f"/me/messages/{waiting}").text
    assert '<section class="captions-editor"' not in world.sign_in(app, p.responsible).get(
        f"/me/messages/{timed}").text


@pytest.mark.parametrize("transcript, lines", [
    ("Hello Sam.\n\n  I am sorry.  \n", (captions.EditorLine("Hello Sam."), captions.EditorLine("I am sorry."))),
    ("WEBVTT\n\n00:01.000 --> 00:02.000\nHello\n\n01:02.300 --> 01:04.000\nSam <b>x</b>\n",
     (captions.EditorLine("Hello", "00:01.0"), captions.EditorLine("Sam x", "01:02.3"))),
    ("WEBVTT\n\n00:03.000 --> 00:02.000\nBroken\n", ()),
    ("", ()),
])
def test_editor_lines(transcript: str, lines: tuple[captions.EditorLine, ...]) -> None:
    assert captions.editor_lines(transcript) == lines
    assert captions.with_starts(lines, {"start-0": " 00:09.0 "})[:1] == tuple(
        captions.EditorLine(line.text, "00:09.0") for line in lines[:1])
