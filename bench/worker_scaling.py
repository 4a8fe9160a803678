"""Worker benchmark: letter jobs per second with one worker process, then with two, sharing one
PostgreSQL queue, in the same run.

    python bench/worker_scaling.py [--letters 2000] [--cases 20] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A fresh database is made on the server (and dropped at the end), with the schema and a few cases.
Then, twice: N letters are written and submitted through the use cases (each submission queues
its processing job, as in the service), worker processes are started (the real worker,
`workers.handlers.build_worker`, each process with its own engine), warmed up, and told to go
at the same moment; each runs jobs until the queue is empty. The first time with one worker,
the second with two. Jobs per second are counted from "go" to the last worker's exit.

- ratio 2 workers / 1 worker: target >= 1.8
- lost: letters of the run whose job is not done or whose message did not reach review: 0
- processed twice: letters whose job ran more than once, or with more than one
  `message.processed` (or `message.start_processing`) audit event: 0
- the audit chain verifies at the end

On a 2-core machine the two workers share the cores with the database server and with whatever
else runs: the load average is printed before and after. It is a measurement, not a gate: it
exits 0 whether the target is met or not (1 when a letter was lost or processed twice).

(Not `bench/workers.py`: a module of that name beside the other benchmarks would shadow the
project's `workers` package for every script in this folder, and mypy refuses the duplicate.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import _harness as h
from sqlalchemy import create_engine, func, select, text

RATIO_TARGET = 1.8
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def env_for(data_dir: Path, url: str) -> dict[str, str]:
    return {**h.env_for(data_dir), "SHUTTLE_DATABASE_URL": url}


# --- a worker process ---------------------------------------------------------------------------

def _work(data_dir: str, url: str) -> None:
    """One worker process: warm up, say "ready", wait for "go", run jobs until none is left."""
    from shuttle.bootstrap import build_services
    from shuttle.config import Settings
    from workers.handlers import build_worker

    svc = build_services(Settings.from_env({**os.environ, **env_for(Path(data_dir), url)}))
    worker = build_worker(svc)
    with svc.db.engine.connect() as conn:  # the pool's first connection, before the clock starts
        conn.execute(text("select 1"))
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    while worker.run_once():
        done += 1
    print(json.dumps({"jobs": done, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}),
          flush=True)
    sys.stdin.readline()  # "exit": the database's CPU is read while this worker's connections are open
    svc.db.dispose()


def database_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL server's processes on this machine (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
        if name == "postgres":
            ticks += int(rest[11]) + int(rest[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    seconds: float  # from "go" to the last worker's exit
    jobs: list[int]  # per worker
    worker_cpu: float  # CPU seconds of all the workers
    database_cpu: float  # CPU seconds of the database server's processes over the run


def run_workers(count: int, data_dir: Path, url: str) -> Run:
    """The workers' run: how long, how many jobs each, and the CPU it took (theirs and the machine's)."""
    procs = [subprocess.Popen([sys.executable, __file__, "work", str(data_dir), url], cwd=h.ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a worker did not start (exit {proc.wait()})")
        started, database = time.perf_counter(), database_cpu()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.stdout.readline() for proc in procs if proc.stdout is not None]
        elapsed = time.perf_counter() - started
        database = database_cpu() - database  # the workers' server processes end with their connections
        for proc in procs:
            proc.communicate("exit\n", timeout=600)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if any(proc.returncode for proc in procs):
        raise RuntimeError(f"a worker failed: exit codes {[proc.returncode for proc in procs]}")
    said = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    return Run(elapsed, [x["jobs"] for x in said], sum(x["cpu"] for x in said), database)


# --- the world ----------------------------------------------------------------------------------

class Bench:
    def __init__(self, data_dir: Path, url: str, cases: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from world import World
        from support import make_services

        import shuttle.models  # noqa: F401  (registers every table)
        from shuttle.config import Settings
        from shuttle.db import Base, Database

        settings = Settings.from_env(env_for(data_dir, url))
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = Database(settings.database_url)
        Base.metadata.create_all(db.engine)
        self.svc = make_services(db, settings)
        self.world = World(self.svc)
        first, people = self.world.case()
        self.cases = [(first, people.harmed)] + [
            (self.world.case(people=people)[0], people.harmed) for _ in range(cases - 1)]

    def submit_letters(self, n: int) -> list[str]:
        """N letters written and submitted through the use cases, spread over the cases."""
        from shuttle.messages import authoring

        ids = []
        for i in range(n):
            case_id, author = self.cases[i % len(self.cases)]
            text_ = (f"Dear Sam,\n\nletter {i}: I have thought about what happened. "
                     f"You can reach me on 07700 900{i % 1000:03d}.")
            draft = self.world.do(authoring.start_draft, author, case_id, text_)
            self.world.do(authoring.submit, author, draft.id)
            ids.append(str(draft.id))
        return ids

    def check(self, message_ids: list[str]) -> dict[str, int]:
        """Lost and twice-processed letters among `message_ids`, from the jobs table and the audit log."""
        from shuttle.audit.models import AuditEvent
        from shuttle.jobs.models import Job
        from shuttle.messages.models import Message

        wanted = set(message_ids)
        with self.svc.db.uow() as uow:
            s = uow.session
            rows = s.execute(select(Message.id, Message.state, Job.state, Job.attempts)
                             .join(Job, Job.id == Message.processing_job_id)
                             .where(Message.id.in_(message_ids))).all()
            events = Counter(s.execute(
                select(AuditEvent.subject_id, AuditEvent.action)
                .where(AuditEvent.action.in_(["message.processed", "message.start_processing"]),
                       AuditEvent.subject_id.in_(message_ids))).all())
        seen = {row[0] for row in rows}
        lost = len(wanted - seen) + sum(1 for _, m_state, j_state, _ in rows
                                        if j_state != "done" or m_state != "awaiting_review")
        ran_again = sum(1 for *_, attempts in rows if attempts != 1)
        twice = {mid for (mid, _action), n in events.items() if n > 1}
        return {"lost": lost, "twice": len(twice), "attempts>1": ran_again}

    def verify_chain(self) -> tuple[bool, int]:
        from shuttle.audit import log as audit

        with self.svc.db.uow() as uow:
            result = audit.verify(uow.session)
        return result.ok, result.checked

    def jobs_waiting(self) -> int:
        from shuttle.jobs.models import Job

        with self.svc.db.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(Job)
                                          .where(Job.state.in_(["queued", "running"]))) or 0)

    def close(self) -> None:
        self.svc.db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=2000, help="letters per run (2000)")
    parser.add_argument("--cases", type=int, default=20, help="cases the letters are spread over (20)")
    parser.add_argument("--pg", default=ADMIN_URL, help=f"PostgreSQL server's admin URL ({ADMIN_URL})")
    args = parser.parse_args()

    name = f"shuttle_bench_workers_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{args.pg.rsplit('/', 1)[0]}/{name}"
    work = Path(tempfile.mkdtemp(prefix="shuttle-bench-workers-"))
    failed = False
    try:
        bench = Bench(work / "data", url, args.cases)
        print(f"database {name} on {args.pg.rsplit('@', 1)[-1].rsplit('/', 1)[0]}; "
              f"{args.letters} letters per run over {args.cases} cases")
        print(f"machine before: {h.machine()}")
        rates: dict[int, float] = {}
        busy: dict[int, float] = {}
        for count in (1, 2):
            started = time.perf_counter()
            ids = bench.submit_letters(args.letters)
            queued = bench.jobs_waiting()
            print(f"  {count} worker{'s' if count > 1 else ''}: {len(ids)} letters submitted in "
                  f"{time.perf_counter() - started:.1f} s ({queued} jobs queued); load {os.getloadavg()[0]:.2f}")
            run = run_workers(count, work / "data", url)
            found = bench.check(ids)
            rates[count] = sum(run.jobs) / run.seconds
            busy[count] = (run.worker_cpu + run.database_cpu) / run.seconds
            print(f"  {count} worker{'s' if count > 1 else ''}: {sum(run.jobs)} jobs in {run.seconds:.2f} s = "
                  f"{rates[count]:.1f} jobs/s (per worker {run.jobs}); lost {found['lost']}, "
                  f"processed twice {found['twice']}, jobs run more than once {found['attempts>1']}; "
                  f"load {os.getloadavg()[0]:.2f}")
            print(f"    CPU: the workers {run.worker_cpu / run.seconds:.2f} cores, the database server "
                  f"{run.database_cpu / run.seconds:.2f} cores, of {os.cpu_count()}")
            failed = failed or found["lost"] > 0 or found["twice"] > 0 or found["attempts>1"] > 0
        ok, checked = bench.verify_chain()
        print(f"audit chain: {'verifies' if ok else 'BROKEN'} ({checked} events)")
        failed = failed or not ok
        bench.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    print(f"machine after: {h.machine()}")
    ratio = rates[2] / rates[1]
    print(f"ratio 2 workers / 1 worker: {ratio:.2f} (target ≥ {RATIO_TARGET}) {h.verdict(ratio >= RATIO_TARGET)}")
    ceiling = (os.cpu_count() or 1) / busy[1]
    print(f"  one worker's run kept {busy[1]:.2f} of {os.cpu_count()} CPUs busy (the worker and the database "
          f"server): with no other load, two can be at most {ceiling:.2f}× one on this machine")
    print(f"lost and processed twice: {'none' if not failed else 'SOME (see above)'} "
          f"{h.verdict(not failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "work":
        _work(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
