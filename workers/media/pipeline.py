"""The whole media pipeline for one upload: probe -> transcode (or render edits) -> verify.

Everything happens inside a private scratch directory (see scratch.py); only finished and
verified files are moved into `out_dir`, each by an atomic rename, and the scratch directory
is wiped whatever happens. So `out_dir` holds either the complete verified result or nothing
from this run: a refusal, a crash, a timeout or a failed verification leaves no output.

The worker's job handler (wired by the service) decrypts the upload into its own scratch
directory, calls `process`, encrypts what lands in `out_dir`, and records `Result.to_dict()`
with the version; the CLI calls exactly the same function.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.media.edits import EditList
from workers.media.errors import InvalidEdit, MediaRefused, ToolFailed
from workers.media.probe import MediaLimits, Probe, human_duration, image_child, probe
from workers.media.profile import DEFAULT_PROFILE, DeliveryProfile
from workers.media.run import ProgressCallback, RunResult, run
from workers.media.scratch import Scratch, default_root
from workers.media.tools import Tools
from workers.media.transcode import Plan, PosterShot, poster_command, poster_time, transcode
from workers.media.verify import VerificationReport, verify_av, verify_image

# Share of the progress bar each step gets (transcoding is nearly all of the time).
PROBED, TRANSCODED, DONE = 0.03, 0.92, 1.0


@dataclass(frozen=True)
class Result:
    """What processing produced. `removed`: the kinds of metadata found in the input."""

    kind: str
    delivery: Path
    poster: Path | None
    duration: float | None
    width: int | None
    height: int | None
    removed: tuple[str, ...]
    verification: dict[str, VerificationReport]
    edits: EditList | None = None
    input: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "delivery": str(self.delivery),
            "poster": str(self.poster) if self.poster else None,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "removed": list(self.removed),
            "verification": {k: v.to_dict() for k, v in self.verification.items()},
            "edits": self.edits.to_dict() if self.edits else None,
            "input": self.input,
        }


class _Progress:
    """Maps each step's 0..1 onto its share of the bar; never goes backwards."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        if self._callback is None:
            return
        if fraction >= self._last + 0.01 or (fraction == 1.0 and self._last < 1.0):
            self._last = fraction
            self._callback(fraction)

    def span(self, start: float, end: float) -> ProgressCallback:
        return lambda f: self(start + (end - start) * f)


def process(
    input_path: Path,
    out_dir: Path,
    *,
    tools: Tools,
    limits: MediaLimits | None = None,
    edits: EditList | None = None,
    progress: ProgressCallback | None = None,
    scratch_root: Path | None = None,
    should_stop: Callable[[], bool] | None = None,
    profile: DeliveryProfile = DEFAULT_PROFILE,
    forbidden: Iterable[str | bytes] = (),
) -> Result:
    """Process one upload into `out_dir`. Raises `MediaRefused` (the upload's fault, with a
    reason for people), `InvalidEdit`, `VerificationFailed`, `ToolFailed` (retry-worthy)."""
    limits = limits or MediaLimits()
    report = _Progress(progress)
    report(0.0)
    source = Path(input_path).resolve()
    found = probe(source, tools, limits, should_stop=should_stop)
    edits = _validated(edits, found)
    report(PROBED)
    root = scratch_root or default_root(_scratch_need(found, limits))
    with Scratch(root) as work:
        if found.kind == "image":
            files, reports, size = _image(source, found, work, limits, profile, forbidden, should_stop)
            duration = None
        else:
            files, reports, size, duration = _av(
                source, found, work, tools=tools, limits=limits, edits=edits, profile=profile,
                forbidden=forbidden, report=report, should_stop=should_stop,
            )
        placed = publish(files, Path(out_dir))
    report(DONE)
    return Result(
        kind=found.kind, delivery=placed["delivery"], poster=placed.get("poster"),
        duration=duration, width=size[0], height=size[1], removed=found.found_metadata,
        verification=reports, edits=edits, input=found.summary(),
    )


def _validated(edits: EditList | None, found: Probe) -> EditList | None:
    if edits is None or edits.empty:
        return None
    if found.kind == "image":
        raise InvalidEdit("Pictures cannot be edited with cuts, mutes or blurs.")
    return edits.validated(found.duration, found.kind)


def _scratch_need(found: Probe, limits: MediaLimits) -> int:
    return min(limits.output_bytes, 2 * found.size_bytes + 64 * 1024**2)


def _image(
    source: Path, found: Probe, work: Path, limits: MediaLimits, profile: DeliveryProfile,
    forbidden: Iterable[str | bytes], should_stop: Callable[[], bool] | None,
) -> tuple[dict[str, Path], dict[str, VerificationReport], tuple[int | None, int | None]]:
    out = work / "delivery.jpg"
    image_child(["render", str(source), found.demuxer, str(out), str(limits.max_image_pixels),
                 str(profile.image_max_side), str(profile.image_quality)], limits, should_stop)
    checked = verify_image(out, max_side=profile.image_max_side,
                           forbidden=[*found.metadata_strings, *forbidden])
    return {"delivery": out}, {"delivery": checked}, (checked.width, checked.height)


