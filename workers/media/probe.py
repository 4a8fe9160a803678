"""Probing an untrusted upload: what it is, whether we accept it, what metadata it carries.

Order of defences:
1. size and emptiness, from `stat`;
2. the container decided by content (`sniff.py`), never by name;
3. ffprobe (or `ffmpeg -i`) run as a limited child with that one demuxer forced and
   whitelisted, `-protocol_whitelist file`, the input given as `file:/abs/path`, bounded
   probe size and analysis time, QuickTime external references off;
4. our own checks on what it found: a usable stream, allowed codecs, limits.
Pictures go to the Pillow child (`images.py`), which checks dimensions from the header
before decoding a single pixel.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shuttle.uploads.limits import MAX_RECORDING_SECONDS
from workers.media import banner, images
from workers.media.errors import MediaRefused, ResourceLimitHit, ToolFailed
from workers.media.run import GiB, RunLimits, RunResult, default_threads, run
from workers.media.sniff import Sniffed, sniff_file
from workers.media.tools import Tools

# Kinds of metadata, as shown to facilitators ("removed: ..."). Image kinds live in images.py.
CONTAINER_TAGS = "container tags"
STREAM_TAGS = "stream tags"
CHAPTERS = "chapters"
SUBTITLES = "subtitle streams"
ATTACHMENTS = "attachments"
DATA_STREAMS = "data streams"
COVER_ART = "cover art"
EXTRA_STREAMS = "extra audio/video streams"
LOCATION = "location"
CREATION_TIME = images.CREATION_TIME
DEVICE = images.DEVICE
ENCODER = images.ENCODER
DISPLAY_MATRIX = "rotation (display matrix)"
SIDE_DATA = "other stream side data"

VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "h263", "mjpeg", "mpeg2video"}
AUDIO_CODECS = {
    "aac", "mp3", "opus", "vorbis", "flac", "alac", "amr_nb", "amr_wb", "ac3", "eac3",
    "pcm_u8", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le",
    "pcm_mulaw", "pcm_alaw",
}
# ffmpeg decoder names per codec, for `-codec_whitelist` when decoding (alternatives included:
# ffmpeg picks its default decoder for a codec, which must be on the list).
DECODERS = {
    "h264": ["h264"], "hevc": ["hevc"], "vp8": ["vp8", "libvpx"], "vp9": ["vp9", "libvpx-vp9"],
    "av1": ["libdav1d", "av1", "libaom-av1"], "mpeg4": ["mpeg4"], "h263": ["h263"],
    "mjpeg": ["mjpeg"], "mpeg2video": ["mpeg2video"], "aac": ["aac", "aac_fixed"],
    "mp3": ["mp3float", "mp3"], "opus": ["opus", "libopus"], "vorbis": ["vorbis", "libvorbis"],
    "flac": ["flac"], "alac": ["alac"], "amr_nb": ["amrnb", "libopencore_amrnb"],
    "amr_wb": ["amrwb", "libopencore_amrwb"], "ac3": ["ac3", "ac3_fixed"], "eac3": ["eac3"],
}

_STRUCTURAL_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}
_NEUTRAL_STREAM_TAGS = {
    "language": {"und", ""},
    "handler_name": {"VideoHandler", "SoundHandler", ""},
    "vendor_id": {"[0][0][0][0]"},
}
_STRUCTURAL_MKV_TAGS = {"duration", "bps", "number_of_frames", "number_of_bytes", "_statistics_tags"}


@dataclass(frozen=True)
class MediaLimits:
    """What an upload may be, and what its processing may cost (per child process)."""

    max_video_seconds: float = MAX_RECORDING_SECONDS["video"]
    max_audio_seconds: float = MAX_RECORDING_SECONDS["audio"]
    max_image_pixels: int = 40_000_000
    max_file_bytes: int = 1 * GiB
    max_video_pixels: int = 8192 * 4320
    max_streams: int = 64
    threads: int = field(default_factory=default_threads)
    memory_bytes: int = 3 * GiB
    output_bytes: int = 2 * GiB
    probe_seconds: float = 30.0
    transcode_seconds: float | None = None  # None: 120 s + 4 x the duration

    def run_limits(self, wall_seconds: float) -> RunLimits:
        return RunLimits(
            wall_seconds=wall_seconds, memory_bytes=self.memory_bytes,
            output_bytes=self.output_bytes, threads=self.threads,
        )

    def max_seconds(self, kind: str) -> float:
        return self.max_video_seconds if kind == "video" else self.max_audio_seconds

    def transcode_wall(self, duration: float | None, kind: str) -> float:
        if self.transcode_seconds is not None:
            return self.transcode_seconds
        return 120.0 + 4.0 * (duration or self.max_seconds(kind))


@dataclass(frozen=True)
class StreamInfo:
    index: int
    type: str  # video | audio | subtitle | data | attachment | unknown
    codec: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None  # the average rate (frames / duration)
    real_fps: float | None = None  # the rate the timestamps need (ffprobe's r_frame_rate)
    color_transfer: str | None = None
    color_primaries: str | None = None
    color_space: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    attached_pic: bool = False
    rotation: int = 0
    sample_aspect: float = 1.0
    duration: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    side_data: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, (), {}, False)}
        out["index"], out["type"], out["codec"] = self.index, self.type, self.codec
        if "side_data" in out:
            out["side_data"] = list(out["side_data"])
        return out


@dataclass(frozen=True)
class Probe:
    """What an upload is. `width`/`height` are as displayed (rotation applied)."""

    kind: str  # video | audio | image
    container: str  # for people: "MP4/MOV", "JPEG"...
    demuxer: str  # the forced ffmpeg demuxer, or the Pillow format
    size_bytes: int
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0
    fps: float | None = None
    real_fps: float | None = None
    hdr: str | None = None  # "pq" | "hlg": the video's transfer, when it is high dynamic range
    video_seconds: float | None = None  # the video stream's own length, where known
    video_stream: int | None = None
    audio_stream: int | None = None
    audio_channels: int | None = None
    streams: tuple[StreamInfo, ...] = ()
    chapters: tuple[dict[str, Any], ...] = ()
    format_tags: dict[str, str] = field(default_factory=dict)
    found_metadata: tuple[str, ...] = ()
    metadata_strings: tuple[str, ...] = ()  # values to look for in outputs; never displayed
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def variable_fps(self) -> bool:
        """Frames do not come at one steady rate: the timestamps need a finer clock than the
        average suggests (phones drop frames in low light; browsers record as frames come)."""
        if self.fps is None or self.real_fps is None:
            return False
        return abs(self.real_fps - self.fps) > max(0.5, 0.02 * self.fps)

    @property
    def codecs(self) -> list[str]:
        chosen = (self.video_stream, self.audio_stream)
        return [s.codec for s in self.streams if s.index in chosen]

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "container": self.container, "size_bytes": self.size_bytes,
            "duration": self.duration, "width": self.width, "height": self.height,
            "rotation": self.rotation, "found_metadata": list(self.found_metadata),
        }


# --- ffmpeg input options shared by probing, transcoding and verification -------------------

def input_options(demuxer: str, *, decoders: Iterable[str] = (), threads: int | None = None) -> dict[str, Any]:
    """The options that pin an input to one local file read by one demuxer."""
    opts: dict[str, Any] = {
        "f": demuxer,
        "format_whitelist": demuxer,
        "protocol_whitelist": "file",
        "probesize": 50_000_000,
        "analyzeduration": 30_000_000,
    }
    if demuxer == "mov":
        opts["enable_drefs"] = 0  # never follow a QuickTime reference to another file
    names = sorted(set(decoders))
    if names:
        opts["codec_whitelist"] = ",".join(names)
    if threads:
        opts["threads"] = threads
    return opts


def file_url(path: Path) -> str:
    """`file:` + absolute path: a name like `http:x` or `concat:a|b` stays a file name."""
    return "file:" + str(Path(path).resolve())


def _flatten(opts: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in opts.items():
        out += [f"-{key}", str(value)]
    return out


# --- probing ----------------------------------------------------------------------------------

def probe(
    path: Path,
    tools: Tools,
    limits: MediaLimits | None = None,
    *,
    enforce: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> Probe:
    """Probe `path`; `MediaRefused` for anything we do not take. `enforce=False` (inspecting)
    skips the size and duration limits but none of the safety measures."""
    limits = limits or MediaLimits()
    path = Path(path)
    size = _check_size(path, limits, enforce)
    sniffed = sniff_file(path)
    if sniffed.family == "image":
        return _probe_image(path, sniffed, size, limits, enforce, should_stop)
    raw = _probe_av(path, sniffed, tools, limits, should_stop)
    result = _from_raw(raw, sniffed, size)
    if enforce and sniffed.demuxer in GUESSED_DURATION and result.audio_stream is not None:
        result = _with_decoded_duration(path, result, tools, limits, should_stop)
    _check_av(result, limits, enforce)
    return result


# Raw MP3 and ADTS AAC have no duration field: ffmpeg guesses it from the first frames' bit
# rate, which for VBR without a Xing/VBRI header can be off by a factor of three.
GUESSED_DURATION = {"mp3", "aac"}


def _with_decoded_duration(
    path: Path, found: Probe, tools: Tools, limits: MediaLimits,
    should_stop: Callable[[], bool] | None,
) -> Probe:
    """Replace the guessed duration by the decoded one. Decoding stops just past the limit, so
    the length cap applies to what is decoded (a 4-hour file costs seconds, not minutes)."""
    limit = limits.max_seconds(found.kind)
    codec = next(s.codec for s in found.streams if s.index == found.audio_stream)
    opts = input_options(found.demuxer, decoders=DECODERS.get(codec, [codec]), threads=1)
    argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-progress", "pipe:1", *_flatten(opts), "-i", file_url(path),
            "-map", f"0:{found.audio_stream}", "-t", f"{limit + 1:.3f}", "-f", "null", "-"]
    result = _limited(argv, limits.run_limits(limits.probe_seconds), should_stop)
    decoded = _last_out_time(result.stdout)
    if result.returncode != 0 or not decoded:
        raise MediaRefused("No sound could be decoded from the recording; it may be damaged.",
                           detail=result.stderr[-2000:])
    details = {**found.details, "duration_from_header": found.duration, "duration_decoded": decoded}
    if decoded > limit:
        raise MediaRefused(
            f"The recording is more than {human_duration(limit)} long; the limit for "
            f"{found.kind} is {human_duration(limit)}."
        )
    return replace(found, duration=decoded, details=details)


def _last_out_time(progress: bytes) -> float | None:
    """The last `out_time_us` of ffmpeg's `-progress` output, in seconds."""
    times = [line.split(b"=", 1)[1] for line in progress.splitlines() if line.startswith(b"out_time_us=")]
    for value in reversed(times):
        if value.strip().isdigit():
            return int(value) / 1_000_000 or None
    return None


