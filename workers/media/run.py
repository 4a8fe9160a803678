"""Running ffmpeg, ffprobe and the image child: limits, a watchdog, bounded output, progress.

Every child that touches an upload is treated as possibly compromised by it, so:

- its resources are capped by the kernel (`setrlimit` in the child before exec): CPU seconds,
  address space, size of any file it writes, open files, and no core dumps (a core would
  hold decrypted content outside the scratch directory);
- it runs in its own process group, killed as a whole on timeout, on cancel, or when the
  caller's progress callback raises (e.g. the job's lease was lost);
- it gets a minimal environment (no secrets of the worker: database URL, cloud keys);
- stdin is closed, stderr is kept only as a bounded tail, stdout is bounded too;
- it dies with its worker: being in its own process group, a `kill -9` of the worker's group
  would miss it, so the child asks the kernel (`prctl(PR_SET_PDEATHSIG, SIGKILL)`) to be
  killed when its parent goes. Linux sends that signal when the *thread* that forked the
  child exits, not the process; `run` forks from the calling thread and never returns (nor
  lets that thread end) before the child is reaped, so the two are the same here. Keep it so:
  never start a child from a thread that may end while the child runs;
- it holds the scratch folders' locks (see scratch.py) for as long as it lives, so no worker
  starting meanwhile wipes the files it is writing.

`preexec_fn` is documented as unsafe in threaded programs; the function given here only
calls `resource.setrlimit` with precomputed integers and a `prctl` function looked up before
the fork (no imports, no locks taken in Python), and the process group comes from
`process_group=0`, which needs no Python in the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import resource
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from workers.media import scratch
from workers.media.errors import ResourceLimitHit, RunCancelled, RunTimeout

ProgressCallback = Callable[[float], None]

GiB = 1024**3
MiB = 1024**2


def default_threads() -> int:
    """1.5 threads per core (x264's own rule: frame threads keep the cores busy while one
    waits on lookahead or output), at most 8: a bound, so a big host is not flooded."""
    cores = os.cpu_count() or 1
    return max(1, min(cores + cores // 2, 8))


@dataclass(frozen=True)
class RunLimits:
    """Caps for one child process. `cpu_seconds` None: wall time x threads (+ slack)."""

    wall_seconds: float = 60.0
    cpu_seconds: float | None = None
    memory_bytes: int | None = 3 * GiB
    output_bytes: int | None = 2 * GiB
    open_files: int = 256
    threads: int = field(default_factory=default_threads)
    stderr_bytes: int = 64 * 1024
    stdout_bytes: int = 16 * MiB

    def with_wall(self, seconds: float) -> RunLimits:
        return replace(self, wall_seconds=seconds)

    def cpu_budget(self) -> int:
        if self.cpu_seconds is not None:
            return max(1, int(self.cpu_seconds))
        return int(self.wall_seconds * max(1, self.threads)) + 10


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: bytes
    stderr: str
    elapsed: float

    @property
    def signal_name(self) -> str | None:
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


def child_env() -> dict[str, str]:
    """What a child may see of our environment: a PATH and the C locale, nothing else."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}


