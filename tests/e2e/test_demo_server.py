"""What the README promises: `shuttle demo` on a bare folder, then a letter's whole journey
over HTTP against the real server process and its in-process worker."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUTTLE_")}
    env["SHUTTLE_DATA_DIR"] = str(folder / "data")
    proc = subprocess.Popen([sys.executable, "-m", "shuttle.cli", "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder)
    assert proc.stdout is not None
    printed = ""
    deadline = time.monotonic() + 60
    while "listening" not in printed and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        printed += line
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base, printed
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
    assert (Path(env["SHUTTLE_DATA_DIR"]) / "keyring.json").stat().st_mode & 0o077 == 0


def _sign_in(base: str, username: str, password: str, totp_secret: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=f"{base}/api/v1")
    answer = client.post("/session", json={"username": username, "password": password}).json()
    if totp_secret:
        answer = client.post("/session/totp", json={"code": pyotp.TOTP(totp_secret).now()}).json()
    assert answer["stage"] == "full", answer
    client.headers["X-CSRF-Token"] = answer["csrf_token"]
    return client


def _wait_for(client: httpx.Client, path: str, state: str) -> dict:  # type: ignore[type-arg]
    for _ in range(100):
        view = client.get(path).json()
        if view.get("state") == state:
            return view  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"{path} never reached {state}: {view}")


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    opened: list[httpx.Client] = []
    yield opened
    for client in opened:
        client.close()


def test_demo_letter_journey_over_http(demo: tuple[str, str], clients: list[httpx.Client]) -> None:
    base, printed = demo
    passwords = dict(re.findall(r"username (\w+)\s+password (\S+)", printed))
    secret = re.search(r"authenticator secret (\w+)", printed).group(1)  # type: ignore[union-attr]
    jessica = _sign_in(base, "jessica", passwords["jessica"])
    clients.append(jessica)
    case_id = jessica.get("/cases").json()[0]["id"]

    draft = jessica.post(f"/cases/{case_id}/messages", json={"text": "Dear Sam, I walk past Elm Street."}).json()
    sent = jessica.post(f"/messages/{draft['id']}/actions/submit", json={"version": draft["version"]})
    assert sent.status_code == 200, sent.text

    fiona = _sign_in(base, "fiona", passwords["fiona"], secret)
    clients.append(fiona)
    view = _wait_for(fiona, f"/messages/{draft['id']}", "awaiting_review")  # the in-process worker ran
    assert fiona.get(f"/messages/{draft['id']}/versions/{view['current_version_id']}").json()["flags"][0]["kind"] \
        == "watchlist"
    view = fiona.post(f"/messages/{draft['id']}/actions/claim", json={"version": view["version"]}).json()
    refused = fiona.post(f"/messages/{draft['id']}/actions/approve", json={"version": view["version"]})
    assert refused.status_code == 409 and refused.json()["error"] == "flags_unresolved"  # not on one click
    flag = refused.json()["unresolved"][0]
    assert flag["kind"] == "watchlist" and flag["text"] == "Elm Street"
    view = fiona.post(f"/messages/{draft['id']}/actions/approve", json={
        "version": view["version"],
        "resolutions": {flag["flag"]: "Sam knows the street; agreed at preparation."}}).json()
    assert view["state"] == "released"

    sam = _sign_in(base, "sam", passwords["sam"])
    clients.append(sam)
    waiting = sam.get(f"/cases/{case_id}/messages").json()
    assert [m["from"] for m in waiting] == ["Jessica"] and not waiting[0]["opened"]
    opened = sam.post(f"/messages/{draft['id']}/open", json={"share_receipt": True}).json()
    assert opened["text"] == "Dear Sam, I walk past Elm Street."
    assert jessica.get(f"/messages/{draft['id']}").json()["opened_at"] is not None  # receipts allowed in demo
