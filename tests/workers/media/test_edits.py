"""Facilitator edits: validated as data, rendered from the original, measured in the output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures import Fixtures
from PIL import Image, ImageChops, ImageFilter, ImageStat

from workers.media.edits import Blur, EditList, Region, TimeRange
from workers.media.errors import InvalidEdit
from workers.media.pipeline import Result, process
from workers.media.tools import Tools

# --- validation (pure) ------------------------------------------------------------------------


def test_ranges_sorted_clipped_and_mutes_merged() -> None:
    edits = EditList(
        cuts=(TimeRange(4, 5), TimeRange(1, 2)),
        mutes=(TimeRange(0.5, 1.5), TimeRange(1.0, 2.5), TimeRange(5.5, 6.02)),
    ).validated(6.0, "video")
    assert edits.cuts == (TimeRange(1, 2), TimeRange(4, 5))
    assert edits.mutes == (TimeRange(0.5, 2.5), TimeRange(5.5, 6.0))
    assert edits.kept(6.0) == [TimeRange(0, 1), TimeRange(2, 4), TimeRange(5, 6)]
    assert edits.output_duration(6.0) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("edits", "says"),
    [
        (EditList(cuts=(TimeRange(1, 3), TimeRange(2, 4))), "overlap"),
        (EditList(cuts=(TimeRange(5, 7),)), "ends after"),
        (EditList(cuts=(TimeRange(-1, 2),)), "starts outside"),
        (EditList(mutes=(TimeRange(2, 2.01),)), "too short"),
        (EditList(cuts=(TimeRange(0, 5.8),)), "whole recording"),
        (EditList(mutes=(TimeRange(float("nan"), 2),)), "not a number"),
        (EditList(blurs=(Blur(Region(0.8, 0.1, 0.5, 0.2), TimeRange(0, 1)),)), "within the picture"),
        (EditList(blurs=(Blur(Region(0.1, 0.1, 0.0, 0.2), TimeRange(0, 1)),)), "within the picture"),
    ],
)
def test_invalid_edits(edits: EditList, says: str) -> None:
    with pytest.raises(InvalidEdit, match=says):
        edits.validated(6.0, "video")


def test_no_blur_on_audio_and_no_edit_without_length() -> None:
    with pytest.raises(InvalidEdit, match="Only videos"):
        EditList(blurs=(Blur(Region(0, 0, 0.5, 0.5), TimeRange(0, 1)),)).validated(6.0, "audio")
    with pytest.raises(InvalidEdit, match="unknown"):
        EditList(cuts=(TimeRange(0, 1),)).validated(None, "video")


def test_round_trip_and_malformed_json() -> None:
    edits = EditList(cuts=(TimeRange(1, 2),), mutes=(TimeRange(3, 4),),
                     blurs=(Blur(Region(0.1, 0.2, 0.3, 0.4), TimeRange(0, 1)),))
    assert EditList.from_dict(edits.to_dict()) == edits
    with pytest.raises(InvalidEdit, match="malformed"):
        EditList.from_dict({"cuts": [{"start": 1}]})
    with pytest.raises(InvalidEdit, match="malformed"):
        EditList.from_dict({"blurs": [{"x": "left"}]})


def test_region_in_pixels() -> None:
    region = Region.from_pixels(32, 24, 160, 120, 320, 240)
    assert region == Region(0.1, 0.1, 0.5, 0.5)
    assert region.pixels(320, 240) == (32, 24, 160, 120)
    assert Region(0.99, 0.99, 0.01, 0.01).pixels(320, 240) == (312, 232, 8, 8)


# --- rendering (ffmpeg) ---------------------------------------------------------------------


def _edited(fx: Fixtures, tools: Tools, tmp_path: Path, edits: EditList) -> Result:
    return process(fx.edit_clip(), tmp_path / "out", tools=tools, edits=edits,
                   scratch_root=tmp_path / "scratch")


def max_volume(tools: Tools, path: Path, start: float, seconds: float) -> float:
    done = subprocess.run(
        [tools.ffmpeg, "-hide_banner", "-nostdin", "-ss", str(start), "-t", str(seconds), "-i", str(path),
         "-af", "volumedetect", "-f", "null", "-"], capture_output=True, text=True, check=True, timeout=60)
    return float(re.search(r"max_volume: (-?[\d.]+) dB", done.stderr).group(1))


def frame_at(tools: Tools, path: Path, seconds: float, out: Path) -> Image.Image:
    subprocess.run([tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", str(seconds),
                    "-i", str(path), "-frames:v", "1", str(out)], check=True, timeout=60)
    with Image.open(out) as img:
        return img.convert("L")


def sharp_edges(img: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels inside `box` (1 px in from its border) with a strong edge response."""
    edges = img.crop(box).filter(ImageFilter.FIND_EDGES)
    inner = edges.crop((2, 2, edges.width - 2, edges.height - 2)).point(lambda v: 255 if v > 30 else 0)
    return int(ImageStat.Stat(inner).sum[0] // 255)


@pytest.mark.ffmpeg
def test_cut_range_is_absent(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    result = _edited(fx, tools, tmp_path, EditList(cuts=(TimeRange(1.0, 3.0),)))
    assert result.duration == pytest.approx(4.0, abs=0.15)
    assert result.edits is not None and result.edits.cuts == (TimeRange(1.0, 3.0),)


@pytest.mark.ffmpeg
def test_muted_range_is_silent(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    result = _edited(fx, tools, tmp_path, EditList(mutes=(TimeRange(2.0, 4.0),)))
    assert result.duration == pytest.approx(6.0, abs=0.15)
    assert max_volume(tools, result.delivery, 2.2, 1.6) < -60
    assert max_volume(tools, result.delivery, 0.3, 1.4) > -20
    assert max_volume(tools, result.delivery, 4.3, 1.4) > -20


@pytest.mark.ffmpeg
def test_mute_is_on_the_original_timeline_before_cuts(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """Cut 0.5-1.5, mute 3-4 (original): in the output the silence is at 2-3."""
    result = _edited(fx, tools, tmp_path, EditList(cuts=(TimeRange(0.5, 1.5),), mutes=(TimeRange(3, 4),)))
    assert result.duration == pytest.approx(5.0, abs=0.15)
    assert max_volume(tools, result.delivery, 2.2, 0.6) < -60
    assert max_volume(tools, result.delivery, 0.6, 1.2) > -20


@pytest.mark.ffmpeg
def test_blurred_region_differs_and_the_rest_does_not(
    fx: Fixtures, tools: Tools, processed: Any, tmp_path: Path
) -> None:
    box = (80, 60, 240, 180)  # the region below, in output pixels (320x240)
    edits = EditList(blurs=(Blur(Region(0.25, 0.25, 0.5, 0.5), TimeRange(1.0, 5.0)),))
    blurred = _edited(fx, tools, tmp_path, edits).delivery
    plain = processed("edit_clip").delivery
    inside_b = frame_at(tools, blurred, 3.0, tmp_path / "b.png")
    inside_p = frame_at(tools, plain, 3.0, tmp_path / "p.png")
    diff = ImageChops.difference(inside_b, inside_p)
    assert ImageStat.Stat(diff.crop(box)).mean[0] > 8  # the region changed a lot
    assert ImageStat.Stat(diff.crop((0, 0, 320, 50))).mean[0] < 3  # the top strip did not
    assert sharp_edges(inside_b, box) == 0  # and lost its detail
    assert sharp_edges(inside_p, box) > 100
    before_b = frame_at(tools, blurred, 0.4, tmp_path / "b0.png")
    before_p = frame_at(tools, plain, 0.4, tmp_path / "p0.png")
    assert ImageStat.Stat(ImageChops.difference(before_b, before_p).crop(box)).mean[0] < 3  # not yet blurred


@pytest.mark.ffmpeg
def test_edits_on_audio_only(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    result = process(fx.voice_ogg(), tmp_path / "out", tools=tools, scratch_root=tmp_path / "scratch",
                     edits=EditList(cuts=(TimeRange(0.5, 1.0),), mutes=(TimeRange(1.2, 1.8),)))
    assert result.kind == "audio" and result.duration == pytest.approx(1.5, abs=0.15)


@pytest.mark.ffmpeg
def test_edits_refused_for_pictures(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    with pytest.raises(InvalidEdit):
        process(fx.exif_jpeg(), tmp_path / "out", tools=tools, scratch_root=tmp_path / "scratch",
                edits=EditList(cuts=(TimeRange(0, 1),)))
    assert not (tmp_path / "out").exists()