def _check_size(path: Path, limits: MediaLimits, enforce: bool) -> int:
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise MediaRefused("The file could not be opened.", detail=str(exc)) from exc
    if size == 0:
        raise MediaRefused("The file is empty.")
    if enforce and size > limits.max_file_bytes:
        raise MediaRefused(
            f"The file is {_size(size)}; the limit is {_size(limits.max_file_bytes)}."
        )
    return size


def _limited(argv: list[str], limits: RunLimits, should_stop: Callable[[], bool] | None) -> RunResult:
    """Run a probe; hitting a resource limit while merely *examining* a file is the file's
    doing (a flood of tags or streams, a crafted header), so it is a refusal, not a retry."""
    try:
        return run(argv, limits=limits, capture_stdout=True, should_stop=should_stop)
    except ResourceLimitHit as exc:
        raise MediaRefused(
            "The file could not be examined within our limits; it may be damaged or crafted.",
            detail=str(exc),
        ) from exc


def _probe_av(
    path: Path, sniffed: Sniffed, tools: Tools, limits: MediaLimits,
    should_stop: Callable[[], bool] | None,
) -> dict[str, Any]:
    opts = _flatten(input_options(sniffed.demuxer))
    run_limits = limits.run_limits(limits.probe_seconds)
    if tools.ffprobe:
        argv = [tools.ffprobe, "-v", "error", "-hide_banner", *opts, "-print_format", "json",
                "-show_format", "-show_streams", "-show_chapters", file_url(path)]
        result = _limited(argv, run_limits, should_stop)
        if result.returncode != 0:
            raise _unreadable(sniffed, result.stderr)
        try:
            found: dict[str, Any] = json.loads(result.stdout.decode("utf-8", "replace"))
        except json.JSONDecodeError as exc:
            raise ToolFailed("ffprobe printed something that is not JSON") from exc
        return found
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", *opts, "-i", file_url(path)]
    # The listing is on stderr, which is normally kept as a short tail: keep all of it here.
    result = _limited(argv, replace(run_limits, stderr_bytes=run_limits.stdout_bytes), should_stop)
    parsed = banner.parse(result.stderr)
    if parsed is None:
        raise _unreadable(sniffed, result.stderr)
    return parsed


