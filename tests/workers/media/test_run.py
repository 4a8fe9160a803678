"""Running children: wall clock, kernel limits, process groups, progress, a clean environment.

These use small Python children instead of ffmpeg, so they state the runner's behaviour
exactly and fast.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from workers.media.errors import ResourceLimitHit, RunCancelled, RunTimeout
from workers.media.run import RunLimits, run

PY = [sys.executable, "-I", "-c"]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def test_output_and_exit_code() -> None:
    result = run([*PY, "import sys; print('hi'); sys.stderr.write('oops'); sys.exit(3)"],
                 limits=RunLimits(wall_seconds=20), capture_stdout=True)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (3, b"hi", "oops")


def test_wall_clock_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(RunTimeout):
        run([*PY, script], limits=RunLimits(wall_seconds=1.5))
    assert time.monotonic() - started < 10
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_cpu_limit() -> None:
    with pytest.raises(ResourceLimitHit, match="CPU"):
        run([*PY, "while True: pass"], limits=RunLimits(wall_seconds=30, cpu_seconds=1))


def test_output_size_limit(tmp_path: Path) -> None:
    target = tmp_path / "big"
    script = (  # Python ignores SIGXFSZ; ffmpeg, like most programs, dies of it
        "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
        f"f = open({str(target)!r}, 'wb')\nfor _ in range(64): f.write(b'0' * 1_000_000); f.flush()"
    )
    with pytest.raises(ResourceLimitHit, match="output size"):
        run([*PY, script], limits=RunLimits(wall_seconds=30, output_bytes=2_000_000))
    assert target.stat().st_size <= 2_000_000


def test_memory_limit() -> None:
    result = run([*PY, "x = bytearray(2_000_000_000)"],
                 limits=RunLimits(wall_seconds=30, memory_bytes=512 * 1024**2))
    assert result.returncode != 0 and "MemoryError" in result.stderr


def test_no_core_dumps_and_few_files() -> None:
    script = ("import resource; "
              "print(resource.getrlimit(resource.RLIMIT_CORE), resource.getrlimit(resource.RLIMIT_NOFILE))")
    result = run([*PY, script], limits=RunLimits(wall_seconds=20, open_files=64), capture_stdout=True)
    assert result.stdout.strip() == b"(0, 0) (64, 64)"


def test_child_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUTTLE_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    result = run([*PY, "import os; print(sorted(os.environ))"], limits=RunLimits(wall_seconds=20),
                 capture_stdout=True)
    assert b"do-not-leak" not in result.stdout
    assert b"SHUTTLE_SECRET_KEY" not in result.stdout and b"AWS" not in result.stdout


def test_stdin_is_closed() -> None:
    result = run([*PY, "import sys; print(repr(sys.stdin.read()))"], limits=RunLimits(wall_seconds=20),
                 capture_stdout=True)
    assert result.stdout.strip() == b"''"


def test_stderr_is_bounded() -> None:
    result = run([*PY, "import sys; sys.stderr.write('x' * 1_000_000 + 'END')"],
                 limits=RunLimits(wall_seconds=20, stderr_bytes=1000))
    assert len(result.stderr) <= 1000 and result.stderr.endswith("END")


def test_stdout_cap_voids_the_result() -> None:
    with pytest.raises(ResourceLimitHit):
        run([*PY, "print('x' * 100_000)"], limits=RunLimits(wall_seconds=20, stdout_bytes=1000),
            capture_stdout=True)


PROGRESS = (
    "import sys, time\n"
    "for us in (0, 500000, 1000000, 1500000, 2000000):\n"
    "    print(f'frame=1\\nout_time_us={us}\\nprogress=continue', flush=True); time.sleep(0.05)\n"
    "print('out_time_us=N/A\\nprogress=end', flush=True)\n"
)


def test_progress_is_parsed_into_fractions() -> None:
    seen: list[float] = []
    run([*PY, PROGRESS], limits=RunLimits(wall_seconds=20), progress=seen.append, total_seconds=2.0)
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0.5 in seen


def test_a_raising_callback_stops_the_child() -> None:
    class LeaseLost(Exception):
        pass

    def callback(fraction: float) -> None:
        if fraction >= 0.25:
            raise LeaseLost

    script = PROGRESS.replace("time.sleep(0.05)", "time.sleep(0.05)") + "import time; time.sleep(60)"
    started = time.monotonic()
    with pytest.raises(LeaseLost):
        run([*PY, script], limits=RunLimits(wall_seconds=60), progress=callback, total_seconds=2.0)
    assert time.monotonic() - started < 10


def test_should_stop_cancels() -> None:
    started = time.monotonic()
    with pytest.raises(RunCancelled):
        run([*PY, "import time; time.sleep(60)"], limits=RunLimits(wall_seconds=60),
            should_stop=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 10


def test_the_child_dies_with_its_caller(tmp_path: Path) -> None:
    """kill -9 of the worker (ffmpeg is in its own process group, so a group kill misses it):
    the kernel kills the child too, at once (PR_SET_PDEATHSIG)."""
    import signal
    import subprocess

    pidfile = tmp_path / "child.pid"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    worker = (
        "import sys\n"
        "from workers.media.run import RunLimits, run\n"
        f"run([sys.executable, '-I', '-c', {child!r}], limits=RunLimits(wall_seconds=60))\n"
    )
    caller = subprocess.Popen([sys.executable, "-c", worker], cwd=Path(__file__).parents[3])
    grandchild = 0
    try:
        deadline = time.monotonic() + 20
        while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchild = int(pidfile.read_text())
        os.kill(caller.pid, signal.SIGKILL)
        caller.wait(timeout=5)
        deadline = time.monotonic() + 1.0
        while _alive(grandchild) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(grandchild), "the child outlived its worker"
    finally:
        if caller.poll() is None:
            caller.kill()
        if grandchild and _alive(grandchild):
            os.kill(grandchild, signal.SIGKILL)
