"""A video's journey in a real browser with Chromium's fake camera and microphone: recorded
on the responsible side's page, processed by the real media worker (ffmpeg), reviewed and
approved, then opened by the harmed side, where it plays and seeks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsing import Site, check_and_send, keep_in_docs, screenshot
from participant_helpers import PHONE, api, message_id_of, signed_in, start_video_recording, wait_for_state

pytestmark = pytest.mark.ffmpeg

EITHER_MAY_BEGIN = {"initiator": "either", "label_harmed": "Jessica", "label_responsible": "Sam"}

SEEK = """async () => {
  const v = document.querySelector("video.player");
  if (v.readyState < 1) { await new Promise(r => v.addEventListener("loadedmetadata", r, { once: true })); }
  const duration = v.duration;
  v.muted = true;
  await v.play();
  await new Promise(r => setTimeout(r, 300));
  const playedTo = v.currentTime;
  v.pause();
  const seeked = new Promise(r => v.addEventListener("seeked", r, { once: true }));
  v.currentTime = 1.5;
  await seeked;
  if (v.readyState < 2) { await new Promise(r => v.addEventListener("canplay", r, { once: true })); }
  return { duration, playedTo, at: v.currentTime, readyState: v.readyState, error: v.error && v.error.code };
}"""


@pytest.mark.parametrize("site", [EITHER_MAY_BEGIN], indirect=True)
def test_a_recorded_video_is_approved_then_opened_and_seeks(browser: Any, site: Site) -> None:
    # Sam records a three-second video on a phone-sized screen, watches it back, uploads it.
    sam = signed_in(browser, site, "responsible", viewport=PHONE)
    start_video_recording(sam)
    sam.wait_for_timeout(3000)
    sam.get_by_role("button", name="Stop recording").click()
    sam.get_by_role("button", name="Use this recording").wait_for()
    assert sam.locator("#rec-preview").evaluate("v => v.src.startsWith('blob:')")
    keep_in_docs(screenshot(sam, "participant-record-360"), "participant-record-360")
    sam.get_by_role("button", name="Use this recording").click()
    sam.wait_for_url(re.compile(r"done=uploaded"))
    assert "It is uploaded" in sam.content()
    sam.get_by_label("A transcript").fill("Jessica, this is Sam. I am sorry.")
    check_and_send(sam)
    sam.get_by_text("Sent to your facilitator.").wait_for()
    message_id = message_id_of(sam)

    # The facilitator: the worker made a poster and an MP4; the review page plays it; approve.
    fiona = signed_in(browser, site, "facilitator")
    view = wait_for_state(fiona, message_id, {"awaiting_review"})
    assert any(m["id"] == message_id for m in api(fiona, "GET", "/review-queue"))
    fiona.goto(f"{site.base}/staff")
    assert fiona.locator(f"a[href='/staff/messages/{message_id}']").count() >= 1  # in the queue
    poster = fiona.request.get(f"{site.base}/api/v1/messages/{message_id}/poster")
    assert poster.ok and poster.headers["content-type"] == "image/jpeg" and poster.body()[:2] == b"\xff\xd8"
    fiona.goto(f"{site.base}/staff/messages/{message_id}")
    video = fiona.locator("video")
    assert "/poster" in (video.get_attribute("poster") or "")
    played = fiona.evaluate(SEEK)
    assert played["error"] is None and played["playedTo"] > 0, played
    screenshot(fiona, "facilitator-review-video")
    transcript = api(fiona, "GET", f"/messages/{message_id}/versions/{view['current_version_id']}")["transcript"]
    assert transcript == "Jessica, this is Sam. I am sorry."
    view = api(fiona, "POST", f"/messages/{message_id}/actions/claim", {"version": view["version"]})
    view = api(fiona, "POST", f"/messages/{message_id}/actions/approve", {"version": view["version"]})
    assert view["state"] == "released"

    # Jessica is asked first; she opens it; it plays and seeks; the words are there too.
    jessica = signed_in(browser, site, "harmed")
    assert "A message from Sam is waiting." in jessica.content()
    jessica.get_by_role("link", name=re.compile("Decide when to open it")).click()
    assert jessica.locator("video").count() == 0  # nothing is shown before she chooses
    screenshot(jessica, "participant-video-waiting")
    jessica.get_by_role("button", name="Open it now").click()
    played = jessica.evaluate(SEEK)
    assert played["error"] is None, played
    assert 2.5 <= played["duration"] <= 4.0, played
    assert abs(played["at"] - 1.5) < 0.1 and played["readyState"] >= 2, played
    assert "Jessica, this is Sam. I am sorry." in jessica.locator("details.transcript").inner_text()
    keep_in_docs(screenshot(jessica, "participant-video-opened"), "participant-video-opened")


def test_a_sound_recording_and_a_photo_from_a_file_go_the_same_way(browser: Any, site: Site, tmp_path: Any) -> None:
    from PIL import Image

    jessica = signed_in(browser, site, "harmed")
    jessica.get_by_role("link", name="Send a recording or a photo").click()
    jessica.get_by_label("A sound recording").check()
    jessica.get_by_role("button", name="Continue").click()
    jessica.get_by_role("button", name="Turn on the microphone").click()
    jessica.get_by_role("button", name="Start recording").click()
    jessica.wait_for_timeout(1000)
    jessica.get_by_role("button", name="Stop recording").click()
    jessica.get_by_role("button", name="Record again").click()  # a retake
    jessica.get_by_role("button", name="Start recording").click()
    jessica.wait_for_timeout(1000)
    jessica.get_by_role("button", name="Stop recording").click()
    jessica.get_by_role("button", name="Use this recording").click()
    jessica.wait_for_url(re.compile(r"done=uploaded"))
    check_and_send(jessica)
    jessica.get_by_text("Sent to your facilitator.").wait_for()
    audio_id = message_id_of(jessica)

    photo = tmp_path / "IMG_0042 at Elm Street.jpg"  # the name never leaves the browser
    Image.new("RGB", (320, 240), "white").save(photo, "JPEG")
    jessica.goto(f"{site.base}/me/cases/{site.case_id}/record")
    jessica.get_by_label("A photo of a handwritten letter").check()
    jessica.get_by_role("button", name="Continue").click()
    jessica.get_by_label("The words of your letter").fill("Dear Sam, these are my words.")
    jessica.get_by_label("Your photographed letter").set_input_files(str(photo))
    jessica.get_by_role("button", name="Upload").click()
    jessica.wait_for_url(re.compile(r"done=uploaded"))
    assert jessica.get_by_label("The words of your letter").input_value() == "Dear Sam, these are my words."
    check_and_send(jessica)
    jessica.get_by_text("Sent to your facilitator.").wait_for()
    photo_id = message_id_of(jessica)

    fiona = signed_in(browser, site, "facilitator")
    for message_id in (audio_id, photo_id):
        view = wait_for_state(fiona, message_id, {"awaiting_review"})
        assert view["processing_error"] is None
    assert api(fiona, "GET", f"/messages/{photo_id}/transcript")["text"] == "Dear Sam, these are my words."
