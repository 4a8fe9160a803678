"""The `shuttle` command: serve, worker, db upgrade, users, audit verify, export, demo.

Every failure a person can cause ends in one plain sentence on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import getpass
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from shuttle import heap, logs, schema
from shuttle.accounts import service as accounts
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.bootstrap import build_services
from shuttle.config import ConfigError, Settings
from shuttle.errors import ShuttleError
from shuttle.services import Services


class CliError(Exception):
    """Shown as one line; exit status 1."""


def _services() -> Services:
    return build_services(Settings.from_env())


def _listen(args: argparse.Namespace, *, reuse_port: bool = False) -> socket.socket:
    """The server's socket, bound before anything else happens, so a taken port is one sentence.
    `reuse_port`: one of several processes' sockets on the port (the kernel spreads connections)."""
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart may reuse the port
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((args.host, args.port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"port {args.port} on {args.host} is already in use by another program; choose another "
                           f"with --port, for example: shuttle {args.command} --port {args.port + 1}") from None
        raise CliError(f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc}") from None
    return sock


def cmd_serve(args: argparse.Namespace, sock: socket.socket | None = None) -> None:
    processes = getattr(args, "processes", 1)
    if processes < 1:
        raise CliError("--processes is a whole number of at least 1 (one per core is usual)")
    with sock or _listen(args) as listening:  # not SO_REUSEPORT: it would bind beside another server's processes
        if processes == 1:
            _serve_one(listening, args, worker=not args.no_worker, label="")
        else:
            _serve_forked(listening, args, processes)


def _serve_one(listening: socket.socket, args: argparse.Namespace, *, worker: bool, label: str,
               shared: bool = False) -> None:
    """One server process: its own services (engines, pools, threads) and application. `shared`:
    one of several processes, whose SQLite writers take turns with the others'."""
    from shuttle.web.app import build_app

    settings = Settings.from_env()
    svc = build_services(dataclasses.replace(settings, sqlite_shared_writers=True) if shared else settings)
    run_worker = svc.settings.in_process_worker and worker
    app = build_app(svc, run_worker=run_worker)
    announcement = (f"shuttle is listening on http://{args.host}:{args.port}  ({label}"
                    f"worker {'in this process' if run_worker else 'not started here'})")
    if not _serve_on(listening, app, announcement):
        raise CliError("the server did not start; the messages above say why")


def _end_with(parent: int) -> None:
    """A server process is stopped (SIGTERM) when its parent dies, even by SIGKILL (Linux
    PR_SET_PDEATHSIG), so no orphan keeps serving; if the parent is already gone, it ends now."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(0)


def _serve_forked(listening: socket.socket, args: argparse.Namespace, processes: int) -> None:
    """`serve --processes N`: N server processes on one port, as one Python process runs on one core
    at a time. Each listens on a socket of its own (SO_REUSEPORT: the kernel spreads connections
    evenly; one shared socket let the first process to wake take most of them, 29 of 41 in
    bench/load.py), made after the fork, and builds its own services; the in-process worker runs in
    the first only. The parent's socket, bound without SO_REUSEPORT, only proved the port free
    (another server's processes listen with it, and a second server would have bound beside them
    and taken half their connections); it is closed before the children bind. When one process
    ends, the others are stopped too, so whatever restarts the service restarts it whole."""
    listening.close()
    children: list[int] = []
    parent = os.getpid()
    for index in range(processes):
        pid = os.fork()
        if pid == 0:  # the child: serve until stopped, then leave without the parent's clean-up
            status = 1
            try:
                _end_with(parent)
                _serve_one(_listen(args, reuse_port=True), args, worker=index == 0 and not args.no_worker,
                           label=f"process {index + 1} of {processes}; ", shared=True)
                status = 0
            except CliError as exc:
                print(f"shuttle: {exc}", file=sys.stderr, flush=True)
            finally:
                os._exit(status)
        children.append(pid)

    def stop_all(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    ended, status = os.wait()
    stop_all(signal.SIGTERM, None)
    for child in children:
        if child != ended:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM, -signal.SIGINT):  # uvicorn ends by its signal
        raise CliError("a server process stopped unexpectedly; the others were stopped too")


def _say_whole_line(line: str) -> None:
    """Print `line` in one write, so the lines of several server processes sharing one stdout
    never run into each other (print writes the text and its newline apart: seen in CI as two
    announcements on one line)."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a stream with no descriptor (a test's capture)
        print(line, flush=True)
        return
    os.write(fd, (line + "\n").encode())


def _serve_on(sock: socket.socket, app: Any, announcement: str) -> bool:
    """Run uvicorn on `sock` until stopped, printing `announcement` once it serves (uvicorn
    prints no line of its own for a socket handed to it). False if it never started."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                heap.settle()
                _say_whole_line(announcement)

    server = Server(uvicorn.Config(app, log_level="info", proxy_headers=True, server_header=False,
                                   log_config=logs.uvicorn_log_config(os.environ)))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn shut down gracefully, then passed Ctrl-C on
        server.run(sockets=[sock])
    return server.started


def cmd_worker(args: argparse.Namespace) -> None:
    from workers.handlers import build_worker, run_ticker

    svc = _services()
    schema.check_current(svc.db)
    stop = threading.Event()
    ticker = threading.Thread(target=run_ticker, args=(svc, stop), daemon=True)
    ticker.start()
    worker = build_worker(svc)
    print("shuttle worker running; Ctrl-C stops it", flush=True)
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    svc = _services()
    before = schema.current_revision(svc.db)
    schema.upgrade(svc.db)
    print(f"database schema: {before or 'empty'} -> {schema.current_revision(svc.db)}")


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.password:
        return getpass.getpass("Password: ")
    return None


def cmd_users_create(args: argparse.Namespace) -> None:
    svc = _services()
    schema.check_current(svc.db)
    password = _read_password(args)
    with svc.db.uow() as uow:
        account, secret = accounts.create_account(uow.session, svc.settings, username=args.username,
                                                  role=args.role, display_name=args.name or args.username,
                                                  password=password, passwords=svc.passwords, now=svc.now())
        code = None if account.is_staff or password else accounts.issue_invitation(uow.session, svc.settings,
                                                                                    account.id, now=svc.now())
        uow.commit()
    print(f"created {args.role} {account.username}")
    if secret:
        print(f"authenticator secret (shown once): {secret}")
        print(f"  {accounts.totp_uri(secret, account.username)}")
    if code:
        print(f"invitation code (shown once, single use): {code}")


def cmd_users_invite(args: argparse.Namespace) -> None:
    svc = _services()
    with svc.db.uow() as uow:
        account = uow.session.scalar(select(Account).where(Account.username == args.username.lower()))
        if account is None:
            raise CliError(f"no account called {args.username}")
        code = accounts.issue_invitation(uow.session, svc.settings, account.id, now=svc.now())
        uow.commit()
    print(f"invitation code for {account.username} (single use): {code}")


def cmd_audit_head(args: argparse.Namespace) -> None:
    """Print the chain head to publish somewhere the database's owner cannot rewrite."""
    svc = _services()
    with svc.db.uow() as uow:
        print(audit.head(uow.session).line(svc.now()))


def cmd_audit_verify(args: argparse.Namespace) -> None:
    svc = _services()
    heads = []
    if args.against:
        try:
            heads = audit.read_heads(Path(args.against))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read the published heads: {exc}") from None
    with svc.db.uow() as uow:
        result = audit.verify(uow.session, against=heads)
    if not result.ok:
        raise CliError(f"audit chain BROKEN at event {result.first_broken_seq}: {result.reason} "
                       f"({result.checked} events checked)")
    holding = f", holding {len(heads)} published head(s)" if heads else ""
    print(f"audit chain intact: {result.checked} events{holding}")


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} data keys re-wrapped",
          end="", file=sys.stderr, flush=True)


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from shuttle.keys import rotate

    svc = _services()
    schema.check_current(svc.db)
    result = rotate(svc, progress=_progress_bar)
    print(file=sys.stderr)
    how = "resumed an unfinished rotation" if result.resumed else "new key version"
    print(f"{how}: key-encryption key v{result.version}; {result.rewrapped} data keys re-wrapped, "
          "no payload re-encrypted")


