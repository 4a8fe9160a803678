"""Facilitator edits on audio and video: cut ranges, mute ranges, blurred regions.

An edit list is data (stored with the version it produces, JSON-friendly); the worker renders
it from the ORIGINAL upload into a new version, through the same scrub and verification as any
other output, so the original is never altered and nothing it carried can leak through an edit.

All times are in seconds on the original's timeline; regions are fractions (0..1) of the
displayed picture, so they do not depend on the delivery resolution (`Region.from_pixels`
converts from pixels of a given frame size). Mutes and blurs are applied first, on the original
timeline; cuts last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import ffmpeg

from workers.media.errors import InvalidEdit

MIN_RANGE = 0.05  # seconds: shorter ranges are slips of the mouse
MIN_KEPT = 0.5  # seconds that must remain after cuts
TOLERANCE = 0.05  # a range may end this far past the end (rounding in players)


@dataclass(frozen=True, order=True)
class TimeRange:
    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end}

    def expr(self) -> str:
        return f"between(t,{self.start:.3f},{self.end:.3f})"


@dataclass(frozen=True)
class Region:
    """A rectangle as fractions of the picture: x, y of the top-left corner, width, height."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def from_pixels(cls, x: int, y: int, w: int, h: int, frame_w: int, frame_h: int) -> Region:
        return cls(x / frame_w, y / frame_h, w / frame_w, h / frame_h)

    def pixels(self, frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
        """Even-aligned pixel box inside the frame, at least 8x8 (the blur needs room)."""
        x = min(int(self.x * frame_w) // 2 * 2, frame_w - 8)
        y = min(int(self.y * frame_h) // 2 * 2, frame_h - 8)
        w = max(8, round(self.w * frame_w) // 2 * 2)
        h = max(8, round(self.h * frame_h) // 2 * 2)
        return max(0, x), max(0, y), min(w, frame_w - max(0, x)), min(h, frame_h - max(0, y))


@dataclass(frozen=True)
class Blur:
    region: Region
    time: TimeRange

    def to_dict(self) -> dict[str, Any]:
        return {**self.region.__dict__, **self.time.to_dict()}


@dataclass(frozen=True)
class EditList:
    cuts: tuple[TimeRange, ...] = ()
    mutes: tuple[TimeRange, ...] = ()
    blurs: tuple[Blur, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.cuts or self.mutes or self.blurs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cuts": [c.to_dict() for c in self.cuts],
            "mutes": [m.to_dict() for m in self.mutes],
            "blurs": [b.to_dict() for b in self.blurs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EditList:
        """From stored JSON; malformed entries are `InvalidEdit`, never a KeyError."""
        try:
            return cls(
                cuts=tuple(_range(c) for c in data.get("cuts", [])),
                mutes=tuple(_range(m) for m in data.get("mutes", [])),
                blurs=tuple(
                    Blur(Region(float(b["x"]), float(b["y"]), float(b["w"]), float(b["h"])), _range(b))
                    for b in data.get("blurs", [])
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidEdit(f"The edit list is malformed ({exc}).") from exc

    def validated(self, duration: float | None, kind: str) -> EditList:
        """Checked against the media; ranges clipped to the end, sorted, mutes merged."""
        if duration is None:
            raise InvalidEdit("The recording's length is unknown, so it cannot be edited.")
        if self.blurs and kind != "video":
            raise InvalidEdit("Only videos can have blurred regions.")
        cuts = sorted(_check_range(c, duration, "cut") for c in self.cuts)
        for before, after in pairwise(cuts):
            if after.start < before.end:
                raise InvalidEdit(
                    f"The cuts {_fmt(before)} and {_fmt(after)} overlap; join them into one."
                )
        if duration - sum(c.end - c.start for c in cuts) < MIN_KEPT:
            raise InvalidEdit("The cuts would remove (almost) the whole recording.")
        mutes = _merge(_check_range(m, duration, "mute") for m in self.mutes)
        blurs = tuple(
            Blur(_check_region(b.region), _check_range(b.time, duration, "blur")) for b in self.blurs
        )
        return EditList(tuple(cuts), tuple(mutes), blurs)

    def kept(self, duration: float) -> list[TimeRange]:
        """The parts that remain after the cuts, in order."""
        parts, position = [], 0.0
        for cut in self.cuts:
            if cut.start - position > 1e-3:
                parts.append(TimeRange(position, cut.start))
            position = cut.end
        if duration - position > 1e-3:
            parts.append(TimeRange(position, duration))
        return parts

    def output_duration(self, duration: float) -> float:
        return sum(p.end - p.start for p in self.kept(duration))


def _range(data: Mapping[str, Any]) -> TimeRange:
    return TimeRange(float(data["start"]), float(data["end"]))


def _fmt(r: TimeRange) -> str:
    return f"{r.start:.2f}-{r.end:.2f} s"


def _check_range(r: TimeRange, duration: float, what: str) -> TimeRange:
    if not (r.start == r.start and r.end == r.end):  # NaN
        raise InvalidEdit(f"A {what} range is not a number.")
    if r.start < 0 or r.start >= duration:
        raise InvalidEdit(f"The {what} {_fmt(r)} starts outside the recording (0-{duration:.2f} s).")
    if r.end > duration + TOLERANCE:
        raise InvalidEdit(f"The {what} {_fmt(r)} ends after the recording ({duration:.2f} s).")
    r = TimeRange(r.start, min(r.end, duration))
    if r.end - r.start < MIN_RANGE:
        raise InvalidEdit(f"The {what} {_fmt(r)} is empty or too short.")
    return r


def _check_region(region: Region) -> Region:
    values = (region.x, region.y, region.w, region.h)
    if any(not (0.0 <= v <= 1.0) for v in values) or region.w <= 0 or region.h <= 0:
        raise InvalidEdit("A blurred region must lie within the picture.")
    if region.x + region.w > 1.0 + 1e-6 or region.y + region.h > 1.0 + 1e-6:
        raise InvalidEdit("A blurred region must lie within the picture.")
    return region


def _merge(ranges: Iterable[TimeRange]) -> list[TimeRange]:
    merged: list[TimeRange] = []
    for r in sorted(ranges):
        if merged and r.start <= merged[-1].end:
            merged[-1] = TimeRange(merged[-1].start, max(merged[-1].end, r.end))
        else:
            merged.append(r)
    return merged


# --- rendering into an ffmpeg-python graph ----------------------------------------------------

def apply_blurs(video: Any, blurs: Iterable[Blur], frame_w: int, frame_h: int) -> Any:
    """Each blur: crop the box, box-blur it hard, overlay it back during its time range."""
    for blur in blurs:
        x, y, w, h = blur.region.pixels(frame_w, frame_h)
        radius = max(2, min(w, h) // 4)
        chroma = max(1, min(w, h) // 8)
        split = video.split()
        patch = (
            split[1]
            .crop(x=x, y=y, width=w, height=h)
            .filter("boxblur", luma_radius=radius, luma_power=3, chroma_radius=chroma, chroma_power=3)
        )
        video = ffmpeg.overlay(split[0], patch, x=x, y=y, enable=blur.time.expr())
    return video


def apply_mutes(audio: Any, mutes: Iterable[TimeRange]) -> Any:
    ranges = list(mutes)
    if not ranges:
        return audio
    return audio.filter("volume", volume=0, enable="+".join(r.expr() for r in ranges))


def apply_cuts(video: Any | None, audio: Any | None, edits: EditList, duration: float) -> tuple[Any | None, Any | None]:
    """Keep the parts between cuts: trim each, restart its clock, concatenate in order."""
    if not edits.cuts:
        return video, audio
    parts = edits.kept(duration)
    v_split = video.split() if video is not None else None
    a_split = audio.filter_multi_output("asplit") if audio is not None else None
    segments: list[Any] = []
    for i, part in enumerate(parts):
        if v_split is not None:
            segments.append(v_split[i].trim(start=part.start, end=part.end).setpts("PTS-STARTPTS"))
        if a_split is not None:
            segments.append(
                a_split[i].filter("atrim", start=part.start, end=part.end).filter("asetpts", "PTS-STARTPTS")
            )
    joined = ffmpeg.concat(*segments, n=len(parts), v=int(video is not None), a=int(audio is not None)).node
    if video is not None and audio is not None:
        return joined[0], joined[1]
    return (joined[0], None) if video is not None else (None, joined[0])
