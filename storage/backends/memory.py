"""Ciphertext in a dict: for tests and for running without a disk (nothing survives the process)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from storage.errors import ObjectNotFound
from storage.ids import check_object_id


class _BufferWriter:
    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> None:
        self.buffer += data


class MemoryBackend:
    """Implements `storage.backends.base.Backend` in memory, with the same atomicity rules."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, float]] = {}

    @contextmanager
    def writer(self, object_id: str) -> Iterator[_BufferWriter]:
        check_object_id(object_id)
        writer = _BufferWriter()
        yield writer
        self._objects[object_id] = (bytes(writer.buffer), time.time())

    def size(self, object_id: str) -> int:
        return len(self._get(object_id))

    def read(self, object_id: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        return self._get(object_id)[offset : offset + length]

    def delete(self, object_id: str) -> None:
        self._objects.pop(check_object_id(object_id), None)

    def exists(self, object_id: str) -> bool:
        return check_object_id(object_id) in self._objects

    def list_ids(self) -> Iterator[tuple[str, float]]:
        return iter([(object_id, mtime) for object_id, (_, mtime) in self._objects.items()])

    def raw(self, object_id: str) -> bytes:
        """The stored ciphertext, for tests that inspect or tamper with it."""
        return self._get(object_id)

    def put_raw(self, object_id: str, data: bytes) -> None:
        """Store arbitrary bytes under an id, for tests that tamper with ciphertext."""
        self._objects[check_object_id(object_id)] = (bytes(data), time.time())

    def _get(self, object_id: str) -> bytes:
        try:
            return self._objects[check_object_id(object_id)][0]
        except KeyError:
            raise ObjectNotFound(object_id) from None
