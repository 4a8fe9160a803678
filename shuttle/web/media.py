"""Serving processed media with HTTP Range, decrypting only the segments a range covers,
so a browser's <video> seeks in an encrypted file as it would in a plain one."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from shuttle.messages.delivery import MediaRef, media_ref
from shuttle.web import ranges
from shuttle.web.http import id_or_missing, run, services
from shuttle.web.metrics import dependency_error
from storage.errors import DecryptionError
from storage.keyring import WrappedKey
from storage.store import BlobStore

log = logging.getLogger(__name__)

#: Bytes per body chunk sent: segments (64 KiB) are joined so that each thread hop and each
#: socket write moves about 1 MiB, as a FileResponse does (bench/seek.py measures it).
SEND_CHUNK = 1024 * 1024


def _pieces(store: BlobStore, ref: MediaRef, start: int, end: int) -> Iterator[bytes]:
    """Authenticated plaintext of [start, end), segment by segment; a stored object whose
    length is not the recorded one (truncated, extended) fails as tampering, not as a range."""
    opened = store.open(ref.blob_id, WrappedKey.decode(ref.wrapped_key))
    if opened.size != ref.size:
        raise DecryptionError("the stored object's length is not the recorded one")
    yield from opened.read_range(start, end)  # each piece has authenticated before it comes


def _joined(first: bytes, rest: Iterator[bytes], blob_id: str) -> Iterator[bytes]:
    """Sync iterator (Starlette runs it in a thread): pieces joined into ~1 MiB sends. A later
    segment that fails to authenticate can only cut the connection now: it is logged so."""
    pending, size = [first], len(first)
    try:
        for piece in rest:
            pending.append(piece)
            size += len(piece)
            if size >= SEND_CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
    except DecryptionError:
        log.error("media object %s failed its integrity check mid-answer (tampering or corruption); "
                  "connection cut", blob_id)
        raise
    if pending:
        yield b"".join(pending)


async def _first_then_rest(store: BlobStore, ref: MediaRef, start: int, end: int) -> Iterator[bytes] | Response:
    """Open the object and authenticate the first segment the answer needs *before* the status
    line goes out, so a tampered or truncated object is a clear 5xx, not a 200 cut short."""
    pieces = _pieces(store, ref, start, end)
    try:
        first = await run_in_threadpool(next, pieces, b"")
    except DecryptionError:
        log.error("media object %s failed its integrity check (tampering or corruption): "
                  "answered 500 before any byte", ref.blob_id)
        dependency_error(DecryptionError(), "integrity")
        return JSONResponse({"error": "integrity", "message": "This file failed its integrity check, so it "
                             "is not shown. The service's operators have been told; please tell your facilitator."},
                            status_code=500)
    return _joined(first, pieces, ref.blob_id)


async def message_media(request: Request) -> Response:
    return await _serve(request, "media")


async def message_poster(request: Request) -> Response:
    return await _serve(request, "poster")


async def _serve(request: Request, rendition: str) -> Response:
    header = request.headers.get("range")
    starts_at_zero = header is None or header.replace(" ", "").startswith("bytes=0-")
    version = request.query_params.get("version")
    ref = await run(request, media_ref, request.path_params["message_id"],
                    version_id=None if version is None else id_or_missing(version), rendition=rendition,
                    audit_view=starts_at_zero, writes=None if starts_at_zero else False)  # a seek only reads
    etag = f'"{ref.blob_id}"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag}
    try:
        chosen = ranges.parse(header, ref.size) if ranges.if_range_allows(
            request.headers.get("if-range"), etag) else ranges.FULL
    except ranges.Unsatisfiable:
        return JSONResponse({"error": "range_not_satisfiable",
                             "message": f"The range asked for starts past the end: this file has {ref.size} bytes."},
                            status_code=416, headers=headers | {"Content-Range": f"bytes */{ref.size}"})
    headers |= {"Content-Type": ref.content_type, "Content-Disposition": "inline"}
    store = services(request).store
    whole = chosen == ranges.FULL or not isinstance(chosen, ranges.ByteRange)
    start, end = (0, ref.size) if whole else (chosen.start, chosen.end)  # type: ignore[union-attr]
    body = await _first_then_rest(store, ref, start, end)
    if isinstance(body, Response):
        return body
    if whole:
        return StreamingResponse(body, status_code=200, headers=headers | {"Content-Length": str(ref.size)})
    return StreamingResponse(body, status_code=206,
                             headers=headers | {"Content-Length": str(chosen.length),  # type: ignore[union-attr]
                                                "Content-Range": chosen.content_range(ref.size)})  # type: ignore[union-attr]


ROUTES = [
    Route("/messages/{message_id}/media", message_media, methods=["GET"]),
    Route("/messages/{message_id}/poster", message_poster, methods=["GET"]),
]
