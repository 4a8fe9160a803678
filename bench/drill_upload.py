"""Drill: a 500 MB recording uploaded with tus through a connection that drops twice arrives
whole and encrypted, on the local backend and on S3 (moto's server over HTTP).

    python bench/drill_upload.py [--mib 500] [--backend local|s3|both]

Prints, per backend: the offsets at which the connection dropped, what the server had kept,
the time taken, and whether the stored plaintext's SHA-256 equals the sent file's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support import serve_in_thread  # noqa: E402
from world import World  # noqa: E402

from shuttle.accounts.passwords import PasswordPolicy  # noqa: E402
from shuttle.bootstrap import build_services  # noqa: E402
from shuttle.config import Settings  # noqa: E402
from shuttle.db import Base  # noqa: E402
from shuttle.messages import authoring  # noqa: E402
from shuttle.messages.models import Message  # noqa: E402
from shuttle.uploads import service as uploads  # noqa: E402
from shuttle.web.app import build_app  # noqa: E402

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _stream(seed: bytes, size: int, start: int = 0) -> Iterator[bytes]:
    """Deterministic pseudo-random bytes, regenerated instead of held in memory."""
    block = 1 * MiB
    for index in range(start // block, (size + block - 1) // block):
        chunk = hashlib.shake_256(seed + index.to_bytes(8, "big")).digest(block)
        if index == 0:  # an upload must begin like a recording (shuttle/uploads/sniff.py): an MP4 header
            chunk = b"\x00\x00\x00\x18ftypisom" + bytes(12) + chunk[24:]
        lo, hi = max(start - index * block, 0), min(block, size - index * block)
        yield chunk[lo:hi]


def _cut(base: str, client: httpx.Client, upload: str, offset: int, total: int, send: int, seed: bytes) -> None:
    url = urlparse(base)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (f"PATCH {urlparse(upload).path} HTTP/1.1\r\nHost: {url.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {total - offset}\r\nX-CSRF-Token: {client.headers['X-CSRF-Token']}\r\n"
            f"Cookie: {cookie}\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head)
        sent = 0
        for chunk in _stream(seed, total, offset):
            piece = chunk[: send - sent]
            sock.sendall(piece)
            sent += len(piece)
            if sent >= send:
                break
        sock.shutdown(socket.SHUT_RDWR)  # the train goes into a tunnel


def _offset(client: httpx.Client, upload: str) -> int:
    return int(client.head(upload, headers=TUS).headers["Upload-Offset"])


def drill(settings: Settings, size: int) -> dict[str, object]:
    svc = build_services(settings)
    svc.passwords = PasswordPolicy.for_tests()
    import shuttle.models  # noqa: F401

    Base.metadata.create_all(svc.db.engine)
    world = World(svc)
    case_id, p = world.case()
    message = world.do(authoring.start_media, p.harmed, case_id, "video")
    base, stop = serve_in_thread(build_app(svc, check_schema=False))
    seed = os.urandom(16)
    started = time.monotonic()
    with world.sign_in(build_app(svc, check_schema=False), p.harmed) as signed:
        cookies, csrf = dict(signed.cookies), signed.headers["X-CSRF-Token"]
    client = httpx.Client(base_url=base, cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=120)
    meta = f"message_id {base64.b64encode(message.id.encode()).decode()}"
    upload = base + client.post("/api/v1/uploads", headers=TUS | {"Upload-Length": str(size),
                                                                   "Upload-Metadata": meta}).headers["Location"]
    drops = []
    for fraction in (0.3, 0.7):
        offset = _offset(client, upload)
        _cut(base, client, upload, offset, size, int(size * fraction) - offset, seed)
        time.sleep(1.0)  # the server notices and records what arrived
        drops.append((int(size * fraction), _offset(client, upload)))
    offset = _offset(client, upload)
    answer = client.patch(upload, content=_stream(seed, size, offset), headers=TUS | {
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
    elapsed = time.monotonic() - started
    sent = hashlib.sha256()
    for chunk in _stream(seed, size):
        sent.update(chunk)
    stored = hashlib.sha256()
    with svc.db.uow() as uow:
        draft = uow.session.get(Message, message.id)
        for chunk in uploads.read(uow.session, svc.store, draft.draft_upload_id):  # type: ignore[union-attr, arg-type]
            stored.update(chunk)
    client.close()
    stop()
    return {"status": answer.status_code, "drops (cut at, kept)": drops, "seconds": round(elapsed, 1),
            "MB/s": round(size / MiB / elapsed, 1), "whole": sent.hexdigest() == stored.hexdigest()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=500)
    parser.add_argument("--backend", choices=["local", "s3", "both"], default="both")
    args = parser.parse_args()
    size = args.mib * MiB
    for backend in (["local", "s3"] if args.backend == "both" else [args.backend]):
        with tempfile.TemporaryDirectory() as folder:
            env = {"SHUTTLE_DATA_DIR": folder, "SHUTTLE_SECRET_KEY": "d" * 40}
            server = None
            if backend == "s3":
                import boto3
                from moto.server import ThreadedMotoServer

                os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
                server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
                server.start()
                host, port = server.get_host_and_port()
                endpoint = f"http://{host}:{port}"
                boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="drill")
                env |= {"SHUTTLE_BLOB_BACKEND": "s3", "SHUTTLE_S3_BUCKET": "drill",
                        "SHUTTLE_S3_ENDPOINT_URL": endpoint, "SHUTTLE_S3_REGION": "us-east-1"}
            result = drill(Settings.from_env(env), size)
            if server:
                server.stop()
        print(f"{backend}: {args.mib} MiB: {result}")


if __name__ == "__main__":
    main()
