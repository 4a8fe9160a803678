"""Fixtures for the media tests: the tools (system ffmpeg, or the pip one) and the generated media."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import Fixtures
from support import need

from workers.media.errors import ToolsMissing
from workers.media.tools import Tools, ffmpeg_version, find_tools


@pytest.fixture(scope="session")
def tools() -> Tools:
    try:
        found = find_tools()
    except ToolsMissing as exc:
        need(False, f"ffmpeg is missing: {exc}")
        raise
    need(found.ffprobe is not None, "ffprobe is missing (install the ffmpeg package)")
    return found


@pytest.fixture(scope="session")
def pip_tools() -> Tools:
    """imageio-ffmpeg's build and no ffprobe: the bare pip-only machine."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        need(False, f"imageio-ffmpeg has no usable ffmpeg: {exc}")
        raise
    return Tools(ffmpeg=exe, ffprobe=None, source="imageio-ffmpeg", version=ffmpeg_version(exe))


@pytest.fixture(scope="session")
def fx(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    return Fixtures(tmp_path_factory.mktemp("media-fixtures"), tools)


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    root = tmp_path / "scratch"
    root.mkdir()
    return root