def _rlimit_pairs(limits: RunLimits) -> tuple[tuple[int, tuple[int, int]], ...]:
    """The limits as (resource, (soft, hard)), never above what we ourselves may have."""
    wanted: list[tuple[int, int | None]] = [
        (resource.RLIMIT_CPU, limits.cpu_budget()),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.output_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    pairs = []
    for res, value in wanted:
        if value is None:
            continue
        _soft, hard = resource.getrlimit(res)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # CPU: the soft limit sends SIGXCPU; the hard one (a little later) SIGKILL.
        hard_value = value + 5 if res == resource.RLIMIT_CPU else value
        if hard != resource.RLIM_INFINITY:
            hard_value = min(hard_value, hard)
        pairs.append((res, (value, hard_value)))
    return tuple(pairs)


PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the parent (never in the child); None off Linux."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _limiter(pairs: tuple[tuple[int, tuple[int, int]], ...]) -> Callable[[], None]:
    setrlimit = resource.setrlimit
    prctl = _PRCTL
    parent = os.getpid()
    getppid = os.getppid
    kill = os.kill
    getpid = os.getpid
    sigkill = int(signal.SIGKILL)

    def apply() -> None:  # runs in the child between fork and exec: keep it trivial
        for res, lim in pairs:
            setrlimit(res, lim)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
            if getppid() != parent:  # the parent died before the request took effect
                kill(getpid(), sigkill)

    return apply


class _TailBuffer:
    """Keeps the last `limit` bytes written to it."""

    def __init__(self, limit: int) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._limit = limit

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= self._limit and len(self._chunks) > 1:
            self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        return b"".join(self._chunks)[-self._limit :].decode("utf-8", "replace")


class _CappedBuffer:
    """Keeps the first `limit` bytes and notes whether more came (then the result is void)."""

    def __init__(self, limit: int) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = limit
        self.overflowed = False

    def add(self, chunk: bytes) -> None:
        if self._size + len(chunk) > self._limit:
            self.overflowed = True
            return
        self._chunks.append(chunk)
        self._size += len(chunk)

    def data(self) -> bytes:
        return b"".join(self._chunks)


def _drain(stream: object, sink: Callable[[bytes], None], closed: threading.Event | None = None,
           events: queue.Queue[float] | None = None) -> None:
    read = stream.read1 if hasattr(stream, "read1") else stream.read  # type: ignore[attr-defined]
    while chunk := read(65536):
        sink(chunk)
    if closed is not None and events is not None:
        closed.set()
        events.put(_CLOSED)  # wakes the watcher at once, not at its next poll


_CLOSED = -1.0  # not a fraction: the child's stdout is closed


class _ProgressParser:
    """`-progress pipe:1` prints key=value blocks; we want out_time as a fraction of a total."""

    def __init__(self, total_seconds: float | None, events: queue.Queue[float]) -> None:
        self._total = total_seconds
        self._events = events
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            self._line(line.strip().decode("ascii", "replace"))

    def _line(self, line: str) -> None:
        key, _, value = line.partition("=")
        if key in ("out_time_us", "out_time_ms") and self._total:
            try:
                seconds = int(value) / 1_000_000
            except ValueError:
                return  # "N/A" before the first frame
            self._events.put(max(0.0, min(1.0, seconds / self._total)))
        elif key == "progress" and value == "end":
            self._events.put(1.0)


def run(
    argv: Sequence[str],
    *,
    limits: RunLimits,
    progress: ProgressCallback | None = None,
    total_seconds: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    capture_stdout: bool = False,
) -> RunResult:
    """Run `argv` to completion under `limits`.

    With `capture_stdout` the child's stdout is returned (bounded); otherwise stdout is read
    as ffmpeg `-progress` output and turned into `progress(fraction)` calls, made from this
    thread so that an exception raised by the callback stops the child.
    Raises `RunTimeout`, `RunCancelled`, `ResourceLimitHit`; any other exit is returned.
    """
    events: queue.Queue[float] = queue.Queue()
    stdout_buf = _CappedBuffer(limits.stdout_bytes)
    stderr_buf = _TailBuffer(limits.stderr_bytes)
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limiter(_rlimit_pairs(limits)),  # noqa: PLW1509 (see the module docstring)
        process_group=0,
        close_fds=True,
        pass_fds=scratch.held_lock_fds(),
        env=child_env(),
    )
    out_sink = stdout_buf.add if capture_stdout else _ProgressParser(total_seconds, events).feed
    closed = threading.Event()  # the child closed its stdout: it is exiting (or has exited)
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out_sink, closed, events), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, stderr_buf.add), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        _watch(proc, started, limits, events, progress, should_stop, closed)
    finally:
        _kill_group(proc)
        for reader in readers:
            reader.join(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
    result = RunResult(proc.returncode, _stdout(stdout_buf, limits), stderr_buf.text(),
                       time.monotonic() - started)
    _raise_for_limits(result)
    return result


def _watch(
    proc: subprocess.Popen[bytes],
    started: float,
    limits: RunLimits,
    events: queue.Queue[float],
    progress: ProgressCallback | None,
    should_stop: Callable[[], bool] | None,
    closed: threading.Event | None = None,
) -> None:
    """Wait for the child, relaying progress; kill it at the deadline or on request.

    Once the child has closed its stdout it is exiting: then its exit is waited for directly
    (a few milliseconds), not found at the next 0.1 s poll, which every run would pay."""
    deadline = started + limits.wall_seconds
    last = -1.0
    while True:
        try:
            fraction = events.get(timeout=0.1)
        except queue.Empty:
            fraction = None
        if fraction is not None and fraction != _CLOSED and progress is not None and fraction > last:
            last = fraction
            progress(fraction)
        if closed is not None and closed.is_set() and proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
        if proc.poll() is not None and events.empty():
            return
        if should_stop is not None and should_stop():
            _kill_group(proc)
            raise RunCancelled("stopped on request")
        if time.monotonic() > deadline:
            _kill_group(proc)
            raise RunTimeout(f"killed after {limits.wall_seconds:.0f} s (wall-clock limit)")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's whole process group (ffmpeg may fork helpers); reap the child."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _stdout(buf: _CappedBuffer, limits: RunLimits) -> bytes:
    if buf.overflowed:
        raise ResourceLimitHit(f"the child printed more than {limits.stdout_bytes} bytes")
    return buf.data()


def _raise_for_limits(result: RunResult) -> None:
    name = result.signal_name
    if name in ("SIGXCPU", "SIGKILL"):
        raise ResourceLimitHit("stopped by the CPU time or memory limit", detail=result.stderr[-2000:])
    if name == "SIGXFSZ":
        raise ResourceLimitHit("stopped by the output size limit", detail=result.stderr[-2000:])
