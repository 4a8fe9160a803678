"""Why draft saves queue on SQLite: many threads of one process saving drafts at once, without HTTP.

    python bench/sqlite_writers.py [--writers 40] [--seconds 8]

Each writer saves its own draft in a loop (`authoring.save_draft` in a unit of work, as the web
process runs it) for `--seconds`, in three ways:

- as is: every unit of work begins with BEGIN IMMEDIATE and waits for SQLite's write lock in
  SQLite's busy handler (it sleeps and polls: a waiter may sleep through the lock being free,
  and newcomers overtake it);
- FIFO: the same, but the writers of this process queue first in a first-come-first-served gate
  (one writer in the database at a time, the next one woken as soon as the lock is free);
- sealed + FIFO: also with the text encrypted and written before the unit of work
  (`authoring.seal_draft`), as the API's autosave does, so the lock covers only the rows.

Prints the saves done and p50/p99/max of each, with the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from load import FILLER, populate
from sqlalchemy import select

from shuttle import schema
from shuttle.accounts.models import Account
from shuttle.accounts.passwords import PasswordPolicy
from shuttle.bootstrap import build_services
from shuttle.config import Settings
from shuttle.messages import authoring
from shuttle.services import Actor, Services


class Fifo:
    """First come, first served: a ticket each, served in order."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next = self._serving = 0

    def __enter__(self) -> None:
        with self._turn:
            ticket, self._next = self._next, self._next + 1
            while self._serving != ticket:
                self._turn.wait()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        with self._turn:
            self._serving += 1
            self._turn.notify_all()


class Open:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None


def run(svc: Services, writers: list[tuple[Actor, str]], seconds: float, *, fifo: bool, sealed: bool) -> list[float]:
    gate: Fifo | Open = Fifo() if fifo else Open()
    latencies: list[float] = []
    until = time.monotonic() + seconds

    def writer(actor: Actor, message_id: str) -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            text = f"save {n}. {FILLER}"
            started = time.perf_counter()
            seal = authoring.seal_draft(svc, text) if sealed else None
            with gate, svc.db.uow() as uow:
                authoring.save_draft(uow.session, svc, actor, message_id, text, sealed=seal)
                uow.commit()
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=writer, args=pair) for pair in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shuttle-writers-") as folder:
        env = {"SHUTTLE_DATA_DIR": folder, "SHUTTLE_SECRET_KEY": "writers-" + "k" * 40}
        svc = build_services(Settings.from_env(env))
        svc.passwords = PasswordPolicy.for_tests()
        schema.upgrade(svc.db)
        setup = populate(svc, args.writers)
        with svc.db.uow() as uow:
            ids = {a.username: a.id for a in uow.session.scalars(select(Account))}
        writers = [(Actor(ids[username], "participant"), message_id) for username, message_id in setup.participants]
        print(f"{args.writers} writers saving drafts on SQLite, {args.seconds:g} s each way; "
              f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
        for name, fifo, sealed in (("as is", False, False), ("FIFO", True, False), ("sealed + FIFO", True, True)):
            done = run(svc, writers, args.seconds, fifo=fifo, sealed=sealed)
            pick = [1000 * done[min(len(done) - 1, int(q * len(done)))] for q in (0.5, 0.99, 1.0)]
            print(f"  {name:14s} {len(done):6d} saves  p50 {pick[0]:7.1f} ms  p99 {pick[1]:7.1f} ms  "
                  f"max {pick[2]:7.1f} ms")
        print(f"  load average {os.getloadavg()[0]:.2f} after")
        svc.db.dispose()


if __name__ == "__main__":
    main()
