"""Ciphertext in Amazon S3 or an S3-compatible store (MinIO, Ceph RGW, Garage, ...).

The `Backend` protocol was shaped after S3, so the mapping is direct:

- `writer` is a streaming multipart upload holding one part in memory at a time (a single
  PutObject when the whole object fits in one part). The object becomes visible only when
  CompleteMultipartUpload succeeds; any exception aborts the upload, so nothing is ever
  half-visible. A crash can still leave an incomplete upload behind (invisible to reads and
  listings, but billed): `abort_stale_uploads` is for the sweeper, and a bucket lifecycle
  rule `AbortIncompleteMultipartUpload` is the belt to its braces.
- `read` is one ranged GET (`Range: bytes=offset-(offset+length-1)`); the stream layer
  plans these from the segment arithmetic in `storage.layout`.
- `size` is HeadObject, `delete` DeleteObject (idempotent in S3 already), `list_ids`
  a paginated ListObjectsV2.

Retries: botocore's "standard" mode retries 5xx answers, throttling, connection errors and
timeouts, rewinding the request body (a part) each time. A read timeout *while streaming a
GET body* happens after botocore has returned, so `read` retries that itself.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from storage.errors import ObjectNotFound, StorageError, StorageUnavailable
from storage.ids import check_object_id, is_object_id

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PARTS = 10_000  # so the largest object is MAX_PARTS * part_size (80 GB at 8 MiB)
DEFAULT_PART_SIZE = 8 * MiB
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_RETRIES = 5
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_BODY_ERRORS = (ReadTimeoutError, ResponseStreamingError, IncompleteReadError)
_OUTAGE_CODES = frozenset({"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout",
                           "Throttling", "ThrottlingException", "RequestTimeTooSkewed"})


def client_config(
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    path_style: bool = False,
) -> Config:
    """The botocore configuration every S3 client of this backend should use."""
    return Config(
        # "standard" retries 500/502/503/504, throttling errors, connection errors and
        # read/connect timeouts with exponential backoff and jitter (at most 20 s apart).
        # botocore's `max_attempts` counts retries after the first try (it becomes
        # total_max_attempts = retries + 1).
        retries={"mode": "standard", "max_attempts": retries},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # boto3/botocore >= 1.36 compute a CRC32 checksum for every upload by default and
        # send it as `x-amz-checksum-crc32` (as a trailer of an `aws-chunked` encoded body
        # when streaming), and validate checksums of downloads. Several S3-compatible
        # stores (older MinIO releases, Ceph RGW, Garage, some appliances) reject those
        # requests or mis-store the chunk framing. "when_required" restores the pre-1.36
        # behaviour: checksums only for operations that demand one. Integrity does not
        # suffer: every part and small object carries a Content-MD5 (checked by every
        # S3-compatible store), and ciphertext is authenticated by AES-GCM on every read.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # Virtual-host addressing needs DNS for bucket.host; a self-hosted endpoint
        # (MinIO at http://minio:9000) generally serves path-style only.
        s3={"addressing_style": "path" if path_style else "auto"},
    )


def make_s3_client(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    session: boto3.session.Session | None = None,
    **credentials: Any,
) -> Any:
    """An S3 client with `client_config`; credentials come from the usual places unless given."""
    config = client_config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=retries,
        path_style=bool(endpoint_url),
    )
    return (session or boto3.session.Session()).client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config, **credentials
    )


@dataclass(frozen=True)
class IncompleteUpload:
    """A multipart upload that was started and neither completed nor aborted."""

    object_id: str
    upload_id: str
    initiated: float  # Unix timestamp


class _Body:
    """A read-only, seekable file over a buffer, so botocore can send and re-send (on retry)
    a part without copying it first (`io.BytesIO(bytearray)` would copy the whole part)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._view = memoryview(data)
        self._position = 0

    def __len__(self) -> int:
        return len(self._view)

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._position + size)
        chunk = bytes(self._view[self._position : end])
        self._position = max(self._position, end)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._position, len(self._view))[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._view.release()


def _md5(data: bytes | bytearray) -> str:
    """Content-MD5 header value: S3 refuses a part whose bytes do not match (then we retry)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


class _UploadWriter:
    """Buffers up to one part; see `S3Backend.writer`."""

    def __init__(self, backend: S3Backend, object_id: str) -> None:
        self._backend = backend
        self._object_id = object_id
        self._key = backend.key(object_id)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        part_size = self._backend.part_size
        while view:
            room = part_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == part_size:
                self._upload_part()

    def _upload_part(self) -> None:
        backend, client = self._backend, self._backend.client
        if len(self._parts) >= MAX_PARTS:
            raise StorageError(f"object larger than {MAX_PARTS} parts of {backend.part_size} bytes")
        with backend.translate("upload", self._object_id):
            if self._upload_id is None:
                created = client.create_multipart_upload(Bucket=backend.bucket, Key=self._key)
                self._upload_id = created["UploadId"]
            part, self._buffer = self._buffer, bytearray()  # hand the part over, no copy
            number = len(self._parts) + 1
            body = _Body(part)
            try:
                answer = client.upload_part(
                    Bucket=backend.bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    PartNumber=number,
                    Body=body,
                    ContentLength=len(part),
                    ContentMD5=_md5(part),
                )
            finally:
                body.close()
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self) -> None:
        backend, client = self._backend, self._backend.client
        if self._upload_id is None:  # small object: one request
            body = _Body(self._buffer)
            try:
                with backend.translate("upload", self._object_id):
                    client.put_object(
                        Bucket=backend.bucket,
                        Key=self._key,
                        Body=body,
                        ContentLength=len(self._buffer),
                        ContentMD5=_md5(self._buffer),
                    )
            finally:
                body.close()
            return
        if self._buffer:  # the last part may be short; it is empty when the data ended on a boundary
            self._upload_part()
        with backend.translate("upload", self._object_id):
            client.complete_multipart_upload(
                Bucket=backend.bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )

    def abort(self) -> None:
        """Best effort: if this fails too (the network is gone), the sweeper aborts it later."""
        self._buffer = bytearray()
        if self._upload_id is None:
            return
        self._backend.abort_upload(self._object_id, self._upload_id)


class S3Backend:
    """Implements `storage.backends.base.Backend` on an S3 bucket, under `prefix + object_id`.

    Credentials come from the usual boto3 places (environment, shared config, instance or
    task role) unless a ready `client` is given (it should use `client_config()`).
    """

    def __init__(
        self,
        bucket: str,
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        part_size: int = DEFAULT_PART_SIZE,
        read_attempts: int = 3,
        list_page_size: int = 1000,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part size must be in [{MIN_PART_SIZE}, {MAX_PART_SIZE}] bytes (S3's limits)")
        if prefix.startswith("/"):
            raise ValueError("the key prefix must not start with '/'")
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.client = client if client is not None else make_s3_client(endpoint_url=endpoint_url, region=region)
        self._read_attempts = max(1, read_attempts)
        self._pages = {"PageSize": list_page_size}  # 1000 is S3's maximum
        # Uploads whose abort failed (the store was down): known dead, so the next sweep
        # aborts them whatever their age. Per process; the age rule covers the rest.
        self._failed_aborts: dict[str, str] = {}
        self._failed_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Backend(bucket={self.bucket!r}, prefix={self.prefix!r}, part_size={self.part_size})"

    def key(self, object_id: str) -> str:
        """The S3 key of an object; validation first, so no id can name a key outside the prefix."""
        return self.prefix + check_object_id(object_id)

    @contextmanager
    def writer(self, object_id: str) -> Iterator[_UploadWriter]:
        """Stream an object in with memory of one part. On clean exit the upload is completed
        (or the one PutObject made) and the object appears whole; on any exception the
        multipart upload is aborted and the exception propagates.

        If CompleteMultipartUpload succeeds but its answer is lost, the retry finds no
        upload and this raises although the object exists: under a fresh id (BlobStore's
        default) an orphan nothing refers to, which the sweeper deletes. Never the reverse
        (a reported success without an object).
        """
        upload = _UploadWriter(self, object_id)
        try:
            yield upload
            upload.complete()
        except BaseException:
            upload.abort()
            raise

    def size(self, object_id: str) -> int:
        key = self.key(object_id)
        with self.translate("head", object_id):
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def read(self, object_id: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        key = self.key(object_id)
        if length == 0:
            self.size(object_id)  # still ObjectNotFound for a missing object
            return b""
        byte_range = f"bytes={offset}-{offset + length - 1}"
        for attempt in range(1, self._read_attempts + 1):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=key, Range=byte_range)
            except ClientError as error:
                if _code(error) == "InvalidRange":
                    return b""  # the range starts at or past the end (or the object is empty)
                raise self._error("read", object_id, error) from error
            except BotoCoreError as error:
                raise self._error("read", object_id, error) from error
            body = answer["Body"]
            try:
                data: bytes = body.read()  # botocore checks it against Content-Length
            except _BODY_ERRORS as error:
                # botocore's retries end when the headers arrive; a stall or a cut while
                # the body streams is ours to retry.
                if attempt == self._read_attempts:
                    raise StorageUnavailable(f"S3 read of {object_id!r} failed: {error}") from error
                log.warning("S3 read of %s failed while streaming (%s); retrying", object_id, error)
                time.sleep(min(0.1 * 2**attempt, 2.0))
                continue
            finally:
                body.close()
            if len(data) > length:
                raise StorageError(f"S3 answered {len(data)} bytes to a {length}-byte range")
            return data
        raise AssertionError("unreachable")

    def delete(self, object_id: str) -> None:
        key = self.key(object_id)
        with self.translate("delete", object_id):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, object_id: str) -> bool:
        try:
            self.size(object_id)
        except ObjectNotFound:
            return False
        return True

    def list_ids(self) -> Iterator[tuple[str, float]]:
        """Objects under the prefix whose remaining key is an object id (others are strangers)."""
        paginator = self.client.get_paginator("list_objects_v2")
        with self.translate("list", "*"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix, PaginationConfig=self._pages):
                for entry in page.get("Contents", ()):
                    object_id = entry["Key"][len(self.prefix) :]
                    if is_object_id(object_id):
                        yield object_id, _timestamp(entry["LastModified"])

    def list_incomplete_uploads(self) -> Iterator[IncompleteUpload]:
        """Multipart uploads under the prefix that were neither completed nor aborted."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with self.translate("list uploads", "*"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix, PaginationConfig=self._pages):
                for entry in page.get("Uploads", ()):
                    object_id = entry["Key"][len(self.prefix) :]
                    if is_object_id(object_id):
                        yield IncompleteUpload(object_id, entry["UploadId"], _timestamp(entry["Initiated"]))

    def abort_stale_uploads(self, older_than: float, *, now: float | None = None) -> int:
        """Abort incomplete uploads started more than `older_than` seconds ago; returns how many.

        Choose `older_than` well above the longest upload you expect: aborting a live upload
        makes that writer fail (cleanly: its object never appears).
        """
        cutoff = (time.time() if now is None else now) - older_than
        with self._failed_guard:
            known_dead = set(self._failed_aborts)
        stale = [upload for upload in self.list_incomplete_uploads()
                 if upload.initiated < cutoff or upload.upload_id in known_dead]
        return sum(self.abort_upload(upload.object_id, upload.upload_id) for upload in stale)

    def abort_upload(self, object_id: str, upload_id: str) -> bool:
        """Abort one multipart upload; False if that failed (logged, remembered and retried by
        the next sweep)."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key(object_id), UploadId=upload_id)
        except ClientError as error:
            if _code(error) != "NoSuchUpload":  # NoSuchUpload: already gone
                return self._abort_failed(object_id, upload_id, error)
        except BotoCoreError as error:
            return self._abort_failed(object_id, upload_id, error)
        with self._failed_guard:
            self._failed_aborts.pop(upload_id, None)
        return True

    def _abort_failed(self, object_id: str, upload_id: str, error: Exception) -> bool:
        log.warning("could not abort S3 upload %s of %s (retried by the next sweep): %s", upload_id, object_id, error)
        with self._failed_guard:
            self._failed_aborts[upload_id] = object_id
        return False

    def check(self) -> None:
        """Raise `StorageError` unless the bucket is reachable (for readiness probes: a missing
        bucket would otherwise look like missing objects, since HEAD answers 404 for both)."""
        with self.translate("check", "*"):
            self.client.head_bucket(Bucket=self.bucket)

    @contextmanager
    def translate(self, action: str, object_id: str) -> Iterator[None]:
        """botocore errors → `ObjectNotFound` (missing key) or `StorageError` (anything else)."""
        try:
            yield
        except (ClientError, BotoCoreError) as error:
            raise self._error(action, object_id, error) from error

    def _error(self, action: str, object_id: str, error: ClientError | BotoCoreError) -> StorageError:
        """Missing key → ObjectNotFound; an outage (no connection, timeouts, 5xx, throttling,
        after botocore's retries) → StorageUnavailable; anything else (a missing bucket, no
        permission) → StorageError, which is a configuration problem, not an outage."""
        message = f"S3 {action} of {object_id!r} in bucket {self.bucket!r} failed"
        if isinstance(error, ClientError):
            code = _code(error)
            if code in _NOT_FOUND and action in {"head", "read"}:
                return ObjectNotFound(object_id)
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status >= 500 or code in _OUTAGE_CODES:
                return StorageUnavailable(f"{message}: {code or status}")
            return StorageError(f"{message}: {code}")
        if isinstance(error, (BotoConnectionError, HTTPClientError)):  # refused, reset, timed out
            return StorageUnavailable(f"{message}: {error}")
        return StorageError(f"{message}: {error}")  # e.g. no credentials: configuration


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _timestamp(value: datetime | str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
