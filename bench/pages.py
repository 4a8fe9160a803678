"""Page latency benchmark (issue 14, targets 2 and 5): the facilitator's dashboard/queue and a case
page at 100k messages, on SQLite and PostgreSQL.

    python bench/pages.py [--messages 100000] [--requests 200] [--only sqlite]

For each database: a service seeded by bench/seed.py (2,000 cases at 100k messages; the signed-in
facilitator has 12 of them, with 36 messages waiting for review; the case shown has 50 messages),
served by uvicorn in a subprocess (no worker). Printed per page:

- statements per page, counted in this process on the same database (the app built the same way),
  and the CPU time a page costs there (all threads; a figure the machine's load sways less);
- p50/p99 over `--requests` sequential GETs (pages interleaved, one kept-alive connection);
- for the dashboard's queries that read `messages` by state, the plan (`EXPLAIN QUERY PLAN` on
  SQLite, `EXPLAIN` on PostgreSQL) with the statement's own parameters: it should name an index;
- whether SQLite keeps statistics (sqlite_stat1 rows: ANALYZE after the bulk load, then
  `PRAGMA optimize`, which shuttle/db.py runs when connections open, hourly and at close).

Targets: p99 < 50 ms for both pages on both databases; PostgreSQL's p99 within 1.5× of SQLite's.
A measurement, not a gate: it exits 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import seed as s

P99_TARGET_MS = 50.0
PG_TARGET = 1.5
CPU_ROUNDS = 20


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def count_and_explain(svc: Any, username: str, password: str,
                      pages: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """Statements per page (one warm request each, in process), and the plans of the dashboard's
    statements that read messages by state."""
    import httpx
    from sqlalchemy import event

    from shuttle.web.app import build_app

    app = build_app(svc, check_schema=False)
    seen: list[tuple[str, Any]] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    async def run() -> dict[str, int]:
        counts = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            answer = await client.post("/api/v1/session", json={"username": username, "password": password})
            answer.raise_for_status()
            for name, path in pages.items():
                assert (await client.get(path)).status_code == 200, path  # warm
                seen.clear()
                event.listen(svc.db.engine, "before_cursor_execute", on_statement)
                try:
                    answer = await client.get(path)
                finally:
                    event.remove(svc.db.engine, "before_cursor_execute", on_statement)
                assert answer.status_code == 200, (path, answer.status_code)
                counts[name] = len([st for st, _ in seen if not st.lstrip().upper().startswith(("BEGIN", "PRAGMA"))])
                if name == "dashboard":
                    dashboard[:] = list(seen)
                used = time.process_time()  # CPU per page, all threads of this process: less swayed by load
                for _ in range(CPU_ROUNDS):
                    await client.get(path)
                cpu[name] = (time.process_time() - used) / CPU_ROUNDS
        return counts

    dashboard: list[tuple[str, Any]] = []
    cpu: dict[str, float] = {}
    counts = asyncio.run(run())
    for name, seconds in cpu.items():
        print(f"  {name}: {seconds * 1000:.1f} ms CPU per page in process (mean of {CPU_ROUNDS}; "
              f"{s.machine()})")
    plans = []
    sqlite = svc.db.dialect == "sqlite"
    with svc.db.engine.connect() as conn:
        for statement, parameters in dashboard:
            flat = " ".join(statement.split())
            if "FROM messages" not in flat or "state" not in flat.split("FROM messages", 1)[1]:
                continue
            rows = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters).all()
            plan = "\n      ".join(str(row[-1] if sqlite else row[0]) for row in rows)
            plans.append(f"    {flat[:160]}{'…' if len(flat) > 160 else ''}\n      {plan}")
        conn.rollback()
    return counts, plans


async def latencies(port: int, cookie: str, pages: dict[str, str], requests: int) -> dict[str, list[float]]:
    conn = await s.Connection.open(port)
    raws = {name: conn.request(path, cookie, accept="text/html") for name, path in pages.items()}
    times: dict[str, list[float]] = {name: [] for name in pages}
    for raw in raws.values():  # warm
        await conn.get(raw)
    for _ in range(requests):
        for name, raw in raws.items():
            started = time.perf_counter()
            status, _ = await conn.get(raw)
            times[name].append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{pages[name]} answered {status}")
    conn.close()
    return times


def statistics_kept(svc: Any) -> str:
    if svc.db.dialect != "sqlite":
        return "PostgreSQL: statistics by ANALYZE after the load and autovacuum"
    with svc.db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar()
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        conn.rollback()
    return f"SQLite: journal_mode={mode}, sqlite_stat1 has {rows} rows"


def measure(kind: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    with s.database(kind) as (work, url):
        seeded = s.seed(s.services(work / "service", url), messages=args.messages)
        staff, password = seeded.username(seeded.people.facilitator), seeded.password
        pages = {"dashboard": "/staff", "case page": f"/staff/cases/{seeded.case_id}"}
        print(f"{kind}: seeded {seeded.cases} cases, {seeded.messages} messages, {seeded.audit_events} audit events "
              f"in {seeded.seconds:.0f} s")
        counts, plans = count_and_explain(seeded.svc, staff, password, pages)
        print(f"  {statistics_kept(seeded.svc)}")
        print("  plans of the dashboard's statements that read messages by state:")
        print("\n".join(plans) if plans else "    (none found)")
        seeded.close()
        with s.Server("service", work / "service", url) as server:
            cookie = s.sign_in(server.base, staff, password)
            print(f"  timing {args.requests} requests per page ({s.machine()})")
            times = asyncio.run(latencies(server.port, cookie, pages, args.requests))
    result = {}
    for name, values in times.items():
        ms = [value * 1000 for value in values]
        p50, p99 = s.percentile(ms, 0.5), s.percentile(ms, 0.99)
        result[name] = {"p50": p50, "p99": p99, "statements": counts[name]}
        print(f"  {kind} {name:10s} {counts[name]:4d} statements  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms "
              f"(target < {P99_TARGET_MS:.0f}) {verdict(p99 < P99_TARGET_MS)}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args()
    print(f"machine: {s.machine()}")
    results = {kind: measure(kind, args) for kind in ("sqlite", "postgres") if args.only in (None, kind)}
    print(f"machine after: {s.machine()}")
    for kind, pages in results.items():
        for name, figures in pages.items():
            print(f"{kind} {name}: {figures['statements']:.0f} statements, p50 {figures['p50']:.1f} ms, "
                  f"p99 {figures['p99']:.1f} ms {verdict(figures['p99'] < P99_TARGET_MS)}")
    if len(results) == 2:
        for name in results["sqlite"]:
            ratio = results["postgres"][name]["p99"] / results["sqlite"][name]["p99"]
            print(f"{name}: PostgreSQL p99 {ratio:.2f}× SQLite's (target ≤ {PG_TARGET}) {verdict(ratio <= PG_TARGET)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
