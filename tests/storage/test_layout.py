"""The pure size and range arithmetic that ranged reads (and ranged S3 GETs) rely on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.errors import DecryptionError
from storage.layout import (
    HEADER_SIZE,
    MAX_SEGMENT_SIZE,
    MIN_SEGMENT_SIZE,
    TAG_SIZE,
    Header,
    ciphertext_size,
    plaintext_size,
    segment_count,
    segment_span,
)

FAST = settings(deadline=None, database=None, max_examples=300)
S = 64


def test_header_is_32_bytes() -> None:
    assert HEADER_SIZE == 4 + 1 + 4 + 16 + 7 == 32


@pytest.mark.parametrize(
    ("n", "segments", "stored"),
    [
        (0, 1, 32 + 16),  # one empty final segment
        (1, 1, 32 + 1 + 16),
        (S - 1, 1, 32 + S - 1 + 16),
        (S, 1, 32 + S + 16),  # exact multiple: the full segment is the final one
        (S + 1, 2, 32 + S + 1 + 2 * 16),
        (3 * S, 3, 32 + 3 * S + 3 * 16),
    ],
)
def test_sizes_at_segment_boundaries(n: int, segments: int, stored: int) -> None:
    assert segment_count(n, S) == segments
    assert ciphertext_size(n, S) == stored
    assert plaintext_size(stored, S) == n


@given(n=st.integers(0, 10**7), s=st.integers(MIN_SEGMENT_SIZE, 4096))
@FAST
def test_size_mapping_round_trips(n: int, s: int) -> None:
    assert plaintext_size(ciphertext_size(n, s), s) == n


def test_every_size_no_writer_produces_is_refused() -> None:
    valid = {ciphertext_size(n, 16) for n in range(0, 400)}
    for size in range(0, max(valid)):
        if size in valid:
            assert ciphertext_size(plaintext_size(size, 16), 16) == size
        else:
            with pytest.raises(DecryptionError):
                plaintext_size(size, 16)


def test_span_examples() -> None:
    n = 300  # segments 0..3 full (64), segment 4 holds 44 bytes
    full = S + TAG_SIZE
    assert segment_span(0, 1, n, S) == segment_span(0, 64, n, S)
    span = segment_span(0, 1, n, S)
    assert (span.first, span.stop, span.offset, span.length, span.last_index) == (0, 1, 32, full, 4)
    span = segment_span(63, 65, n, S)
    assert (span.first, span.stop, span.offset, span.length) == (0, 2, 32, 2 * full)
    span = segment_span(256, 300, n, S)
    assert (span.first, span.stop, span.offset, span.length) == (4, 5, 32 + 4 * full, 44 + TAG_SIZE)
    span = segment_span(100, 100, n, S)
    assert (span.first, span.stop, span.length) == (1, 1, 0)


@given(data=st.data(), n=st.integers(0, 5000), s=st.integers(MIN_SEGMENT_SIZE, 300))
@FAST
def test_span_covers_exactly_the_range(data: st.DataObject, n: int, s: int) -> None:
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    span = segment_span(start, end, n, s)
    total = ciphertext_size(n, s)
    assert span.last_index == segment_count(n, s) - 1
    if start == end:
        assert span.length == 0 and span.first == span.stop
        return
    assert span.first * s <= start < (span.first + 1) * s  # first segment holds `start`
    assert (span.stop - 1) * s < end <= span.stop * s  # last covering segment holds `end - 1`
    assert span.offset == HEADER_SIZE + span.first * (s + TAG_SIZE)
    assert span.offset + span.length <= total
    assert (span.offset + span.length == total) == (span.stop - 1 == span.last_index)


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 4), (0, 301), (301, 301)])
def test_span_outside_object_is_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        segment_span(start, end, 300, S)


def test_header_round_trip_and_rejections() -> None:
    header = Header(segment_size=S, salt=bytes(16), nonce_prefix=bytes(7))
    encoded = header.encode()
    assert Header.decode(encoded) == header
    for bad in (
        b"XHTL" + encoded[4:],  # magic
        encoded[:4] + b"\x02" + encoded[5:],  # format version
        encoded[:5] + (MIN_SEGMENT_SIZE - 1).to_bytes(4, "big") + encoded[9:],
        encoded[:5] + (MAX_SEGMENT_SIZE + 1).to_bytes(4, "big") + encoded[9:],
        encoded[:-1],
    ):
        with pytest.raises(DecryptionError):
            Header.decode(bad)
    with pytest.raises(ValueError):
        Header(segment_size=MIN_SEGMENT_SIZE - 1, salt=bytes(16), nonce_prefix=bytes(7)).encode()
