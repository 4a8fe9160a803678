"""The segmented authenticated stream (in the family of Tink's AES-GCM-HKDF streaming and age's STREAM).

Each object is cut into fixed-size segments sealed separately with AES-256-GCM, so a byte
range is served by decrypting only the segments that cover it, and memory stays at about
one segment whatever the object size. The segment index and a last-segment flag in each
nonce make reordering and truncation fail; the object id in the key derivation makes
swapping objects fail; the header as associated data makes header tampering fail.
docs/encryption.md is the specification.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import DecryptionError, StorageError
from storage.layout import (
    DEFAULT_SEGMENT_SIZE,
    HEADER_SIZE,
    MAX_SEGMENTS,
    NONCE_PREFIX_SIZE,
    SALT_SIZE,
    TAG_SIZE,
    Header,
    SegmentSpan,
    check_segment_size,
    ciphertext_size,
    plaintext_size,
    segment_count,
    segment_offset,
    segment_span,
)

__all__ = [
    "DATA_KEY_SIZE",
    "DEFAULT_SEGMENT_SIZE",
    "HEADER_SIZE",
    "TAG_SIZE",
    "SegmentSpan",
    "StreamOpener",
    "StreamSealer",
    "ciphertext_size",
    "open_bytes",
    "plaintext_size",
    "seal_bytes",
    "segment_count",
    "segment_offset",
    "segment_span",
]

DATA_KEY_SIZE = 32
HKDF_INFO_PREFIX = b"shuttle-stream-v1|"
DEFAULT_MAX_READ = 1024 * 1024

ReadFn = Callable[[int, int], bytes]
#: `read_into(offset, buffer)`: fill `buffer` from ciphertext `offset`; the bytes read (fewer at the end).
ReadIntoFn = Callable[[int, memoryview], int]
#: Read buffers `read_range_at_once` keeps for reuse, and the largest it keeps.
KEPT_BUFFERS = 4
KEPT_BUFFER_MAX = 4 * DEFAULT_MAX_READ


class _ReadBuffers:
    """A few ciphertext buffers kept for reuse: faulting a fresh megabyte in, page by page, costs
    several times more than decrypting it (bench/seek.py), so short ranges read into a warm one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[bytearray] = []

    def take(self, size: int) -> bytearray:
        with self._lock:
            for at, buffer in enumerate(self._free):
                if len(buffer) >= size:
                    return self._free.pop(at)
        return bytearray(max(size, DEFAULT_MAX_READ))

    def give(self, buffer: bytearray) -> None:
        with self._lock:
            if len(self._free) < KEPT_BUFFERS and len(buffer) <= KEPT_BUFFER_MAX:
                self._free.append(buffer)


_BUFFERS = _ReadBuffers()


def derive_segment_key(data_key: bytes, salt: bytes, object_id: str) -> bytes:
    """Per-object AES key: HKDF-SHA256(ikm=DEK, salt, info=prefix || object id)."""
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"data key must be {DATA_KEY_SIZE} bytes")
    info = HKDF_INFO_PREFIX + object_id.encode("utf-8")
    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=info).derive(data_key)


def segment_nonce(prefix: bytes, index: int, final: bool) -> bytes:
    """12-byte GCM nonce: prefix(7) || uint32 BE index || last flag (0x01 final, else 0x00)."""
    return prefix + struct.pack(">IB", index, 1 if final else 0)


