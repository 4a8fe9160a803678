"""The backend protocol, shaped after S3 so an object store can implement it directly.

Ranged reads map to ranged GETs, the streaming writer to a multipart upload that is
completed on clean exit and aborted on error, and whole-object atomic visibility is what
both a rename and a completed multipart upload give.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol


class Writer(Protocol):
    """Receives an object's bytes in order."""

    def write(self, data: bytes) -> None: ...


class Backend(Protocol):
    """Stores opaque byte strings under validated object ids (see `storage.ids`).

    Every method raises `StorageError` for an invalid id and `ObjectNotFound` for a missing
    object (except `delete` and `exists`).
    """

    def writer(self, object_id: str) -> AbstractContextManager[Writer]:
        """Stream an object in. On clean exit it appears whole and at once, replacing any
        object with the same id; if the block raises, nothing appears and nothing is left."""
        ...

    def size(self, object_id: str) -> int:
        """Stored size in bytes."""
        ...

    def read(self, object_id: str, offset: int, length: int) -> bytes:
        """Bytes [offset, offset + length), cut short at the end of the object."""
        ...

    def delete(self, object_id: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    def exists(self, object_id: str) -> bool: ...

    def list_ids(self) -> Iterator[tuple[str, float]]:
        """Every stored object as (id, modification time as a Unix timestamp), in no order.

        For an orphan sweeper: ids the database no longer references can be deleted once
        older than any upload still in flight.
        """
        ...
