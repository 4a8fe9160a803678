"""Captions in a real browser (issue 12): a facilitator times a video's transcript with the cue
editor ("Start the next line now" while it plays), the worker checks the cues, the author accepts
the edit, it is approved; the recipient opens it and the player shows the captions track."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from browsing import SHOTS, Site, keep_in_docs, screenshot
from participant_helpers import AXE, api, csrf, signed_in, wait_for_state
from support import need
from test_participant_accessibility import RUN_AXE

pytestmark = pytest.mark.ffmpeg

CUES = """async () => {
  const v = document.querySelector("video.player");
  const track = v.querySelector("track");
  if (track.readyState !== 2) {
    await new Promise((resolve, reject) => {
      track.addEventListener("load", resolve, { once: true });
      track.addEventListener("error", () => reject(new Error("the track did not load")), { once: true });
    });
  }
  const t = v.textTracks[0];
  return { kind: t.kind, label: t.label, mode: t.mode, cues: Array.from(t.cues).map(c => [c.startTime, c.text]) };
}"""


def _video(path: Path) -> bytes:
    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=4:size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path.read_bytes()


def _send_video(jessica: Any, site: Site, tmp_path: Path) -> dict[str, Any]:
    """Jessica sends a video with its two-line transcript, through the API (the recording pages have
    their own tests); the message as the API answered its start."""
    message: dict[str, Any] = api(jessica, "POST", f"/cases/{site.case_id}/messages", {"kind": "video"})
    api(jessica, "PUT", f"/messages/{message['id']}/draft", {"text": "Hello Sam.\nI am sorry."})
    put = jessica.request.fetch(f"{site.base}/api/v1/messages/{message['id']}/media", method="PUT",
                                data=_video(tmp_path / "v.mp4"), headers={"X-CSRF-Token": csrf(jessica)})
    assert put.status == 201, put.text()
    view = api(jessica, "GET", f"/messages/{message['id']}")
    api(jessica, "POST", f"/messages/{message['id']}/actions/submit", {"version": view["version"]})
    return message


def _time_two_lines(page: Any, video: str) -> None:
    """Play the recording (muted) in `video` and time its two lines with the keyboard-reachable
    button, a little apart: the second starts after the first."""
    page.evaluate("(selector) => { const v = document.querySelector(selector); v.muted = true; return v.play(); }",
                  video)
    next_line = page.get_by_role("button", name="Start the next line now")
    next_line.click()
    page.wait_for_timeout(1200)
    next_line.click()
    page.get_by_text("Line 2 starts at").wait_for()
    first = page.get_by_label("Start of line 1: Hello Sam.").input_value()
    second = page.get_by_label("Start of line 2: I am sorry.").input_value()
    assert first < second, (first, second)


def test_a_facilitator_times_the_transcript_and_the_recipient_sees_the_captions(
        browser: Any, site: Site, tmp_path: Path) -> None:
    # Jessica sends a video with its transcript (through the API: the recording pages have their own tests).
    jessica = signed_in(browser, site, "harmed")
    message = _send_video(jessica, site, tmp_path)

    # Fiona times the two lines while the video plays, with the keyboard-reachable button.
    fiona = signed_in(browser, site, "facilitator")
    view = wait_for_state(fiona, message["id"], {"awaiting_review"})
    api(fiona, "POST", f"/messages/{message['id']}/actions/claim", {"version": view["version"]})
    fiona.goto(f"{site.base}/staff/messages/{message['id']}")
    _time_two_lines(fiona, "#player-current")
    screenshot(fiona, "facilitator-captions-editor")
    fiona.get_by_role("button", name="Propose these captions").click()
    fiona.get_by_text("Captions proposed.").wait_for()

    # The worker checks them; Jessica accepts the edit; Fiona approves.
    view = wait_for_state(jessica, message["id"], {"awaiting_author"})
    api(jessica, "POST", f"/messages/{message['id']}/actions/accept-edit", {"version": view["version"]})
    view = wait_for_state(fiona, message["id"], {"awaiting_review", "in_review"})
    if view["state"] == "awaiting_review":
        view = api(fiona, "POST", f"/messages/{message['id']}/actions/claim", {"version": view["version"]})
    view = api(fiona, "POST", f"/messages/{message['id']}/actions/approve", {"version": view["version"]})
    assert view["state"] == "released"

    # Sam opens it: the player has the English captions track, showing, with the two lines.
    sam = signed_in(browser, site, "responsible")
    sam.goto(f"{site.base}/me/inbox/{message['id']}")
    assert sam.locator("video").count() == 0  # nothing before he chooses to open it
    sam.get_by_role("button", name="Open it now").click()
    shown = sam.evaluate(CUES)
    assert shown["kind"] == "captions" and shown["label"] == "English" and shown["mode"] == "showing", shown
    assert [text for _, text in shown["cues"]] == ["Hello Sam.", "I am sorry."], shown
    assert shown["cues"][0][0] < shown["cues"][1][0], shown
    sam.evaluate("""t => new Promise(done => { const v = document.querySelector("video.player");
      v.addEventListener("seeked", () => done(null), { once: true }); v.currentTime = t; })""",
                 shown["cues"][0][0] + 0.3)  # into the first line, so that the picture shows its caption
    sam.wait_for_timeout(300)
    for width in (1280, 360):  # the player with its captions, kept for the docs at both widths
        sam.set_viewport_size({"width": width, "height": 900})
        keep_in_docs(screenshot(sam, f"participant-video-captions-{width}"), f"participant-video-captions-{width}")


def test_the_author_times_their_returned_recording_and_sends_it_again(browser: Any, site: Site,
                                                                      tmp_path: Path) -> None:
    need(AXE.exists(), "axe-core is not installed: scripts/test installs it with npm")
    jessica = signed_in(browser, site, "harmed", bypass_csp=True)
    message = _send_video(jessica, site, tmp_path)
    fiona = signed_in(browser, site, "facilitator")
    view = wait_for_state(fiona, message["id"], {"awaiting_review"})
    view = api(fiona, "POST", f"/messages/{message['id']}/actions/claim", {"version": view["version"]})
    api(fiona, "POST", f"/messages/{message['id']}/actions/request-changes",
        {"version": view["version"], "note": "Could you add times to your words?"})

    # Back with Jessica: she plays her recording and times each line as it begins.
    jessica.goto(f"{site.base}/me/messages/{message['id']}")
    _time_two_lines(jessica, "#captions-player video")
    jessica.evaluate("() => document.querySelector('#captions-player video').pause()")
    for width in (1280, 360):
        jessica.set_viewport_size({"width": width, "height": 900})
        jessica.add_script_tag(path=str(AXE))
        found = jessica.evaluate(RUN_AXE)
        assert found["violations"] == [], f"the author's cue editor at {width} px: {found['violations']}"
        jessica.locator("#captions").evaluate("e => e.scrollIntoView({block: 'start'})")
        shot = SHOTS / f"participant-captions-editor-{width}.png"
        jessica.screenshot(path=str(shot), full_page=False)
        keep_in_docs(shot, f"participant-captions-editor-{width}")
    jessica.get_by_role("button", name="Send it again with these times").click()
    jessica.get_by_text("Sent to your facilitator.").wait_for()

    # The worker checks the times against the same recording: a new version of Jessica's own, for review.
    view = wait_for_state(fiona, message["id"], {"awaiting_review"})
    version = api(fiona, "GET", f"/messages/{message['id']}/versions/{view['current_version_id']}")
    assert version["number"] == 2 and version["origin"] == "author", version
    vtt = fiona.request.get(f"{site.base}/api/v1/messages/{message['id']}/captions.vtt")
    assert vtt.ok and "Hello Sam." in vtt.text() and "I am sorry." in vtt.text()
