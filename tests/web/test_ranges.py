"""Range header parsing against RFC 9110's rules, checked by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuttle.web.ranges import FULL, ByteRange, Unsatisfiable, if_range_allows, parse


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-0", 10, ByteRange(0, 1)),
    ("bytes=0-", 10, ByteRange(0, 10)),
    ("bytes=5-100", 10, ByteRange(5, 10)),
    ("bytes=-3", 10, ByteRange(7, 10)),
    ("bytes=-30", 10, ByteRange(0, 10)),
    ("bytes=0-1,4-5", 10, FULL),
    ("items=0-1", 10, FULL),
    ("bytes=5-2", 10, FULL),
    ("bytes=x-2", 10, FULL),
    (None, 10, FULL),
])
def test_ranges(header: str | None, size: int, expected: object) -> None:
    assert parse(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=10-11,12-13"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse(header, 10)


@given(size=st.integers(1, 10_000), start=st.integers(0, 20_000), length=st.integers(1, 20_000))
def test_a_satisfiable_range_stays_inside_the_object(size: int, start: int, length: int) -> None:
    try:
        chosen = parse(f"bytes={start}-{start + length - 1}", size)
    except Unsatisfiable:
        assert start >= size
        return
    assert isinstance(chosen, ByteRange)
    assert 0 <= chosen.start < chosen.end <= size and chosen.start == start


def test_if_range_needs_the_same_strong_etag() -> None:
    assert if_range_allows(None, '"abc"')
    assert if_range_allows('"abc"', '"abc"')
    assert not if_range_allows('"old"', '"abc"')
    assert not if_range_allows("Sat, 21 Nov 2026 07:00:00 GMT", '"abc"')