def cmd_keys_retire(args: argparse.Namespace) -> None:
    from shuttle.keys import StillInUse, retire
    from storage.errors import KeyringError

    svc = _services()
    schema.check_current(svc.db)
    options = {"pending_days": args.kms_pending_days} if svc.settings.keyring_kind == "kms" else {}
    if not args.yes:
        raise CliError("retiring destroys old key-encryption key versions for good (objects still wrapped under "
                       "them are refused first); add --yes to confirm")
    try:
        done = retire(svc, args.version or None, **options)
    except (StillInUse, KeyringError) as exc:
        raise CliError(str(exc)) from None
    if not done.retired:
        print(f"nothing to retire: the keyring holds only the primary version v{done.primary}")
        return
    retired = ", ".join(f"v{v}" for v in done.retired)
    how = (f"their KMS keys are scheduled for deletion in {args.kms_pending_days} days"
           if svc.settings.keyring_kind == "kms" else "removed from the keyring file")
    print(f"retired {retired} ({how}); the keyring keeps {', '.join(f'v{v}' for v in done.remaining)}. "
          "Destroy keyring backups that still hold the retired versions.")


def cmd_cases_shred(args: argparse.Namespace) -> None:
    from shuttle.retention import shred_case, sweep
    from shuttle.services import Actor

    if not args.yes:
        raise CliError(f"this destroys every message of {args.reference} for good; add --yes to confirm")
    svc = _services()
    schema.check_current(svc.db)
    with svc.db.uow() as uow:
        count = shred_case(uow.session, svc, Actor(None, "coordinator"), args.reference)
        uow.commit()
    sweep(svc)
    print(f"{args.reference}: {count} encrypted objects shredded (keys destroyed, bytes removed)")


