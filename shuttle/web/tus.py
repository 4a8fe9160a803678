"""Resumable uploads over tus 1.0.0: core, creation, creation-with-upload, creation-defer-length,
termination, checksum and expiration (https://tus.io/protocols/resumable-upload).

creation-defer-length serves a recording sent while it is being made: its size is told by the
PATCH that carries its last piece (Upload-Length), or by an empty PATCH after it.

Each POST/PATCH body is encrypted into its own part while it streams in; a body cut off
mid-way still counts for what arrived, so the client resumes from the server's offset.
"""

from __future__ import annotations

import base64
import binascii
from email.utils import format_datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from shuttle.errors import BadInput, Conflict, ShuttleError, TooLarge
from shuttle.i18n import N_, Sentence
from shuttle.uploads import service as uploads
from shuttle.uploads import sniff
from shuttle.uploads.models import Upload
from shuttle.web.http import MAX_DIGITS, id_or_missing, run, services, to_natural
from shuttle.web.streams import store_body
from storage.errors import ObjectTooLarge

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration"
CHECKSUMS = {"sha1": "sha1", "sha256": "sha256", "md5": "md5"}
OFFSET_TYPE = "application/offset+octet-stream"


class PreconditionFailed(ShuttleError):
    status = 412
    code = "tus_version"


class UnsupportedMediaType(ShuttleError):
    status = 415
    code = "content_type"


class ChecksumMismatch(ShuttleError):
    status = 460
    code = "checksum_mismatch"


