"""The worker's private scratch space: where decrypted and intermediate media may exist.

- One directory per job, mode 0700, named `shuttle-media.<pid>.<random>` under a root that
  prefers tmpfs (`/dev/shm`) when it has room: plaintext then never reaches a disk (unless the
  machine swaps; encrypted swap or none is a deployment requirement, see docs).
- Wiped when the job ends, on success and on failure alike.
- After a crash the directory stays behind; `wipe_stale_scratch` (run at worker start) removes
  those whose owning process is gone. The pid in the name keeps several workers on one
  machine from wiping each other's live scratch.
Wiping is unlinking: overwriting before unlinking achieves nothing on tmpfs and nothing
reliable on journaling filesystems or SSDs.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from types import TracebackType

PREFIX = "shuttle-media."
SHM = Path("/dev/shm")


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

    def __enter__(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}.", dir=self.root))
        os.chmod(self.path, stat.S_IRWXU)  # mkdtemp already uses 0700; make it explicit
        return self.path

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.path is not None:
            wipe(self.path)
            self.path = None


def wipe(path: Path) -> None:
    """Remove a scratch directory, including files a child left read-only."""

    def retry(func, target, _exc):  # type: ignore[no-untyped-def]
        os.chmod(os.path.dirname(target) or ".", stat.S_IRWXU)
        try:
            os.chmod(target, stat.S_IRWXU)
        except OSError:
            pass
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
    """Remove scratch directories under `root` left by processes that no longer run.

    Call it at start-up, before this process runs any job: a directory named with our own pid
    is then a leftover of an earlier process that had the same pid (common in containers).
    """
    removed = []
    root = Path(root)
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if not entry.name.startswith(PREFIX) or not entry.is_dir() or entry.is_symlink():
            continue
        pid_text = entry.name[len(PREFIX) :].split(".", 1)[0]
        if not pid_text.isdigit() or entry.stat().st_uid != os.getuid():
            continue
        if int(pid_text) == os.getpid() or not _pid_alive(int(pid_text)):
            wipe(entry)
            removed.append(entry)
    return removed
