"""Serving processed media with HTTP Range, decrypting only the segments a range covers,
so a browser's <video> seeks in an encrypted file as it would in a plain one."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from shuttle.messages.delivery import MediaRef, media_ref
from shuttle.web import ranges
from shuttle.web.http import id_or_missing, run, services
from storage.keyring import WrappedKey
from storage.store import BlobStore

#: Bytes per body chunk sent: segments (64 KiB) are joined so that each thread hop and each
#: socket write moves about 1 MiB, as a FileResponse does (bench/seek.py measures it).
SEND_CHUNK = 1024 * 1024


def _stream(store: BlobStore, ref: MediaRef, start: int, end: int) -> Iterator[bytes]:
    """Sync iterator (Starlette runs it in a thread): opens lazily, reads only [start, end)."""
    opened = store.open(ref.blob_id, WrappedKey.decode(ref.wrapped_key))
    pending: list[bytes] = []
    size = 0
    for piece in opened.read_range(start, end):  # each piece has authenticated before it comes
        pending.append(piece)
        size += len(piece)
        if size >= SEND_CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


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
                    audit_view=starts_at_zero)
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
    if chosen == ranges.FULL or not isinstance(chosen, ranges.ByteRange):
        return StreamingResponse(_stream(store, ref, 0, ref.size), status_code=200,
                                 headers=headers | {"Content-Length": str(ref.size)})
    return StreamingResponse(_stream(store, ref, chosen.start, chosen.end), status_code=206,
                             headers=headers | {"Content-Length": str(chosen.length),
                                                "Content-Range": chosen.content_range(ref.size)})


ROUTES = [
    Route("/messages/{message_id}/media", message_media, methods=["GET"]),
    Route("/messages/{message_id}/poster", message_poster, methods=["GET"]),
]
