"""The pip-only machine: imageio-ffmpeg's build, no ffprobe, probing by `ffmpeg -i` listings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fixtures import Fixtures
from test_scrub import assert_clean_picture, assert_no_planted_bytes

from workers.media import banner
from workers.media.probe import probe
from workers.media.tools import Tools

LISTING_51 = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/x/phone.mov':
  Metadata:
    major_brand     : qt  
    title           : first line
                    : second line
    com.apple.quicktime.location.ISO6709: +51.5074-000.1278+011.000/
  Duration: 00:01:02.50, start: 0.000000, bitrate: 252 kb/s
  Chapters:
    Chapter #0:0: start 0.000000, end 1.000000
      Metadata:
        title           : Intro
  Stream #0:0[0x1](eng): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1920x1080 [SAR 1:1 DAR 16:9], \
170 kb/s, 29.97 fps, 30 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : Core Media Video
    Side data:
      displaymatrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 69 kb/s (default)
  Stream #0:2: Video: mjpeg (Baseline), yuvj420p(pc), 600x600 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)
  Stream #0:3: Attachment: none
    Metadata:
      filename        : notes.txt
At least one output file must be specified
"""


def test_listing_parser() -> None:
    parsed = banner.parse(LISTING_51)
    assert parsed is not None
    fmt = parsed["format"]
    assert fmt["format_name"] == "mov,mp4,m4a,3gp,3g2,mj2" and float(fmt["duration"]) == 62.5
    assert fmt["tags"]["title"] == "first line\nsecond line"
    assert fmt["tags"]["com.apple.quicktime.location.ISO6709"] == "+51.5074-000.1278+011.000/"
    assert parsed["chapters"][0]["tags"]["title"] == "Intro"
    video, audio, cover, attachment = parsed["streams"]
    assert (video["width"], video["height"], video["tags"]["language"]) == (1920, 1080, "eng")
    assert video["side_data_list"][0]["rotation"] == -90.0
    assert float(video["avg_frame_rate"]) == pytest.approx(29.97)
    assert (audio["sample_rate"], audio["channels"]) == ("44100", 2)
    assert cover["disposition"]["attached_pic"] == 1
    assert attachment["codec_type"] == "attachment" and attachment["tags"]["filename"] == "notes.txt"


def test_listing_parser_unopened_input() -> None:
    assert banner.parse("file:/x: Invalid data found when processing input\n") is None


@pytest.mark.ffmpeg
@pytest.mark.parametrize("fixture", ["rich_mp4", "phone_mov", "attach_mkv", "cover_mp3", "voice_ogg"])
def test_same_findings_with_and_without_ffprobe(fx: Fixtures, tools: Tools, fixture: str) -> None:
    path = getattr(fx, fixture)()
    full = probe(path, tools)
    listed = probe(path, replace(tools, ffprobe=None))
    assert listed.found_metadata == full.found_metadata
    assert (listed.kind, listed.width, listed.height, listed.rotation) == (
        full.kind, full.width, full.height, full.rotation)
    assert listed.duration == pytest.approx(full.duration, abs=0.02)


@pytest.mark.ffmpeg
@pytest.mark.parametrize("fixture", ["rich_mp4", "phone_mov", "attach_mkv", "cover_m4a", "exif_jpeg"])
def test_pip_only_pipeline_scrubs_too(processed: Any, pip_tools: Tools, fixture: str) -> None:
    result = processed(fixture, pip_tools)
    assert_no_planted_bytes(result.delivery)
    if result.poster:
        assert_clean_picture(result.poster)
    assert result.verification["delivery"].checks


@pytest.mark.ffmpeg
def test_long_listing_is_read_whole(fx: Fixtures, tools: Tools, tmp_path: Any) -> None:
    """A 300 KB tag makes the listing far longer than the usual stderr tail."""
    meta = tmp_path / "meta.txt"
    meta.write_text(";FFMETADATA1\ncomment=" + "x" * 300_000 + "\ntitle=after-the-long-one\n")
    path = tmp_path / "long-tag.mkv"
    fx.ff("-f", "lavfi", "-i", "sine=duration=1", "-i", str(meta), "-map", "0", "-map_metadata", "1",
          "-c:a", "flac", str(path))
    listed = probe(path, replace(tools, ffprobe=None))
    assert listed.kind == "audio" and "container tags" in listed.found_metadata
    assert "after-the-long-one" in listed.metadata_strings
