"""Envelope-encrypted objects: the one entry point the rest of shuttle uses.

`put` encrypts as chunks arrive under a fresh data key, and returns that key wrapped by
the keyring; the caller keeps it in its database. Reading needs both the object id and
that wrapped key, so destroying the key row crypto-shreds the object.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from storage.backends.base import Backend
from storage.errors import ObjectTooLarge
from storage.ids import check_object_id, new_object_id
from storage.keyring import DEK_SIZE, Keyring, WrappedKey
from storage.layout import DEFAULT_SEGMENT_SIZE, check_segment_size
from storage.stream import StreamOpener, StreamSealer


@dataclass(frozen=True)
class StoredObject:
    """What the caller records about a stored object: its id, plaintext size and wrapped key."""

    object_id: str
    size: int
    key: WrappedKey


class EncryptedObject:
    """An opened object: its plaintext size and authenticated, segment-wise reads."""

    def __init__(self, object_id: str, opener: StreamOpener) -> None:
        self.object_id = object_id
        self._opener = opener
        self.size: int = opener.size

    def __repr__(self) -> str:
        return f"EncryptedObject({self.object_id!r}, size={self.size})"

    def read_range(self, start: int, end: int) -> Iterator[bytes]:
        """Plaintext of [start, end), reading and decrypting only the segments that cover it.

        Raises ValueError at once for a range outside [0, size]; `DecryptionError` while
        iterating if a segment fails to authenticate (no bytes of that segment are yielded).
        """
        return self._opener.read_range(start, end)

    def read_range_at_once(self, start: int, end: int) -> memoryview:
        """Plaintext of [start, end) in one buffer, all of it authenticated before it comes back
        (`DecryptionError` else): for a short range (a player's seek), cheaper than joining pieces."""
        return self._opener.read_range_at_once(start, end)

    def __iter__(self) -> Iterator[bytes]:
        """The whole plaintext, one segment at a time; truncation is always detected."""
        return iter(self._opener)


class BlobStore:
    """Encrypts into and decrypts from a backend, with data keys wrapped by a keyring."""

    def __init__(self, backend: Backend, keyring: Keyring, segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        self._backend = backend
        self._keyring = keyring
        self._segment_size = check_segment_size(segment_size)

    @property
    def keyring(self) -> Keyring:
        """For re-wrapping data keys on rotation; payloads are never touched."""
        return self._keyring

    def list_ids(self) -> Iterator[tuple[str, float]]:
        """Every stored object id with its modification time (for the orphan sweeper)."""
        return self._backend.list_ids()

    def abort_stale_uploads(self, older_than: float, *, now: float | None = None) -> int:
        """Abort the backend's incomplete uploads started more than `older_than` seconds ago
        (for the sweeper; S3 multipart uploads left by a crash). 0 for backends without any."""
        abort = getattr(self._backend, "abort_stale_uploads", None)
        return int(abort(older_than, now=now)) if abort is not None else 0

    def remove_stale_temp(self, older_than: float, *, now: float | None = None) -> int:
        """Remove the backend's temp files of interrupted writes older than `older_than`
        seconds (for the sweeper; local files a killed process left). 0 for backends without."""
        remove = getattr(self._backend, "remove_stale_temp", None)
        return int(remove(older_than, now=now)) if remove is not None else 0

    def put(
        self,
        chunks: Iterable[bytes],
        *,
        object_id: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredObject:
        """Encrypt and store plaintext arriving in chunks; memory stays at about one segment.

        A new random id is minted unless `object_id` is given (an existing object under that
        id is replaced only if the write completes). Past `max_bytes` of plaintext it raises
        `ObjectTooLarge` and stores nothing, as does any exception from `chunks`.
        """
        object_id = check_object_id(object_id) if object_id is not None else new_object_id()
        data_key = os.urandom(DEK_SIZE)
        key = self._keyring.wrap(data_key, object_id)
        sealer = StreamSealer(data_key, object_id, self._segment_size)
        size = 0
        with self._backend.writer(object_id) as writer:
            writer.write(sealer.header())
            for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                sealed = sealer.feed(chunk)
                if sealed:
                    writer.write(sealed)
            writer.write(sealer.finish())
        return StoredObject(object_id=object_id, size=size, key=key)

    def put_bytes(self, data: bytes, **kw: Any) -> StoredObject:
        """`put` for plaintext already in memory."""
        return self.put([data], **kw)

    def open(self, object_id: str, key: WrappedKey) -> EncryptedObject:
        """Unwrap the key and read the header; no payload segment is read yet.

        Raises `ObjectNotFound`, `KeyringError` or `DecryptionError`.
        """
        data_key = self._keyring.unwrap(key, object_id)
        backend = self._backend

        def read(offset: int, length: int) -> bytes:
            return backend.read(object_id, offset, length)

        read_into = getattr(backend, "read_into", None)  # a local file reads into a kept buffer

        def into(offset: int, buffer: memoryview) -> int:
            assert read_into is not None
            return int(read_into(object_id, offset, buffer))

        opener = StreamOpener(data_key, object_id, read, backend.size(object_id),
                              read_into=into if read_into is not None else None)
        return EncryptedObject(object_id, opener)

    def get_bytes(self, object_id: str, key: WrappedKey) -> bytes:
        """The whole plaintext in memory: for small objects only."""
        return b"".join(self.open(object_id, key))

    def delete(self, object_id: str) -> None:
        """Remove the ciphertext (idempotent).

        Shredding is the caller's part: destroy the wrapped key first, and the object is
        unrecoverable even from copies of these bytes.
        """
        self._backend.delete(object_id)
