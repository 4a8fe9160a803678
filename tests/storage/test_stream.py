"""The segmented stream: round trips at every boundary, and every tampering fails loudly.

A tampered object must raise `DecryptionError`; it must never yield bytes that differ from
what was sealed.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from storage.errors import DecryptionError, StorageError
from storage.layout import HEADER_SIZE, TAG_SIZE, segment_offset
from storage.stream import StreamOpener, StreamSealer, open_bytes, seal_bytes

FAST = settings(deadline=None, database=None, max_examples=200)
S = 64
FULL = S + TAG_SIZE
OBJECT_ID = "object-aaaaaaaa"
DEK = bytes(range(32))


def opener(ciphertext: bytes, *, key: bytes = DEK, object_id: str = OBJECT_ID, max_read: int = 1 << 20) -> StreamOpener:
    def read(offset: int, length: int) -> bytes:
        return ciphertext[offset : offset + length]

    return StreamOpener(key, object_id, read, len(ciphertext), max_read=max_read)


def read_all(ciphertext: bytes, **kw: object) -> bytes:
    """Fully decrypt, whatever happens; raises DecryptionError on any tampering."""
    return b"".join(opener(ciphertext, **kw))  # type: ignore[arg-type]


def segments(ciphertext: bytes) -> list[bytes]:
    body = ciphertext[HEADER_SIZE:]
    return [body[i : i + FULL] for i in range(0, len(body), FULL)]


def assert_refused(ciphertext: bytes, **kw: object) -> None:
    with pytest.raises(DecryptionError):
        read_all(ciphertext, **kw)


@pytest.mark.parametrize("n", [0, 1, S - 1, S, S + 1, 2 * S, 3 * S + 5, 10 * S])
def test_round_trip_at_segment_boundaries(n: int) -> None:
    plaintext = os.urandom(n)
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    assert len(ciphertext) == HEADER_SIZE + n + TAG_SIZE * max(1, -(-n // S))
    assert open_bytes(DEK, OBJECT_ID, ciphertext) == plaintext
    assert read_all(ciphertext, max_read=1) == plaintext  # one segment per read


def test_same_plaintext_encrypts_differently_each_time() -> None:
    assert seal_bytes(DEK, OBJECT_ID, b"x" * 100, S) != seal_bytes(DEK, OBJECT_ID, b"x" * 100, S)


@given(plaintext=st.binary(max_size=600), cuts=st.lists(st.integers(0, 600), max_size=8))
@FAST
def test_sealer_output_is_independent_of_chunking_and_holds_at_most_one_segment(
    plaintext: bytes, cuts: list[int]
) -> None:
    sealer = StreamSealer(DEK, OBJECT_ID, S)
    out = [sealer.header()]
    fed = 0
    for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(plaintext)], strict=True):
        chunk = plaintext[a:b]
        out.append(sealer.feed(chunk))
        fed += len(chunk)
        emitted = sum(map(len, out)) - HEADER_SIZE
        # everything except the last (possibly final) segment's worth of plaintext is out
        assert emitted == max(0, -(-fed // S) - 1) * FULL
    out.append(sealer.finish())
    assert read_all(b"".join(out)) == plaintext


def test_sealer_refuses_use_after_finish() -> None:
    sealer = StreamSealer(DEK, OBJECT_ID, S)
    sealer.finish()
    with pytest.raises(StorageError):
        sealer.feed(b"more")
    with pytest.raises(StorageError):
        sealer.finish()


@given(data=st.data(), plaintext=st.binary(max_size=700))
@FAST
def test_any_range_reads_the_plaintext_slice(data: st.DataObject, plaintext: bytes) -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    start = data.draw(st.integers(0, len(plaintext)))
    end = data.draw(st.integers(start, len(plaintext)))
    max_read = data.draw(st.sampled_from([1, FULL, 3 * FULL + 7, 1 << 20]))
    assert b"".join(opener(ciphertext, max_read=max_read).read_range(start, end)) == plaintext[start:end]


@given(data=st.data(), plaintext=st.binary(max_size=400))
@FAST
def test_any_single_byte_flip_is_refused(data: st.DataObject, plaintext: bytes) -> None:
    ciphertext = bytearray(seal_bytes(DEK, OBJECT_ID, plaintext, S))
    position = data.draw(st.integers(0, len(ciphertext) - 1), label="position")
    ciphertext[position] ^= data.draw(st.integers(1, 255), label="xor")
    assert_refused(bytes(ciphertext))


def test_flips_in_every_header_field_are_refused_even_for_partial_ranges() -> None:
    plaintext = os.urandom(3 * S)
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    for position in range(HEADER_SIZE):
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            b"".join(opener(bytes(tampered)).read_range(0, 1))  # first segment only


def test_truncation_anywhere_is_refused() -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, os.urandom(5 * S + 17), S)
    boundaries = {segment_offset(i, S) for i in range(6)}  # the starts of segments 0..5
    assert boundaries < set(range(len(ciphertext)))
    for length in range(len(ciphertext)):  # every segment boundary and every byte in between
        assert_refused(ciphertext[:length])


def test_truncation_of_an_exact_multiple_at_a_segment_boundary_is_refused() -> None:
    """The case that needs the last flag: what remains is a valid-looking length."""
    ciphertext = seal_bytes(DEK, OBJECT_ID, os.urandom(4 * S), S)
    for kept in range(1, 4):
        assert_refused(ciphertext[: segment_offset(kept, S)])


def test_truncated_object_never_yields_wrong_bytes_for_an_earlier_range() -> None:
    """Documented limit: a range that stops before the cut is authentic (right bytes, right
    place); the cut is detected as soon as the new 'final' segment is read."""
    plaintext = os.urandom(4 * S)
    truncated = seal_bytes(DEK, OBJECT_ID, plaintext, S)[: segment_offset(2, S)]
    cut = opener(truncated)
    assert cut.size == 2 * S
    assert b"".join(cut.read_range(0, S)) == plaintext[:S]
    with pytest.raises(DecryptionError):
        b"".join(cut.read_range(S, S + 1))


@pytest.mark.parametrize(("i", "j"), [(0, 1), (1, 3), (0, 4), (3, 4)])
def test_swapping_segments_is_refused(i: int, j: int) -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, os.urandom(5 * S), S)  # five full segments
    parts = segments(ciphertext)
    parts[i], parts[j] = parts[j], parts[i]
    assert_refused(ciphertext[:HEADER_SIZE] + b"".join(parts))


@given(plaintext=st.binary(min_size=2 * S + 1, max_size=6 * S), data=st.data())
@FAST
def test_reordering_segments_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    parts = segments(ciphertext)
    order = data.draw(st.permutations(range(len(parts))))
    assume(order != sorted(order))
    assert_refused(ciphertext[:HEADER_SIZE] + b"".join(parts[k] for k in order))


@pytest.mark.parametrize("n", [0, S - 3, S, 3 * S, 3 * S + 9])
def test_appending_is_refused(n: int) -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, os.urandom(n), S)
    parts = segments(ciphertext)
    assert_refused(ciphertext + parts[0])  # a copy of a real segment
    assert_refused(ciphertext + parts[-1])  # a second "final" segment
    assert_refused(ciphertext + os.urandom(TAG_SIZE + 5))  # made-up bytes
    other = seal_bytes(DEK, OBJECT_ID, os.urandom(S), S)  # same key and id, other salt
    assert_refused(ciphertext + other[HEADER_SIZE:])


def test_dropping_a_middle_segment_is_refused() -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, os.urandom(4 * S), S)
    parts = segments(ciphertext)
    assert_refused(ciphertext[:HEADER_SIZE] + parts[0] + b"".join(parts[2:]))


def test_splicing_segments_between_objects_is_refused_even_with_the_same_key_and_id() -> None:
    """Salt and nonce prefix are per object, so even a (forbidden) reused DEK cannot splice."""
    a = seal_bytes(DEK, OBJECT_ID, os.urandom(3 * S), S)
    b = seal_bytes(DEK, OBJECT_ID, os.urandom(3 * S), S)
    assert_refused(a[:HEADER_SIZE] + segments(b)[0] + b"".join(segments(a)[1:]))
    assert_refused(b[:HEADER_SIZE] + b"".join(segments(a)))


def test_wrong_object_id_is_refused() -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, b"hello", S)
    assert_refused(ciphertext, object_id="object-bbbbbbbb")


def test_wrong_data_key_is_refused() -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, b"hello", S)
    assert_refused(ciphertext, key=os.urandom(32))


def test_short_read_from_storage_is_refused() -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, os.urandom(3 * S), S)

    def shrinking_read(offset: int, length: int) -> bytes:
        return ciphertext[offset : offset + length][: max(0, length - 1)] if offset else ciphertext[:length]

    stream = StreamOpener(DEK, OBJECT_ID, shrinking_read, len(ciphertext))
    with pytest.raises(DecryptionError):
        b"".join(stream)


def _read_into(ciphertext: bytes, reads: list[int] | None = None) -> Callable[[int, memoryview], int]:
    def read_into(offset: int, buffer: memoryview) -> int:
        data = ciphertext[offset : offset + len(buffer)]
        buffer[: len(data)] = data
        if reads is not None:
            reads.append(len(buffer))
        return len(data)

    return read_into


def at_once(ciphertext: bytes, *, into: bool) -> StreamOpener:
    def read(offset: int, length: int) -> bytes:
        return ciphertext[offset : offset + length]

    return StreamOpener(DEK, OBJECT_ID, read, len(ciphertext), read_into=_read_into(ciphertext) if into else None)


@given(data=st.data(), plaintext=st.binary(max_size=700), into=st.booleans())
@FAST
def test_any_range_read_at_once_is_the_plaintext_slice(data: st.DataObject, plaintext: bytes, into: bool) -> None:
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    start = data.draw(st.integers(0, len(plaintext)))
    end = data.draw(st.integers(start, len(plaintext)))
    assert at_once(ciphertext, into=into).read_range_at_once(start, end) == plaintext[start:end]


def test_a_range_read_at_once_reads_only_its_segments_and_kept_buffers_hold_no_old_bytes() -> None:
    first, second = os.urandom(10 * S), os.urandom(3 * S + 5)
    sealed_first, sealed_second = seal_bytes(DEK, OBJECT_ID, first, S), seal_bytes(DEK, OBJECT_ID, second, S)
    reads: list[int] = []
    big = StreamOpener(DEK, OBJECT_ID, lambda o, n: sealed_first[o : o + n], len(sealed_first),
                       read_into=_read_into(sealed_first, reads))
    assert big.read_range_at_once(4 * S + 3, 6 * S + 1) == first[4 * S + 3 : 6 * S + 1]
    assert reads == [3 * FULL]  # segments 4, 5 and 6, in one read
    small = at_once(sealed_second, into=True)  # may reuse the buffer the first range read into
    assert small.read_range_at_once(0, len(second)) == second
    assert small.read_range_at_once(S, S + 1) == second[S : S + 1]


@pytest.mark.parametrize("into", [True, False])
def test_a_flip_in_any_segment_a_range_at_once_covers_is_refused(into: bool) -> None:
    plaintext = os.urandom(5 * S + 9)
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    for index in range(6):
        tampered = bytearray(ciphertext)
        tampered[segment_offset(index, S) + 5] ^= 0x01
        cut = at_once(bytes(tampered), into=into)
        with pytest.raises(DecryptionError):
            cut.read_range_at_once(S // 2, len(plaintext))  # covers every segment: none may pass
        if index > 1:
            assert cut.read_range_at_once(0, S) == plaintext[:S]  # the segments before it are intact


@pytest.mark.parametrize("into", [True, False])
def test_a_truncated_object_read_at_once_is_refused(into: bool) -> None:
    plaintext = os.urandom(4 * S)
    ciphertext = seal_bytes(DEK, OBJECT_ID, plaintext, S)
    cut_short = ciphertext[: segment_offset(3, S) + 10]  # cut after the opener learnt the size
    cut = StreamOpener(DEK, OBJECT_ID, lambda o, n: cut_short[o : o + n], len(ciphertext),
                       read_into=_read_into(cut_short) if into else None)
    with pytest.raises(DecryptionError):
        cut.read_range_at_once(2 * S, 4 * S)
