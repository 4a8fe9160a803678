"""Turning a probed upload into the delivery file, and a poster frame for videos.

ffmpeg-python builds the argument list (`compile()`); `run.py` runs it under limits. The
input is pinned exactly as in probing (forced, whitelisted demuxer, local file only) plus a
`-codec_whitelist` of the decoders for the two streams we keep; only those two streams are
mapped (by absolute index, so a cover picture can never be taken for the video), and the
scrub options of `profile.scrub_options` apply. `-t` caps the output at the duration limit
whatever the container claims, so a file whose header lies about its length cannot produce
an over-long output (the pipeline then notices the mismatch and refuses it).

Rotation: ffmpeg's autorotate (on by default) turns the pixels upright and writes no display
matrix into the output; verification checks that none remains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from workers.media import edits as edit_graph
from workers.media.edits import EditList
from workers.media.probe import DECODERS, MediaLimits, Probe, file_url, input_options
from workers.media.profile import DEFAULT_PROFILE, DeliveryProfile, scrub_options
from workers.media.run import ProgressCallback, RunLimits, RunResult, run
from workers.media.tools import Tools

GLOBAL_ARGS = ("-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1",
               "-stats_period", "0.2")  # progress five times a second: people see it moving


@dataclass(frozen=True)
class Plan:
    """What one transcode will produce: decided from the probe, before ffmpeg runs."""

    kind: str  # video | audio
    suffix: str  # .mp4 | .m4a
    width: int | None
    height: int | None
    fps: float | None  # forced output rate, None: keep the source's timing
    channels: int | None
    expected_duration: float | None  # after cuts, capped by the limit
    max_duration: float
    hdr: tuple[str, str | None, str | None] | None = None  # tone map from (transfer, primaries, matrix)


def plan(probe: Probe, limits: MediaLimits, edits: EditList | None, profile: DeliveryProfile) -> Plan:
    max_duration = limits.max_seconds(probe.kind)
    expected = probe.duration
    if edits is not None and not edits.empty and probe.duration is not None:
        expected = edits.output_duration(probe.duration)
    if expected is not None:
        expected = min(expected, max_duration)
    width = height = None
    if probe.kind == "video":
        assert probe.width and probe.height
        width, height = profile.video_size(probe.width, probe.height)
    channels = profile.audio_channels(probe.audio_channels) if probe.audio_stream is not None else None
    return Plan(
        kind=probe.kind, suffix=".mp4" if probe.kind == "video" else ".m4a",
        width=width, height=height,
        fps=profile.output_fps(probe.fps, probe.real_fps, probe.variable_fps) if probe.kind == "video" else None,
        channels=channels, expected_duration=expected, max_duration=max_duration,
        hdr=_hdr_source(probe) if probe.kind == "video" else None,
    )


def _hdr_source(probe: Probe) -> tuple[str, str | None, str | None] | None:
    """The video's (transfer, primaries, matrix) when it is HLG or PQ, else None."""
    video = next((s for s in probe.streams if s.index == probe.video_stream), None)
    if video is None or probe.hdr is None:
        return None
    assert video.color_transfer
    return video.color_transfer, video.color_primaries, video.color_space


@dataclass(frozen=True)
class PosterShot:
    """A poster frame taken from the transcode's own decode, after every filter (scale, blurs,
    cuts), as a second output: the first frame at or after `at` seconds of the output, else
    (a still picture with sound, a clip shorter than it said) the very first frame."""

    path: Path
    at: float


def build_command(
    source: Path, probe: Probe, the_plan: Plan, output: Path, *, tools: Tools, threads: int,
    edits: EditList | None = None, profile: DeliveryProfile = DEFAULT_PROFILE,
    poster: PosterShot | None = None,
) -> list[str]:
    """The full ffmpeg argv for one delivery file (and, with `poster`, its poster frame)."""
    codecs = [c for c in probe.codecs]
    decoders = [name for codec in codecs for name in DECODERS.get(codec, [codec])]
    inp = ffmpeg.input(file_url(source), **input_options(probe.demuxer, decoders=decoders, threads=threads))
    video = audio = None
    if the_plan.kind == "video":
        video = _video_chain(inp[str(probe.video_stream)], the_plan, edits, profile)
    if probe.audio_stream is not None:
        audio = _audio_chain(inp[str(probe.audio_stream)], the_plan, edits)
    if edits is not None and edits.cuts and probe.duration is not None:
        video, audio = edit_graph.apply_cuts(video, audio, edits, probe.duration)
    still = None
    if poster is not None and video is not None:
        branches = video.split()
        video, still = branches[0], branches[1]
    opts = _output_options(the_plan, threads, profile)
    streams = [s for s in (video, audio) if s is not None]
    out = ffmpeg.output(*streams, "file:" + str(output), **opts)
    if still is not None:
        assert poster is not None
        out = ffmpeg.merge_outputs(out, _poster_output(still, poster, profile))
    return _argv(tools, out, "-filter_complex_threads", str(threads))