class StreamSealer:
    """Encrypts a stream incrementally: write `header()`, then each `feed()` result, then `finish()`.

    `feed` holds back the last complete segment, because only the next `feed` or `finish`
    tells whether it is the final one (the final segment is the last one carrying data, so
    an exact multiple of the segment size ends with a full final segment).
    """

    def __init__(self, data_key: bytes, object_id: str, segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        self._segment_size = check_segment_size(segment_size)
        header = Header(segment_size, os.urandom(SALT_SIZE), os.urandom(NONCE_PREFIX_SIZE))
        self._header = header.encode()
        self._prefix = header.nonce_prefix
        self._aead = AESGCM(derive_segment_key(data_key, header.salt, object_id))
        self._buffer = bytearray()
        self._index = 0
        self._finished = False

    def header(self) -> bytes:
        """The stream header; it comes first in the stored object."""
        return self._header

    def feed(self, data: bytes) -> bytes:
        """Add plaintext; return the ciphertext of every segment now known not to be final.

        Whole segments are sealed straight from `data` (no copy); only a partial segment, or
        the last one held back, is kept in the buffer.
        """
        self._check_open()
        size = self._segment_size
        view = memoryview(data).cast("B")
        sealed = []
        if self._buffer:  # complete the held-back segment, if more data follows it
            need = size - len(self._buffer)
            if len(view) <= need:
                self._buffer += view
                return b""
            self._buffer += view[:need]
            view = view[need:]
            sealed.append(self._seal(bytes(self._buffer), final=False))
            self._buffer.clear()
        start = 0
        while len(view) - start > size:  # the last segment's worth stays: it may be the final one
            sealed.append(self._seal(view[start : start + size], final=False))
            start += size
        self._buffer += view[start:]
        return b"".join(sealed)

    def finish(self) -> bytes:
        """Seal what is buffered as the final segment (empty only for an empty object)."""
        self._check_open()
        self._finished = True
        segment = self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        return segment

    def _check_open(self) -> None:
        if self._finished:
            raise StorageError("stream already finished")

    def _seal(self, plaintext: bytes | memoryview, *, final: bool) -> bytes:
        if self._index >= MAX_SEGMENTS:
            raise StorageError("stream too long for a 32-bit segment index")
        nonce = segment_nonce(self._prefix, self._index, final)
        self._index += 1
        return self._aead.encrypt(nonce, plaintext, self._header)


class StreamOpener:
    """Decrypts byte ranges of a sealed stream through `read(offset, length)` on its ciphertext.

    Construction reads and checks the header only. Each range reads just the segments that
    cover it, in batches of at most `max_read` bytes (never less than one segment), and
    yields each segment's plaintext only after that segment has authenticated.

    A range that does not reach the final segment does not check for truncation after it:
    what it yields is still authentic, at the right position, but `size` is only proven
    once the final segment (which must carry the last flag) has been read. Reading the
    whole object always proves it.
    """

    def __init__(
        self,
        data_key: bytes,
        object_id: str,
        read: ReadFn,
        ciphertext_size: int,
        *,
        max_read: int = DEFAULT_MAX_READ,
        read_into: ReadIntoFn | None = None,
    ) -> None:
        self._read = read
        self._read_into = read_into
        if ciphertext_size < HEADER_SIZE:
            raise DecryptionError("ciphertext too short")
        self._header = _read_exactly(read, 0, HEADER_SIZE)
        header = Header.decode(self._header)
        self._segment_size = header.segment_size
        self._prefix = header.nonce_prefix
        self._aead = AESGCM(derive_segment_key(data_key, header.salt, object_id))
        self.size = plaintext_size(ciphertext_size, header.segment_size)
        self._segments_per_read = max(1, max_read // (header.segment_size + TAG_SIZE))

    @property
    def segment_size(self) -> int:
        """Plaintext bytes per full segment, as recorded in this object's header."""
        return self._segment_size

    def __iter__(self) -> Iterator[bytes]:
        """The whole plaintext, segment by segment (truncation and extension always detected)."""
        if self.size == 0:
            self._open_segment(0, _read_exactly(self._read, HEADER_SIZE, TAG_SIZE), final=True)
            return iter(())
        return self.read_range(0, self.size)

    def read_range(self, start: int, end: int) -> Iterator[bytes]:
        """Yield the plaintext of [start, end), reading only the segments that cover it."""
        span = segment_span(start, end, self.size, self._segment_size)
        return self._read_span(span, start, end)

    def _read_span(self, span: SegmentSpan, start: int, end: int) -> Iterator[bytes]:
        size = self._segment_size
        full = size + TAG_SIZE
        for batch_first in range(span.first, span.stop, self._segments_per_read):
            batch_stop = min(span.stop, batch_first + self._segments_per_read)
            offset = segment_offset(batch_first, size)
            if batch_stop == span.stop:
                length = span.offset + span.length - offset  # the final segment may be short
            else:
                length = (batch_stop - batch_first) * full
            raw = _read_exactly(self._read, offset, length)
            for index in range(batch_first, batch_stop):
                begin = (index - batch_first) * full
                plaintext = self._open_segment(index, raw[begin : begin + full], final=index == span.last_index)
                base = index * size
                yield plaintext[max(start - base, 0) : end - base]

    def read_range_at_once(self, start: int, end: int) -> memoryview:
        """The plaintext of [start, end) in one buffer, every covering segment authenticated before
        it returns (`DecryptionError` else), for a short range: its ciphertext is read in one go
        (into a kept buffer, if the backend reads into one) and each segment decrypted straight
        into its place in the answer, so the range costs about one fresh buffer, not four."""
        span = segment_span(start, end, self.size, self._segment_size)
        if span.length == 0:
            return memoryview(b"")
        plaintext = bytearray((span.stop - span.first) * self._segment_size)
        if self._read_into is None:
            self._open_span_into(span, memoryview(_read_exactly(self._read, span.offset, span.length)), plaintext)
        else:
            buffer = _BUFFERS.take(span.length)
            try:
                raw = memoryview(buffer)[: span.length]
                if self._read_into(span.offset, raw) != span.length:
                    raise DecryptionError("object shorter than its recorded size")
                self._open_span_into(span, raw, plaintext)
            finally:
                _BUFFERS.give(buffer)
        base = span.first * self._segment_size
        return memoryview(plaintext)[start - base : end - base]

    def _open_span_into(self, span: SegmentSpan, raw: memoryview, plaintext: bytearray) -> None:
        """Decrypt the span's segments (`raw`, its ciphertext) each into its place in `plaintext`."""
        size, full = self._segment_size, self._segment_size + TAG_SIZE
        out = memoryview(plaintext)
        for index in range(span.first, span.stop):
            begin, at = (index - span.first) * full, (index - span.first) * size
            ciphertext = raw[begin : begin + full]
            self._open_segment_into(index, ciphertext, out[at : at + len(ciphertext) - TAG_SIZE],
                                    final=index == span.last_index)

    def _open_segment_into(self, index: int, ciphertext: memoryview, out: memoryview, *, final: bool) -> None:
        try:
            self._aead.decrypt_into(segment_nonce(self._prefix, index, final), ciphertext, self._header, out)
        except InvalidTag:
            raise DecryptionError("segment failed authentication") from None

    def _open_segment(self, index: int, ciphertext: bytes, *, final: bool) -> bytes:
        try:
            return self._aead.decrypt(segment_nonce(self._prefix, index, final), ciphertext, self._header)
        except InvalidTag:
            raise DecryptionError("segment failed authentication") from None


def _read_exactly(read: ReadFn, offset: int, length: int) -> bytes:
    """A short read means the object changed under us: treat it like truncation."""
    data = read(offset, length)
    if len(data) != length:
        raise DecryptionError("object shorter than its recorded size")
    return data


def seal_bytes(data_key: bytes, object_id: str, plaintext: bytes, segment_size: int = DEFAULT_SEGMENT_SIZE) -> bytes:
    """One-shot sealing, for small objects and tests."""
    sealer = StreamSealer(data_key, object_id, segment_size)
    return sealer.header() + sealer.feed(plaintext) + sealer.finish()


def open_bytes(data_key: bytes, object_id: str, ciphertext: bytes) -> bytes:
    """One-shot opening of a whole ciphertext held in memory."""

    def read(offset: int, length: int) -> bytes:
        return ciphertext[offset : offset + length]

    return b"".join(StreamOpener(data_key, object_id, read, len(ciphertext)))
