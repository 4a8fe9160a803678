"""Proving an output clean before anyone sees it: probe it, walk it, search its bytes.

The scrub options should leave nothing behind; this module does not assume they did. A file
fails (`VerificationFailed`) if anything outside the explicit allow-lists below remains.
Problems name what was found (a tag's key, a stream's type), never the value, because the
failure message is shown to staff and the value may be the very thing being removed.

The allow-lists (everything else fails):
- MP4/M4A container "tags": only `major_brand`, `minor_version`, `compatible_brands` (ffprobe
  synthesises them from the `ftyp` box; they name the file format, nothing else), with
  values from a short list of standard brands.
- Stream tags: `language`=und, `handler_name`=VideoHandler/SoundHandler (the muxer's fixed
  defaults, the same in every output), `vendor_id`=[0][0][0][0], `encoder`=blank (the MP4
  compressor-name field, which we set to a blank; see profile.py).
- Streams: exactly one H.264 yuv420p video within the planned size, at most 30 fps by both its
  average and its timestamps' rate, not marked HDR (for video), and at most one
  AAC 48 kHz audio of 1-2 channels; no cover picture, no side data (display matrix, spherical,
  GPS...), no chapters.
- Bytes: no encoder signature (Lavf/Lavc versions, x264's SEI text) and none of the strings
  the caller names (the input's metadata values, strings planted by tests). The signatures
  are matched as longer patterns (`Lavf59.27.100`, `x264 - core 164`) rather than bare
  `Lavf`/`x264`: four fixed bytes occur by chance in ~2% of 100 MB compressed files.
- Pictures (delivery and poster, JPEG): only SOI/APP0-JFIF/DQT/SOF/DHT/DRI/SOS/RST/EOI
  segments, nothing after EOI; Pillow sees no EXIF, XMP, ICC, comment or text.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.media.errors import VerificationFailed
from workers.media.images import STRUCTURAL_INFO
from workers.media.probe import HDR_TRANSFERS, MediaLimits, StreamInfo, probe_container
from workers.media.sniff import MP4, sniff_file
from workers.media.tools import Tools
from workers.media.transcode import Plan

BRANDS = {"isom", "iso2", "iso4", "iso5", "iso6", "avc1", "mp41", "mp42", "M4A "}
ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}
ALLOWED_STREAM_TAGS: dict[str, set[str]] = {
    "language": {"und"},
    "handler_name": {"VideoHandler", "SoundHandler"},
    "vendor_id": {"[0][0][0][0]"},
    "encoder": {"", " "},
}
ENCODER_SIGNATURES: dict[str, re.Pattern[bytes]] = {
    "libavformat version (Lavf)": re.compile(rb"Lavf\d{2}\.\d{1,3}\.\d{3}"),
    "libavcodec version (Lavc)": re.compile(rb"Lavc\d{2}\.\d{1,3}\.\d{3}"),
    "libavcodec encoder name (Lavc)": re.compile(rb"Lavc [a-z0-9_]{3,}"),
    "x264 settings (SEI)": re.compile(rb"x264 - core \d+"),
    "x264 options": re.compile(rb"options: cabac="),
    "libx264 name": re.compile(rb"libx264"),
}
_JPEG_ALLOWED = {0xC0, 0xC1, 0xC2, 0xC4, 0xDB, 0xDD, 0xDA} | set(range(0xD0, 0xD8))


@dataclass(frozen=True)
class VerificationReport:
    """What was checked on one output file and what it is; kept with the job's result."""

    file: str
    kind: str
    size_bytes: int
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    streams: tuple[dict[str, Any], ...] = ()
    checks: tuple[str, ...] = ()
    strings_searched: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "kind": self.kind, "size_bytes": self.size_bytes,
            "duration": self.duration, "width": self.width, "height": self.height,
            "streams": list(self.streams), "checks": list(self.checks),
            "strings_searched": self.strings_searched, **self.extra,
        }


# --- byte search ----------------------------------------------------------------------------------

def _needles(forbidden: Iterable[str | bytes]) -> list[bytes]:
    out = []
    for item in forbidden:
        needle = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        if needle and needle not in out:
            out.append(needle)
    return out


