"""Shared plumbing of the storage benchmarks (not a benchmark itself).

Each benchmark compares the service with a bare baseline in the same run, on the same
machine and the same uvicorn settings, and prints a ratio: absolute figures on a noisy
2-core machine mean little, ratios taken side by side mean more.

Servers run in subprocesses (`python bench/_harness.py serve KIND DATA_DIR PORT`) so the
client does not share their interpreter, and so their memory can be read from /proc.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT), str(ROOT / "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import httpx

MiB = 1024 * 1024
CHUNK = MiB
SECRET = "bench-secret-" + "k" * 40


def env_for(data_dir: Path) -> dict[str, str]:
    """The settings both the setup (here) and the served service (subprocess) read."""
    return {
        "SHUTTLE_DATA_DIR": str(data_dir),
        "SHUTTLE_SECRET_KEY": SECRET,
        "SHUTTLE_MAX_UPLOAD_BYTES": str(64 * 1024 * MiB),
        "SHUTTLE_IN_PROCESS_WORKER": "0",
    }


# --- what the servers run -----------------------------------------------------------------------

def uvicorn_config(app: Any, port: int) -> Any:
    """The one uvicorn configuration every server of a benchmark uses (auto loop and HTTP
    implementation: uvloop and httptools where installed, as in production)."""
    import uvicorn

    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                          server_header=False)


def plain_app(data_dir: Path) -> Any:
    """The baseline: a bare Starlette app writing request bodies to a plain file (fsync'd,
    as the local backend does) and serving plain files with FileResponse in 1 MiB chunks."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    class BigChunkFileResponse(FileResponse):
        chunk_size = MiB

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def upload(request: Request) -> Response:
        path = data_dir / "plain-upload.bin"
        size = 0
        with open(path, "wb") as out:  # blocking writes on the loop: the simplest endpoint there is
            async for chunk in request.stream():
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        return JSONResponse({"size": size}, status_code=201)

    async def download(request: Request) -> Response:
        return BigChunkFileResponse(data_dir / request.path_params["name"], media_type="video/mp4")

    return Starlette(routes=[Route("/healthz", healthz), Route("/upload", upload, methods=["PUT"]),
                             Route("/files/{name}", download)])


def service_app(data_dir: Path) -> Any:
    """The real application, built by the composition root from the settings."""
    from shuttle.bootstrap import build_services
    from shuttle.config import Settings
    from shuttle.web.app import build_app

    svc = build_services(Settings.from_env(env_for(data_dir)))
    return build_app(svc, check_schema=False)  # the schema was made by create_all, not migrations


def _serve(kind: str, data_dir: str, port: str) -> None:
    import uvicorn

    app = (service_app if kind == "service" else plain_app)(Path(data_dir))
    uvicorn.Server(uvicorn_config(app, int(port))).run()


class Server:
    """A server subprocess on a free loopback port; `rss()` and `hwm()` read its memory."""

    def __init__(self, kind: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.kind = kind
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, __file__, "serve", kind, str(data_dir), str(self.port)],
                                        cwd=ROOT, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 30
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

    @property
    def pid(self) -> int:
        return self.process.pid

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} in /proc/{self.pid}/status")

    def rss(self) -> int:
        return self._status("VmRSS")

    def hwm(self) -> int:
        return self._status("VmHWM")

    def cpu(self) -> float:
        """CPU seconds (user + system, all threads) the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_hwm(self) -> bool:
        """Reset the peak-RSS mark (Linux: write 5 to clear_refs); False if not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
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


class RssSampler:
    """Samples a process's VmRSS every few milliseconds in a thread (a second opinion on VmHWM)."""

    def __init__(self, server: Server, interval: float = 0.005) -> None:
        import threading

        self.server, self.interval = server, interval
        self.peak = server.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.server.rss())
            except (OSError, RuntimeError):
                return
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the world the service serves ---------------------------------------------------------------

class Setup:
    """A fresh data folder with a schema, a case and its people, made through the use cases."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from world import World
        from support import make_services

        import shuttle.models  # noqa: F401  (registers every table)
        from shuttle.config import Settings
        from shuttle.db import Base, Database

        self.data_dir = data_dir
        settings = Settings.from_env(env_for(data_dir))
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = Database(settings.database_url)
        Base.metadata.create_all(db.engine)
        self.svc = make_services(db, settings)
        self.world = World(self.svc)
        self.case_id, self.people = self.world.case()

    def username(self, actor: Any) -> str:
        return self.world.username(actor)

    def new_media_message(self) -> str:
        from shuttle.messages import authoring

        message_id: str = self.world.do(authoring.start_media, self.people.harmed, self.case_id, "video").id
        return message_id

    def purge_replaced(self) -> int:
        """Delete the ciphertext of shredded blobs (earlier takes of a re-uploaded message), as
        the sweeper would; the plain baseline overwrites one file, so this keeps the two alike
        in disk use and page-cache churn (fresh pages are much dearer than reused ones in a VM)."""
        from shuttle import blobs

        with self.svc.db.uow() as uow:
            purged = blobs.remove_shredded_bytes(uow.session, self.svc.store)
            uow.commit()
        return purged

    def close(self) -> None:
        self.svc.db.dispose()


def signed_in(base: str, username: str, password: str) -> httpx.Client:
    """An API client with a session cookie and the CSRF header, over a kept-alive connection."""
    client = httpx.Client(base_url=base, timeout=httpx.Timeout(600.0))
    answer = client.post("/api/v1/session", json={"username": username, "password": password})
    answer.raise_for_status()
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


# --- bodies and figures -------------------------------------------------------------------------

def pattern(seed: int = 7) -> bytes:
    """One 1 MiB block of random bytes (incompressible; AES does not care that it repeats). It
    begins like an MP4 file, as an upload must (shuttle/uploads/sniff.py)."""
    head = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12
    return head + random.Random(seed).randbytes(CHUNK - len(head))


def body(size: int, block: bytes | None = None) -> Iterator[bytes]:
    """`size` bytes in 1 MiB chunks, never more than one chunk in memory."""
    block = block or pattern()
    sent = 0
    while sent < size:
        n = min(CHUNK, size - sent)
        yield block if n == CHUNK else block[:n]
        sent += n


def write_file(path: Path, size: int, block: bytes | None = None) -> None:
    with open(path, "wb") as out:
        out.writelines(body(size, block))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def mb(n: float) -> str:
    return f"{n / MiB:.1f} MiB"


def machine() -> str:
    """CPUs and load average: the figures mean little without them on a shared machine."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def add_server_env_option(parser: Any) -> None:
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for both servers, e.g. MALLOC_TRIM_THRESHOLD_=8388608 (repeatable)")


def server_env(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def parse_size(text: str) -> int:
    """'256M', '1G', '10MiB', '1048576' → bytes."""
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    factor = {"K": 1024, "M": MiB, "G": 1024 * MiB}.get(raw[-1:], 1)
    return int(float(raw[:-1] if raw[-1:] in "KMG" else raw) * factor)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        _serve(*sys.argv[2:])
    else:
        sys.exit("usage: python bench/_harness.py serve {service,plain} DATA_DIR PORT")