def probe_container(path: Path, sniffed: Sniffed, tools: Tools, limits: MediaLimits) -> tuple[
    dict[str, str], tuple[StreamInfo, ...], tuple[dict[str, Any], ...], float | None, str
]:
    """Format tags, streams, chapters, duration and format name; for checking our outputs."""
    raw = _probe_av(path, sniffed, tools, limits, None)
    fmt = raw.get("format", {}) or {}
    streams = tuple(_stream_from_raw(s) for s in raw.get("streams", []) or [])
    chapters = tuple(raw.get("chapters", []) or [])
    tags = {str(k): str(v) for k, v in (fmt.get("tags") or {}).items()}
    return tags, streams, chapters, _num(fmt.get("duration")), str(fmt.get("format_name", ""))


def _unreadable(sniffed: Sniffed, stderr: str) -> MediaRefused:
    return MediaRefused(
        f"The file looks like {sniffed.label} but could not be read; "
        "it may be damaged, incomplete or disguised.",
        detail=stderr[-2000:],
    )


def _num(value: Any) -> float | None:
    """ffprobe numbers come as strings, "N/A", or fractions like "30000/1001"."""
    if value in (None, "", "N/A"):
        return None
    try:
        if isinstance(value, str) and "/" in value:
            top, bottom = value.split("/", 1)
            return float(top) / float(bottom) if float(bottom) else None
        return float(value)
    except (TypeError, ValueError):
        return None


