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


class Processed:
    """Runs the pipeline once per (fixture, tools) and keeps the result for every test."""

    def __init__(self, fx: Fixtures, root: Path) -> None:
        self.fx = fx
        self.root = root
        self._cache: dict[tuple[str, str], object] = {}

    def __call__(self, fixture: str, tools: Tools | None = None) -> object:
        from workers.media.pipeline import process

        tools = tools or self.fx.tools
        key = (fixture, tools.ffmpeg + str(tools.ffprobe))
        if key not in self._cache:
            name, _, arg = fixture.partition(":")
            source = getattr(self.fx, name)(*([arg] if arg else []))
            out = self.root / f"{fixture}-{len(self._cache)}"
            self._cache[key] = process(source, out, tools=tools, scratch_root=self.root / "scratch")
        return self._cache[key]


@pytest.fixture(scope="session")
def processed(fx: Fixtures, tmp_path_factory: pytest.TempPathFactory) -> Processed:
    return Processed(fx, tmp_path_factory.mktemp("media-out"))
