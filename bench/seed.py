"""Bulk seeding for the benchmarks: a service with N messages in N / 50 cases, fast.

    python bench/seed.py [--messages 10000] [--postgres]   (seeds a throwaway database, prints counts)

One *unit* is made through the real use cases (tests/world.py): a case prepared by a
facilitator, its four participants, and `per_case` letters in the states a running case has
(most approved and released, a few awaiting review, a few drafts), with everything the use
cases write along the way (versions, approvals, deliveries, jobs, audit events). Then the unit's
rows are copied table by table with bulk inserts until there are N messages: every id is
replaced by a fresh one per copy (so copies are separate cases with their own people), unique
words (usernames, case references) get a suffix, unique digests a fresh random value, audit
events new sequence numbers. Stored objects are shared (a blob's id is its object's name), so
copies decrypt like the original. The first `staff_cases` copies keep the unit's facilitator,
who therefore has that many cases and queued items; every other copy has its own staff.

Global rows (sign-in sessions and failures, case counters, organisations, enrolments, blobs,
unfinished jobs) are not copied. The audit chain's hashes of the copies are not a valid chain:
`audit verify` would say so; nothing the benchmarks measure reads them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT), str(ROOT / "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from sqlalchemy import (  # noqa: E402
    Integer,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    func,
    insert,
    select,
    text,
)

POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + "k" * 40
#: Tables whose rows are the service's, not a case's: never copied (their ids are kept).
GLOBAL_TABLES = {"auth_sessions", "login_failures", "case_counters", "organisations", "staff_enrolments",
                 "account_invitations", "blobs", "referral_sends"}
#: Rows copied per INSERT statement (executemany).
BATCH = 5000


def env_for(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The settings the seeding (here) and a served service (a subprocess) both read."""
    env = {"SHUTTLE_DATA_DIR": str(data_dir), "SHUTTLE_SECRET_KEY": SECRET, "SHUTTLE_IN_PROCESS_WORKER": "0"}
    if database_url:
        env["SHUTTLE_DATABASE_URL"] = database_url
    return env


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new database on the local PostgreSQL for as long as the block lasts; its URL."""
    name = f"shuttle_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database(kind: str) -> Iterator[tuple[Path, str | None]]:
    """A data folder and (for "postgres") a throwaway database URL; both gone afterwards."""
    import shutil

    work = Path(tempfile.mkdtemp(prefix=f"shuttle-bench-{kind}-"))
    try:
        if kind == "postgres":
            with throwaway_postgres() as url:
                yield work, url
        else:
            yield work, None
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Seeded:
    """What was made, and who to sign in as."""

    svc: Any
    world: Any
    case_id: str  # the unit's case (the bench facilitator's, with `per_case` messages)
    people: Any
    cases: int
    messages: int
    audit_events: int
    seconds: float

    def username(self, actor: Any) -> str:
        name: str = self.world.username(actor)
        return name

    @property
    def password(self) -> str:
        password: str = self.world.PASSWORD
        return password

    def close(self) -> None:
        self.svc.db.dispose()


def services(data_dir: Path, database_url: str | None) -> Any:
    """The services on a new schema (create_all, as the tests make it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from support import make_services

    import shuttle.models  # noqa: F401  (registers every table)
    from shuttle.config import Settings
    from shuttle.db import Base, Database

    settings = Settings.from_env(env_for(data_dir, database_url))
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = Database(settings.database_url)
    Base.metadata.create_all(db.engine)
    return make_services(db, settings)


def make_unit(world: Any, *, per_case: int, queued: int, drafts: int) -> tuple[str, Any]:
    """One case through the use cases: `per_case` letters, `queued` awaiting review, `drafts` unsent."""
    from shuttle.messages import authoring

    case_id, people = world.case()
    released = per_case - queued - drafts
    for n in range(released):
        world.approved_letter(people, case_id, f"Letter {n}: I have thought about what happened, and about you.")
    for n in range(queued):
        writer = people.harmed if n % 2 == 0 else people.responsible
        message = world.do(authoring.start_draft, writer, case_id, f"Waiting {n}: please read this when you can.")
        world.do(authoring.submit, writer, message.id)
    world.run_jobs(limit=10 * per_case)
    for n in range(drafts):
        world.do(authoring.start_draft, people.harmed, case_id, f"Draft {n}: not finished yet.")
    return case_id, people


def _unique_columns(table: Table) -> set[str]:
    names: set[str] = set()
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1:
            names |= {column.name for column in constraint.columns}
    for index in table.indexes:
        if index.unique and len(index.columns) == 1:
            names |= {column.name for column in index.columns}
    names |= {column.name for column in table.columns if column.unique}
    return names


def copy_unit(svc: Any, copies: int, *, keep_ids: set[str], keep_for: int) -> None:
    """The database's rows (a unit), copied `copies` times with fresh ids (see the module doc).
    `keep_ids` (the unit's facilitator) stay the same in the first `keep_for` copies."""
    from shuttle.db import Base

    engine = svc.db.engine
    tables = [t for t in Base.metadata.sorted_tables if t.name not in GLOBAL_TABLES]
    with engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in tables}
        top_seq = conn.scalar(select(func.max(Base.metadata.tables["audit_events"].c.seq))) or 0
    rows["jobs"] = [r for r in rows.get("jobs", []) if r.get("state") in {"done", "dead"}]
    ids: set[str] = set()  # every string primary key of a copied row
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, String) and not pk[0].foreign_keys:
            ids |= {r[pk[0].name] for r in rows[table.name]}
    plans = []
    for table in tables:
        pk = list(table.primary_key.columns)
        drop = {pk[0].name} if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement is True \
            and table.name != "audit_events" else set()
        plans.append((table, drop, _unique_columns(table) - {c.name for c in pk}))
    pk_names = {t.name: (list(t.primary_key.columns)[0].name if len(t.primary_key.columns) == 1 else None)
                for t in tables}
    seq = top_seq
    for start in range(1, copies + 1, 50):  # one transaction per 50 copies
        with engine.begin() as conn:
            for copy in range(start, min(start + 50, copies + 1)):
                mapping = {i: uuid.uuid4().hex for i in ids}
                if copy < keep_for:
                    mapping.update({i: i for i in keep_ids})
                for table, drop, unique in plans:
                    out = []
                    key_name = pk_names[table.name]
                    for row in rows[table.name]:
                        if key_name is not None and copy < keep_for and row[key_name] in keep_ids:
                            continue  # a kept row (the unit's facilitator) exists once
                        new = {}
                        for key, value in row.items():
                            if key in drop:
                                continue
                            if isinstance(value, str):
                                if value in mapping:
                                    value = mapping[value]
                                elif key in unique:
                                    value = secrets.token_hex(len(value) // 2) if key.endswith("hash") \
                                        else f"{value}-{copy}"
                            new[key] = value
                        if table.name == "audit_events":
                            seq += 1
                            new["seq"] = seq
                        out.append(new)
                    for at in range(0, len(out), BATCH):
                        conn.execute(insert(table), out[at : at + BATCH])


def seed(svc: Any, *, messages: int, per_case: int = 50, staff_cases: int = 12, queued: int = 3,
         drafts: int = 2) -> Seeded:
    """A unit through the use cases, copied until there are about `messages` messages."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from world import World

    from shuttle.audit.models import AuditEvent
    from shuttle.cases.models import Case
    from shuttle.messages.models import Message

    started = time.perf_counter()
    world = World(svc)
    case_id, people = make_unit(world, per_case=per_case, queued=queued, drafts=drafts)
    copies = max(0, round(messages / per_case) - 1)
    keep = {a.account_id for a in (people.facilitator,) if a.account_id}
    copy_unit(svc, copies, keep_ids=keep, keep_for=staff_cases)
    with svc.db.engine.connect() as conn:  # statistics, as after any bulk load
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
        counts = [conn.scalar(select(func.count()).select_from(m)) or 0 for m in (Case, Message, AuditEvent)]
    return Seeded(svc, world, case_id, people, counts[0], counts[1], counts[2], time.perf_counter() - started)


# --- servers: the service (with or without its in-process worker) and a bare hello-world --------------


def hello_app() -> Any:
    """The baseline: a bare Starlette app answering a small JSON object."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def hello(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/healthz", hello), Route("/hello", hello)])