def _stream_from_raw(raw: dict[str, Any]) -> StreamInfo:
    side = tuple(str(s.get("side_data_type", "unknown")) for s in raw.get("side_data_list", []) or [])
    rotation = 0
    for entry in raw.get("side_data_list", []) or []:
        if "rotation" in entry:
            rotation = round(float(entry["rotation"]))
    tags = {str(k): str(v) for k, v in (raw.get("tags") or {}).items()}
    if "rotate" in tags:  # older ffmpeg versions exported the display matrix as a tag
        rotation = int(_num(tags["rotate"]) or 0)
    sar = _num((raw.get("sample_aspect_ratio") or "1:1").replace(":", "/")) or 1.0
    real_fps = _num(raw.get("r_frame_rate"))
    fps = _num(raw.get("avg_frame_rate")) or real_fps
    width, height = raw.get("width"), raw.get("height")
    return StreamInfo(
        index=int(raw.get("index", 0)),
        type=str(raw.get("codec_type") or "unknown"),
        codec=str(raw.get("codec_name") or "none"),
        width=int(width) if width else None,
        height=int(height) if height else None,
        fps=fps if fps and fps < 1000 else None,
        real_fps=real_fps if real_fps and real_fps < 100_000 else None,
        color_transfer=_text(raw.get("color_transfer")),
        color_primaries=_text(raw.get("color_primaries")),
        color_space=_text(raw.get("color_space")),
        sample_rate=int(_num(raw.get("sample_rate")) or 0) or None,
        channels=int(raw["channels"]) if raw.get("channels") else None,
        attached_pic=bool((raw.get("disposition") or {}).get("attached_pic")),
        rotation=rotation,
        sample_aspect=sar if 0.1 < sar < 10 else 1.0,
        duration=_num(raw.get("duration")),
        tags=tags,
        side_data=side,
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "", "unknown", "unspecified") else None


HDR_TRANSFERS = {"smpte2084": "pq", "arib-std-b67": "hlg"}


