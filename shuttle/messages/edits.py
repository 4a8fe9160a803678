"""A facilitator's edit list on audio and video: cut ranges, mute ranges, blurred regions.

A domain type, pure data: the review use case checks it against the media and stores it with
the version it produces (JSON-friendly, `to_dict`/`from_dict`); the worker renders it from the
ORIGINAL upload (workers/media/edits.py), so the original is never altered. Its wording for
staff and the review form's fields live here too, so the format is written down once.

All times are in seconds on the original's timeline; regions are fractions (0..1) of the
displayed picture, so they do not depend on the delivery resolution (`Region.from_pixels`
converts from pixels of a given frame size). Mutes and blurs are applied first, on the original
timeline; cuts last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from shuttle.i18n import N_, Sentence

MIN_RANGE = 0.05  # seconds: shorter ranges are slips of the mouse
MIN_KEPT = 0.5  # seconds that must remain after cuts
TOLERANCE = 0.05  # a range may end this far past the end (rounding in players)


class InvalidEdit(ValueError):
    """An edit list does not fit the media (range past the end, overlapping cuts...).

    `reason` is a sentence for the facilitator.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, order=True)
class TimeRange:
    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end}


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
    blurs: tuple[Blur, ...] = ()

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

    def in_words(self) -> list[str]:
        """Sentences for staff: 'Cut 3 s to 5.5 s', 'Blurred ... from 1 s to 4 s' (i18n.Sentences: English
        as text, translated with their numbers where a page shows them)."""
        words: list[str] = [Sentence(N_("Cut %(start)s s to %(end)s s"), start=_seconds(c.start), end=_seconds(c.end))
                            for c in self.cuts]
        words += [Sentence(N_("Muted %(start)s s to %(end)s s"), start=_seconds(m.start), end=_seconds(m.end))
                  for m in self.mutes]
        words += [Sentence(N_("Blurred a rectangle (left %(left)s, top %(top)s, %(wide)s wide, %(high)s high) from "
                              "%(start)s s to %(end)s s"), left=f"{b.region.x:.0%}", top=f"{b.region.y:.0%}",
                           wide=f"{b.region.w:.0%}", high=f"{b.region.h:.0%}", start=_seconds(b.time.start),
                           end=_seconds(b.time.end))
                  for b in self.blurs]
        return words

    def form_fields(self) -> dict[str, str]:
        """The review form's fields filled from this list (the form edits one of each at a time)."""
        fields: dict[str, str] = {}
        for ranges, prefix in ((self.cuts, "cut"), (self.mutes, "mute")):
            if ranges:
                fields |= {f"{prefix}_start": _seconds(ranges[0].start), f"{prefix}_end": _seconds(ranges[0].end)}
        if self.blurs:
            blur = self.blurs[0]
            fields |= {f"blur_{k}": _seconds(v) for k, v in blur.region.__dict__.items()}
            fields |= {"blur_start": _seconds(blur.time.start), "blur_end": _seconds(blur.time.end)}
        return fields


def in_words(stored: Mapping[str, Any] | None) -> list[str]:
    """A stored edit list (a version's `edits`) as sentences; none for a version without edits."""
    return EditList.from_dict(stored).in_words() if stored else []


def form_fields(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The review form starts from the current edit list (each edit replaces the last one)."""
    return EditList.from_dict(stored).form_fields() if stored else {}


def from_form(form: Mapping[str, str]) -> dict[str, list[dict[str, str]]]:
    """The review form's fields as an edit list to check (one cut, one mute, one blur at a time)."""
    def filled(*names: str) -> bool:
        return all(form.get(n, "").strip() for n in names)

    edits: dict[str, list[dict[str, str]]] = {"cuts": [], "mutes": [], "blurs": []}
    if filled("cut_start", "cut_end"):
        edits["cuts"].append({"start": form["cut_start"], "end": form["cut_end"]})
    if filled("mute_start", "mute_end"):
        edits["mutes"].append({"start": form["mute_start"], "end": form["mute_end"]})
    blur_fields = ("blur_x", "blur_y", "blur_w", "blur_h", "blur_start", "blur_end")
    if filled(*blur_fields):
        edits["blurs"].append({name.removeprefix("blur_"): form[name] for name in blur_fields})
    return edits


def _seconds(value: float) -> str:
    return f"{value:g}"


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