def _serve(kind: str, data_dir: str, port: str, database_url: str = "") -> None:
    """In the server subprocess: `service`, `service-worker` (in-process worker and tick) or `hello`."""
    import uvicorn

    if kind == "hello":
        app = hello_app()
    else:
        from shuttle.bootstrap import build_services
        from shuttle.config import Settings
        from shuttle.web.app import build_app

        svc = build_services(Settings.from_env(env_for(Path(data_dir), database_url or None)))
        app = build_app(svc, run_worker=kind == "service-worker", check_schema=False)  # create_all, not migrations
    from shuttle import heap

    class Server(uvicorn.Server):  # as `shuttle serve` does: the heap settled once serving
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if kind != "hello":
                heap.settle()

    Server(uvicorn.Config(app, host="127.0.0.1", port=int(port), log_level="warning", lifespan="on",
                          server_header=False, access_log=False,
                          timeout_keep_alive=600)).run()  # a client's idle connections stay usable


class Server:
    """A server subprocess on a free loopback port (the same uvicorn settings for every kind)."""

    def __init__(self, kind: str, data_dir: Path, database_url: str | None = None) -> None:
        import socket
        import subprocess

        import httpx

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, __file__, "serve", kind, str(data_dir), str(self.port),
                                         database_url or ""], cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {kind} server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the {kind} server did not start")

    def stop(self) -> None:
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sign_in(base: str, username: str, password: str) -> str:
    """A session cookie for `username` (signed in through the API)."""
    import httpx

    answer = httpx.post(f"{base}/api/v1/session", json={"username": username, "password": password}, timeout=30)
    answer.raise_for_status()
    return str(answer.cookies["shuttle_session"])


