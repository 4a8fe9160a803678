"""Request bodies straight into encrypted storage: no plaintext on disk, memory flat.

The ASGI body arrives on the event loop; the blob store writes synchronously (files, S3).
A worker thread runs `BlobStore.put` and pulls the body from the loop in batches of about
1 MiB, so a slow disk slows the client down instead of filling memory. The loop reads one
batch ahead while the worker encrypts and writes the previous one (receiving and writing
overlap; at most about three batches are in memory), which bench/ingest.py measures.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import anyio
import anyio.from_thread
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request

from storage.store import BlobStore, StoredObject

BATCH = 1024 * 1024
AHEAD = 1  # batches read ahead while the worker writes


@dataclass
class Received:
    """What a body turned into: the stored object, whether the client went away, its digest."""

    stored: StoredObject
    disconnected: bool
    digest: bytes | None


class _Body:
    def __init__(self, request: Request, algorithm: str | None) -> None:
        self._chunks: AsyncIterator[bytes] = request.stream().__aiter__()
        self.disconnected = False
        self.hasher = hashlib.new(algorithm) if algorithm else None

    async def next_batch(self) -> bytes:
        """Up to ~1 MiB of body; b"" at the end (or when the client went away mid-body)."""
        chunks: list[bytes] = []
        size = 0
        while size < BATCH:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                break
            except ClientDisconnect:
                self.disconnected = True
                break
            chunks.append(chunk)
            size += len(chunk)
        batch = b"".join(chunks)  # one copy
        if self.hasher is not None:
            self.hasher.update(batch)
        return batch


async def store_body(
    request: Request, store: BlobStore, *, max_bytes: int, checksum_algorithm: str | None = None
) -> Received:
    """Encrypt the request body into a new object; ObjectTooLarge past `max_bytes`, storing nothing."""
    body = _Body(request, checksum_algorithm)
    send, receive = anyio.create_memory_object_stream[bytes](max_buffer_size=AHEAD)
    failed: list[BaseException] = []
    finished = False

    async def read_ahead() -> None:
        nonlocal finished
        with send:
            try:
                while batch := await body.next_batch():
                    await send.send(batch)
                finished = True
            except Exception as exc:  # handed to the writer, which then stores nothing
                failed.append(exc)

    def batches() -> Iterator[bytes]:
        """Runs in the worker thread: take batches from the loop until the body ends."""
        while True:
            try:
                yield anyio.from_thread.run(receive.receive)
            except anyio.EndOfStream:
                if not finished:  # reading failed or was cancelled: not the whole body
                    raise failed[0] if failed else ClientDisconnect() from None
                return

    error: BaseException | None = None
    with receive:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read_ahead)
            try:
                stored = await anyio.to_thread.run_sync(lambda: store.put(batches(), max_bytes=max_bytes))
            except Exception as exc:  # raised after the task group, unwrapped
                error = exc
            tasks.cancel_scope.cancel()  # the writer stopped early (e.g. too large): stop reading
    if error is not None:
        raise error
    digest = body.hasher.digest() if body.hasher is not None else None
    return Received(stored, body.disconnected, digest)
