"""Pure arithmetic of the stream format: header layout, sizes, and range-to-segment mapping.

Kept free of cryptography and I/O so the mapping a ranged read relies on can be tested on
its own, and so an S3 backend can plan ranged GETs from sizes alone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from storage.errors import DecryptionError

MAGIC = b"SHTL"
FORMAT_VERSION = 1
SALT_SIZE = 16
NONCE_PREFIX_SIZE = 7
TAG_SIZE = 16
DEFAULT_SEGMENT_SIZE = 64 * 1024
MIN_SEGMENT_SIZE = 16
MAX_SEGMENT_SIZE = 16 * 1024 * 1024
MAX_SEGMENTS = 2**32  # the segment index is a uint32 in the nonce

_HEADER = struct.Struct(f">4sBI{SALT_SIZE}s{NONCE_PREFIX_SIZE}s")
HEADER_SIZE = _HEADER.size  # 4 + 1 + 4 + 16 + 7 = 32


@dataclass(frozen=True)
class Header:
    """The clear-text header; authenticated as associated data of every segment."""

    segment_size: int
    salt: bytes
    nonce_prefix: bytes

    def encode(self) -> bytes:
        check_segment_size(self.segment_size)
        if len(self.salt) != SALT_SIZE or len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise ValueError("salt or nonce prefix has the wrong length")
        return _HEADER.pack(MAGIC, FORMAT_VERSION, self.segment_size, self.salt, self.nonce_prefix)

    @classmethod
    def decode(cls, data: bytes) -> Header:
        """Parse a header; anything malformed is a `DecryptionError` (it is attacker-controlled)."""
        if len(data) != HEADER_SIZE:
            raise DecryptionError("truncated header")
        magic, version, segment_size, salt, prefix = _HEADER.unpack(data)
        if magic != MAGIC or version != FORMAT_VERSION:
            raise DecryptionError("not a shuttle stream of a known version")
        if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
            raise DecryptionError("segment size out of range")
        return cls(segment_size=segment_size, salt=salt, nonce_prefix=prefix)


@dataclass(frozen=True)
class SegmentSpan:
    """The segments covering a plaintext range and where their ciphertext lies.

    `first` and `stop` are segment indices (`stop` exclusive); `offset` and `length` give the
    ciphertext bytes to fetch (one ranged read covers them all); `last_index` is the index of
    the object's final segment, whose nonce carries the last flag.
    """

    first: int
    stop: int
    offset: int
    length: int
    last_index: int


def check_segment_size(segment_size: int) -> int:
    """Refuse segment sizes a writer must not use (they bound memory and nonce space)."""
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(f"segment size must be in [{MIN_SEGMENT_SIZE}, {MAX_SEGMENT_SIZE}]")
    return segment_size


def segment_count(plaintext_size: int, segment_size: int) -> int:
    """Segments in an object: at least one (empty plaintext = one empty final segment)."""
    if plaintext_size < 0:
        raise ValueError("negative size")
    return max(1, -(-plaintext_size // segment_size))


def ciphertext_size(plaintext_size: int, segment_size: int) -> int:
    """Stored size of a plaintext of `plaintext_size` bytes."""
    return HEADER_SIZE + plaintext_size + TAG_SIZE * segment_count(plaintext_size, segment_size)


def plaintext_size(ciphertext_size: int, segment_size: int) -> int:
    """Inverse of `ciphertext_size`; a size no writer can produce is a `DecryptionError`.

    Only the final segment may be shorter than a full one, and it is empty only when it is
    the sole segment, so every valid ciphertext size has exactly one preimage.
    """
    body = ciphertext_size - HEADER_SIZE
    if body < TAG_SIZE:
        raise DecryptionError("ciphertext too short")
    full = segment_size + TAG_SIZE
    count = -(-body // full)
    final = body - (count - 1) * full
    if final < TAG_SIZE or (count > 1 and final == TAG_SIZE) or count > MAX_SEGMENTS:
        raise DecryptionError("ciphertext size is not a valid stream length")
    return body - count * TAG_SIZE


def segment_offset(index: int, segment_size: int) -> int:
    """Ciphertext offset where segment `index` starts."""
    return HEADER_SIZE + index * (segment_size + TAG_SIZE)


def segment_plaintext_size(index: int, plaintext_size: int, segment_size: int) -> int:
    """Plaintext bytes in segment `index` of an object of `plaintext_size` bytes."""
    return min(segment_size, plaintext_size - index * segment_size)


def segment_span(start: int, end: int, plaintext_size: int, segment_size: int) -> SegmentSpan:
    """Map the plaintext range [start, end) to the covering segments and their ciphertext bytes.

    first = start // S, stop = (end - 1) // S + 1; the span's ciphertext runs from the start
    of `first` to the end of `stop - 1`. An empty range covers no segment.
    """
    if not 0 <= start <= end <= plaintext_size:
        raise ValueError(f"range [{start}, {end}) outside an object of {plaintext_size} bytes")
    last_index = segment_count(plaintext_size, segment_size) - 1
    if start == end:
        index = start // segment_size
        offset = segment_offset(index, segment_size)
        return SegmentSpan(first=index, stop=index, offset=offset, length=0, last_index=last_index)
    first = start // segment_size
    stop = (end - 1) // segment_size + 1
    offset = segment_offset(first, segment_size)
    tail = segment_plaintext_size(stop - 1, plaintext_size, segment_size) + TAG_SIZE
    length = segment_offset(stop - 1, segment_size) + tail - offset
    return SegmentSpan(first=first, stop=stop, offset=offset, length=length, last_index=last_index)