# --- a light HTTP/1.1 client: keep-alive connections on asyncio, so the client costs little -----------


class Connection:
    """One kept-alive connection sending GETs with a cookie; answers read by Content-Length."""

    def __init__(self, reader: Any, writer: Any, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, port: int) -> Connection:
        import asyncio

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, f"127.0.0.1:{port}")

    def request(self, path: str, cookie: str | None, accept: str = "application/json") -> bytes:
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}", f"Accept: {accept}"]
        if cookie:
            lines.append(f"Cookie: shuttle_session={cookie}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def get(self, raw_request: bytes) -> tuple[int, int]:
        """(status, body length) of one GET sent as `raw_request` (from `request`)."""
        self.writer.write(raw_request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
                break
        else:
            raise RuntimeError("an answer without Content-Length (this client reads only those)")
        await self.reader.readexactly(length)
        return status, length

    def close(self) -> None:
        self.writer.close()


async def closed_loop(port: int, path: str, cookie: str | None, *, connections: int, seconds: float) -> float:
    """Requests per second with `connections` clients each sending the next request when the last
    one is answered, for `seconds`. Any answer but 200 is an error."""
    import asyncio

    conns = [await Connection.open(port) for _ in range(connections)]
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(conn: Connection) -> None:
        nonlocal done
        raw = conn.request(path, cookie)
        while time.perf_counter() < deadline:
            status, _ = await conn.get(raw)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(conn) for conn in conns))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return done / elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def machine() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="seed a throwaway PostgreSQL database")
    args = parser.parse_args()
    with database("postgres" if args.postgres else "sqlite") as (work, url):
        seeded = seed(services(work, url), messages=args.messages)
        print(f"seeded {seeded.cases} cases, {seeded.messages} messages, {seeded.audit_events} audit events "
              f"in {seeded.seconds:.1f} s on {seeded.svc.db.dialect} ({machine()})")
        seeded.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "serve":
        _serve(*sys.argv[2:])
    else:
        sys.exit(main())