def _headers(upload: Upload | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": VERSION, "Cache-Control": "no-store"}
    if upload is not None:
        headers.update({"Upload-Offset": str(upload.offset),
                        "Upload-Expires": format_datetime(upload.expires_at, usegmt=True)})
        if uploads.deferred(upload):
            headers["Upload-Defer-Length"] = "1"
        else:
            headers["Upload-Length"] = str(upload.length)
    return headers


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != VERSION:
        raise PreconditionFailed(Sentence(N_("This server speaks tus %(version)s."), version=VERSION))


def _int_header(request: Request, name: str) -> int:
    value = to_natural(request.headers.get(name, ""))
    if value is None:
        raise BadInput(Sentence(N_("The %(name)s header must be a whole number of bytes, in at most %(digits)s digits "
                                    "0-9."), name=name, digits=MAX_DIGITS))
    return value


def _created_length(request: Request) -> int | None:
    """A new upload's Upload-Length, or None with Upload-Defer-Length: 1 (exactly one of the two)."""
    defer = request.headers.get("upload-defer-length")
    if defer is None:
        return _int_header(request, "Upload-Length")
    if defer != "1":
        raise BadInput(N_("Upload-Defer-Length can only be 1."))
    if "upload-length" in request.headers:
        raise BadInput(N_("Send Upload-Length or Upload-Defer-Length, not both."))
    return None


def _metadata(request: Request) -> dict[str, str]:
    """Upload-Metadata: comma-separated "key base64value" pairs. Only message_id is used;
    a file name, if a client sends one, is dropped here and never stored."""
    pairs: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in request.headers.get("upload-metadata", "").split(","))):
        key, _, value = item.partition(" ")
        try:
            pairs[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise BadInput(N_("Upload-Metadata values must be base64.")) from None
    return pairs


def _checksum(request: Request) -> tuple[str, bytes] | None:
    raw = request.headers.get("upload-checksum")
    if not raw:
        return None
    algorithm, _, value = raw.partition(" ")
    if algorithm not in CHECKSUMS:
        raise BadInput(Sentence(N_("Upload-Checksum algorithms: %(algorithms)s."), algorithms=", ".join(CHECKSUMS)))
    try:
        return CHECKSUMS[algorithm], base64.b64decode(value, validate=True)
    except binascii.Error:
        raise BadInput(N_("The Upload-Checksum value must be base64.")) from None


async def _peek(request: Request, want: int) -> tuple[bytes, Request]:
    """The body's first `want` bytes (fewer if it is shorter), and the request to read it all from
    (the same body, those bytes first): the rest still streams, nothing is buffered beyond them."""
    messages: list[Message] = []
    head = b""
    while len(head) < want:
        message = await request.receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # the client went away: what arrived is judged, the store sees the disconnect
        head += message.get("body", b"")
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await request.receive()

    return head[:want], Request(request.scope, replay)


async def _refuse_unless_media(request: Request, upload_id: str, remaining: int) -> Request:
    """The first piece of an upload: a file that is clearly not a recording or picture is refused
    as its first bytes arrive (415, with the reason), and the upload is ended with nothing kept."""
    head, request = await _peek(request, sniff.HEAD_BYTES)
    reason = sniff.refusal(head, whole=len(head) >= remaining)
    if reason is not None:
        await run(request, uploads.terminate, upload_id)
        raise UnsupportedMediaType(reason, code="not_media")
    return request


async def _append(request: Request, upload_id: str, offset: int, length: int | None = None) -> Upload:
    """Stream the body into an encrypted part, then count it if it is whole and intact.
    `length`: a deferred upload's length, told with this piece (its last) or after it."""
    remaining = await run(request, uploads.check_offset, upload_id, offset, length)
    if offset == 0:
        request = await _refuse_unless_media(request, upload_id, remaining)
    checksum = _checksum(request)
    try:
        received = await store_body(request, services(request).store, max_bytes=remaining,
                                    checksum_algorithm=checksum[0] if checksum else None)
    except ObjectTooLarge:
        raise TooLarge(N_("More bytes arrived than the upload announced.")) from None
    try:
        if checksum is not None and (received.disconnected or received.digest != checksum[1]):
            raise ChecksumMismatch(N_("The checksum of this piece does not match; send it again."))
        if received.stored.size == 0:  # nothing to count (e.g. a PATCH that only tells the length)
            await run_in_threadpool(services(request).store.delete, received.stored.object_id)
            return await run(request, uploads.finish_if_whole, upload_id)
        return await run(request, uploads.record_part, upload_id, offset, received.stored)
    except ShuttleError:  # refused before anything committed (e.g. another request moved the
        # offset): the piece's bytes go at once. Never on other errors: a commit whose answer
        # was lost may have recorded the piece.
        await run_in_threadpool(services(request).store.delete, received.stored.object_id)
        raise


async def options(request: Request) -> Response:
    limit = services(request).settings.limits.max_upload_bytes
    return Response(status_code=204, headers={"Tus-Resumable": VERSION, "Tus-Version": VERSION,
                                              "Tus-Extension": EXTENSIONS, "Tus-Max-Size": str(limit),
                                              "Tus-Checksum-Algorithm": ",".join(CHECKSUMS)})


async def create(request: Request) -> Response:
    _require_tus(request)
    length = _created_length(request)
    message_id = id_or_missing(_metadata(request).get("message_id"))
    upload = await run(request, uploads.create, message_id, length)
    if request.headers.get("content-type") == OFFSET_TYPE:
        upload = await _append(request, upload.id, 0)
    headers = _headers(upload) | {"Location": f"/api/v1/uploads/{upload.id}"}
    return Response(status_code=201, headers=headers)


async def head(request: Request) -> Response:
    _require_tus(request)
    upload_id = request.path_params["upload_id"]
    # the headers are read inside the unit of work: a read-only one ends without a commit, and its rows with it
    headers = await run(request, lambda s, svc, actor: _headers(uploads.get(s, svc, actor, upload_id)))
    return Response(status_code=200, headers=headers)


async def patch(request: Request) -> Response:
    _require_tus(request)
    if request.headers.get("content-type") != OFFSET_TYPE:
        raise UnsupportedMediaType(Sentence(N_("PATCH bodies are %(type)s."), type=OFFSET_TYPE))
    length = _int_header(request, "Upload-Length") if "upload-length" in request.headers else None
    upload = await _append(request, request.path_params["upload_id"], _int_header(request, "Upload-Offset"), length)
    return Response(status_code=204, headers=_headers(upload))


async def delete(request: Request) -> Response:
    _require_tus(request)
    await run(request, uploads.terminate, request.path_params["upload_id"])
    return Response(status_code=204, headers={"Tus-Resumable": VERSION})


async def put_media(request: Request) -> Response:
    """A plain one-request upload (no resuming) for simple clients: PUT the whole file."""
    length = _int_header(request, "Content-Length")
    upload = await run(request, uploads.create, request.path_params["message_id"], length)
    upload = await _append(request, upload.id, 0)
    if upload.state != "complete":
        raise Conflict(N_("The upload was cut off; send it again."), code="incomplete")
    return JSONResponse({"upload_id": upload.id, "size": upload.length}, status_code=201)


ROUTES = [
    Route("/uploads", options, methods=["OPTIONS"]),
    Route("/uploads", create, methods=["POST"]),
    Route("/uploads/{upload_id}", head, methods=["HEAD"]),
    Route("/uploads/{upload_id}", patch, methods=["PATCH"]),
    Route("/uploads/{upload_id}", delete, methods=["DELETE"]),
    Route("/messages/{message_id}/media", put_media, methods=["PUT"]),
]
