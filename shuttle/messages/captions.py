"""Captions of a recording: a strict subset of WebVTT, parsed, checked and written again (pure).

A recording's transcript is *timed* when its author (or a facilitator, as an edit) gives each line
the moment it starts: the version's transcript is then WebVTT text instead of plain text, so it is
processed and approved with the rest of the version. What is accepted:

- the ``WEBVTT`` header (anything after it on its line is dropped);
- cue blocks: an optional identifier line (dropped), a timing line ``[hh:]mm:ss.ttt --> [hh:]mm:ss.ttt``
  (cue settings after it are dropped), and text lines;
- ``NOTE``, ``STYLE`` and ``REGION`` blocks are accepted and dropped.

Nothing but plain text crosses: every tag (``<b>``, ``<v Name>``, ``<c.x>``, timestamps) is
removed, character references are decoded, control characters removed, and on writing ``&``,
``<`` and ``>`` are escaped again, so a player shows exactly the words and never markup. Cue starts
must not go backwards, each cue ends after it starts, and (when the media's length is known) no
cue starts at or after the end; an end past the media's end is cut to it (the delivered file can be
a few milliseconds shorter than the one the times were set against).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shuttle.errors import BadInput

HEADER = "WEBVTT"
CONTENT_TYPE = "text/vtt; charset=utf-8"
#: a cue with no following line is shown this long (or to the media's end, if sooner)
LAST_CUE_MS = 5000
MAX_CUES = 2000
MAX_CUE_CHARS = 500

_TIMESTAMP = r"(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t].*)?$")
_TAG = re.compile(r"<[^>]*>?")
_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2}(?:\.\d{1,3})?)$")


class InvalidCaptions(BadInput):
    """The captions cannot be used; `reason` is a sentence for the person who set them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="invalid_captions")
        self.reason = reason


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # plain text; lines joined with "\n"


def is_webvtt(text: str) -> bool:
    """Whether a transcript is timed (WebVTT) rather than plain text."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return first == HEADER or first.startswith((HEADER + " ", HEADER + "\t"))


def clean_text(text: str) -> str:
    """Plain text only: tags removed, references decoded, control characters dropped, no "-->",
    blank lines removed (a blank line would end the cue), each line trimmed."""
    text = html.unescape(_TAG.sub("", text))
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    lines = []
    for line in text.split("\n"):
        line = line.replace("<", "").replace(">", "").strip()  # a "<" left by unescape is not markup either
        while "-->" in line:
            line = line.replace("-->", "->")
        if line:
            lines.append(line)
    return "\n".join(lines)[:MAX_CUE_CHARS].strip()


def _ms(hours: str | None, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def parse(text: str, *, duration_ms: int | None = None) -> list[Cue]:
    """The cues of a WebVTT text, sanitised and checked; InvalidCaptions says what is wrong."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if not is_webvtt(text):
        raise InvalidCaptions("Timed captions must start with the line WEBVTT.")
    header, *blocks = re.split(r"\n[ \t]*\n", text)
    if "-->" in header:
        raise InvalidCaptions("A blank line must follow the line WEBVTT.")
    cues: list[Cue] = []
    for block in blocks:
        lines = block.split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        if lines[0].split(maxsplit=1)[0] in ("NOTE", "STYLE", "REGION") and "-->" not in lines[0]:
            continue
        if "-->" not in lines[0]:
            lines = lines[1:]  # a cue identifier
        if not lines:
            raise InvalidCaptions("A caption has a name but no times.")
        timing = _TIMING.match(lines[0].strip())
        if timing is None:
            raise InvalidCaptions(f"This caption's times are not in the form 00:01.000 --> 00:04.000: "
                                  f"{lines[0].strip()[:60]!r}.")
        g = timing.groups()
        cue = Cue(_ms(*g[:4]), _ms(*g[4:]), clean_text("\n".join(lines[1:])))
        if cue.text:
            cues.append(cue)
        if len(cues) > MAX_CUES:
            raise InvalidCaptions(f"There are more than {MAX_CUES} captions.")
    return check(cues, duration_ms=duration_ms)


def check(cues: Sequence[Cue], *, duration_ms: int | None = None) -> list[Cue]:
    """Cue starts in order, each ending after it starts; within the media when its length is known
    (an end past it is cut to it)."""
    checked: list[Cue] = []
    for n, cue in enumerate(cues, start=1):
        if checked and cue.start_ms < checked[-1].start_ms:
            raise InvalidCaptions(f"Caption {n} starts at {clock(cue.start_ms)}, before the one above it "
                                  f"({clock(checked[-1].start_ms)}).")
        if duration_ms is not None:
            if cue.start_ms >= duration_ms:
                raise InvalidCaptions(f"Caption {n} starts at {clock(cue.start_ms)}, after the recording ends "
                                      f"({clock(duration_ms)}).")
            cue = Cue(cue.start_ms, min(cue.end_ms, duration_ms), cue.text)
        if cue.end_ms <= cue.start_ms:
            raise InvalidCaptions(f"Caption {n} ends before it starts ({clock(cue.start_ms)}).")
        checked.append(cue)
    return checked


