"""Media as phones and browsers really make it (issue 15): each kind generated with the real
ffmpeg, processed end to end, and the output checked by an independent ffprobe; the limits and
the verifier must hold for every one of them.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures import Fixtures
from support import need
from test_scrub import assert_clean_picture, assert_no_planted_bytes, ffprobe_json

from workers.media.cli import cmd_process
from workers.media.errors import MediaRefused
from workers.media.pipeline import Result, process
from workers.media.probe import MediaLimits, probe
from workers.media.sniff import HEIF
from workers.media.tools import Tools

pytestmark = pytest.mark.ffmpeg

# fixture (method:arg) -> (kind, duration of what is in it)
ACCEPTED = {
    "vfr_mp4": ("video", 2.0),
    "still_with_sound": ("video", 3.0),
    "vbr_mp3_no_header": ("audio", 30.0),
    "vbr_aac_raw": ("audio", 30.0),
    "hdr_hevc:hlg": ("video", 1.0),
    "hdr_hevc:pq": ("video", 1.0),
    "dolby_vision": ("video", 1.0),
    "hevc_portrait": ("video", 1.0),
    "surround:m4a": ("audio", 1.0),
    "surround:mp4": ("video", 1.0),
    "opus_mp4": ("video", 1.0),
    "av1_mp4": ("video", 1.0),
    "alac_m4a": ("audio", 1.0),
    "hires_wav": ("audio", 1.0),
}
HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}


def _source(fx: Fixtures, fixture: str) -> Path:
    name, _, arg = fixture.partition(":")
    return getattr(fx, name)(*([arg] if arg else []))  # type: ignore[no-any-return]


def _rate(text: str) -> float:
    top, _, bottom = text.partition("/")
    return float(top) / float(bottom or 1) if float(bottom or 1) else 0.0


@pytest.mark.parametrize("fixture", sorted(ACCEPTED))
def test_accepted_and_cleaned(processed: Any, tools: Tools, fixture: str) -> None:
    """Each kind comes out as the one delivery profile, verified, its length intact."""
    kind, seconds = ACCEPTED[fixture]
    result: Result = processed(fixture)
    assert result.kind == kind
    assert result.duration == pytest.approx(seconds, abs=0.15)
    assert result.verification["delivery"].checks
    info = ffprobe_json(tools, result.delivery)
    for stream in info["streams"]:
        assert "side_data_list" not in stream
        if stream["codec_type"] == "audio":
            assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) in (
                ("aac", "48000", 1), ("aac", "48000", 2))
        else:
            assert (stream["codec_name"], stream["pix_fmt"]) == ("h264", "yuv420p")
            assert _rate(stream["avg_frame_rate"]) <= 30.01 and _rate(stream["r_frame_rate"]) <= 30.01
            assert stream.get("color_transfer") not in HDR_TRANSFERS
    assert_no_planted_bytes(result.delivery)
    if kind == "video":
        assert result.poster is not None and "poster" in result.verification
        assert_clean_picture(result.poster)


@pytest.mark.parametrize("fixture", sorted(ACCEPTED))
def test_the_length_limit_holds(fx: Fixtures, tools: Tools, tmp_path: Path, fixture: str) -> None:
    """A limit just under the real length refuses each of them, whatever the header claims."""
    kind, seconds = ACCEPTED[fixture]
    short = seconds - 0.6
    limits = MediaLimits(max_video_seconds=short, max_audio_seconds=short)
    out = tmp_path / "out"
    with pytest.raises(MediaRefused, match="limit") as refused:
        process(_source(fx, fixture), out, tools=tools, limits=limits, scratch_root=tmp_path / "s")
    assert refused.value.reason.endswith(".")
    assert not out.exists()


@pytest.mark.parametrize("fixture", ["vfr_mp4", "vbr_mp3_no_header", "hdr_hevc:pq"])
def test_the_size_limit_holds(fx: Fixtures, tools: Tools, tmp_path: Path, fixture: str) -> None:
    source = _source(fx, fixture)
    with pytest.raises(MediaRefused, match="the limit is"):
        process(source, tmp_path / "out", tools=tools, scratch_root=tmp_path / "s",
                limits=MediaLimits(max_file_bytes=source.stat().st_size - 1))


# --- variable frame rate ----------------------------------------------------------------------------

def test_variable_frame_rate_is_seen(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.vfr_mp4(), tools)
    assert found.fps is not None and found.fps < 30  # the average looks harmless...
    assert found.real_fps == pytest.approx(60)  # ...the timing is not
    assert found.variable_fps


def test_variable_frame_rate_comes_out_constant(processed: Any, tools: Tools) -> None:
    result = processed("vfr_mp4")
    video = next(s for s in ffprobe_json(tools, result.delivery)["streams"] if s["codec_type"] == "video")
    assert _rate(video["avg_frame_rate"]) == pytest.approx(_rate(video["r_frame_rate"]), rel=0.02)
    assert _rate(video["r_frame_rate"]) == pytest.approx(30)


# --- a still picture with sound ---------------------------------------------------------------------

def test_still_with_sound_poster_is_the_picture(processed: Any) -> None:
    result = processed("still_with_sound")
    from PIL import Image

    with Image.open(result.poster) as poster:
        assert poster.size == (320, 240)
        low, high = poster.convert("L").getextrema()
        assert high - low > 100  # the test pattern, not a blank frame


# --- durations that headers guess -------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["vbr_mp3_no_header", "vbr_aac_raw"])
def test_guessed_durations_are_replaced_by_decoded_ones(fx: Fixtures, tools: Tools, fixture: str) -> None:
    source = _source(fx, fixture)
    estimate = probe(source, tools, enforce=False).duration
    assert estimate is not None and estimate < 20, "the fixture must fool the header estimate"
    assert probe(source, tools).duration == pytest.approx(30, abs=0.2)


def test_a_decoded_duration_allows_edits_to_the_real_end(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    from workers.media.edits import EditList

    edits = EditList.from_dict({"cuts": [{"start": 20, "end": 25}]})
    result = process(fx.vbr_mp3_no_header(), tmp_path / "out", tools=tools, edits=edits,
                     scratch_root=tmp_path / "s")
    assert result.duration == pytest.approx(25, abs=0.2)


# --- HDR ----------------------------------------------------------------------------------------------

def _gray(tools: Tools, path: Path, size: str = "320x180") -> bytes:
    done = subprocess.run([tools.ffmpeg, "-v", "error", "-i", str(path), "-frames:v", "1", "-vf",
                           f"scale={size},format=gray", "-f", "rawvideo", "-"], capture_output=True,
                          check=True, timeout=60)
    return done.stdout


def _difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b) > 0
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@pytest.mark.parametrize("fixture", ["hdr_hevc:hlg", "hdr_hevc:pq", "dolby_vision"])
def test_hdr_is_tone_mapped_to_sdr(processed: Any, fx: Fixtures, tools: Tools, fixture: str) -> None:
    """BT.709 out, tagged as such, and close to the SDR picture the HDR was made from."""
    result = processed(fixture)
    video = next(s for s in ffprobe_json(tools, result.delivery)["streams"] if s["codec_type"] == "video")
    assert (video.get("color_transfer"), video.get("color_primaries")) == ("bt709", "bt709")
    reference = _gray(tools, fx.sdr_reference())
    # Measured: the HDR read as if SDR differs by 20 (HLG) and 36 (PQ); tone-mapped, by ~16
    # (the rest is the round trip through BT.2020 and 10 bits); SDR through the pipeline, by 0.2.
    assert _difference(reference, _gray(tools, result.delivery)) < 18


def test_dolby_vision_is_seen_and_removed(fx: Fixtures, tools: Tools, processed: Any) -> None:
    assert "other stream side data" in probe(fx.dolby_vision(), tools).found_metadata
    assert "other stream side data" in processed("dolby_vision").removed


# --- AMR voice memos -------------------------------------------------------------------------------------

def test_an_amr_voice_memo_in_3gp(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """3GP is read by the same `mov` demuxer as MP4 (no new demuxer); AMR-NB is decoded by
    ffmpeg's own decoder. The sound must survive, and the length limit must hold."""
    memo = fx.amr_3gp()
    need(memo is not None, "libopencore-amrnb (Debian: libopencore-amrnb0) is not installed to make AMR")
    assert memo is not None
    result = process(memo, tmp_path / "out", tools=tools, scratch_root=tmp_path / "s")
    assert result.kind == "audio" and result.duration == pytest.approx(2.0, abs=0.1)
    assert result.input["container"] == "MP4/MOV"
    done = subprocess.run([tools.ffmpeg, "-v", "info", "-nostats", "-i", str(result.delivery), "-af", "volumedetect",
                           "-f", "null", "-"], capture_output=True, text=True, check=True, timeout=60)
    mean = float(done.stderr.split("mean_volume:")[1].split("dB")[0])
    assert mean > -30, "the tone must come through, not silence"
    with pytest.raises(MediaRefused, match="limit"):
        process(memo, tmp_path / "out2", tools=tools, scratch_root=tmp_path / "s",
                limits=MediaLimits(max_audio_seconds=1.4))


