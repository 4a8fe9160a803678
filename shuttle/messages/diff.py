"""Word-level differences between two versions of a letter, for side-by-side review."""

from __future__ import annotations

import difflib
import re

#: Runs of space, words (with inner apostrophes and hyphens: "don't", "well-known"), and each other
#: character on its own, so "900123." against "[removed]." differs in the number, not the full stop.
TOKEN = re.compile(r"\s+|\w+(?:['\u2019-]\w+)*|[^\w\s]")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """[(op, text)] with op 'same', 'removed' or 'added'; joining same+added gives `after`."""
    a, b = TOKEN.findall(before), TOKEN.findall(after)
    result: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            result.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            result.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            result.append(("added", "".join(b[j1:j2])))
    return result


def highlight(text: str, flags: list[dict[str, object]]) -> list[tuple[str, str | None]]:
    """Split text into (segment, flag kind or None) so flagged spans can be marked up."""
    segments: list[tuple[str, str | None]] = []
    cursor = 0
    for flag in sorted(flags, key=lambda f: int(f["start"])):  # type: ignore[call-overload]
        start, end = int(flag["start"]), int(flag["end"])  # type: ignore[call-overload]
        if start < cursor or end > len(text):
            continue
        if start > cursor:
            segments.append((text[cursor:start], None))
        segments.append((text[start:end], str(flag["kind"])))
        cursor = end
    if cursor < len(text):
        segments.append((text[cursor:], None))
    return segments