def _from_raw(raw: dict[str, Any], sniffed: Sniffed, size: int) -> Probe:
    streams = tuple(_stream_from_raw(s) for s in raw.get("streams", []) or [])
    fmt = raw.get("format", {}) or {}
    chapters = tuple(
        {"start": _num(c.get("start_time")), "end": _num(c.get("end_time")),
         "tags": {str(k): str(v) for k, v in (c.get("tags") or {}).items()}}
        for c in raw.get("chapters", []) or []
    )
    video = next((s for s in streams if s.type == "video" and not s.attached_pic), None)
    audio = next((s for s in streams if s.type == "audio"), None)
    kind = "video" if video else "audio" if audio else ""
    width = height = None
    if video and video.width and video.height:
        width, height = round(video.width * video.sample_aspect), video.height
        if abs(video.rotation) % 180 == 90:
            width, height = height, width
    format_tags = {str(k): str(v) for k, v in (fmt.get("tags") or {}).items()}
    found, strings = classify(format_tags, streams, chapters, video, audio)
    return Probe(
        kind=kind, container=sniffed.label, demuxer=sniffed.demuxer, size_bytes=size,
        duration=_num(fmt.get("duration")), width=width, height=height,
        rotation=video.rotation if video else 0, fps=video.fps if video else None,
        real_fps=video.real_fps if video else None,
        hdr=HDR_TRANSFERS.get(video.color_transfer or "") if video else None,
        video_seconds=video.duration if video else None,
        video_stream=video.index if video else None, audio_stream=audio.index if audio else None,
        audio_channels=audio.channels if audio else None, streams=streams, chapters=chapters,
        format_tags=format_tags, found_metadata=tuple(sorted(found)),
        metadata_strings=tuple(strings),
        details={"format_name": fmt.get("format_name"), "format_tags": format_tags,
                 "streams": [s.to_dict() for s in streams], "chapters": list(chapters)},
    )


def _check_av(result: Probe, limits: MediaLimits, enforce: bool) -> None:
    if not result.kind:
        raise MediaRefused("The file contains no sound or picture we can use.")
    if len(result.streams) > limits.max_streams:
        raise MediaRefused("The file has an unusual number of tracks and was not accepted.")
    chosen = [s for s in result.streams if s.index in (result.video_stream, result.audio_stream)]
    for stream in chosen:
        allowed = VIDEO_CODECS if stream.type == "video" else AUDIO_CODECS
        if stream.codec not in allowed:
            raise MediaRefused(
                f"The file's {stream.type} is in a format we do not accept ({stream.codec})."
            )
    if result.kind == "video" and not (result.width and result.height):
        raise MediaRefused("The video has no picture size; it may be damaged.")
    if not enforce:
        return
    if result.kind == "video" and (result.width or 0) * (result.height or 0) > limits.max_video_pixels:
        raise MediaRefused(f"The video's picture ({result.width}x{result.height}) is larger than we accept.")
    limit = limits.max_seconds(result.kind)
    if result.duration is not None and result.duration > limit:
        raise MediaRefused(
            f"The recording is {human_duration(result.duration)} long; the limit for "
            f"{result.kind} is {human_duration(limit)}."
        )


# --- what metadata is there -------------------------------------------------------------------

def _tag_kinds(key: str, value: str, generic: str) -> set[str]:
    """The kinds one tag reveals; the generic kind when nothing more specific applies."""
    k = key.lower()
    kinds = set()
    if any(w in k for w in ("location", "xyz", "gps", "iso6709")):
        kinds.add(LOCATION)
    if any(w in k for w in ("creation_time", "date", "creationdate", "year")):
        kinds.add(CREATION_TIME)
    if any(w in k for w in ("make", "model", "manufacturer", "com.android", "device", "camera")):
        kinds.add(DEVICE)
    if any(w in k for w in ("encoder", "software", "writing_app", "encoded_by", "tool", "vendor", "handler")):
        kinds.add(ENCODER)
    return kinds or {generic}


def _neutral_stream_tag(key: str, value: str) -> bool:
    k = key.lower()
    if k in _STRUCTURAL_MKV_TAGS or k.startswith(("number_of_", "duration")):
        return True
    allowed = _NEUTRAL_STREAM_TAGS.get(k)
    return allowed is not None and value in allowed


