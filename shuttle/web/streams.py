"""Request bodies straight into encrypted storage: no plaintext on disk, memory flat.

The ASGI body arrives on the event loop; the blob store writes synchronously (files, S3).
A worker thread runs `BlobStore.put` and pulls the body from the loop in batches of about
1 MiB, so a slow disk slows the client down instead of filling memory.
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
        batch = bytearray()
        while len(batch) < BATCH:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                break
            except ClientDisconnect:
                self.disconnected = True
                break
            batch += chunk
        if self.hasher is not None:
            self.hasher.update(batch)
        return bytes(batch)

    def pull(self) -> Iterator[bytes]:
        """Runs in the worker thread: fetch batches from the event loop until the end."""
        while batch := anyio.from_thread.run(self.next_batch):
            yield batch


async def store_body(
    request: Request, store: BlobStore, *, max_bytes: int, checksum_algorithm: str | None = None
) -> Received:
    """Encrypt the request body into a new object; ObjectTooLarge past `max_bytes`, storing nothing."""
    body = _Body(request, checksum_algorithm)
    stored = await anyio.to_thread.run_sync(lambda: store.put(body.pull(), max_bytes=max_bytes))
    digest = body.hasher.digest() if body.hasher is not None else None
    return Received(stored, body.disconnected, digest)