def cmd_export_case(args: argparse.Namespace) -> None:
    """Write a case's signed record (audited, with the reason) to --out."""
    from sqlalchemy import select as select_

    from shuttle.cases.models import Case
    from shuttle.exports.record import export_case
    from shuttle.services import Actor

    out = Path(args.out)
    if out.exists() and not args.force:
        raise CliError(f"{out} exists already; choose another --out or add --force to replace it")
    svc = _services()
    schema.check_current(svc.db)
    with svc.db.uow() as uow:
        case_id = uow.session.scalar(select_(Case.id).where(Case.reference == args.reference))
        if case_id is None:
            raise CliError(f"no case {args.reference}")
        done = export_case(uow.session, svc, Actor(None, "coordinator"), case_id, args.reason)
        uow.commit()
    try:
        out.write_bytes(done.data)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"{done.reference}: signed record written to {out} ({len(done.data)} bytes, "
          f"manifest SHA-256 {done.manifest_sha256}); the export is in the audit log")


def cmd_export_verify(args: argparse.Namespace) -> None:
    """Check an exported record offline: needs no database, settings or network."""
    from shuttle.exports.archive import KeyError_, verify

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    try:
        result = verify(data, args.public_key)
    except KeyError_ as exc:
        raise CliError(str(exc)) from None
    if not result.ok:
        raise CliError(result.sentence() + ".")
    print(result.sentence() + ".")


def cmd_export_key(args: argparse.Namespace) -> None:
    """Print the service's public signing key and its fingerprint (made now if there is none yet)."""
    from shuttle.exports import signing
    from shuttle.services import Actor

    svc = _services()
    schema.check_current(svc.db)
    with svc.db.uow() as uow:
        view = signing.view_of(signing.get_or_create(uow.session, svc, Actor(None, "coordinator")).public_key())
        uow.commit()
    print(view.pem.rstrip())
    print(view.fingerprint_grouped)


def cmd_sweep(args: argparse.Namespace) -> None:
    from shuttle.retention import sweep

    svc = _services()
    schema.check_current(svc.db)
    print(sweep(svc))


def cmd_media(args: argparse.Namespace) -> int:
    """`shuttle media process|inspect`: exactly the worker's pipeline, on a local file."""
    from workers.media import cli as media_cli

    run = media_cli.run_process if args.media_command == "process" else media_cli.run_inspect
    return run(args)


def cmd_totp(args: argparse.Namespace) -> None:
    print(accounts.current_totp(args.secret))


