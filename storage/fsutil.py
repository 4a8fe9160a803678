"""Durable, private file-system writes shared by the keyring and the local backend.

Both hold secrets or ciphertext that must survive a crash whole or not at all, and must
never be readable by other local users.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def fsync_dir(path: Path) -> None:
    """Persist a directory entry change (create, rename, unlink) across power loss."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with mode 0700; leave an existing directory alone."""
    if path.is_dir():
        return
    ensure_private_dir(path.parent)
    try:
        os.mkdir(path, PRIVATE_DIR_MODE)
    except FileExistsError:
        if not path.is_dir():
            raise
        return
    fsync_dir(path.parent)


def create_private_temp(directory: Path, stem: str) -> tuple[int, Path]:
    """Open a new 0600 temp file in `directory` (so a later rename is atomic) for writing.

    Temp names start with a dot: no object id or keyring name does, so listings skip them.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        path = directory / f".{stem}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(path, flags, PRIVATE_FILE_MODE), path
        except FileExistsError:
            continue


def write_all(fd: int, data: bytes) -> None:
    """`os.write` may write less than asked; loop until everything is written."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_private_file(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write `data` to `path` atomically with mode 0600 (temp file, fsync, rename, fsync dir).

    With `replace=False` the file is only created if absent (hard link, which fails on an
    existing name), so two processes creating it at once never see a half-written file.
    Returns False when `replace=False` and the file already existed.
    """
    fd, temp = create_private_temp(path.parent, path.name)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                return False
    finally:
        if temp.exists():
            temp.unlink()
    fsync_dir(path.parent)
    return True
