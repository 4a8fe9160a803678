"""Load: participants autosaving drafts with no pause while a facilitator reloads the queue page.

    python bench/load.py [--db sqlite|postgres|both] [--seconds 20] [--participants 40] [--processes N]

For each database, a fresh one (a SQLite file in a temporary folder; a new PostgreSQL database on
127.0.0.1:5432, user postgres, dropped afterwards) is upgraded to the code's schema and given one
facilitator and `--participants` cases, each with its principal, a letter waiting in the review
queue and a draft. A real `shuttle serve --processes N` (uvicorn, as deployed: N processes sharing the
port, one per core by default; its embedded worker as `shuttle serve` decides) then takes, for
`--seconds`:

- every participant saving their draft in a loop (PUT /api/v1/messages/{id}/draft with the
  version the last save answered), the next save as soon as the last one answered;
- the facilitator loading the queue page (GET /staff) in a loop.

It prints p50/p99/max of draft saves and of queue loads, the error counts (any answer but 200),
the lost writes (after the run every draft is read back through the API: the text stored must be
the last text whose save was acknowledged), the load average before and after, and PASS or FAIL
against p99 < 500 ms for both. The machine's other load shows in the load average: read the
figures with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from shuttle import schema
from shuttle.accounts.passwords import PasswordPolicy
from shuttle.bootstrap import build_services
from shuttle.cases import service as cases
from shuttle.config import Settings
from shuttle.messages import authoring
from shuttle.services import Actor, Services

PG_ADMIN_URL = os.environ.get("SHUTTLE_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "a quiet walk by the river"
TARGET_P99_MS = 500.0
#: A letter of a realistic size (about 2 KB), different at every save.
FILLER = ("I have thought about what happened that evening and what I would like you to know. " * 24)[:2000]


# --- the data ------------------------------------------------------------------------------------


@dataclass
class Setup:
    facilitator: str  # username
    participants: list[tuple[str, str]]  # (username, draft message id)


def _do(svc: Services, use_case, *args, **kwargs):  # type: ignore[no-untyped-def]
    with svc.db.uow() as uow:
        result = use_case(uow.session, svc, *args, **kwargs)
        uow.commit()
        return result


def _account(svc: Services, username: str, role: str) -> Actor:
    from shuttle.accounts import service as accounts

    with svc.db.uow() as uow:
        account, _ = accounts.create_account(uow.session, svc.settings, username=username, role=role,
                                             display_name=username.title(), password=PASSWORD, with_totp=False,
                                             passwords=svc.passwords, now=svc.now())
        uow.commit()
        return Actor(account.id, role)


def populate(svc: Services, participants: int) -> Setup:
    """One facilitator; per participant a case of their own, opened, with a sent letter waiting for
    review (processed by a worker here, before the server starts) and a draft to autosave."""
    from workers.handlers import build_worker

    staff = _account(svc, "fiona", "facilitator")
    people: list[tuple[str, str]] = []
    for n in range(1, participants + 1):
        person = _account(svc, f"person{n}", "participant")
        with svc.db.uow() as uow:
            case = cases.create_case(uow.session, staff, reference=f"RJ-2026-{n:04d}",
                                     facilitators=[staff.account_id or ""], now=svc.now())
            uow.commit()
            case_id = case.id
        participant = _do(svc, cases.add_participant, staff, case_id, account_id=person.account_id, side="harmed")
        for kind in ("take_part", "receive_messages"):
            _do(svc, cases.record_consent, staff, case_id, participant.id, kind=kind, granted=True)
        _do(svc, cases.record_assessment, staff, case_id, participant.id, outcome="suitable")
        _do(svc, cases.set_status, staff, case_id, "open")
        sent = _do(svc, authoring.start_draft, person, case_id, f"Dear Sam, letter {n}. {FILLER}")
        _do(svc, authoring.submit, person, sent.id)
        draft = _do(svc, authoring.start_draft, person, case_id, "Dear Sam,")
        people.append((f"person{n}", draft.id))
    worker = build_worker(svc, worker_id="bench-setup")
    while worker.run_once():
        pass
    return Setup("fiona", people)


# --- the server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU the server has used so far: the process and every process of its group
    (`serve --processes N` forks N; Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[2]) == pid:  # its process group (the server was started in a session of its own)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(env: dict[str, str], processes: int = 1) -> Iterator[tuple[str, int]]:
    """`shuttle serve` in a process of its own (its own group, stopped at the end); its base URL and pid."""
    port = _free_port()
    command = [sys.executable, "-m", "shuttle.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--processes", str(processes)]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"shuttle serve ended: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("shuttle serve did not answer within 60 s")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the load --------------------------------------------------------------------------------------


@dataclass
class Tally:
    saves: list[float] = field(default_factory=list)  # seconds
    queue: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: dict[str, str] = field(default_factory=dict)  # message id -> last text whose save answered 200

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _signed_in(base: str, username: str) -> httpx.AsyncClient:
    # idle connections dropped before uvicorn's 5 s keep-alive ends them: signing 40 people in takes
    # longer than that, and a GET on a connection the server had just closed was a RemoteProtocolError
    client = httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(keepalive_expiry=2))
    answer = await client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    if answer.json().get("stage") != "done" and "csrf_token" not in answer.json():
        raise RuntimeError(f"{username} could not sign in: {answer.text}")
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


async def _author(client: httpx.AsyncClient, message_id: str, n: int, until: float, tally: Tally) -> None:
    version = (await client.get(f"/api/v1/messages/{message_id}")).json()["version"]
    count = 0
    while time.monotonic() < until:
        count += 1
        text = f"Dear Sam, save {count} of person {n}. {FILLER}"
        started = time.perf_counter()
        try:
            answer = await client.put(f"/api/v1/messages/{message_id}/draft", json={"text": text, "version": version})
        except httpx.HTTPError as exc:
            tally.error(f"save {type(exc).__name__}")
            continue
        tally.saves.append(time.perf_counter() - started)
        if answer.status_code != 200:
            tally.error(f"save {answer.status_code}")
            version = (await client.get(f"/api/v1/messages/{message_id}")).json()["version"]
            continue
        version = answer.json()["version"]
        tally.acknowledged[message_id] = text


async def _facilitator(client: httpx.AsyncClient, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            answer = await client.get("/staff")
        except httpx.HTTPError as exc:
            tally.error(f"queue {type(exc).__name__}")
            continue
        tally.queue.append(time.perf_counter() - started)
        if answer.status_code != 200 or "RJ-2026-0001" not in answer.text:
            tally.error(f"queue {answer.status_code}")


async def run_load(base: str, setup: Setup, seconds: float) -> tuple[Tally, int]:
    tally = Tally()
    authors = [await _signed_in(base, username) for username, _ in setup.participants]
    staff = await _signed_in(base, setup.facilitator)
    until = time.monotonic() + seconds
    pairs = list(zip(authors, [message_id for _, message_id in setup.participants], strict=True))
    await asyncio.gather(_facilitator(staff, until, tally),
                         *(_author(client, mid, n, until, tally) for n, (client, mid) in enumerate(pairs)))
    lost = 0
    for client, (_, message_id) in zip(authors, setup.participants, strict=True):
        stored = (await client.get(f"/api/v1/messages/{message_id}/draft")).json()["text"]
        if message_id in tally.acknowledged and stored != tally.acknowledged[message_id]:
            lost += 1
    for client in [*authors, staff]:
        await client.aclose()
    return tally, lost


# --- one database ----------------------------------------------------------------------------------


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database's URL: a SQLite file in `folder`, or a new PostgreSQL database (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'shuttle.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"shuttle_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(kind: str, seconds: float, participants: int, processes: int = 1) -> bool:
    with tempfile.TemporaryDirectory(prefix="shuttle-load-") as tmp, database(kind, Path(tmp)) as url:
        folder = Path(tmp)
        env = {"SHUTTLE_DATA_DIR": str(folder), "SHUTTLE_DATABASE_URL": url,
               "SHUTTLE_SECRET_KEY": "load-" + "k" * 40,
               "SHUTTLE_LOGIN_ATTEMPTS": "1000", "SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS": "100000"}
        svc = build_services(Settings.from_env(env))
        svc.passwords = PasswordPolicy.for_tests()  # quick to set up; the load never checks a password
        schema.upgrade(svc.db)
        setup = populate(svc, participants)
        svc.db.dispose()
        with serving(env, processes) as (base, pid):
            before, cpu = os.getloadavg(), cpu_seconds(pid)
            tally, lost = asyncio.run(run_load(base, setup, seconds))
            after, cpu = os.getloadavg(), cpu_seconds(pid) - cpu
    save_p99, queue_p99 = _ms(tally.saves, 0.99), _ms(tally.queue, 0.99)
    ok = save_p99 < TARGET_P99_MS and queue_p99 < TARGET_P99_MS and not tally.errors and lost == 0
    print(f"{kind}: {participants} participants saving drafts, 1 facilitator loading /staff, {seconds:g} s")
    print(f"  draft saves : {len(tally.saves):6d}  p50 {_ms(tally.saves, 0.5):7.1f} ms  p99 {save_p99:7.1f} ms  "
          f"max {_ms(tally.saves, 1.0):7.1f} ms  ({len(tally.saves) / seconds:.0f}/s)")
    print(f"  queue loads : {len(tally.queue):6d}  p50 {_ms(tally.queue, 0.5):7.1f} ms  p99 {queue_p99:7.1f} ms  "
          f"max {_ms(tally.queue, 1.0):7.1f} ms")
    requests = len(tally.saves) + len(tally.queue)
    print(f"  server CPU  : {cpu:.1f} s in {seconds:g} s, for {requests} requests and the read-back "
          f"({1000 * cpu / max(requests, 1):.1f} ms a request; server processes: {processes})")
    print(f"  errors      : {sum(tally.errors.values())} {tally.errors or ''}")
    print(f"  lost writes : {lost} of {len(tally.acknowledged)} drafts read back")
    print(f"  load average: {before[0]:.2f} before, {after[0]:.2f} after (1 min; {os.cpu_count()} CPUs)")
    print(f"  {'PASS' if ok else 'FAIL'} (p99 < {TARGET_P99_MS:.0f} ms for both, no error, no lost write)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="shuttle serve --processes (default: one per core)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [measure(kind, args.seconds, args.participants, args.processes) for kind in kinds]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