def search_bytes(path: Path, forbidden: Iterable[str | bytes]) -> list[str]:
    """Problems: encoder signatures and forbidden strings found anywhere in the file."""
    needles = _needles(forbidden)
    problems = []
    with open(path, "rb") as handle:
        if handle.seek(0, 2) == 0:
            return ["the output is empty"]
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for name, pattern in ENCODER_SIGNATURES.items():
                if pattern.search(data):
                    problems.append(f"encoder signature in the bytes: {name}")
            for number, needle in enumerate(needles, 1):
                if data.find(needle) != -1:
                    problems.append(f"forbidden string #{number} ({len(needle)} bytes) in the bytes")
    return problems


# --- audio and video ------------------------------------------------------------------------------

def _check_format_tags(tags: dict[str, str]) -> list[str]:
    problems = [f"container tag {k!r} remains" for k in tags if k not in ALLOWED_FORMAT_TAGS]
    # `ffmpeg -i` listings drop trailing blanks ("M4A " -> "M4A"): pad back to 4-byte codes.
    if _padded(tags.get("major_brand", "isom")) not in BRANDS:
        problems.append("unexpected major_brand")
    brands = _padded(tags.get("compatible_brands", ""))
    if len(brands) % 4 or any(brands[i : i + 4] not in BRANDS for i in range(0, len(brands), 4)):
        problems.append("unexpected compatible_brands")
    if not tags.get("minor_version", "0").isdigit():
        problems.append("unexpected minor_version")
    return problems


def _padded(brands: str) -> str:
    return brands + " " * (-len(brands) % 4)


def _check_stream(stream: StreamInfo, the_plan: Plan) -> list[str]:
    where = f"stream {stream.index} ({stream.type})"
    problems = [
        f"{where}: tag {k!r} remains" for k, v in stream.tags.items()
        if v not in ALLOWED_STREAM_TAGS.get(k, set())
    ]
    problems += [f"{where}: side data {s!r} remains" for s in stream.side_data]
    if stream.attached_pic:
        problems.append(f"{where}: a cover picture remains")
    if stream.type == "video":
        problems += _check_video(stream, the_plan, where)
    elif stream.type == "audio":
        if stream.codec != "aac" or stream.sample_rate != 48000 or (stream.channels or 0) not in (1, 2):
            problems.append(f"{where}: not AAC 48 kHz mono/stereo")
    else:
        problems.append(f"{where}: a {stream.type} stream remains")
    return problems


def _check_video(stream: StreamInfo, the_plan: Plan, where: str) -> list[str]:
    problems = []
    if stream.codec != "h264":
        problems.append(f"{where}: not H.264")
    if (stream.width, stream.height) != (the_plan.width, the_plan.height):
        problems.append(f"{where}: size {stream.width}x{stream.height}, planned {the_plan.width}x{the_plan.height}")
    fastest = max(r for r in (stream.fps, stream.real_fps, 0.0) if r is not None)
    if fastest > 30.5:  # the average and the timestamps' rate: a player sees both
        problems.append(f"{where}: {fastest:.1f} fps is over the cap")
    if stream.color_transfer in HDR_TRANSFERS:
        problems.append(f"{where}: still marked as HDR ({stream.color_transfer})")
    if stream.rotation:
        problems.append(f"{where}: still rotated by metadata")
    return problems


def _check_stream_set(streams: tuple[StreamInfo, ...], the_plan: Plan) -> list[str]:
    videos = [s for s in streams if s.type == "video"]
    audios = [s for s in streams if s.type == "audio"]
    want_video = 1 if the_plan.kind == "video" else 0
    want_audio = 1 if the_plan.channels is not None else 0
    problems = []
    if len(videos) != want_video:
        problems.append(f"{len(videos)} video streams, expected {want_video}")
    if len(audios) != want_audio:
        problems.append(f"{len(audios)} audio streams, expected {want_audio}")
    return problems


