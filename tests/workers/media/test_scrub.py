"""Every metadata carrier in, nothing out: checked by an independent ffprobe, Pillow and bytes.

These checks deliberately do not use the pipeline's own verifier: they restate the rule
("no metadata crosses") with separate code so that a bug in `verify.py` cannot hide itself.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures import PLANTED, Fixtures
from PIL import Image

from workers.media.pipeline import Result
from workers.media.tools import Tools

pytestmark = pytest.mark.ffmpeg

AV_CARRIERS = ["rich_mp4", "phone_mov", "attach_mkv", "cover_mp3", "cover_m4a", "voice_ogg",
               "browser_webm", "audio:wav", "audio:flac", "audio:aac", "plain_mp4"]
IMAGE_CARRIERS = ["exif_jpeg", "text_png", "photo_webp", "cover_jpeg"]
# Small outputs (tens of KB): even 4-byte signatures cannot match by chance here.
ENCODER_STRINGS = [b"x264", b"core 1", b"Lavf", b"Lavc", b"libx264", b"FFmpeg", b"videolan"]
ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}
ALLOWED_STREAM_TAGS = {"language": {"und"}, "handler_name": {"VideoHandler", "SoundHandler"},
                       "vendor_id": {"[0][0][0][0]"}, "encoder": {" ", ""}}


def ffprobe_json(tools: Tools, path: Path, *extra: str) -> dict[str, Any]:
    assert tools.ffprobe
    done = subprocess.run(
        [tools.ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         "-show_chapters", *extra, str(path)], capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def outputs(result: Result) -> list[Path]:
    return [p for p in (result.delivery, result.poster) if p is not None]


def assert_no_planted_bytes(path: Path) -> None:
    data = path.read_bytes()
    for planted in PLANTED:
        assert planted.encode() not in data, f"{planted} leaked into {path.name}"
    for signature in ENCODER_STRINGS:
        assert signature not in data, f"{signature!r} in {path.name}"


def assert_clean_picture(path: Path) -> None:
    with Image.open(path) as img:
        assert img.format == "JPEG"
        assert set(img.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}, img.info.keys()
        assert len(img.getexif()) == 0
        assert img.mode in ("RGB", "L")
    assert_no_planted_bytes(path)


@pytest.mark.parametrize("fixture", AV_CARRIERS)
def test_av_output_carries_nothing(processed: Any, tools: Tools, fixture: str) -> None:
    result = processed(fixture)
    for path in outputs(result):
        assert_no_planted_bytes(path)
    info = ffprobe_json(tools, result.delivery)
    assert set(info["format"].get("tags", {})) <= ALLOWED_FORMAT_TAGS
    assert info["chapters"] == []
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == (["audio", "video"] if result.kind == "video" else ["audio"])
    for stream in info["streams"]:
        assert "side_data_list" not in stream
        assert stream["disposition"]["attached_pic"] == 0
        for key, value in stream.get("tags", {}).items():
            assert value in ALLOWED_STREAM_TAGS.get(key, set()), (key, value)
        if stream["codec_type"] == "audio":
            assert (stream["codec_name"], stream["sample_rate"]) == ("aac", "48000")
        else:
            assert (stream["codec_name"], stream["pix_fmt"]) == ("h264", "yuv420p")
    if result.poster:
        assert_clean_picture(result.poster)


@pytest.mark.parametrize("fixture", IMAGE_CARRIERS)
def test_image_output_carries_nothing(processed: Any, fixture: str) -> None:
    result = processed(fixture)
    assert result.kind == "image" and result.poster is None
    assert_clean_picture(result.delivery)


def test_removed_lists_what_was_found(processed: Any) -> None:
    removed = set(processed("phone_mov").removed)
    assert {"location", "device make/model", "rotation (display matrix)"} <= removed
    assert {"EXIF", "GPS", "XMP", "ICC profile"} <= set(processed("exif_jpeg").removed)


def test_rotation_applied_to_pixels(processed: Any, tools: Tools) -> None:
    result = processed("phone_mov")
    video = next(s for s in ffprobe_json(tools, result.delivery)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (240, 320)
    assert "side_data_list" not in video


def test_exif_orientation_applied_to_pixels(processed: Any) -> None:
    """Stored: left red, right blue, orientation 6 (turn 90 degrees clockwise to show)."""
    with Image.open(processed("exif_jpeg").delivery) as img:
        assert img.size == (480, 640)
        top, bottom = img.getpixel((240, 100)), img.getpixel((240, 540))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_transparency_flattened_onto_white(processed: Any) -> None:
    with Image.open(processed("text_png").delivery) as img:
        assert img.mode == "RGB" and img.size == (400, 300)


@pytest.mark.parametrize(("fixture", "size"), [("big60", (1280, 720)), ("portrait", (720, 1280))])
def test_size_and_frame_rate_caps(processed: Any, tools: Tools, fixture: str, size: tuple[int, int]) -> None:
    result = processed(fixture)
    video = next(s for s in ffprobe_json(tools, result.delivery)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == size
    top, bottom = (int(x) for x in video["avg_frame_rate"].split("/"))
    assert top / bottom <= 30.01


def test_keyframe_every_two_seconds(processed: Any, tools: Tools) -> None:
    result = processed("edit_clip")  # 6 s
    info = ffprobe_json(tools, result.delivery, "-select_streams", "v", "-skip_frame", "nokey",
                        "-show_entries", "frame=pts_time")
    times = [round(float(f["pts_time"]), 1) for f in info["frames"]]
    assert times == [0.0, 2.0, 4.0]


def test_fast_start(processed: Any) -> None:
    data = processed("plain_mp4").delivery.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_poster_and_duration(processed: Any) -> None:
    result = processed("plain_mp4")
    assert result.duration == pytest.approx(2.0, abs=0.1)
    with Image.open(result.poster) as img:
        assert img.size == (320, 240)


def test_x264_settings_would_be_there_without_the_filter(fx: Fixtures, tmp_path: Path) -> None:
    """The control: plain libx264 output does carry its settings string, ours does not."""
    control = tmp_path / "control.mp4"
    fx.ff("-f", "lavfi", "-i", "testsrc=size=320x240:duration=1", "-c:v", "libx264",
          "-preset", "veryfast", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(control))
    assert b"x264 - core" in control.read_bytes()


def test_audio_delivery_is_m4a(processed: Any) -> None:
    result = processed("voice_ogg")
    assert result.delivery.suffix == ".m4a"
    assert result.delivery.read_bytes()[4:12] == b"ftypM4A "