# --- pictures -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animated_pictures_are_refused_with_a_reason(fx: Fixtures, tools: Tools, tmp_path: Path, fmt: str) -> None:
    """Animated WebP and PNG (APNG): refused, saying why and what to send instead; a still
    WebP or PNG is a picture as before."""
    with pytest.raises(MediaRefused) as refused:
        process(fx.animated(fmt), tmp_path / "out", tools=tools, scratch_root=tmp_path / "s")
    assert "animated (3 frames)" in refused.value.reason and "still" in refused.value.reason
    assert not (tmp_path / "out").exists()
    result = process(fx.animated(fmt, 1), tmp_path / "still", tools=tools, scratch_root=tmp_path / "s")
    assert result.kind == "image" and result.delivery.suffix == ".jpg"
    assert_clean_picture(result.delivery)


def test_a_gif_is_refused_saying_what_is_accepted(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """GIF (animated or not) is not among the accepted formats, as the upload page says too."""
    with pytest.raises(MediaRefused, match=r"in a format we accept \(.*JPEG, PNG or WebP\)"):
        process(fx.animated("GIF"), tmp_path / "out", tools=tools, scratch_root=tmp_path / "s")


def test_a_phone_photo_with_extra_pictures_is_not_animation(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """Phones store depth maps and previews as extra JPEG frames (MPO): the photo is delivered."""
    result = process(fx.mpo_jpeg(), tmp_path / "out", tools=tools, scratch_root=tmp_path / "s")
    assert result.kind == "image" and "extra frames (animation)" in result.removed
    assert_clean_picture(result.delivery)


def test_a_real_heic_photo_is_refused_with_what_to_do(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    heic = fx.real_heic()
    need(heic is not None, "heif-enc (Debian: libheif-examples) is not installed to make a real HEIC")
    assert heic is not None
    with pytest.raises(MediaRefused) as refused:
        process(heic, tmp_path / "out", tools=tools, scratch_root=tmp_path / "s")
    assert refused.value.reason == HEIF  # what to send instead, in words an iPhone owner can follow
    assert HEIF.startswith("Please send this photo as JPEG: on an iPhone, ")


# --- through `shuttle media process` and without ffprobe ---------------------------------------------

@pytest.mark.parametrize("fixture", ["vfr_mp4", "still_with_sound", "vbr_mp3_no_header", "hdr_hevc:hlg"])
def test_through_the_cli(fx: Fixtures, tools: Tools, tmp_path: Path, fixture: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    env = {"SHUTTLE_FFMPEG": tools.ffmpeg, "SHUTTLE_FFPROBE": tools.ffprobe or ""}
    code = cmd_process([str(_source(fx, fixture)), "--out", str(tmp_path / "out"),
                        "--scratch", str(tmp_path / "s")], env=env, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    summary = json.loads(out.getvalue())
    assert summary["duration"] == pytest.approx(ACCEPTED[fixture][1], abs=0.15)


def test_heic_through_the_cli(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    env = {"SHUTTLE_FFMPEG": tools.ffmpeg, "SHUTTLE_FFPROBE": tools.ffprobe or ""}
    code = cmd_process([str(fx.heic()), "--out", str(tmp_path / "out")], env=env, stdout=out, stderr=err)
    assert code == 1 and err.getvalue() == f"refused: {HEIF}\n"


@pytest.mark.parametrize("fixture", ["vfr_mp4", "still_with_sound", "vbr_mp3_no_header", "hdr_hevc:pq"])
def test_without_ffprobe(processed: Any, pip_tools: Tools, fixture: str) -> None:
    result = processed(fixture, pip_tools)
    assert result.duration == pytest.approx(ACCEPTED[fixture][1], abs=0.15)
    assert result.verification["delivery"].checks


# --- the verifier keeps its teeth ----------------------------------------------------------------------

def test_verifier_rejects_a_fast_timing_and_an_hdr_mark(fx: Fixtures, tools: Tools) -> None:
    """Given the inputs themselves: the VFR clip's 60 fps timing and the HLG clip's transfer."""
    from workers.media.errors import VerificationFailed
    from workers.media.profile import DEFAULT_PROFILE
    from workers.media.transcode import plan
    from workers.media.verify import verify_av

    for source, problem in ((fx.vfr_mp4(), "60.0 fps is over the cap"), (fx.hdr_hevc("hlg"), "still marked as HDR")):
        the_plan = plan(probe(source, tools), MediaLimits(), None, DEFAULT_PROFILE)
        with pytest.raises(VerificationFailed) as failed:
            verify_av(source, the_plan, tools=tools, limits=MediaLimits())
        assert any(problem in p for p in failed.value.problems), failed.value.problems
