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


@pytest.mark.parametrize("header", ["bytes=\u00b2-", "bytes=\u00b9\u00b3-", "bytes=0-\u00b2", "bytes=-\u00b2",
                                    "bytes=\uff11-", "bytes=--5", "bytes=+1-2"])
def test_only_ascii_digits_are_numbers(header: str) -> None:
    assert parse(header, 10) == FULL  # malformed: ignored, as RFC 9110 says


def test_numbers_longer_than_any_object_are_past_its_end() -> None:
    huge = "9" * 5000  # more digits than int() reads
    with pytest.raises(Unsatisfiable):
        parse(f"bytes={huge}-", 10)
    assert parse(f"bytes=-{huge}", 10) == ByteRange(0, 10)
    assert parse(f"bytes=3-{huge}", 10) == ByteRange(3, 10)
    assert parse(f"bytes=0-1,{huge}-", 10) == FULL


def test_if_range_needs_the_same_strong_etag() -> None:
    assert if_range_allows(None, '"abc"')
    assert if_range_allows('"abc"', '"abc"')
    assert not if_range_allows('"old"', '"abc"')
    assert not if_range_allows("Sat, 21 Nov 2026 07:00:00 GMT", '"abc"')
