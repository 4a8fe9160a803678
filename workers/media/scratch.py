"""The worker's private scratch space: where decrypted and intermediate media may exist.

- One directory per job, mode 0700, named `shuttle-media.<pid>.<random>` under a root that
  prefers tmpfs (`/dev/shm`) when it has room: plaintext then never reaches a disk (unless the
  machine swaps; encrypted swap or none is a deployment requirement, see docs).
- Wiped when the job ends, on success and on failure alike.
- Each directory holds a lock file (`.lock`, `flock`ed exclusively for the directory's whole
  life). The children the job runs (ffmpeg) inherit the lock's descriptor, so the lock is held
  while any process that may write there lives, in whatever pid namespace.
- After a crash the directory stays behind; `wipe_stale_scratch` (run at worker start) removes
  only those whose lock it can take: nobody alive holds them. A pid in a name says nothing
  across containers sharing a volume, nor about a child that outlived its worker.
Wiping is unlinking: overwriting before unlinking achieves nothing on tmpfs and nothing
reliable on journaling filesystems or SSDs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

PREFIX = "shuttle-media."
LOCK = ".lock"
SHM = Path("/dev/shm")

_held: set[int] = set()
_held_guard = threading.Lock()


def held_lock_fds() -> tuple[int, ...]:
    """The lock descriptors of this process's live scratch folders, for children to inherit."""
    with _held_guard:
        return tuple(sorted(_held))


def _take_lock(folder: Path) -> int | None:
    """The folder's lock, held (an open descriptor), or None when a live process holds it."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def default_root(need_bytes: int, *, shm: Path = SHM) -> Path:
    """/dev/shm when it exists, is writable and has twice `need_bytes` free; else the temp dir."""
    try:
        if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
            usage = shutil.disk_usage(shm)
            if usage.free >= 2 * need_bytes:
                return shm
    except OSError:
        pass
    return Path(tempfile.gettempdir())


class Scratch:
    """A private directory for one job; a context manager that always wipes it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path: Path | None = None
        self._lock: int | None = None

    def __enter__(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}.", dir=self.root))
        os.chmod(self.path, stat.S_IRWXU)  # mkdtemp already uses 0700; make it explicit
        self._lock = _take_lock(self.path)  # nobody else knows the folder yet: always ours
        with _held_guard:
            _held.add(self._lock)  # type: ignore[arg-type]
        return self.path

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.path is not None:
            wipe(self.path)
            self.path = None
        if self._lock is not None:
            with _held_guard:
                _held.discard(self._lock)
            os.close(self._lock)
            self._lock = None


def wipe(path: Path) -> None:
    """Remove a scratch directory, including files a child left read-only."""

    def retry(func, target, _exc):  # type: ignore[no-untyped-def]
        os.chmod(os.path.dirname(target) or ".", stat.S_IRWXU)
        with contextlib.suppress(OSError):
            os.chmod(target, stat.S_IRWXU)
        func(target)

    if not path.exists():
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def wipe_stale_scratch(root: Path) -> list[Path]:
    """Remove scratch directories under `root` that no live process holds.

    A directory with a lock file is wiped only while we hold its lock (nobody else does). One
    without (made by an older version, or an instant old, before its lock existed) is wiped
    only when the process named in it is gone and is not us.
    """
    removed: list[Path] = []
    root = Path(root)
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if not entry.name.startswith(PREFIX) or not entry.is_dir() or entry.is_symlink():
            continue
        pid_text = entry.name[len(PREFIX) :].split(".", 1)[0]
        if not pid_text.isdigit() or entry.stat().st_uid != os.getuid():
            continue
        if _wipe_if_unheld(entry, int(pid_text)):
            removed.append(entry)
    return removed


def _wipe_if_unheld(entry: Path, pid: int) -> bool:
    if not (entry / LOCK).exists():
        if pid == os.getpid() or _pid_alive(pid):
            return False
        wipe(entry)
        return True
    try:
        fd = _take_lock(entry)
    except FileNotFoundError:
        return False  # wiped by its owner meanwhile
    if fd is None:
        return False
    try:
        wipe(entry)
    finally:
        os.close(fd)
    return True
