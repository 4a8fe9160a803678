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


#: A position with more digits than this is past the end of any object: it is read as BEYOND.
MAX_DIGITS = 18
BEYOND = 10**MAX_DIGITS


class Unsatisfiable(Exception):
    """No byte of the requested range exists: 416."""


def _position(raw: str) -> int | None:
    """ASCII digits only (str.isdigit() also accepts "²", which int() refuses); a number too long
    for int() or for any object is BEYOND, which is all that matters about it."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw) if len(raw) <= MAX_DIGITS else BEYOND


def _one(spec: str, size: int) -> ByteRange | None:
    """One range-spec; None if it is malformed (then the header is ignored, per RFC 9110)."""
    first_raw, dash, last_raw = spec.strip().partition("-")
    first = _position(first_raw) if first_raw else None
    last = _position(last_raw) if last_raw else None
    if not dash or (first_raw and first is None) or (last_raw and last is None) or not (first_raw or last_raw):
        return None
    if first is None:  # suffix: the last N bytes
        assert last is not None
        if last == 0:
            raise Unsatisfiable()
        return ByteRange(max(0, size - last), size)
    end = size if last is None else min(last + 1, size)
    if last is not None and last < first:
        return None
    if first >= size:
        raise Unsatisfiable()
    return ByteRange(first, end)


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
