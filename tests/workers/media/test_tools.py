"""Finding ffmpeg: the setting, then PATH, then the pip package."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import need

from workers.media.errors import ToolsMissing
from workers.media.tools import find_tools

pytestmark = pytest.mark.ffmpeg


def test_a_setting_that_points_nowhere_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ToolsMissing, match="SHUTTLE_FFMPEG"):
        find_tools(str(tmp_path / "ffmpeg"))


def test_path_is_searched_and_ffprobe_found_beside_it() -> None:
    system = shutil.which("ffmpeg")
    need(system is not None and shutil.which("ffprobe") is not None, "no ffmpeg/ffprobe on PATH")
    tools = find_tools(search_path=os.path.dirname(system or ""))
    assert tools.source == "path" and tools.ffprobe and tools.version >= (4, 0)


def test_pip_package_when_nothing_else(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    tools = find_tools(search_path=str(tmp_path))  # an empty PATH
    assert tools.source == "imageio-ffmpeg"
    assert tools.ffprobe is None or Path(tools.ffprobe).exists()


def test_setting_wins(tmp_path: Path) -> None:
    system = shutil.which("ffmpeg")
    need(system is not None, "no ffmpeg on PATH")
    link = tmp_path / "my-ffmpeg"
    link.symlink_to(system or "")
    tools = find_tools(str(link), search_path=str(tmp_path))
    assert (tools.ffmpeg, tools.source) == (str(link), "setting")
