"""Hostile and broken uploads: refused with a plain reason, nothing written, nothing read.

Each runs through the whole pipeline with the system tools and again on the pip-only setup
(imageio-ffmpeg, no ffprobe), whose probing path is different code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import SECRET_FILE_LINE, Fixtures

from workers.media.errors import MediaRefused
from workers.media.pipeline import process
from workers.media.probe import MediaLimits
from workers.media.tools import Tools

pytestmark = pytest.mark.ffmpeg

HOSTILE = {
    "hls_playlist": "playlist",
    "ffconcat": "list of other files",
    "sdp": "network stream",
    "ftyp_then_playlist": "could not be read",
    "random_bytes": "format we accept",
    "empty": "empty",
    "heic": "HEIC",
    "truncated_mp4": "could not be read",
    "truncated_faststart": "incomplete or damaged",
    "bomb_png": "megapixel limit",
    "four_hours": "limit for audio is 20 min",
}


def _refuse(fixture: Path, tools: Tools, tmp_path: Path) -> MediaRefused:
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    with pytest.raises(MediaRefused) as refused:
        process(fixture, out, tools=tools, scratch_root=scratch)
    assert not out.exists(), "a refusal must write nothing"
    assert not scratch.exists() or list(scratch.iterdir()) == [], "scratch must be wiped"
    return refused.value


@pytest.mark.parametrize("fixture", sorted(HOSTILE))
def test_refused_cleanly(fx: Fixtures, tools: Tools, tmp_path: Path, fixture: str) -> None:
    refused = _refuse(getattr(fx, fixture)(), tools, tmp_path)
    assert HOSTILE[fixture] in refused.reason
    assert refused.reason.endswith(".") and "\n" not in refused.reason
    assert SECRET_FILE_LINE.decode() not in refused.reason + refused.detail


@pytest.mark.parametrize("fixture", sorted(HOSTILE))
def test_refused_cleanly_without_ffprobe(fx: Fixtures, pip_tools: Tools, tmp_path: Path, fixture: str) -> None:
    refused = _refuse(getattr(fx, fixture)(), pip_tools, tmp_path)
    assert HOSTILE[fixture] in refused.reason
    assert SECRET_FILE_LINE.decode() not in refused.reason + refused.detail


def test_a_file_named_like_a_url_is_still_a_local_file(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """Names that ffmpeg would read as protocols are passed as `file:` paths."""
    odd = tmp_path / "concat:a|b"
    odd.mkdir()
    clip = odd / "http:example.mp4"
    clip.write_bytes(fx.plain_mp4().read_bytes())
    result = process(clip, tmp_path / "out", tools=tools, scratch_root=tmp_path / "scratch")
    assert result.kind == "video"


def test_playlist_inside_matroska_is_not_followed(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """An EBML header followed by a playlist: the forced demuxer finds no media."""
    path = tmp_path / "fake.mkv"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + fx.hls_playlist().read_bytes())
    refused = _refuse(path, tools, tmp_path)
    assert "could not be read" in refused.reason


def test_wav_header_shorter_than_its_data(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """A WAV whose header claims 1 s but holds 3 s: the header bounds what is read."""
    wav = fx.audio("wav").read_bytes()  # 2 s, 44.1 kHz mono s16
    data_at = wav.find(b"data") + 8
    forged = wav[: data_at - 4] + (44100 * 2).to_bytes(4, "little") + wav[data_at:] * 2
    forged = forged[:4] + (len(forged) - 8).to_bytes(4, "little") + forged[8:]
    path = tmp_path / "forged.wav"
    path.write_bytes(forged)
    result = process(path, tmp_path / "out", tools=tools, scratch_root=tmp_path / "scratch")
    assert result.duration == pytest.approx(1.0, abs=0.1)


def test_no_duration_header_and_over_the_limit(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    """A browser-style WebM has no duration to check up front; `-t` caps the output and the
    pipeline refuses once it sees the cap was reached."""
    out = tmp_path / "out"
    with pytest.raises(MediaRefused, match="longer than the limit"):
        process(fx.browser_webm(), out, tools=tools, scratch_root=tmp_path / "scratch",
                limits=MediaLimits(max_video_seconds=1))
    assert not out.exists()