def cmd_demo(args: argparse.Namespace) -> None:
    from shuttle.demo import create_demo

    sock = None if args.no_serve else _listen(args)  # a taken port is said before anything else
    svc = _services()
    schema.upgrade(svc.db)
    sign_ins = create_demo(svc)
    base = f"http://{args.host}:{args.port}"
    print("\nshuttle demo: a case with a facilitator, a person harmed and a person responsible; "
          "and the service's coordinator.\n")
    for line in sign_ins:
        print("  " + line)
    print(f"\nOpen {base}/login in your browser. (Use a private window per person.)\n", flush=True)
    if sock is not None:
        args.no_worker = False
        cmd_serve(args, sock)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shuttle", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int | None], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.set_defaults(func=func)
        return p

    for name, func, help_ in (("serve", cmd_serve, "run the web service"), ("demo", cmd_demo,
                              "create a demo case, print its sign-ins and serve")):
        p = add(name, func, help_)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--no-worker", action="store_true", help="do not run the in-process worker")
        if name == "serve":
            p.add_argument("--processes", type=int, default=1,
                           help="server processes sharing the port (one per core is usual; the worker runs in one)")
        if name == "demo":
            p.add_argument("--no-serve", action="store_true", help="create the demo data and exit")
    add("worker", cmd_worker, "run a worker (processing jobs from the database queue)")
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    users = sub.add_parser("users", help="accounts").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create an account")
    create.set_defaults(func=cmd_users_create)
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=["coordinator", "facilitator", "participant"])
    create.add_argument("--name", help="display name")
    create.add_argument("--password", action="store_true", help="ask for a password")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    invite = users.add_parser("invite", help="issue a new invitation code to a participant")
    invite.set_defaults(func=cmd_users_invite)
    invite.add_argument("username")
    auditp = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    verifyp = auditp.add_parser("verify", help="check the hash chain")
    verifyp.add_argument("--against", metavar="HEAD_FILE",
                         help="published heads (lines `seq hash`): detects deleted last events and rewritten chains")
    verifyp.set_defaults(func=cmd_audit_verify)
    auditp.add_parser("head", help="print the chain head (seq hash time) to publish").set_defaults(func=cmd_audit_head)
    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(dest="keys_command", required=True)
    keys.add_parser("rotate", help="new key-encryption key version; re-wrap every data key (resumable)"
                    ).set_defaults(func=cmd_keys_rotate)
    retire_p = keys.add_parser("retire", help="destroy old key-encryption key versions that no data key uses")
    retire_p.set_defaults(func=cmd_keys_retire)
    retire_p.add_argument("--version", type=int, action="append", metavar="N",
                          help="retire only this version (repeatable); default: every version but the primary")
    retire_p.add_argument("--kms-pending-days", type=int, default=30, metavar="DAYS",
                          help="KMS keyring: days before KMS deletes a retired key (7 to 30; cancellable until then)")
    retire_p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    casesp = sub.add_parser("cases", help="cases").add_subparsers(dest="cases_command", required=True)
    shred = casesp.add_parser("shred", help="crypto-shred every message of a case (retention)")
    shred.set_defaults(func=cmd_cases_shred)
    shred.add_argument("reference")
    shred.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    add("sweep", cmd_sweep, "expire abandoned uploads, remove shredded and orphaned bytes")
    exportp = sub.add_parser("export", help="certified case records").add_subparsers(dest="export_command",
                                                                                     required=True)
    export_case_p = exportp.add_parser("case", help="write a case's signed record (a zip) to --out; audited")
    export_case_p.set_defaults(func=cmd_export_case)
    export_case_p.add_argument("reference", help="the case's reference, e.g. RJ-2026-0042")
    export_case_p.add_argument("--reason", required=True, help="why it is exported (kept in the audit log)")
    export_case_p.add_argument("--out", required=True, metavar="FILE", help="where to write the zip")
    export_case_p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export_verify_p = exportp.add_parser("verify", help="check a record's signature, every hash and its audit chain")
    export_verify_p.set_defaults(func=cmd_export_verify)
    export_verify_p.add_argument("file", metavar="FILE")
    export_verify_p.add_argument("--public-key", metavar="KEY",
                                 help="the service's public key (PEM file) or its SHA256 fingerprint; without it "
                                      "the key inside the archive is used and its fingerprint printed")
    exportp.add_parser("key", help="print the service's public signing key and fingerprint"
                       ).set_defaults(func=cmd_export_key)
    from workers.media import cli as media_cli

    media = sub.add_parser("media", help="run the media pipeline on a local file").add_subparsers(
        dest="media_command", required=True)
    process = media.add_parser("process", help="probe, re-encode, scrub and verify INPUT into --out DIR")
    process.set_defaults(func=cmd_media)
    media_cli.add_process_arguments(process)
    inspect = media.add_parser("inspect", help="list the metadata found in FILE, changing nothing")
    inspect.set_defaults(func=cmd_media)
    media_cli.add_inspect_arguments(inspect)
    totp = add("totp", cmd_totp, "print the current code for an authenticator secret")
    totp.add_argument("secret")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure(os.environ)  # SHUTTLE_LOG_FORMAT=json: one JSON object per line
    args = _parser().parse_args(argv)
    try:
        status = args.func(args)
    except (CliError, ConfigError, schema.SchemaOutOfDate) as exc:
        print(f"shuttle: {exc}", file=sys.stderr)
        return 1
    except ShuttleError as exc:
        print(f"shuttle: {exc.message}", file=sys.stderr)
        return 1
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
