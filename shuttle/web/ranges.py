"""HTTP Range requests (RFC 9110 section 14) over an object of known size: pure parsing.

One satisfiable range is answered with 206; several ranges are answered with the whole
object (200), which RFC 9110 allows; a range past the end is 416 with `bytes */size`.
"""

from __future__ import annotations

from dataclasses import dataclass

FULL = "full"


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


class Unsatisfiable(Exception):
    """No byte of the requested range exists: 416."""


def _one(spec: str, size: int) -> ByteRange | None:
    """One range-spec; None if it is malformed (then the header is ignored, per RFC 9110)."""
    first, dash, last = spec.strip().partition("-")
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise Unsatisfiable()
        return ByteRange(max(0, size - n), size)
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    return ByteRange(start, end)


def parse(header: str | None, size: int) -> ByteRange | str:
    """The range to send, or FULL for the whole object; Unsatisfiable for 416."""
    if not header:
        return FULL
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return FULL
    parts = specs.split(",")
    if len(parts) > 1:
        for part in parts:  # still 416 if none is satisfiable
            try:
                if _one(part, size) is not None:
                    return FULL
            except Unsatisfiable:
                continue
        raise Unsatisfiable()
    chosen = _one(parts[0], size)
    return FULL if chosen is None else chosen


def if_range_allows(if_range: str | None, etag: str) -> bool:
    """If-Range with a strong ETag: honour the Range only when it still names this object."""
    if if_range is None:
        return True
    return if_range.strip() == etag and not etag.startswith("W/")
