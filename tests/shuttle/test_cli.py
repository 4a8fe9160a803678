"""The operator's command line: plain messages and non-zero exits, never a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shuttle.cli import main
from shuttle.demo import create_demo
from shuttle.services import Services


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SHUTTLE_DATABASE_URL", "SHUTTLE_SECRET_KEY", "SHUTTLE_KEYRING", "SHUTTLE_BLOB_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHUTTLE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_upgrade_then_demo_then_audit_verify(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "--no-serve"]) == 0
    printed = capsys.readouterr().out
    assert "username jessica" in printed and "authenticator secret" in printed
    assert main(["demo", "--no-serve"]) == 0  # running it again is harmless
    assert main(["audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    assert (data_dir / "keyring.json").stat().st_mode & 0o777 == 0o600
    assert data_dir.stat().st_mode & 0o077 == 0


def _secret(printed: str) -> str:
    found = re.search(r"authenticator secret ([A-Z2-7]+)", printed)
    assert found, printed
    return found.group(1)


def test_a_demo_rerun_keeps_the_authenticator_secret(sqlite_svc: Services) -> None:
    first = "\n".join(create_demo(sqlite_svc))
    again = "\n".join(create_demo(sqlite_svc))
    assert _secret(again) == _secret(first) and "NEW" not in again  # a code set up earlier still works
    assert "same as before" in again
    other_key = replace(sqlite_svc, settings=sqlite_svc.settings.with_(secret_key="another-secret-key-" + "x" * 32))
    changed = "\n".join(create_demo(other_key))  # the stored secret cannot be read with this key
    assert _secret(changed) != _secret(first) and "NEW" in changed
    assert "NEW" not in "\n".join(create_demo(other_key))


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port someone else is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_taken_port_is_one_sentence(data_dir: Path, capsys: pytest.CaptureFixture[str], taken_port: int,
                                      command: str) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main([command, "--port", str(taken_port)]) == 1
    out, err = capsys.readouterr()
    assert "listening" not in out and "Traceback" not in err and "Errno" not in err
    assert err.startswith("shuttle: ") and err.count("\n") == 1 and err.count(". ") == 0
    assert f"port {taken_port}" in err and "--port" in err


def test_a_port_shared_by_another_server_s_processes_is_taken_too(data_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Another `serve --processes N` listens with SO_REUSEPORT, which would let a second one bind
    the same port and silently take half its connections: it is refused as a taken port."""
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        assert main(["serve", "--port", str(port), "--processes", "2"]) == 1
    out, err = capsys.readouterr()
    assert "listening" not in out and f"port {port}" in err and "already in use" in err


