"""Stall benchmark (issue 14, target 4): does the in-process worker's periodic tick stall requests?

    python bench/stalls.py [--messages 100000] [--seconds 40] [--rate 50] [--postgres]

A service seeded by bench/seed.py (SQLite, the embedded default; `--postgres` for a throwaway
PostgreSQL database) is served twice by uvicorn, one after the other: with `--no-worker` (no
worker, no tick), then with the in-process worker and its tick running (every 15 s). Every
queued message is made overdue for review first (its waiting time moved 10 days back), so the
tick has real work: escalating thousands of reviews (at 100k messages, 6,000).

During `--seconds` (long enough for two ticks) a client sends `GET /api/v1/me` signed in on a
fixed schedule (`--rate` per second, whether or not earlier answers came: a stalled server
makes requests queue, and each latency counts from its scheduled time, so a stall is seen in
full). Target: p99 with the worker ≤ 10× p99 without. A measurement: it exits 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

import seed as s

TARGET = 10.0
SLOW_MS = 100.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


async def fixed_schedule(port: int, path: str, cookie: str, *, rate: float, seconds: float) -> list[float]:
    """Latencies (s) of GETs sent at `rate` per second for `seconds`, each from its scheduled time."""
    idle: list[s.Connection] = []
    latencies: list[float] = []
    failures: list[str] = []

    async def one(scheduled: float) -> None:
        conn = idle.pop() if idle else await s.Connection.open(port)
        status, _ = await conn.get(conn.request(path, cookie))
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            failures.append(f"GET {path} answered {status}")
        idle.append(conn)

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()
    if failures:
        raise RuntimeError(failures[0])
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ms = [value * 1000 for value in latencies]
    return {"p50": s.percentile(ms, 0.5), "p99": s.percentile(ms, 0.99), "max": max(ms),
            "slow": sum(value > SLOW_MS for value in ms) / len(ms) * 100}


def make_reviews_overdue(seeded: s.Seeded) -> int:
    """Every message waiting for review has waited 10 days (the tick must escalate them all)."""
    from sqlalchemy import update

    from shuttle.messages.models import Message
    from shuttle.messages.states import WAITING_ON_STAFF

    with seeded.svc.db.uow() as uow:
        result = uow.session.execute(update(Message).where(Message.state.in_([w.value for w in WAITING_ON_STAFF]))
                                     .values(waiting_since=seeded.svc.now() - timedelta(days=10)))
        uow.commit()
    return int(result.rowcount)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=40.0, help="per server (the tick runs every 15 s)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second, on a fixed schedule")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    kind = "postgres" if args.postgres else "sqlite"
    with s.database(kind) as (work, url):
        seeded = s.seed(s.services(work / "service", url), messages=args.messages)
        overdue = make_reviews_overdue(seeded)
        staff, password = seeded.username(seeded.people.facilitator), seeded.password
        seeded.close()
        print(f"{kind}: seeded {seeded.cases} cases, {seeded.messages} messages, {seeded.audit_events} audit events "
              f"in {seeded.seconds:.0f} s; {overdue} messages waiting for review made overdue")
        found = {}
        for server_kind, label in (("service", "--no-worker"), ("service-worker", "with worker")):
            with s.Server(server_kind, Path(work) / "service", url) as server:
                cookie = s.sign_in(server.base, staff, password)
                print(f"  {label}: {args.rate:.0f} requests/s for {args.seconds:.0f} s ({s.machine()})")
                latencies = asyncio.run(fixed_schedule(server.port, "/api/v1/me", cookie, rate=args.rate,
                                                       seconds=args.seconds))
            found[label] = summary(latencies)
            figures = found[label]
            print(f"  {label}: p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.0f} ms, "
                  f"{figures['slow']:.1f}% over {SLOW_MS:.0f} ms ({len(latencies)} requests)")
        if url is None:
            left = _still_overdue(work / "service")
            print(f"  reviews still waiting to be escalated after the run with the worker: {left}")
    ratio = found["with worker"]["p99"] / found["--no-worker"]["p99"]
    print(f"machine after: {s.machine()}")
    print(f"{kind}: p99 with the worker {ratio:.1f}× p99 without (target ≤ {TARGET:.0f}×) {verdict(ratio <= TARGET)}")
    return 0


def _still_overdue(data_dir: Path) -> int:
    from sqlalchemy import create_engine, func, select

    from shuttle.messages.models import Message
    from shuttle.messages.states import WAITING_ON_STAFF

    engine = create_engine(f"sqlite:///{data_dir / 'shuttle.db'}")
    with engine.connect() as conn:
        left = conn.scalar(select(func.count()).select_from(Message).where(
            Message.state.in_([w.value for w in WAITING_ON_STAFF]), Message.escalated_at.is_(None))) or 0
    engine.dispose()
    return int(left)


if __name__ == "__main__":
    sys.exit(main())
