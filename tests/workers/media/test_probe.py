"""Probing: what an upload is, what it carries, and the limits."""

from __future__ import annotations

import pytest
from fixtures import Fixtures, P

from workers.media.errors import MediaRefused
from workers.media.probe import MediaLimits, probe
from workers.media.tools import Tools

pytestmark = pytest.mark.ffmpeg


@pytest.mark.parametrize(
    ("fixture", "kind", "expected"),
    [
        ("rich_mp4", "video", {"container tags", "stream tags", "chapters", "subtitle streams",
                               "extra audio/video streams", "location", "creation time"}),
        ("phone_mov", "video", {"location", "device make/model", "encoder/software names",
                                "creation time", "rotation (display matrix)", "data streams"}),
        ("attach_mkv", "video", {"attachments", "subtitle streams", "chapters", "container tags"}),
        ("cover_mp3", "audio", {"cover art", "container tags"}),
        ("cover_m4a", "audio", {"cover art", "container tags"}),
        ("voice_ogg", "audio", {"stream tags"}),
        ("exif_jpeg", "image", {"EXIF", "GPS", "XMP", "ICC profile", "comments", "device make/model"}),
        ("text_png", "image", {"PNG text", "XMP", "ICC profile", "EXIF"}),
        ("photo_webp", "image", {"EXIF", "GPS", "XMP"}),
    ],
)
def test_metadata_kinds_are_found(fx: Fixtures, tools: Tools, fixture: str, kind: str, expected: set[str]) -> None:
    found = probe(getattr(fx, fixture)(), tools)
    assert found.kind == kind
    assert expected <= set(found.found_metadata)


def test_planted_values_become_search_strings(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.rich_mp4(), tools)
    for key in ("title", "comment", "artist", "handler", "chapter"):
        assert P[key] in found.metadata_strings
    found = probe(fx.attach_mkv(), tools)
    for key in ("stream_title", "attachment_name", "comment"):
        assert P[key] in found.metadata_strings


def test_rotation_and_display_size(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.phone_mov(), tools)
    assert abs(found.rotation) == 90
    assert (found.width, found.height) == (240, 320)


def test_image_orientation_gives_display_size(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.exif_jpeg(), tools)
    assert (found.width, found.height, found.rotation) == (480, 640, 90)


def test_cover_art_is_not_taken_for_video(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.cover_mp3(), tools)
    assert found.kind == "audio" and found.video_stream is None


def test_browser_recording_without_duration_is_accepted(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.browser_webm(), tools)
    assert found.kind == "video" and found.container == "WebM/Matroska"


@pytest.mark.parametrize(
    ("limits", "fixture", "says"),
    [
        (MediaLimits(max_video_seconds=1), "plain_mp4", "limit for video is 1 s"),
        (MediaLimits(max_audio_seconds=1), "voice_ogg", "limit for audio is 1 s"),
        (MediaLimits(max_file_bytes=1000), "plain_mp4", "limit is"),
        (MediaLimits(max_image_pixels=100_000), "exif_jpeg", "megapixel limit"),
        (MediaLimits(max_video_pixels=1920 * 1079), "big60", "larger than we accept"),
    ],
)
def test_limits(fx: Fixtures, tools: Tools, limits: MediaLimits, fixture: str, says: str) -> None:
    with pytest.raises(MediaRefused) as refused:
        probe(getattr(fx, fixture)(), tools, limits)
    assert says in refused.value.reason


def test_four_hours_refused_but_inspectable(fx: Fixtures, tools: Tools) -> None:
    with pytest.raises(MediaRefused, match="4 h 00 min long"):
        probe(fx.four_hours(), tools)
    inspected = probe(fx.four_hours(), tools, enforce=False)
    assert inspected.duration == pytest.approx(14400, abs=1)


def test_bomb_refused_from_the_header_in_a_limited_child(fx: Fixtures, tools: Tools) -> None:
    with pytest.raises(MediaRefused, match="megapixel limit"):
        probe(fx.bomb_png(), tools)
    # Inspecting reads the header only and never decodes the 900 megapixels.
    inspected = probe(fx.bomb_png(), tools, MediaLimits(max_image_pixels=10**10), enforce=False)
    assert (inspected.width, inspected.height) == (30000, 30000)