def timestamp(ms: int) -> str:
    """WebVTT's hh:mm:ss.ttt."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def serialise(cues: Iterable[Cue]) -> str:
    """WebVTT text of plain-text cues, escaped so that no cue text is read as markup."""
    out = [HEADER, ""]
    for cue in cues:
        body = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out += [f"{timestamp(cue.start_ms)} --> {timestamp(cue.end_ms)}", body, ""]
    return "\n".join(out)


def plain_text(cues: Iterable[Cue]) -> str:
    """The words of the captions, one cue a paragraph (the version's plain transcript)."""
    return "\n\n".join(cue.text for cue in cues)


# The cue editor's times: a person types or sees mm:ss.s


def clock(ms: int) -> str:
    """mm:ss.s (h:mm:ss.s past an hour), as the cue editor shows a time."""
    tenths = (ms + 50) // 100
    seconds, tenth = divmod(tenths, 10)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}:{minutes:02d}" if hours else f"{minutes:02d}") + f":{seconds:02d}.{tenth}"


def parse_clock(value: str) -> int:
    """Milliseconds of a typed time (mm:ss, mm:ss.s, h:mm:ss.s); InvalidCaptions if it is not one."""
    match = _CLOCK.match(value.strip())
    if match is None:
        raise InvalidCaptions(f"{value.strip()[:20]!r} is not a time like 01:23.4 (minutes:seconds).")
    hours, minutes, seconds = match.groups()
    if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        raise InvalidCaptions(f"{value.strip()[:20]!r} is not a time like 01:23.4 (minutes:seconds).")
    return (int(hours or 0) * 3600 + int(minutes) * 60) * 1000 + round(float(seconds) * 1000)


def from_lines(lines: Sequence[tuple[str, int | None]], *, duration_ms: int | None = None) -> list[Cue]:
    """Cues from the editor's lines, each with its start (None: not timed). Every line with words
    must have a start; a cue lasts until the next one starts (the last one LAST_CUE_MS, or to the
    media's end)."""
    timed: list[tuple[str, int]] = []
    for n, (text, start) in enumerate(lines, start=1):
        words = clean_text(text)
        if not words:
            continue
        if start is None:
            raise InvalidCaptions(f"Line {n} has no start time.")
        timed.append((words, start))
    cues = []
    for i, (words, start) in enumerate(timed):
        if i + 1 < len(timed):
            end = timed[i + 1][1]
        else:
            end = start + LAST_CUE_MS if duration_ms is None else min(start + LAST_CUE_MS, duration_ms)
        cues.append(Cue(start, max(end, start + 1), words))
    return check(cues, duration_ms=duration_ms)


@dataclass(frozen=True)
class EditorLine:
    """One line of the cue editor: its words and the time it starts (mm:ss.s; "" when not timed)."""

    text: str
    start: str = ""


def editor_lines(transcript: str) -> tuple[EditorLine, ...]:
    """The cue editor's lines for a transcript: a timed one's cues with their starts (a cue of
    several lines as one line), a plain one's non-blank lines untimed, each line one caption.
    None for a timed transcript that no longer parses (its times are corrected as text)."""
    if not is_webvtt(transcript):
        return tuple(EditorLine(line.strip()) for line in transcript.split("\n") if line.strip())
    try:
        cues = parse(transcript)
    except InvalidCaptions:
        return ()
    return tuple(EditorLine(cue.text.replace("\n", " "), clock(cue.start_ms)) for cue in cues)


def with_starts(lines: Sequence[EditorLine], form: Mapping[str, str]) -> tuple[EditorLine, ...]:
    """The lines with the times as they were typed in the form (shown again when it is refused)."""
    return tuple(EditorLine(line.text, form.get(f"start-{n}", "").strip()[:20]) for n, line in enumerate(lines))


def from_form(form: Mapping[str, str], *, duration_ms: int | None = None) -> str:
    """The cue editor's form (fields line-0, start-0, line-1, start-1, ...: each line's words and
    its start as mm:ss.s) as WebVTT text; InvalidCaptions says which line is wrong."""
    lines: list[tuple[str, int | None]] = []
    for n in range(MAX_CUES + 1):
        if f"line-{n}" not in form:
            break
        typed = form.get(f"start-{n}", "").strip()
        try:
            start = parse_clock(typed) if typed else None
        except InvalidCaptions as exc:
            raise InvalidCaptions(f"Line {n + 1}: {exc.reason}") from None
        lines.append((form[f"line-{n}"], start))
    cues = from_lines(lines, duration_ms=duration_ms)
    if not cues:
        raise InvalidCaptions("There are no lines to time: write the transcript first.")
    return serialise(cues)