def _poster_output(stream: Any, poster: PosterShot, profile: DeliveryProfile) -> Any:
    """One JPEG file: `select` passes the first frame, then the first at or after `at` (if any),
    and drops every other frame itself; the image muxer writes each over the last (`update`).
    The two are retimed to 0 s and 1 s at 1 fps, so no frame rate conversion duplicates the
    first in place of the second. The branch always gets a frame (an output that gets none
    fails the whole run in newer ffmpeg) and costs a comparison per frame and two JPEG encodes."""
    at = f"{poster.at:.3f}"
    chosen = (stream.filter("select", f"eq(selected_n,0)+gte(t,{at})*lt(prev_selected_t,{at})")
              .filter("setpts", "N/TB"))
    return ffmpeg.output(chosen, "file:" + str(poster.path), r=1, **_poster_options(profile, frames=2))


def _poster_options(profile: DeliveryProfile, frames: int = 1) -> dict[str, Any]:
    return {"vframes": frames, "c:v": "mjpeg", "q:v": profile.poster_quality, "pix_fmt": "yuvj420p",
            "f": "image2", "update": 1, "map_metadata": -1, "fflags": "+bitexact", "flags:v": "+bitexact"}


def _video_chain(stream: Any, the_plan: Plan, edits: EditList | None, profile: DeliveryProfile) -> Any:
    if the_plan.fps is not None:
        stream = stream.filter("fps", fps=f"{the_plan.fps:g}")
    stream = stream.filter("scale", width=the_plan.width, height=the_plan.height, flags="bicubic")
    if the_plan.hdr is not None:  # after scaling: tone mapping in float is costly per pixel
        for name, options in profile.tone_map_filters(*the_plan.hdr):
            stream = stream.filter(name, **options)
    stream = stream.filter("setsar", "1").filter("format", pix_fmts="yuv420p")
    if edits is not None and edits.blurs:
        assert the_plan.width and the_plan.height
        stream = edit_graph.apply_blurs(stream, edits.blurs, the_plan.width, the_plan.height)
    return stream


def _audio_chain(stream: Any, the_plan: Plan, edits: EditList | None) -> Any:
    layout = "mono" if the_plan.channels == 1 else "stereo"
    stream = stream.filter("aresample", 48000).filter(
        "aformat", sample_fmts="fltp", sample_rates=48000, channel_layouts=layout
    )
    if edits is not None and edits.mutes:
        stream = edit_graph.apply_mutes(stream, edits.mutes)
    return stream


def _output_options(the_plan: Plan, threads: int, profile: DeliveryProfile) -> dict[str, object]:
    opts: dict[str, object] = {
        **scrub_options(),
        "t": f"{the_plan.max_duration:.3f}",
        "threads": threads,
        "max_muxing_queue_size": 4096,
        "movflags": "+faststart",
        "f": "mp4" if the_plan.kind == "video" else "ipod",
    }
    if the_plan.kind == "video":
        opts.update(profile.video_encoder_options(the_plan.fps))
        if the_plan.hdr is not None:  # say what the pixels now are: SDR BT.709
            opts.update({"color_primaries": "bt709", "color_trc": "bt709", "colorspace": "bt709"})
    if the_plan.channels is not None:
        opts.update(profile.audio_encoder_options(the_plan.channels))
    return opts


def transcode(
    source: Path, probe: Probe, output: Path, *, tools: Tools, limits: MediaLimits,
    edits: EditList | None = None, profile: DeliveryProfile = DEFAULT_PROFILE,
    progress: ProgressCallback | None = None, should_stop: Callable[[], bool] | None = None,
    run_limits: RunLimits | None = None, poster: Callable[[Plan], PosterShot | None] | None = None,
) -> tuple[Plan, RunResult]:
    """Write the delivery file to `output` (which must not exist). Returns the plan and run.

    `poster`: given the plan, where and when to take a poster frame in the same run (or None)."""
    the_plan = plan(probe, limits, edits, profile)
    argv = build_command(source, probe, the_plan, output, tools=tools, threads=limits.threads,
                         edits=edits, profile=profile, poster=poster(the_plan) if poster else None)
    wall = limits.transcode_wall(probe.duration, probe.kind)
    result = run(argv, limits=run_limits or limits.run_limits(wall), progress=progress,
                 total_seconds=the_plan.expected_duration or the_plan.max_duration,
                 should_stop=should_stop)
    return the_plan, result


def poster_time(duration: float | None) -> float:
    """About 1 s in (past a fade-in), or the middle of clips shorter than 2 s."""
    if duration is None or duration <= 0:
        return 0.0
    return 1.0 if duration >= 2.0 else duration / 2


def poster_command(delivery: Path, output: Path, at: float, *, tools: Tools,
                   profile: DeliveryProfile = DEFAULT_PROFILE) -> list[str]:
    """One JPEG frame, `at` seconds in, taken from our own (already clean) delivery file."""
    opts = input_options("mov", decoders=["h264"])
    inp = ffmpeg.input(file_url(delivery), ss=f"{at:.3f}", **opts)
    out = ffmpeg.output(inp["v:0"], "file:" + str(output), **_poster_options(profile))
    return _argv(tools, out)


def _argv(tools: Tools, out: Any, *extra_global: str) -> list[str]:
    """ffmpeg-python puts global options last; ffmpeg wants them before the first input."""
    return [tools.ffmpeg, *GLOBAL_ARGS, *extra_global, *out.get_args()]
