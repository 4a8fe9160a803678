"""Probing without ffprobe: parse the stream listing `ffmpeg -i FILE` prints on stderr.

Only used when no ffprobe exists (the pip-only machine: imageio-ffmpeg ships ffmpeg alone).
The result has the shape of `ffprobe -print_format json -show_format -show_streams
-show_chapters` for the fields the pipeline reads, so everything downstream is shared.
The listing is meant for people and changes between versions; this parser is tested on the
versions we meet (Debian 5.1, imageio-ffmpeg's) and is deliberately forgiving: a field it
cannot read is left out, and the decisions that matter (is there a stream we can use, how
long is it) fail closed in `probe.py`.
"""

from __future__ import annotations

import re
from typing import Any

_INPUT = re.compile(r"^Input #0, (?P<format>.+?), from ")
_DURATION = re.compile(r"^\s*Duration: (?P<d>N/A|[\d:.]+)")
_CHAPTER = re.compile(r"^\s*Chapter #0:\d+: start (?P<s>-?[\d.]+), end (?P<e>-?[\d.]+)")
_STREAM = re.compile(
    r"^\s*Stream #0:(?P<index>\d+)(?:\[0x[0-9a-fA-F]+\])?(?:\((?P<lang>[^)]+)\))?: "
    r"(?P<type>\w+): (?P<rest>.*)$"
)
_TAG = re.compile(r"^(?P<indent>\s*)(?P<key>[^:]*?)\s*: (?P<value>.*)$")
_ROTATION = re.compile(r"rotation of (?P<deg>-?[\d.]+) degrees", re.IGNORECASE)
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def parse(text: str) -> dict[str, Any] | None:
    """The ffprobe-shaped dict, or None when ffmpeg did not open the input at all."""
    result: dict[str, Any] = {"format": {"tags": {}}, "streams": [], "chapters": []}
    target: dict[str, Any] | None = None  # where "Metadata:" lines go
    section = ""  # "meta" | "side" | ""
    opened = False
    last_tag: tuple[dict[str, str], str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if match := _INPUT.match(line):
            opened = True
            result["format"]["format_name"] = match.group("format")
            target, section = result["format"], ""
        elif not opened:
            continue
        elif line and not line.startswith(" "):
            break  # "Output #0", "At least one output file...": the listing is over
        elif match := _DURATION.match(line):
            result["format"]["duration"] = _seconds(match.group("d"))
            target, section = result["format"], ""
        elif match := _CHAPTER.match(line):
            chapter: dict[str, Any] = {"start_time": match.group("s"), "end_time": match.group("e"), "tags": {}}
            result["chapters"].append(chapter)
            target, section = chapter, ""
        elif match := _STREAM.match(line):
            target, section = _stream(match), ""
            result["streams"].append(target)
        elif stripped == "Metadata:":
            section = "meta"
        elif stripped == "Side data:":
            section = "side"
        elif stripped == "Chapters:":
            section = ""
        elif target is not None and section == "meta":
            last_tag = _tag(target, stripped, last_tag)
        elif target is not None and section == "side":
            target.setdefault("side_data_list", []).append(_side_data(stripped))
    return result if opened else None


def _seconds(text: str) -> str | None:
    if text == "N/A":
        return None
    hours, minutes, seconds = text.split(":")
    return str(int(hours) * 3600 + int(minutes) * 60 + float(seconds))


def _tag(
    target: dict[str, Any], stripped: str, last: tuple[dict[str, str], str] | None
) -> tuple[dict[str, str], str] | None:
    """`key : value`; a line starting with ':' continues the previous value."""
    tags = target.setdefault("tags", {})
    if stripped.startswith(":") and last is not None and last[0] is tags:
        tags[last[1]] += "\n" + stripped[1:].strip()
        return last
    key, sep, value = stripped.partition(":")
    if not sep:
        return last
    tags[key.strip()] = value.strip()
    return tags, key.strip()


def _side_data(stripped: str) -> dict[str, Any]:
    kind = stripped.split(":", 1)[0].strip()
    entry: dict[str, Any] = {"side_data_type": kind}
    if match := _ROTATION.search(stripped):
        entry["side_data_type"] = "Display Matrix"
        entry["rotation"] = float(match.group("deg"))
    return entry


def _stream(match: re.Match[str]) -> dict[str, Any]:
    rest = match.group("rest")
    codec_type = match.group("type").lower()
    stream: dict[str, Any] = {
        "index": int(match.group("index")),
        "codec_type": codec_type,
        "codec_name": re.split(r"[\s,]", rest, maxsplit=1)[0] or "none",
        "disposition": {"attached_pic": int("(attached pic)" in rest)},
        "tags": {},
    }
    if match.group("lang"):
        stream["tags"]["language"] = match.group("lang")
    if codec_type == "video":
        _video_fields(stream, rest)
    elif codec_type == "audio":
        _audio_fields(stream, rest)
    return stream


def _video_fields(stream: dict[str, Any], rest: str) -> None:
    if size := re.search(r"(?<![\w/])(\d{1,5})x(\d{1,5})(?![\w])", rest):
        stream["width"], stream["height"] = int(size.group(1)), int(size.group(2))
    if sar := re.search(r"\[SAR (\d+):(\d+)", rest):
        stream["sample_aspect_ratio"] = f"{sar.group(1)}:{sar.group(2)}"
    tbr = re.search(r"([\d.]+)(k?) tbr", rest)
    if tbr:  # "tbr" is ffmpeg's guess of the real base rate (ffprobe's r_frame_rate)
        stream["r_frame_rate"] = str(float(tbr.group(1)) * (1000 if tbr.group(2) else 1))
    if fps := re.search(r"([\d.]+)(k?) fps", rest):
        stream["avg_frame_rate"] = str(float(fps.group(1)) * (1000 if fps.group(2) else 1))
    elif tbr:
        stream["avg_frame_rate"] = stream["r_frame_rate"]
    colour = (re.search(r"\((?:tv|pc), ([\w-]+)(?:/([\w-]+)/([\w-]+))?[,)]", rest)
              or re.search(r"\(([\w-]+)/([\w-]+)/([\w-]+)[,)]", rest))
    if colour:
        space, primaries, transfer = colour.group(1), colour.group(2), colour.group(3)
        stream["color_space"] = space
        stream["color_primaries"] = primaries or space
        stream["color_transfer"] = transfer or space
    if pix := re.search(r", (yuv\w+|rgb\w+|bgr\w+|gray\w*|nv\d+\w*|pal8)", rest):
        stream["pix_fmt"] = pix.group(1)


def _audio_fields(stream: dict[str, Any], rest: str) -> None:
    if rate := re.search(r"(\d+) Hz", rest):
        stream["sample_rate"] = rate.group(1)
    if channels := re.search(r"(\d+) channels", rest):
        stream["channels"] = int(channels.group(1))
    else:
        for name, count in _LAYOUTS.items():
            if re.search(rf"Hz, {re.escape(name)}\b", rest):
                stream["channels"] = count
                break
