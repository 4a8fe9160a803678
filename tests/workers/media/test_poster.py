"""The poster frame comes out of the transcode itself (a second output of the same ffmpeg run,
from the same decode), not from a second ffmpeg run over the delivery file afterwards: about
1 s in when the picture lasts that long, else the first frame; always checked like any output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures import Fixtures
from PIL import Image, ImageChops, ImageStat

from workers.media import pipeline
from workers.media.probe import MediaLimits
from workers.media.run import run
from workers.media.tools import Tools
from workers.media.transcode import poster_command

pytestmark = pytest.mark.ffmpeg


def _frame(tools: Tools, delivery: Path, at: float, out: Path) -> Path:
    """A frame of the delivery file, as the old separate poster run took it."""
    argv = poster_command(delivery, out, at, tools=tools)
    done = run(argv, limits=MediaLimits().run_limits(60))
    assert done.returncode == 0 and out.exists(), done.stderr
    return out


def _difference(a: Path, b: Path) -> float:
    with Image.open(a) as left, Image.open(b) as right:
        return float(sum(ImageStat.Stat(ImageChops.difference(left.convert("L"), right.convert("L"))).mean))


def _without_second_run(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any ffmpeg run by the pipeline besides the probe's, the transcode's and the checks' fails the test."""
    extra: list[Any] = []

    def refuse(argv: Any, **_kw: Any) -> Any:
        extra.append(argv)
        raise AssertionError("a second ffmpeg run for the poster")

    monkeypatch.setattr(pipeline, "run", refuse)
    return extra


def test_the_poster_is_the_frame_a_second_in_taken_by_the_transcode(
        fx: Fixtures, tools: Tools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = _without_second_run(monkeypatch)
    result = pipeline.process(fx.plain_mp4(), tmp_path / "out", tools=tools, scratch_root=tmp_path)
    monkeypatch.undo()
    assert extra == [] and result.poster is not None and result.verification["poster"].kind == "image"
    at_one = _frame(tools, result.delivery, 1.0, tmp_path / "one.jpg")
    at_zero = _frame(tools, result.delivery, 0.0, tmp_path / "zero.jpg")
    assert _difference(at_zero, at_one) > 1.0  # the test picture moves: the two frames differ
    assert _difference(result.poster, at_one) < _difference(result.poster, at_zero)


def test_a_still_picture_with_sound_gets_its_one_frame_from_the_same_run(
        fx: Fixtures, tools: Tools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = _without_second_run(monkeypatch)
    result = pipeline.process(fx.still_with_sound(), tmp_path / "out", tools=tools, scratch_root=tmp_path)
    assert extra == [] and result.poster is not None
    with Image.open(result.poster) as poster:
        low, high = poster.convert("L").getextrema()
        assert high - low > 100  # the test pattern, not a blank frame
