"""The server's heap is settled once it serves (shuttle/heap.py): what starting made is out of
every later full collection, so a full collection costs what requests made, not the whole
process (a staff case page's p99 was 3x its p50, all of it full collections)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_settle_takes_what_starting_made_out_of_later_collections() -> None:
    script = textwrap.dedent("""
        import gc
        import shuttle.web.app, shuttle.cli  # what a server process loads to start
        started = [[object()] for _ in range(200_000)]  # long-lived state made while starting
        garbage = [[]]
        garbage[0].append(garbage)  # a cycle left behind by starting
        del garbage
        from shuttle import heap
        heap.settle()
        assert gc.get_freeze_count() > 200_000, gc.get_freeze_count()  # out of later collections
        assert gc.collect() == 0  # the cycle was collected first, not frozen
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
