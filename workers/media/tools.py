"""Finding ffmpeg and ffprobe: a setting first, then the system PATH, then the pip package.

The caller passes the settings in (`SHUTTLE_FFMPEG` / `SHUTTLE_FFPROBE` are read by the
configuration, not here), so this module has no hidden inputs.

Why the fallback order: an operator's explicit choice wins; a system build (Debian's) is
usually the most complete and gets security updates; `imageio-ffmpeg` makes a bare machine
with only pip work. That package ships ffmpeg but no ffprobe, so when no ffprobe is found,
probing falls back to parsing the stream listing that `ffmpeg -i` prints (see
`workers.media.banner`): same input restrictions, same child-process limits, fewer details
(no per-stream durations), enough for every decision the pipeline makes.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from workers.media.errors import ToolsMissing

REQUIRED_ENCODERS = ("libx264", "aac", "mjpeg")
REQUIRED_BSFS = ("filter_units",)


@dataclass(frozen=True)
class Tools:
    """Where the tools are and what they are. `ffprobe` None: probe via `ffmpeg -i`."""

    ffmpeg: str
    ffprobe: str | None
    source: str  # "setting" | "path" | "imageio-ffmpeg"
    version: tuple[int, int]

    def describe(self) -> dict[str, object]:
        return {
            "ffmpeg": self.ffmpeg,
            "ffprobe": self.ffprobe,
            "source": self.source,
            "version": ".".join(map(str, self.version)),
        }


def find_tools(
    ffmpeg: str | None = None, ffprobe: str | None = None, *, search_path: str | None = None
) -> Tools:
    """Locate the tools; `ToolsMissing` with a sentence for the operator if impossible.

    A setting that points nowhere is an error, not a reason to silently use another build.
    """
    exe, source = _find_ffmpeg(ffmpeg, search_path)
    probe = _find_ffprobe(ffprobe, exe, search_path)
    tools = Tools(ffmpeg=exe, ffprobe=probe, source=source, version=ffmpeg_version(exe))
    check_capabilities(tools)
    return tools


def _find_ffmpeg(setting: str | None, search_path: str | None) -> tuple[str, str]:
    if setting:
        return _executable(setting, "SHUTTLE_FFMPEG"), "setting"
    found = shutil.which("ffmpeg", path=search_path)
    if found:
        return found, "path"
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise ToolsMissing(
            "ffmpeg was not found: set SHUTTLE_FFMPEG, install ffmpeg, or pip install imageio-ffmpeg"
        ) from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg"
    except RuntimeError as exc:
        raise ToolsMissing(f"the imageio-ffmpeg package has no usable ffmpeg: {exc}") from exc


def _find_ffprobe(setting: str | None, ffmpeg: str, search_path: str | None) -> str | None:
    """Setting, then next to ffmpeg (same build), then PATH; None means 'use the fallback'."""
    if setting:
        return _executable(setting, "SHUTTLE_FFPROBE")
    sibling = Path(ffmpeg).with_name("ffprobe")
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which("ffprobe", path=search_path)


def _executable(path: str, setting: str) -> str:
    resolved = shutil.which(path) if os.sep not in path else path
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        raise ToolsMissing(f"{setting} points to {path!r}, which is not an executable file")
    return resolved


@functools.lru_cache(maxsize=16)
def ffmpeg_version(exe: str) -> tuple[int, int]:
    """(major, minor) from `-version`; (0, 0) for a build that prints something unusual (git)."""
    text = _run_quick([exe, "-hide_banner", "-version"])
    match = re.search(r"version n?(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


@functools.lru_cache(maxsize=16)
def _listing(exe: str, what: str) -> str:
    return _run_quick([exe, "-hide_banner", what])


def check_capabilities(tools: Tools) -> None:
    """The delivery profile needs libx264, the native AAC and MJPEG encoders, filter_units."""
    encoders = _listing(tools.ffmpeg, "-encoders")
    missing = [name for name in REQUIRED_ENCODERS if not re.search(rf"\s{name}\s", encoders)]
    bsfs = _listing(tools.ffmpeg, "-bsfs").split()
    missing += [name for name in REQUIRED_BSFS if name not in bsfs]
    if missing:
        raise ToolsMissing(f"{tools.ffmpeg} lacks {', '.join(missing)}, which the delivery profile needs")


def _run_quick(argv: list[str]) -> str:
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolsMissing(f"could not run {argv[0]}: {exc}") from exc
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
