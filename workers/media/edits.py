"""Rendering a facilitator's edit list (cuts, mutes, blurred regions) into an ffmpeg-python graph.

The edit list itself is a domain type (shuttle/messages/edits.py: its rules, its validation,
its stored form); the worker renders it from the ORIGINAL upload into a new version, through
the same scrub and verification as any other output, so the original is never altered and
nothing it carried can leak through an edit. Mutes and blurs are applied first, on the
original timeline; cuts last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ffmpeg

from shuttle.messages.edits import Blur, EditList, Region, TimeRange

__all__ = ["Blur", "EditList", "Region", "TimeRange", "apply_blurs", "apply_cuts", "apply_mutes"]


def between(r: TimeRange) -> str:
    """ffmpeg's `enable` expression for the range."""
    return f"between(t,{r.start:.3f},{r.end:.3f})"


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
        video = ffmpeg.overlay(split[0], patch, x=x, y=y, enable=between(blur.time))
    return video


def apply_mutes(audio: Any, mutes: Iterable[TimeRange]) -> Any:
    ranges = list(mutes)
    if not ranges:
        return audio
    return audio.filter("volume", volume=0, enable="+".join(between(r) for r in ranges))


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
