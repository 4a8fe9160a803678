"""Serving processed media with HTTP Range, decrypting only the segments a range covers,
so a browser's <video> seeks in an encrypted file as it would in a plain one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from shuttle.errors import NotFound
from shuttle.messages import captions, delivery
from shuttle.messages.delivery import MediaRef, media_ref
from shuttle.services import Actor, Services
from shuttle.web import ranges
from shuttle.web.http import id_or_missing, run
from shuttle.web.metrics import dependency_error
from storage.errors import DecryptionError
from storage.keyring import WrappedKey
from storage.store import BlobStore, EncryptedObject

log = logging.getLogger(__name__)

#: Bytes per body chunk sent: segments (64 KiB) are joined so that each thread hop and each
#: socket write moves about 1 MiB, as a FileResponse does (bench/seek.py measures it).
SEND_CHUNK = 1024 * 1024
#: A range (or whole object, a poster) up to this long, as a player's seek asks for, is decrypted
#: all at once in the request's one thread hop and sent as one body: no second hop, no streaming
#: machinery, every segment authenticated before the status line. Longer ones are streamed.
WHOLE_RANGE = 2 * SEND_CHUNK


def _opened(store: BlobStore, ref: MediaRef) -> EncryptedObject:
    """The stored object; one whose length is not the recorded one (truncated, extended) fails
    as tampering, not as a range."""
    opened = store.open(ref.blob_id, WrappedKey.decode(ref.wrapped_key))
    if opened.size != ref.size:
        raise DecryptionError("the stored object's length is not the recorded one")
    return opened


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


@dataclass
class _Opened:
    """What the one thread hop of a media request found: the media, the range chosen (None: not
    satisfiable), and either a short range whole or the first piece with the rest to come (neither:
    it failed its integrity check)."""

    ref: MediaRef
    chosen: ranges.ByteRange | str | None  # a range, FULL, or None: not satisfiable
    start: int = 0
    end: int = 0
    first: bytes | None = None
    rest: Iterator[bytes] = field(default_factory=lambda: iter(()))
    whole: memoryview | None = None  # a short range, all of it (then `first` and `rest` are not used)


def _integrity_failure(ref: MediaRef) -> Response:
    log.error("media object %s failed its integrity check (tampering or corruption): "
              "answered 500 before any byte", ref.blob_id)
    dependency_error(DecryptionError(), "integrity")
    return JSONResponse({"error": "integrity", "message": "This file failed its integrity check, so it "
                         "is not shown. The service's operators have been told; please tell your facilitator."},
                        status_code=500)


async def message_media(request: Request) -> Response:
    return await _serve(request, "media")


async def message_poster(request: Request) -> Response:
    return await _serve(request, "poster")


async def _serve(request: Request, rendition: str) -> Response:
    """One thread hop per request: in one read-only unit of work the session, permission and gate
    checks (media_ref, re-run for every range: a pause stops playback at once), then the object is
    opened and the first segment of the range (all of a short one) authenticated *before* the status
    line goes out, so a tampered or truncated object is a clear 5xx, not a 200 cut short."""
    header = request.headers.get("range")
    starts_at_zero = header is None or header.replace(" ", "").startswith("bytes=0-")
    version = request.query_params.get("version")
    if_range = request.headers.get("if-range")

    def open_range(session: Session, svc: Services, actor: Actor) -> _Opened:
        ref = media_ref(session, svc, actor, request.path_params["message_id"],
                        version_id=None if version is None else id_or_missing(version), rendition=rendition,
                        audit_view=starts_at_zero)
        try:
            chosen = ranges.parse(header, ref.size) if ranges.if_range_allows(if_range, f'"{ref.blob_id}"') \
                else ranges.FULL
        except ranges.Unsatisfiable:
            return _Opened(ref, None)
        start, end = (chosen.start, chosen.end) if isinstance(chosen, ranges.ByteRange) else (0, ref.size)
        try:
            stored = _opened(svc.store, ref)
            if end - start <= WHOLE_RANGE:
                return _Opened(ref, chosen, start, end, whole=stored.read_range_at_once(start, end))
            pieces = stored.read_range(start, end)  # each piece has authenticated before it comes
            return _Opened(ref, chosen, start, end, next(pieces, b""), pieces)
        except DecryptionError:
            return _Opened(ref, chosen, start, end)

    opened = await run(request, open_range, writes=None if starts_at_zero else False)  # a seek only reads
    ref, chosen = opened.ref, opened.chosen
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{ref.blob_id}"'}
    if chosen is None:
        return JSONResponse({"error": "range_not_satisfiable",
                             "message": f"The range asked for starts past the end: this file has {ref.size} bytes."},
                            status_code=416, headers=headers | {"Content-Range": f"bytes */{ref.size}"})
    if opened.first is None and opened.whole is None:
        return _integrity_failure(ref)
    headers |= {"Content-Type": ref.content_type, "Content-Disposition": "inline"}
    if opened.whole is not None:
        if not isinstance(chosen, ranges.ByteRange):
            return Response(opened.whole, status_code=200, headers=headers)
        return Response(opened.whole, status_code=206,
                        headers=headers | {"Content-Range": chosen.content_range(ref.size)})
    body = _joined(opened.first or b"", opened.rest, ref.blob_id)
    if not isinstance(chosen, ranges.ByteRange):
        return StreamingResponse(body, status_code=200, headers=headers | {"Content-Length": str(ref.size)})
    return StreamingResponse(body, status_code=206,
                             headers=headers | {"Content-Length": str(chosen.length),
                                                "Content-Range": chosen.content_range(ref.size)})


async def message_captions(request: Request) -> Response:
    """The captions track of a recording whose transcript was timed (text/vtt), under the same gate
    as its transcript: a recipient only once the approved version is released and opened; 404 else."""
    text = await run(request, delivery.captions, request.path_params["message_id"])
    if text is None:
        raise NotFound()
    return Response(text, media_type=captions.CONTENT_TYPE,
                    headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


ROUTES = [
    Route("/messages/{message_id}/captions.vtt", message_captions, methods=["GET"]),
    Route("/messages/{message_id}/media", message_media, methods=["GET"]),
    Route("/messages/{message_id}/poster", message_poster, methods=["GET"]),
]