def _av(
    source: Path, found: Probe, work: Path, *, tools: Tools, limits: MediaLimits,
    edits: EditList | None, profile: DeliveryProfile, forbidden: Iterable[str | bytes],
    report: _Progress, should_stop: Callable[[], bool] | None,
) -> tuple[dict[str, Path], dict[str, VerificationReport], tuple[int | None, int | None], float | None]:
    forbidden = [*found.metadata_strings, *forbidden]
    poster = work / "poster.jpg"

    def poster_shot(plan: Plan) -> PosterShot | None:  # taken by the transcode itself, from its own decode
        if found.kind != "video":
            return None
        return PosterShot(poster, poster_time(_picture_seconds(plan.expected_duration, found)))

    plan, done = transcode(source, found, work / ("delivery" + (".mp4" if found.kind == "video" else ".m4a")),
                           tools=tools, limits=limits, edits=edits, profile=profile,
                           progress=report.span(PROBED, TRANSCODED), should_stop=should_stop,
                           poster=poster_shot)
    delivery = work / ("delivery" + plan.suffix)
    _check_ran(done, delivery)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-poster") as beside:
        # The poster's own checks run beside the delivery's (whose ffprobe is a child process).
        shot = beside.submit(_checked_poster, poster, forbidden, profile) if _made(poster) else None
        checked = verify_av(delivery, plan, tools=tools, limits=limits, forbidden=forbidden)
        check_complete(found, plan, checked.duration)
        poster_report = shot.result() if shot is not None else None
    files, reports = {"delivery": delivery}, {"delivery": checked}
    if found.kind == "video":
        if poster_report is None:  # no frame at that time in the transcode (a still picture with sound)
            _poster(delivery, poster, found, checked.duration, tools=tools,
                    limits=limits, profile=profile, should_stop=should_stop)
            poster_report = _checked_poster(poster, forbidden, profile)
        reports["poster"] = poster_report
        files["poster"] = poster
    return files, reports, (checked.width, checked.height), checked.duration


def _made(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _checked_poster(poster: Path, forbidden: list[str | bytes], profile: DeliveryProfile) -> VerificationReport:
    return verify_image(poster, max_side=profile.max_long_side, forbidden=forbidden)


def _picture_seconds(duration: float | None, found: Probe) -> float | None:
    """How long the picture lasts: the shorter of the output's and the video stream's length."""
    known = [d for d in (duration, found.video_seconds) if d is not None]
    return min(known) if known else None


def _poster(
    delivery: Path, poster: Path, found: Probe, duration: float | None, *, tools: Tools,
    limits: MediaLimits, profile: DeliveryProfile, should_stop: Callable[[], bool] | None,
) -> Path:
    """A JPEG of a frame that exists, from the delivery file, when the transcode took none: about
    1 s in, within the video's own length (a still picture with sound has one frame and seconds
    of audio), else the first frame."""
    picture_seconds = _picture_seconds(duration, found)
    shot = None
    for at in dict.fromkeys((poster_time(picture_seconds), 0.0)):
        poster.unlink(missing_ok=True)
        shot = run(poster_command(delivery, poster, at, tools=tools, profile=profile),
                   limits=limits.run_limits(limits.probe_seconds), should_stop=should_stop)
        if shot.returncode == 0 and poster.exists() and poster.stat().st_size > 0:
            return poster
    raise ToolFailed("the poster frame could not be made from the delivery file",
                     detail=shot.stderr if shot else "")


def _check_ran(done: RunResult, output: Path) -> None:
    """A non-zero exit is the input's fault unless the machine says otherwise."""
    machine = ("No space left on device", "Cannot allocate memory", "Resource temporarily unavailable")
    if done.returncode != 0:
        if any(m in done.stderr for m in machine):
            raise ToolFailed(f"ffmpeg failed for a machine reason (exit {done.returncode})", detail=done.stderr)
        raise MediaRefused("The recording could not be converted; the file may be damaged.",
                           detail=done.stderr[-2000:])
    if not output.exists() or output.stat().st_size == 0:
        raise MediaRefused("The recording could not be converted: nothing in it could be decoded.",
                           detail=done.stderr[-2000:])


def check_complete(found: Probe, plan: Plan, out_duration: float | None) -> None:
    """Refuse files whose content does not match their header: truncated ones (shorter than
    they claim) and ones that are longer than they claim or than the limit (cut off by `-t`)."""
    if out_duration is None:
        raise MediaRefused("Nothing could be decoded from the recording.")
    expected = plan.expected_duration
    if expected is None:
        if out_duration >= plan.max_duration - 0.1:
            raise MediaRefused(f"The recording is longer than the limit of {human_duration(plan.max_duration)}.")
        return
    tolerance = max(1.0, 0.05 * expected)
    if out_duration > expected + tolerance:
        raise MediaRefused("The recording is longer than its header says; it may be damaged or disguised.")
    if out_duration < expected - tolerance:  # (MP3/AAC durations are decoded ones: see probe)
        raise MediaRefused(
            f"The file is incomplete or damaged: only {out_duration:.1f} s of {expected:.1f} s could be read."
        )


def publish(files: dict[str, Path], out_dir: Path) -> dict[str, Path]:
    """Move finished files into `out_dir`, each via a hidden temporary name and an atomic
    rename; on any failure remove what was placed, so `out_dir` gets all or nothing."""
    out_dir.mkdir(parents=True, exist_ok=True)
    placed: dict[str, Path] = {}
    try:
        for role, src in files.items():
            final = out_dir / f"{role}{src.suffix}"
            temp = out_dir / f".{role}.{secrets.token_hex(6)}.partial"
            _move(src, temp)
            os.chmod(temp, 0o600)
            os.replace(temp, final)
            placed[role] = final
        _fsync_dir(out_dir)
    except BaseException:
        for path in placed.values():
            path.unlink(missing_ok=True)
        for stray in out_dir.glob(".*.partial"):
            stray.unlink(missing_ok=True)
        raise
    return placed


def _move(src: Path, dst: Path) -> None:
    try:
        os.rename(src, dst)  # same filesystem: instant
    except OSError:
        with open(src, "rb") as reader, open(dst, "xb") as writer:
            shutil.copyfileobj(reader, writer, 1024 * 1024)
            writer.flush()
            os.fsync(writer.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