def verify_av(
    path: Path, the_plan: Plan, *, tools: Tools, limits: MediaLimits,
    forbidden: Iterable[str | bytes] = (),
) -> VerificationReport:
    """Check a delivery MP4/M4A against the plan and the allow-lists; raise if anything is off."""
    needles = _needles(forbidden)
    problems: list[str] = []
    if sniff_file(path) != MP4:
        raise VerificationFailed(["the output is not an MP4 file"])
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-bytes") as beside:
        searched = beside.submit(search_bytes, path, needles)  # while ffprobe (a child process) reads it
        tags, streams, chapters, duration, format_name = probe_container(path, MP4, tools, limits)
        found_in_bytes = searched.result()
    problems += _check_format_tags(tags)
    problems += [f"{len(chapters)} chapters remain"] if chapters else []
    problems += _check_stream_set(streams, the_plan)
    for stream in streams:
        problems += _check_stream(stream, the_plan)
    if duration is None or duration <= 0:
        problems.append("the output has no duration")
    elif duration > the_plan.max_duration + 1.0:
        problems.append(f"the output lasts {duration:.1f} s, over the {the_plan.max_duration:.0f} s limit")
    problems += found_in_bytes
    if problems:
        raise VerificationFailed(problems)
    video = next((s for s in streams if s.type == "video"), None)
    return VerificationReport(
        file=path.name, kind=the_plan.kind, size_bytes=path.stat().st_size, duration=duration,
        width=video.width if video else None, height=video.height if video else None,
        streams=tuple({"type": s.type, "codec": s.codec} for s in streams),
        checks=("container is MP4", "container tags within allow-list", "no chapters",
                "only the planned streams", "stream tags within allow-list", "no side data",
                "codecs and sizes as planned", "duration within limit",
                "no encoder signatures in bytes", "no input metadata values in bytes"),
        strings_searched=len(needles), extra={"format": format_name},
    )


# --- pictures ---------------------------------------------------------------------------------------

def jpeg_segments(data: bytes) -> list[int]:
    """Marker codes of a JPEG, in order, walking segment lengths and entropy-coded data."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    markers, pos = [0xD8], 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ValueError("broken marker")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1  # fill bytes
        marker = data[pos]
        pos += 1
        markers.append(marker)
        if marker == 0xD9:
            if pos != len(data):
                markers.append(-1)  # bytes after the end of the image
            return markers
        if 0xD0 <= marker <= 0xD7:
            continue
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += length
        if marker == 0xDA:
            pos = _skip_entropy(data, pos)
    raise ValueError("no end-of-image marker")


def _skip_entropy(data: bytes, pos: int) -> int:
    while True:
        pos = data.find(b"\xff", pos)
        if pos == -1 or pos + 1 >= len(data):
            raise ValueError("entropy-coded data runs off the end")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
            continue
        return pos


def _jpeg_problems(data: bytes) -> list[str]:
    try:
        markers = jpeg_segments(data)
    except ValueError as exc:
        return [f"JPEG structure: {exc}"]
    problems = []
    app0 = data[6:11] == b"JFIF\x00"
    for marker in markers:
        if marker == -1:
            problems.append("bytes after the end of the JPEG image")
        elif marker == 0xE0 and app0:
            continue
        elif marker not in _JPEG_ALLOWED | {0xD8, 0xD9}:
            problems.append(f"JPEG segment 0x{marker:02X} remains (APPn/COM/other)")
    return problems


def _pillow_problems(path: Path) -> tuple[list[str], tuple[int, int], str]:
    from PIL import Image

    with Image.open(path, formats=["JPEG"]) as img:
        problems = [f"picture info {k!r} remains" for k in img.info if k not in STRUCTURAL_INFO]
        if len(img.getexif()):
            problems.append("EXIF remains")
        return problems, img.size, img.mode


def verify_image(path: Path, *, max_side: int, forbidden: Iterable[str | bytes] = ()) -> VerificationReport:
    """Check a JPEG we wrote: structure, Pillow's view, bytes."""
    needles = _needles(forbidden)
    data = path.read_bytes()
    problems = _jpeg_problems(data)
    size, mode = (0, 0), ""
    try:
        pillow, size, mode = _pillow_problems(path)
        problems += pillow
    except Exception as exc:  # noqa: BLE001 (our own file must open, whatever the error)
        problems.append(f"Pillow cannot open it ({type(exc).__name__})")
    if max(size) > max_side:
        problems.append(f"picture is {size[0]}x{size[1]}, over {max_side} px")
    problems += search_bytes(path, needles)
    if problems:
        raise VerificationFailed(problems)
    return VerificationReport(
        file=path.name, kind="image", size_bytes=len(data), width=size[0], height=size[1],
        checks=("JPEG segments within allow-list", "nothing after end of image",
                "no EXIF/XMP/ICC/comments/text", "size within limit",
                "no encoder signatures in bytes", "no input metadata values in bytes"),
        strings_searched=len(needles), extra={"mode": mode},
    )
