"""Request throughput benchmark (issue 14, target 3): the trivial signed-in route and a JSON list
against a bare Starlette hello-world on the same uvicorn settings, in the same run.

    python bench/requests.py [--messages 2000] [--seconds 3] [--rounds 3] [--connections 4] [--only sqlite]

For SQLite and then PostgreSQL (a throwaway database on 127.0.0.1:5432, dropped at the end): a
service seeded by bench/seed.py (a facilitator's case of 50 messages among the rest), served by
uvicorn in a subprocess, and a hello-world served the same way. Each round measures, one after
the other, requests per second at `--connections` kept-alive connections for `--seconds` each:

- hello-world `GET /hello`
- `GET /api/v1/me` signed in (the trivial signed-in route): target ≥ 0.4× hello-world
- `GET /api/v1/cases/{id}/messages` signed in (a JSON list of 50 messages): target ≥ 0.2×

Medians over the rounds are compared. A measurement, not a gate: it exits 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

import seed as s

ME_TARGET = 0.4
LIST_TARGET = 0.2


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure(kind: str, args: argparse.Namespace) -> dict[str, float]:
    with s.database(kind) as (work, url):
        seeded = s.seed(s.services(work / "service", url), messages=args.messages)
        case_id, staff = seeded.case_id, seeded.username(seeded.people.facilitator)
        password = seeded.password
        seeded.close()
        print(f"{kind}: seeded {seeded.cases} cases, {seeded.messages} messages in {seeded.seconds:.0f} s")
        (work / "hello").mkdir()
        with s.Server("service", work / "service", url) as service, s.Server("hello", work / "hello") as hello:
            cookie = s.sign_in(service.base, staff, password)
            targets = {
                "hello-world": (hello.port, "/hello", None),
                "/api/v1/me": (service.port, "/api/v1/me", cookie),
                "JSON list": (service.port, f"/api/v1/cases/{case_id}/messages", cookie),
            }
            for port, path, session in targets.values():  # warm up
                asyncio.run(s.closed_loop(port, path, session, connections=args.connections, seconds=0.5))
            rates: dict[str, list[float]] = {name: [] for name in targets}
            for n in range(args.rounds):
                for name, (port, path, session) in targets.items():
                    rate = asyncio.run(s.closed_loop(port, path, session, connections=args.connections,
                                                     seconds=args.seconds))
                    rates[name].append(rate)
                    print(f"  round {n + 1} {name:12s} {rate:8.0f} requests/s")
    medians = {name: statistics.median(values) for name, values in rates.items()}
    me, listing = medians["/api/v1/me"] / medians["hello-world"], medians["JSON list"] / medians["hello-world"]
    print(f"{kind}: hello-world {medians['hello-world']:.0f}/s, /api/v1/me {medians['/api/v1/me']:.0f}/s, "
          f"JSON list {medians['JSON list']:.0f}/s (medians; {s.machine()})")
    print(f"{kind}: trivial signed-in route {me:.2f}× hello-world (target ≥ {ME_TARGET}) {verdict(me >= ME_TARGET)}")
    print(f"{kind}: JSON list of 50 messages {listing:.3f}× hello-world (target ≥ {LIST_TARGET}) "
          f"{verdict(listing >= LIST_TARGET)}")
    return {"me": me, "list": listing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages seeded (50 per case)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args()
    print(f"machine: {s.machine()}; {args.connections} connections, {args.rounds} rounds of {args.seconds:.0f} s")
    results = {kind: measure(kind, args) for kind in ("sqlite", "postgres") if args.only in (None, kind)}
    print(f"machine after: {s.machine()}")
    for kind, found in results.items():
        print(f"{kind}: /api/v1/me {found['me']:.2f}× {verdict(found['me'] >= ME_TARGET)}, "
              f"JSON list {found['list']:.3f}× {verdict(found['list'] >= LIST_TARGET)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
