"""A recording made in the browser goes up while it is being made (tus creation-defer-length): a
reload in the middle keeps what the server holds and offers to send it; a dropped connection
holds the pieces in the page and sends them when it is back. Afterwards nothing of the recording
is left in the browser's storage (sessionStorage, localStorage, IndexedDB, Cache Storage)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsing import Site, check_and_send, screenshot
from participant_helpers import PHONE, message_id_of, signed_in, start_video_recording, wait_for_state

pytestmark = pytest.mark.ffmpeg

EITHER_MAY_BEGIN = {"initiator": "either", "label_harmed": "Jessica", "label_responsible": "Sam"}

#: Everything the page's origin keeps in the browser: it must hold nothing of the recording.
STORAGE = """async () => ({
  session: Object.keys(sessionStorage),
  local: Object.keys(localStorage),
  databases: (await indexedDB.databases()).map(d => d.name),
  caches: await caches.keys(),
})"""

DURATION = """async () => {
  const v = document.querySelector("video");
  if (v.readyState < 1) { await new Promise(r => v.addEventListener("loadedmetadata", r, { once: true })); }
  return { duration: v.duration, error: v.error && v.error.code };
}"""


def _start_video(sam: Any, site: Site) -> None:
    start_video_recording(sam)
    sam.get_by_role("button", name="Stop recording").wait_for()


def _recording_marks(page: Any) -> list[str]:
    return [k for k in page.evaluate(STORAGE)["session"] if k.startswith("shuttle-recording-")]


def _processed_duration(browser: Any, site: Site, message_id: str) -> float:
    fiona = signed_in(browser, site, "facilitator")
    view = wait_for_state(fiona, message_id, {"awaiting_review"})
    assert view["processing_error"] is None, view
    fiona.goto(f"{site.base}/staff/messages/{message_id}")
    played = fiona.evaluate(DURATION)
    assert played["error"] is None, played
    return float(played["duration"])


@pytest.mark.parametrize("site", [EITHER_MAY_BEGIN], indirect=True)
def test_a_reload_while_recording_keeps_what_was_saved(browser: Any, site: Site) -> None:
    sam = signed_in(browser, site, "responsible", viewport=PHONE)
    _start_video(sam, site)
    sam.wait_for_timeout(4000)
    assert len(_recording_marks(sam)) == 1  # the upload's address, to find it after a reload
    sam.reload()  # mid-recording: the recorder is gone, what the server holds is not

    offer = sam.get_by_text(re.compile(r"Your recording up to 0:0\d is saved on shuttle"))
    offer.wait_for()
    seconds = int(re.search(r"up to 0:0(\d)", offer.inner_text()).group(1))  # type: ignore[union-attr]
    assert 2 <= seconds <= 4
    assert sam.get_by_role("button", name="Start again").is_visible()
    screenshot(sam, "participant-recording-saved-360")
    sam.get_by_role("button", name="Use what was saved").click()
    sam.wait_for_url(re.compile(r"done=uploaded"))
    assert "It is uploaded" in sam.content()
    stored = sam.evaluate(STORAGE)
    assert not _recording_marks(sam) and not stored["local"], stored
    assert not stored["databases"] and not stored["caches"], stored

    check_and_send(sam)
    sam.get_by_text("Sent to your facilitator.").wait_for()
    duration = _processed_duration(browser, site, message_id_of(sam))
    assert seconds - 1 <= duration <= seconds + 2, duration


@pytest.mark.parametrize("site", [EITHER_MAY_BEGIN], indirect=True)
def test_a_dropped_connection_while_recording_loses_nothing(browser: Any, site: Site) -> None:
    sam = signed_in(browser, site, "responsible")
    _start_video(sam, site)
    sam.wait_for_timeout(1500)
    sam.context.set_offline(True)
    sam.get_by_text(re.compile("The connection was lost")).wait_for()
    sam.wait_for_timeout(2500)
    sam.context.set_offline(False)
    sam.get_by_text("Recording. Press Stop recording when you have finished.").wait_for(timeout=30_000)
    sam.wait_for_timeout(1500)
    sam.get_by_role("button", name="Stop recording").click()
    sam.get_by_role("button", name="Use this recording").click()
    sam.wait_for_url(re.compile(r"done=uploaded"))
    stored = sam.evaluate(STORAGE)
    assert not _recording_marks(sam) and not stored["local"] and not stored["databases"], stored

    check_and_send(sam)
    sam.get_by_text("Sent to your facilitator.").wait_for()
    duration = _processed_duration(browser, site, message_id_of(sam))
    assert duration >= 5.0, duration  # the seconds recorded while offline are there too