def test_the_listening_line_comes_once_the_port_answers(data_dir: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["db", "upgrade"]) == 0
    with subprocess.Popen([sys.executable, "-m", "shuttle.cli", "serve", "--port", str(port), "--no-worker"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          env=os.environ.copy()) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert f"listening on http://127.0.0.1:{port}" in line
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass  # the port answers as soon as the line is printed
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def test_audit_verify_names_the_first_broken_link(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--no-serve"])
    engine = create_engine(f"sqlite:///{data_dir / 'shuttle.db'}")
    with engine.begin() as conn:
        conn.execute(text("update audit_events set action = 'case.nothing' where seq = 3"))
    engine.dispose()
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at event 3" in capsys.readouterr().err


def test_users_create_prints_the_totp_secret_or_an_invitation(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["db", "upgrade"])
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["users", "create", "--username", "fiona", "--role", "facilitator", "--password-stdin"]) == 1
    assert "shuttle:" in capsys.readouterr().err  # an empty password is refused with a sentence
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough pass phrase\n"))
    assert main(["users", "create", "--username", "fiona", "--role", "facilitator", "--password-stdin"]) == 0
    assert "authenticator secret" in capsys.readouterr().out
    assert main(["users", "create", "--username", "jess", "--role", "participant"]) == 0
    assert "invitation code" in capsys.readouterr().out
    assert main(["users", "create", "--username", "jess", "--role", "participant"]) == 1
    assert "taken" in capsys.readouterr().err
    assert main(["users", "invite", "nobody"]) == 1


def test_server_commands_refuse_an_empty_database(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker"]) == 1
    assert "shuttle db upgrade" in capsys.readouterr().err


def test_bad_configuration_is_one_sentence(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUTTLE_BLOB_BACKEND", "floppy")
    assert main(["db", "upgrade"]) == 1
    assert "SHUTTLE_BLOB_BACKEND" in capsys.readouterr().err


@pytest.mark.ffmpeg
def test_media_process_and_inspect_through_the_shuttle_command(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import shutil
    import subprocess

    from support import need

    need(shutil.which("ffmpeg") is not None, "ffmpeg is not installed")
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:duration=1",
                    "-metadata", "title=Planted-Title", "-c:v", "libx264", str(clip)], check=True)
    assert main(["media", "inspect", str(clip)]) == 0
    assert "Planted-Title" in capsys.readouterr().out
    assert main(["media", "process", str(clip), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert b"Planted-Title" not in Path(summary["delivery"]).read_bytes()
    playlist = tmp_path / "holiday.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    assert main(["media", "process", str(playlist), "--out", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "playlist" in err and not (tmp_path / "nothing").exists()


def test_audit_head_then_verify_against_it_detects_the_last_events_deleted(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--no-serve"])
    capsys.readouterr()
    assert main(["audit", "head"]) == 0
    line = capsys.readouterr().out.strip()
    seq, digest, _at = line.split()
    heads = tmp_path / "heads.log"
    heads.write_text(line + "\n")
    assert main(["audit", "verify", "--against", str(heads)]) == 0
    assert "1 published head" in capsys.readouterr().out
    engine = create_engine(f"sqlite:///{data_dir / 'shuttle.db'}")
    with engine.begin() as conn:
        conn.execute(text("delete from audit_events where seq = :s"), {"s": int(seq)})
    engine.dispose()
    assert main(["audit", "verify"]) == 0  # a shorter chain is valid on its own
    capsys.readouterr()
    assert main(["audit", "verify", "--against", str(heads)]) == 1
    assert "deleted from the end" in capsys.readouterr().err
    assert main(["audit", "verify", "--against", str(tmp_path / "missing")]) == 1
    assert "cannot read the published heads" in capsys.readouterr().err


def test_serve_with_two_processes_shares_the_port_runs_one_worker_and_stops_whole(data_dir: Path) -> None:
    """`serve --processes 2`: two server processes on one port (the worker in the first only), both
    answering; a SIGTERM to the parent stops them all; stopping one child stops the rest too."""
    import signal
    import time

    import httpx

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["db", "upgrade"]) == 0
    for stop in ("parent", "child", "parent killed"):
        stop_child = stop == "child"
        with subprocess.Popen([sys.executable, "-m", "shuttle.cli", "serve", "--port", str(port), "--processes", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=os.environ.copy(), start_new_session=True) as server:
            try:
                assert server.stdout is not None
                lines = sorted(server.stdout.readline() for _ in range(2))
                assert "(process 1 of 2; worker in this process)" in lines[0], lines
                assert "(process 2 of 2; worker not started here)" in lines[1], lines
                children = {int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()}
                assert len(children) == 2
                answered = {httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code for _ in range(20)}
                assert answered == {200}
                os.kill(next(iter(children)) if stop_child else server.pid,
                        signal.SIGTERM if stop == "parent" else signal.SIGKILL)
                status = server.wait(timeout=30)
                assert (status != 0) == (stop != "parent"), status  # a child that died is said, non-zero exit
                if stop == "parent killed":  # the children stop too: no orphan keeps serving the port
                    time.sleep(3)
                    with pytest.raises(httpx.ConnectError):
                        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if stop_child:
                    assert "a server process stopped unexpectedly" in (server.stderr.read() if server.stderr else "")
                time.sleep(0.2)
                assert not any(Path(f"/proc/{child}").exists() and "Z" not in
                               Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[0] for child in children)
            finally:
                with contextlib.suppress(ProcessLookupError):  # whatever is left of its group, if it failed
                    os.killpg(server.pid, signal.SIGKILL)


def test_processes_must_be_at_least_one(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["serve", "--processes", "0"]) == 1
    assert "--processes is a whole number of at least 1" in capsys.readouterr().err