def classify(
    format_tags: dict[str, str],
    streams: Iterable[StreamInfo],
    chapters: Iterable[dict[str, Any]],
    video: StreamInfo | None,
    audio: StreamInfo | None,
) -> tuple[set[str], list[str]]:
    """The kinds of metadata present, and the text values worth searching outputs for."""
    found: set[str] = set()
    strings: list[str] = []
    for key, value in format_tags.items():
        if key.lower() not in _STRUCTURAL_FORMAT_TAGS:
            found |= _tag_kinds(key, value, CONTAINER_TAGS)
            strings.append(value)
    for stream in streams:
        found |= _stream_kinds(stream, video, audio)
        for key, value in stream.tags.items():
            if not _neutral_stream_tag(key, value):
                found |= _tag_kinds(key, value, STREAM_TAGS)
                strings.append(value)
    for chapter in chapters:
        found.add(CHAPTERS)
        strings += list(chapter.get("tags", {}).values())
    return found, searchable(strings)


def _stream_kinds(stream: StreamInfo, video: StreamInfo | None, audio: StreamInfo | None) -> set[str]:
    kinds = set()
    if stream.type == "subtitle":
        kinds.add(SUBTITLES)
    elif stream.type == "data":
        kinds.add(DATA_STREAMS)
    elif stream.type == "attachment":
        kinds.add(ATTACHMENTS)
    elif stream.attached_pic:
        kinds.add(COVER_ART)
    elif stream.type in ("video", "audio") and stream is not video and stream is not audio:
        kinds.add(EXTRA_STREAMS)
    for side in stream.side_data:
        kinds.add(DISPLAY_MATRIX if side.lower().replace(" ", "") == "displaymatrix" else SIDE_DATA)
    if "rotate" in stream.tags:
        kinds.add(DISPLAY_MATRIX)
    return kinds


def searchable(values: Iterable[str], limit: int = 200) -> list[str]:
    """Values long and varied enough that finding them in an output cannot be chance."""
    out: list[str] = []
    for value in values:
        text = value.strip()[:64]
        if len(text) >= 6 and len(set(text)) >= 4 and text not in out:
            out.append(text)
    return out[:limit]


# --- pictures -----------------------------------------------------------------------------------

def image_child(args: list[str], limits: MediaLimits, should_stop: Callable[[], bool] | None) -> dict[str, Any]:
    """Run `images.py` in a limited child; its refusals become `MediaRefused`."""
    argv = [sys.executable, "-I", str(Path(images.__file__).resolve()), *args]
    result = _limited(argv, limits.run_limits(limits.probe_seconds * 2), should_stop)
    try:
        answer: dict[str, Any] = json.loads(result.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        answer = {}
    if result.returncode == images.REFUSED_EXIT and "refused" in answer:
        raise MediaRefused(str(answer["refused"]))
    if result.returncode != 0:
        raise MediaRefused("The picture could not be read; it may be damaged.", detail=result.stderr[-2000:])
    return answer


def _probe_image(
    path: Path, sniffed: Sniffed, size: int, limits: MediaLimits, enforce: bool,
    should_stop: Callable[[], bool] | None,
) -> Probe:
    decode = "1" if enforce else "0"
    info = image_child(["inspect", str(path), sniffed.demuxer, str(limits.max_image_pixels), decode],
                       limits, should_stop)
    frames = int(info.get("frames", 1) or 1)
    if enforce and frames > 1 and info.get("format") in ANIMATION_FORMATS:
        raise MediaRefused(
            f"This picture is animated ({frames} frames), and only still pictures can be sent; "
            "please send a photo or a screenshot instead, or the animation as a video."
        )
    return Probe(
        kind="image", container=sniffed.label, demuxer=sniffed.demuxer, size_bytes=size,
        width=int(info["width"]), height=int(info["height"]),
        rotation=_orientation_degrees(int(info.get("orientation", 1))),
        found_metadata=tuple(sorted(info.get("found", []))),
        metadata_strings=tuple(searchable(info.get("strings", []))),
        details={"format": info.get("format"), "mode": info.get("mode"),
                 "frames": info.get("frames"), **info.get("details", {})},
    )


# Formats whose extra frames are an animation. A JPEG's extra frames (MPO: depth maps, previews
# that phones store) are not: the first frame is the photo, delivered, and the rest removed.
ANIMATION_FORMATS = {"GIF", "WEBP", "PNG"}


def _orientation_degrees(orientation: int) -> int:
    return {3: 180, 6: 90, 8: 270, 5: 90, 7: 270}.get(orientation, 0)


def _size(n: int) -> str:
    return f"{n / GiB:.1f} GiB" if n >= GiB else f"{n / 1024**2:.0f} MiB"


def human_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
