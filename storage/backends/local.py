"""Ciphertext in a local directory: the embedded default for a single machine.

Objects fan out into sub-directories named by the first two characters of the id, so no
directory grows huge. Directories are 0700 and files 0600: the bytes are ciphertext, but
their sizes and times are still nobody else's business.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.errors import ObjectNotFound
from storage.fsutil import create_private_temp, ensure_private_dir, fsync_dir, write_all
from storage.ids import check_object_id, is_object_id

FANOUT_CHARS = 2
#: What `create_private_temp` names a write in progress: "." + object id + "." + 16 hex + ".tmp".
_TEMP_NAME = re.compile(r"\.(?P<id>[^./]+)\.[0-9a-f]{16}\.tmp")


class _FileWriter:
    """Appends to the open temp file; see `LocalBackend.writer`."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, data: bytes) -> None:
        write_all(self._fd, data)


class LocalBackend:
    """Implements `storage.backends.base.Backend` on a directory tree under `root`."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def __repr__(self) -> str:
        return f"LocalBackend({str(self._root)!r})"

    @contextmanager
    def writer(self, object_id: str) -> Iterator[_FileWriter]:
        """Write to a temp file in the target directory; fsync, rename into place, fsync the dir.

        The temp file lives in the same directory so the rename is atomic, and is removed if
        the block raises, so an aborted upload leaves no litter (a crash can: temp names
        start with a dot and `list_ids` skips them).
        """
        final = self._path(object_id)
        ensure_private_dir(final.parent)
        fd, temp = create_private_temp(final.parent, object_id)
        try:
            try:
                yield _FileWriter(fd)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        fsync_dir(final.parent)

    def size(self, object_id: str) -> int:
        try:
            return self._path(object_id).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(object_id) from None

    def read(self, object_id: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        try:
            fd = os.open(self._path(object_id), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ObjectNotFound(object_id) from None
        try:
            chunks = []
            while length > 0:
                chunk = os.pread(fd, length, offset)
                if not chunk:
                    break
                chunks.append(chunk)
                offset += len(chunk)
                length -= len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def read_into(self, object_id: str, offset: int, buffer: memoryview) -> int:
        """Fill `buffer` with the bytes from `offset` (fewer at the end of the object); answers how
        many. Not in the protocol: a reader uses it where offered, to reuse a warm buffer."""
        if offset < 0:
            raise ValueError("negative offset")
        try:
            fd = os.open(self._path(object_id), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ObjectNotFound(object_id) from None
        try:
            done = 0
            while done < len(buffer):
                got = os.preadv(fd, [buffer[done:]], offset + done)
                if not got:
                    break
                done += got
            return done
        finally:
            os.close(fd)

    def delete(self, object_id: str) -> None:
        path = self._path(object_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(path.parent)

    def exists(self, object_id: str) -> bool:
        return self._path(object_id).is_file()

    def list_ids(self) -> Iterator[tuple[str, float]]:
        if not self._root.is_dir():
            return
        with os.scandir(self._root) as buckets:
            for bucket in buckets:
                if bucket.is_dir(follow_symlinks=False) and not bucket.name.startswith("."):
                    yield from self._list_bucket(bucket.path, bucket.name)

    def remove_stale_temp(self, older_than: float, *, now: float | None = None) -> int:
        """Remove temp files of writes that never finished (a process killed mid-upload) once
        they are `older_than` seconds old; returns how many. Younger ones may be live writes."""
        cutoff = (time.time() if now is None else now) - older_than
        removed = 0
        if not self._root.is_dir():
            return 0
        with os.scandir(self._root) as buckets:
            for bucket in buckets:
                if bucket.is_dir(follow_symlinks=False) and not bucket.name.startswith("."):
                    removed += self._remove_temp_in(bucket.path, bucket.name, cutoff)
        return removed

    def _remove_temp_in(self, path: str, prefix: str, cutoff: float) -> int:
        removed = 0
        with os.scandir(path) as entries:
            for entry in entries:
                found = _TEMP_NAME.fullmatch(entry.name)
                if not found or not is_object_id(found["id"]) or found["id"][:FANOUT_CHARS] != prefix:
                    continue  # not one of our temp files
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _list_bucket(self, path: str, prefix: str) -> Iterator[tuple[str, float]]:
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if not is_object_id(name) or name[:FANOUT_CHARS] != prefix:
                    continue  # temp files (dot names) and strangers
                if entry.is_file(follow_symlinks=False):
                    yield name, entry.stat(follow_symlinks=False).st_mtime

    def _path(self, object_id: str) -> Path:
        """Where an id lives; validation first, so no id can name a path outside `root`."""
        check_object_id(object_id)
        return self._root / object_id[:FANOUT_CHARS] / object_id
