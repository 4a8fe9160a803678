"""Captions (issue 12): a recording's timed transcript is processed by the real worker (checked
against the delivered media's length, reduced to plain-text cues), approved with the version, and
served as text/vtt to the recipient only once the approved version is released and opened."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from forms import csrf_of, hidden
from support import voice_clip
from world import World

from shuttle import retention
from shuttle.messages import authoring, captions, review
from shuttle.messages.models import Message, MessageVersion
from shuttle.services import Services
from shuttle.web.app import build_app

pytestmark = pytest.mark.ffmpeg

TIMED = ("WEBVTT\n\nNOTE not carried\n\n00:00.000 --> 00:01.000 align:start\n<v Sam>Hello <b>Sam</b>.</v>\n\n"
         "00:01.000 --> 00:09.000\nCall me on 07700 900123 &amp; soon.\n")


def _sent(world: World, app: Any, p: Any, case_id: str, data: bytes, words: str) -> str:
    with world.sign_in(app, p.harmed) as author:
        message = author.post(f"/api/v1/cases/{case_id}/messages", json={"kind": "audio"}).json()
        saved = author.put(f"/api/v1/messages/{message['id']}/draft", json={"text": words})
        assert saved.status_code == 200, saved.text
        assert author.put(f"/api/v1/messages/{message['id']}/media", content=data).status_code == 201
        view = author.get(f"/api/v1/messages/{message['id']}").json()
        sent = author.post(f"/api/v1/messages/{message['id']}/actions/submit", json={"version": view["version"]})
        assert sent.status_code == 200, sent.text
    assert world.run_jobs() == 1
    return str(message["id"])


def _version(world: World, message_id: str) -> MessageVersion:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None
        version = uow.session.get(MessageVersion, message.current_version_id)
        assert version is not None
        uow.session.expunge(version)
        return version


def test_timed_transcript_is_processed_approved_and_captions_reach_the_recipient_after_opening(
        svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    message_id = _sent(world, app, p, case_id, voice_clip(tmp_path / "v.m4a"), TIMED)
    version = _version(world, message_id)
    assert version.captions_blob_id is not None and version.duration_ms is not None
    with svc.db.uow() as uow:  # destroyed with the message's other content
        assert version.captions_blob_id in retention.message_blob_ids(uow.session, message_id)
    url = f"/api/v1/messages/{message_id}/captions.vtt"

    staff = world.sign_in(app, p.facilitator)
    got = staff.get(url)
    assert got.status_code == 200 and got.headers["content-type"] == "text/vtt; charset=utf-8"
    cues = captions.parse(got.text)
    # plain text only; the last cue cut to the delivered recording's end; the words scanned like a letter's
    assert [c.text for c in cues] == ["Hello Sam.", "Call me on 07700 900123 & soon."]
    assert cues[-1].end_ms == version.duration_ms and "<" not in got.text and "NOTE" not in got.text
    world.do(review.claim, p.facilitator, message_id)
    seen = world.do(review.read_version, p.facilitator, message_id)
    assert seen["transcript"] == "Hello Sam.\n\nCall me on 07700 900123 & soon."  # the plain words, for review
    assert "phone" in [f["kind"] for f in seen["flags"]]

    recipient = world.sign_in(app, p.responsible)
    assert recipient.get(url).status_code == 404  # not approved: no caption text crosses
    world.do(review.approve, p.facilitator, message_id, resolutions={f["id"]: "Agreed." for f in seen["flags"]})
    assert recipient.get(url).status_code == 404  # released but not opened
    assert recipient.post(f"/api/v1/messages/{message_id}/open", json={}).status_code == 200
    opened = recipient.get(url)
    assert opened.status_code == 200 and opened.text == got.text
    page = recipient.get(f"/me/inbox/{message_id}")
    assert f'<track kind="captions" src="{url}" srclang="en" label="English" default>' in page.text


def test_cues_past_the_recordings_end_are_refused_with_a_sentence(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    late = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello.\n\n00:05.000 --> 00:06.000\nToo late.\n"
    message_id = _sent(world, app, p, case_id, voice_clip(tmp_path / "v.m4a"), late)
    version = _version(world, message_id)
    assert version.processed_blob_id is None and version.captions_blob_id is None
    assert version.processing_error is not None and "Caption 2 starts at 00:05.0, after the recording ends" \
        in version.processing_error
    with world.sign_in(app, p.harmed) as author:
        assert author.get(f"/api/v1/messages/{message_id}/captions.vtt").status_code == 404


def test_a_plain_transcript_has_no_captions(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case()
    app = build_app(svc, check_schema=False)
    message_id = _sent(world, app, p, case_id, voice_clip(tmp_path / "v.m4a"), "Hello Sam.")
    assert _version(world, message_id).captions_blob_id is None
    staff = world.sign_in(app, p.facilitator)
    assert staff.get(f"/api/v1/messages/{message_id}/captions.vtt").status_code == 404
    assert staff.get(f"/api/v1/messages/{message_id}/transcript").json()["text"] == "Hello Sam."


def test_the_facilitators_cue_editor_makes_a_version_the_author_accepts(svc: Services, tmp_path: Path) -> None:
    world = World(svc)
    case_id, p = world.case(author_must_accept_edits=True)
    app = build_app(svc, check_schema=False)
    message_id = _sent(world, app, p, case_id, voice_clip(tmp_path / "v.m4a"), "Hello Sam.\nI am <sorry>.")
    world.do(review.claim, p.facilitator, message_id)
    staff = world.sign_in(app, p.facilitator)
    page = staff.get(f"/staff/messages/{message_id}")
    assert '<section class="captions-editor"' in page.text and '<script src="/static/captions.js" defer>' in page.text
    assert 'name="line-0" value="Hello Sam."' in page.text and 'name="line-1" value="I am &lt;sorry&gt;."' in page.text
    assert '<label for="cue-1"><span class="visually-hidden">Start of line 2: </span>I am &lt;sorry&gt;.</label>' \
        in page.text
    fields = {"csrf_token": csrf_of(page), "version": re.findall(r'name="version" value="(\d+)"', page.text)[0],
              "action": "edit-captions", "line-0": hidden(page, "line-0"), "line-1": hidden(page, "line-1")}
    refused = staff.post(f"/staff/messages/{message_id}", data=fields | {"start-0": "00:00.0", "start-1": "1:75"},
                         follow_redirects=False)
    assert refused.status_code == 400 and "Line 2: &#39;1:75&#39; is not a time like 01:23.4" in refused.text
    untimed = staff.post(f"/staff/messages/{message_id}", data=fields | {"start-0": "00:00.0"}, follow_redirects=False)
    assert untimed.status_code == 400 and "Line 2 has no start time." in untimed.text
    done = staff.post(f"/staff/messages/{message_id}", data=fields | {"start-0": "00:00.2", "start-1": "00:01.1"},
                      follow_redirects=False)
    assert done.status_code == 303
    assert world.run_jobs() == 1
    version = _version(world, message_id)
    assert version.number == 2 and version.origin == "facilitator" and version.captions_blob_id is not None
    assert world.do(lambda s, svc: s.get(Message, message_id).state) == "awaiting_author"
    track = f'<track kind="captions" src="/api/v1/messages/{message_id}/captions.vtt" srclang="en" label="English"'
    assert track in world.sign_in(app, p.harmed).get(f"/me/messages/{message_id}").text  # the author sees them first
    world.do(authoring.accept_edit, p.harmed, message_id)
    world.do(review.claim, p.facilitator, message_id)
    world.do(review.approve, p.facilitator, message_id)
    recipient = world.sign_in(app, p.responsible)
    recipient.post(f"/api/v1/messages/{message_id}/open", json={})
    cues = captions.parse(recipient.get(f"/api/v1/messages/{message_id}/captions.vtt").text)
    # each line until the next; the last to the recording's end; "<sorry>" is markup to a player: dropped
    assert [(c.start_ms, c.end_ms, c.text) for c in cues] == [(200, 1100, "Hello Sam."),
                                                               (1100, version.duration_ms, "I am .")]
