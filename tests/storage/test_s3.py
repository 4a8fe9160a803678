"""The S3 backend beyond the shared contract (test_backends.py runs that against S3 too):
multipart streaming with bounded memory, injected failures (5xx, dropped connections, read
timeouts) that are retried or cleanly aborted, incomplete-upload sweeping, and BlobStore end
to end on S3. All over HTTP against moto on 127.0.0.1."""

from __future__ import annotations

import hashlib
import random
import socket
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from fault_proxy import FaultProxy, one_request_per_connection
from hypothesis import given, settings
from hypothesis import strategies as st
from moto_support import FAKE_CREDENTIALS, REGION, empty_bucket, fake_response, new_s3_client

from storage.backends import LocalBackend, MemoryBackend
from storage.backends.s3 import MIN_PART_SIZE, S3Backend
from storage.errors import DecryptionError, ObjectNotFound, StorageError
from storage.factory import make_backend
from storage.keyring import LocalKeyring
from storage.layout import HEADER_SIZE, TAG_SIZE, segment_span
from storage.store import BlobStore, StoredObject

PART = MIN_PART_SIZE  # moto enforces S3's 5 MiB minimum for every part but the last
OBJECT_ID = "object-aaaaaaaa"


class Boom(Exception):
    pass


def server_error() -> AWSResponse:
    body = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
    return fake_response(500, body, "application/xml")


class Recorder:
    """Records the S3 operations (and headers) a client sends; can answer some with a 500."""

    def __init__(self, client: Any) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.fail: dict[str, list[int]] = {}  # operation → which sends (1-based) get a 500
        self._counts: dict[str, int] = {}
        client.meta.events.register("before-send.s3", self._before_send)
        client.meta.events.register("before-call.s3", self._before_call)
        self._operation = ""

    def _before_call(self, model: Any, **_: Any) -> None:
        self._operation = model.name

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = self._operation
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        self.sent.append((operation, headers))
        self._counts[operation] = count = self._counts.get(operation, 0) + 1
        if count in self.fail.get(operation, ()) or -1 in self.fail.get(operation, ()):
            return server_error()
        return None

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]


def pattern(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    return client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


@pytest.fixture
def fresh_client(moto_endpoint: str) -> Any:
    """Its own client, so event hooks stay with the test that adds them."""
    return new_s3_client(moto_endpoint)


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    host, port = moto_endpoint.removeprefix("http://").split(":")
    faults = FaultProxy((host, int(port)))
    try:
        yield faults
    finally:
        faults.close()


# --- streaming multipart writes ---------------------------------------------------------


def test_a_multipart_object_appears_only_on_completion(s3_backend: S3Backend, s3_client: Any) -> None:
    data = pattern(2 * PART + 1000)
    with s3_backend.writer(OBJECT_ID) as writer:
        for chunk in chunked(data, 100_000):
            writer.write(chunk)
        assert not s3_backend.exists(OBJECT_ID)  # two parts are up, and invisible
        assert list(s3_backend.list_ids()) == []
        [pending] = s3_backend.list_incomplete_uploads()
        assert pending.object_id == OBJECT_ID
    assert s3_backend.size(OBJECT_ID) == len(data)
    assert s3_backend.read(OBJECT_ID, 0, len(data)) == data
    assert s3_client.head_object(Bucket=s3_backend.bucket, Key=OBJECT_ID)["ETag"].endswith('-3"')
    assert list(s3_backend.list_incomplete_uploads()) == []


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, ["PutObject"]),
        (PART - 1, ["PutObject"]),
        (PART, ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]),  # no empty last part
        (2 * PART, ["CreateMultipartUpload", "UploadPart", "UploadPart", "CompleteMultipartUpload"]),
        (2 * PART + 1, ["CreateMultipartUpload"] + ["UploadPart"] * 3 + ["CompleteMultipartUpload"]),
    ],
)
def test_requests_and_headers_of_a_write(fresh_client: Any, s3_bucket: str, size: int, expected: list[str]) -> None:
    backend = S3Backend(s3_bucket, client=fresh_client, part_size=PART)
    recorder = Recorder(fresh_client)
    data = pattern(size)
    with backend.writer(OBJECT_ID) as writer:
        writer.write(data)  # one big write is cut into parts all the same
    assert recorder.operations() == expected
    assert backend.read(OBJECT_ID, 0, size + 1) == data
    for operation, headers in recorder.sent:
        # "when_required": no new default CRC checksums, no aws-chunked framing (MinIO et al.)
        assert not [name for name in headers if name.startswith("x-amz-checksum") or name == "x-amz-trailer"]
        assert "aws-chunked" not in headers.get("content-encoding", "")
        if operation in {"PutObject", "UploadPart"}:
            assert "content-md5" in headers


def test_a_failing_chunk_source_aborts_the_multipart_upload(
    s3_backend: S3Backend, s3_client: Any, keyring: LocalKeyring
) -> None:
    store = BlobStore(s3_backend, keyring)

    def source() -> Iterator[bytes]:
        yield from chunked(pattern(2 * PART + 5000), 256 * 1024)  # two parts uploaded by now
        raise ConnectionResetError("the phone went into a tunnel")

    with pytest.raises(ConnectionResetError):
        store.put(source(), object_id=OBJECT_ID)
    assert uploads(s3_client, s3_backend.bucket) == []
    assert list(s3_backend.list_ids()) == [] and not s3_backend.exists(OBJECT_ID)


def test_a_500_on_one_upload_part_is_retried(fresh_client: Any, s3_bucket: str) -> None:
    backend = S3Backend(s3_bucket, client=fresh_client, part_size=PART)
    recorder = Recorder(fresh_client)
    recorder.fail["UploadPart"] = [2]  # the second part's first attempt
    data = pattern(3 * PART - 10)
    with backend.writer(OBJECT_ID) as writer:
        for chunk in chunked(data, 1 << 20):
            writer.write(chunk)
    assert recorder.operations().count("UploadPart") == 4
    assert backend.read(OBJECT_ID, 0, len(data)) == data
    assert uploads(fresh_client, s3_bucket) == []


def test_a_connection_dropped_mid_part_is_retried(proxy: FaultProxy, s3_bucket: str) -> None:
    client = new_s3_client(proxy.endpoint)
    one_request_per_connection(client)
    backend = S3Backend(s3_bucket, client=client, part_size=PART)
    proxy.reset("PUT", "partNumber=2", after_bytes=1 << 20)  # cut 1 MiB into the second part
    data = pattern(2 * PART + 3)
    with backend.writer(OBJECT_ID) as writer:
        for chunk in chunked(data, 1 << 20):
            writer.write(chunk)
    assert len(proxy.faults_used) == 1
    assert sum("partNumber=2" in line for line in proxy.request_lines) == 2
    assert backend.read(OBJECT_ID, 0, len(data)) == data


def test_failures_that_outlast_the_retries_abort_cleanly(moto_endpoint: str, s3_bucket: str) -> None:
    client = new_s3_client(moto_endpoint, retries=1)
    backend = S3Backend(s3_bucket, client=client, part_size=PART)
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"the old version")
    recorder = Recorder(client)
    recorder.fail["UploadPart"] = [-1]  # every attempt
    with pytest.raises(StorageError, match="InternalError"), backend.writer(OBJECT_ID) as writer:
        writer.write(pattern(PART + 1))
    assert recorder.operations() == ["CreateMultipartUpload", "UploadPart", "UploadPart", "AbortMultipartUpload"]
    assert uploads(client, s3_bucket) == []
    assert backend.read(OBJECT_ID, 0, 100) == b"the old version"  # nothing half-visible


# --- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("body_bytes", [None, 1000], ids=["before-headers", "mid-body"])
def test_a_read_timeout_on_get_is_retried(
    proxy: FaultProxy, s3_backend: S3Backend, body_bytes: int | None
) -> None:
    data = pattern(3 << 20)
    with s3_backend.writer(OBJECT_ID) as writer:
        writer.write(data)
    client = new_s3_client(proxy.endpoint, read_timeout=1, connect_timeout=1)
    one_request_per_connection(client)
    reader = S3Backend(s3_backend.bucket, client=client, part_size=PART)
    proxy.stall("GET", OBJECT_ID, body_bytes=body_bytes)
    assert reader.read(OBJECT_ID, 12345, 2 << 20) == data[12345 : 12345 + (2 << 20)]
    assert len(proxy.faults_used) == 1
    assert sum(line.startswith("GET ") for line in proxy.request_lines) >= 2  # stalled, then retried


def test_a_get_that_keeps_stalling_is_a_storage_error(proxy: FaultProxy, s3_backend: S3Backend) -> None:
    with s3_backend.writer(OBJECT_ID) as writer:
        writer.write(pattern(100_000))
    client = new_s3_client(proxy.endpoint, read_timeout=0.3, connect_timeout=1)
    one_request_per_connection(client)
    reader = S3Backend(s3_backend.bucket, client=client, part_size=PART, read_attempts=2)
    for _ in range(2):
        proxy.stall("GET", OBJECT_ID, body_bytes=10)
    with pytest.raises(StorageError, match="read"):
        reader.read(OBJECT_ID, 0, 100_000)


def test_a_missing_bucket_is_not_a_missing_object(s3_client: Any) -> None:
    backend = S3Backend(f"no-such-bucket-{uuid.uuid4().hex[:8]}", client=s3_client, part_size=PART)
    with pytest.raises(StorageError) as raised:
        backend.check()
    assert not isinstance(raised.value, ObjectNotFound)
    with pytest.raises(StorageError, match="NoSuchBucket"), backend.writer(OBJECT_ID) as writer:
        writer.write(b"x")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        list(backend.list_ids())


# --- keys, prefixes, sweeping -------------------------------------------------------------


def test_a_prefix_scopes_keys_and_listings(s3_client: Any, s3_bucket: str) -> None:
    scoped = S3Backend(s3_bucket, client=s3_client, prefix="blobs/", part_size=PART)
    with scoped.writer(OBJECT_ID) as writer:
        writer.write(b"inside")
    for stranger in ("other-object-1", "blobs/notes.txt", "blobs/sub/abcdefgh12", "blobsabcdefgh12"):
        s3_client.put_object(Bucket=s3_bucket, Key=stranger, Body=b"x")
    assert s3_client.get_object(Bucket=s3_bucket, Key=f"blobs/{OBJECT_ID}")["Body"].read() == b"inside"
    assert [object_id for object_id, _ in scoped.list_ids()] == [OBJECT_ID]
    unscoped = S3Backend(s3_bucket, client=s3_client, part_size=PART)
    assert sorted(object_id for object_id, _ in unscoped.list_ids()) == ["blobsabcdefgh12", "other-object-1"]


def test_listing_pages_through_many_objects(fresh_client: Any, s3_bucket: str) -> None:
    backend = S3Backend(s3_bucket, client=fresh_client, part_size=PART, list_page_size=10)
    ids = {f"object-{i:05d}" for i in range(25)}
    for object_id in ids:
        fresh_client.put_object(Bucket=s3_bucket, Key=object_id, Body=b"")
    recorder = Recorder(fresh_client)
    assert {object_id for object_id, _ in backend.list_ids()} == ids
    assert recorder.operations() == ["ListObjectsV2"] * 3


def test_stale_incomplete_uploads_are_listed_and_aborted(
    s3_client: Any, s3_bucket: str, keyring: LocalKeyring, tmp_path: Path
) -> None:
    backend = S3Backend(s3_bucket, client=s3_client, prefix="blobs/", part_size=PART)
    # What a process killed mid-upload leaves behind (an abort never ran):
    crashed = s3_client.create_multipart_upload(Bucket=s3_bucket, Key=f"blobs/{OBJECT_ID}")["UploadId"]
    s3_client.upload_part(Bucket=s3_bucket, Key=f"blobs/{OBJECT_ID}", UploadId=crashed, PartNumber=1, Body=b"x")
    s3_client.create_multipart_upload(Bucket=s3_bucket, Key="elsewhere/abcdefgh12")  # not ours
    [pending] = backend.list_incomplete_uploads()
    assert (pending.object_id, pending.upload_id) == (OBJECT_ID, crashed)
    # moto reports a fixed initiation time (2010-11-10T20:48:33Z): judge age relative to it.
    assert backend.abort_stale_uploads(3600, now=pending.initiated + 60) == 0
    assert list(backend.list_incomplete_uploads()) == [pending]
    assert BlobStore(backend, keyring).abort_stale_uploads(3600) == 1  # what the sweeper calls
    assert list(backend.list_incomplete_uploads()) == []
    assert BlobStore(LocalBackend(tmp_path), keyring).abort_stale_uploads(3600) == 0  # nothing of the kind
    assert [upload["Key"] for upload in uploads(s3_client, s3_bucket)] == ["elsewhere/abcdefgh12"]
    assert backend.abort_upload(OBJECT_ID, crashed)  # already gone: fine


def test_factory_builds_every_backend(
    tmp_path: Path, moto_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name.upper(), value)  # credentials from the usual places
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    s3 = make_backend("s3", s3_bucket=s3_bucket, s3_endpoint_url=moto_endpoint, s3_region=REGION)
    assert isinstance(s3, S3Backend)
    config = s3.client.meta.config
    assert (config.request_checksum_calculation, config.response_checksum_validation) == ("when_required",) * 2
    assert config.retries == {"mode": "standard", "total_max_attempts": 6}  # 5 retries
    assert config.s3["addressing_style"] == "path"
    with s3.writer(OBJECT_ID) as writer:
        writer.write(b"via the factory")
    assert s3.read(OBJECT_ID, 4, 3) == b"the"
    assert isinstance(make_backend("local", local_root=tmp_path / "blobs"), LocalBackend)
    assert isinstance(make_backend("memory"), MemoryBackend)
    with pytest.raises(ValueError):
        make_backend("s3", s3_bucket="")
    with pytest.raises(ValueError):
        make_backend("local")
    with pytest.raises(ValueError, match="unknown"):
        make_backend("gcs")
    with pytest.raises(ValueError, match="part size"):
        S3Backend("bucket", client=s3.client, part_size=1 << 20)


# --- bounded memory (moto in another process, so only our allocations are traced) ---------


@pytest.fixture(scope="module")
def isolated_moto() -> Iterator[str]:
    script = (
        "import sys; from moto.server import ThreadedMotoServer\n"
        "server = ThreadedMotoServer('127.0.0.1', 0, verbose=False); server.start()\n"
        "print(server.get_host_and_port()[1], flush=True); sys.stdin.read(); server.stop()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def generated(total: int, chunk: int, seed: int) -> Iterator[bytes]:
    """A plaintext stream made on the fly: the test itself never holds the whole of it."""
    rng = random.Random(seed)
    for start in range(0, total, chunk):
        yield rng.randbytes(min(chunk, total - start))


def test_memory_stays_bounded_for_a_multipart_write_and_read(isolated_moto: str, keyring: LocalKeyring) -> None:
    client = new_s3_client(isolated_moto)
    bucket = f"memory-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    backend = S3Backend(bucket, client=client, part_size=PART)
    store = BlobStore(backend, keyring)
    total = 3 * PART + 12_345  # four parts: three full, one short
    digest = hashlib.sha256()

    def source() -> Iterator[bytes]:
        for chunk in generated(total, 256 * 1024, seed=11):
            digest.update(chunk)
            yield chunk

    tracemalloc.start()
    try:
        stored = store.put(source())
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        readback = hashlib.sha256()
        for piece in store.open(stored.object_id, stored.key):
            readback.update(piece)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == total and readback.digest() == digest.digest()
    # Measured ~8.3 MiB: one part buffered and handed to botocore without a copy (plus the
    # bytearray's growth slack), the 1 MiB reads of SigV4 payload hashing (plain HTTP
    # only), a plaintext chunk and its sealed segments. Two parts is the bound asserted.
    assert write_peak < 2 * PART, f"write peak {write_peak / 2**20:.1f} MiB"
    assert read_peak < 4 << 20, f"read peak {read_peak / 2**20:.1f} MiB"  # 1 MiB ranged GETs
    plaintext = b"".join(generated(total, 256 * 1024, seed=11))
    opened = store.open(stored.object_id, stored.key)
    for start, end in [(0, 1), (PART - 7, PART + 7), (2 * PART - 100_000, 3 * PART + 10), (total - 1, total)]:
        assert b"".join(opened.read_range(start, end)) == plaintext[start:end]
    empty_bucket(client, bucket)
    client.delete_bucket(Bucket=bucket)


# --- BlobStore end to end on S3 -----------------------------------------------------------

BIG = 20 * 1000 * 1000
BIG_SEGMENT = 64 * 1024


@pytest.fixture(scope="module")
def big_object(
    s3_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BlobStore, StoredObject, str]]:
    bucket = f"shuttle-big-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    keyring = LocalKeyring.open_or_create(tmp_path_factory.mktemp("keys") / "keyring.json")
    store = BlobStore(S3Backend(bucket, client=s3_client, part_size=PART), keyring, segment_size=BIG_SEGMENT)
    stored = store.put(generated(BIG, 1 << 20, seed=20))  # 3 full parts and a short one
    try:
        yield store, stored, bucket
    finally:
        empty_bucket(s3_client, bucket)
        s3_client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def big_plaintext() -> bytes:
    return b"".join(generated(BIG, 1 << 20, seed=20))


@given(data=st.data())
@settings(max_examples=12, deadline=None, database=None)
def test_random_ranges_of_a_20_mb_object_on_s3(
    data: st.DataObject, big_object: tuple[BlobStore, StoredObject, str], big_plaintext: bytes
) -> None:
    store, stored, _ = big_object
    start = data.draw(st.integers(0, BIG))
    end = data.draw(st.integers(start, min(BIG, start + data.draw(st.sampled_from([1, 1000, 100_000, 3_000_000])))))
    assert b"".join(store.open(stored.object_id, stored.key).read_range(start, end)) == big_plaintext[start:end]


def test_a_range_becomes_the_ranged_gets_the_segment_math_plans(
    big_object: tuple[BlobStore, StoredObject, str], big_plaintext: bytes, moto_endpoint: str
) -> None:
    store, stored, bucket = big_object
    client = new_s3_client(moto_endpoint)
    recorder = Recorder(client)
    reader = BlobStore(S3Backend(bucket, client=client, part_size=PART), store.keyring)
    opened = reader.open(stored.object_id, stored.key)
    start, end = 10_000_000, 10_000_000 + 2_500_000
    assert b"".join(opened.read_range(start, end)) == big_plaintext[start:end]
    span = segment_span(start, end, BIG, BIG_SEGMENT)
    gets = [headers["range"] for operation, headers in recorder.sent if operation == "GetObject"]
    assert gets[0] == f"bytes=0-{HEADER_SIZE - 1}"  # opening reads the header only
    covered = [tuple(map(int, r.removeprefix("bytes=").split("-"))) for r in gets[1:]]
    assert covered[0][0] == span.offset and covered[-1][1] == span.offset + span.length - 1
    assert all(b + 1 == c for (_, b), (c, _) in zip(covered, covered[1:], strict=False))  # contiguous
    assert all(b - a + 1 <= 1 << 20 for a, b in covered)  # batches of at most 1 MiB
    assert all((a - HEADER_SIZE) % (BIG_SEGMENT + TAG_SIZE) == 0 for a, _ in covered)  # whole segments


@pytest.fixture(scope="module")
def tamper_target(s3_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, bytes]]:
    bucket = f"shuttle-tamper-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    try:
        yield s3_client, bucket, tmp_path_factory.mktemp("keys")
    finally:
        empty_bucket(s3_client, bucket)
        s3_client.delete_bucket(Bucket=bucket)


@given(data=st.data(), size=st.integers(0, 3000))
@settings(max_examples=15, deadline=None, database=None)
def test_a_byte_overwritten_in_the_bucket_is_refused(
    data: st.DataObject, size: int, tamper_target: tuple[Any, str, Path]
) -> None:
    client, bucket, keys = tamper_target
    store = BlobStore(
        S3Backend(bucket, client=client, part_size=PART), LocalKeyring.open_or_create(keys / "k.json"), segment_size=256
    )
    stored = store.put(chunked(pattern(size), 100))
    raw = bytearray(client.get_object(Bucket=bucket, Key=stored.object_id)["Body"].read())
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    client.put_object(Bucket=bucket, Key=stored.object_id, Body=bytes(raw))
    with pytest.raises(DecryptionError):
        store.get_bytes(stored.object_id, stored.key)
    client.put_object(Bucket=bucket, Key=stored.object_id, Body=bytes(raw[:-1]))  # truncated by one byte
    with pytest.raises(DecryptionError):
        store.get_bytes(stored.object_id, stored.key)


def test_an_abort_that_failed_during_an_outage_is_retried_by_the_next_sweep(
        moto_endpoint: str, s3_bucket: str) -> None:
    """The upload is known dead: the sweeper aborts it at once, not only after the grace period."""
    client = new_s3_client(moto_endpoint, retries=1)
    backend = S3Backend(s3_bucket, client=client, part_size=PART)
    recorder = Recorder(client)
    recorder.fail["UploadPart"] = [-1]
    recorder.fail["AbortMultipartUpload"] = [-1]  # the store is down for the abort too
    with pytest.raises(StorageError), backend.writer(OBJECT_ID) as writer:
        writer.write(pattern(PART + 1))
    [left] = backend.list_incomplete_uploads()
    recorder.fail = {}  # the store is back
    assert backend.abort_stale_uploads(3600, now=left.initiated + 60) == 1  # young, but known dead
    assert list(backend.list_incomplete_uploads()) == []


def test_an_unreachable_store_is_unavailable_not_a_missing_or_broken_object(
        moto_endpoint: str, s3_bucket: str) -> None:
    from storage.errors import StorageUnavailable

    with socket.socket() as sock:  # a port nobody listens on: the store is down
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = S3Backend(s3_bucket, client=new_s3_client(dead, retries=1, connect_timeout=0.5), part_size=PART)
    for call in (lambda: down.read(OBJECT_ID, 0, 10), lambda: down.size(OBJECT_ID), down.check):
        with pytest.raises(StorageUnavailable):
            call()
    client = new_s3_client(moto_endpoint, retries=1)
    Recorder(client).fail["GetObject"] = [-1]  # 500 on every try: the store is failing
    with pytest.raises(StorageUnavailable):
        S3Backend(s3_bucket, client=client, part_size=PART).read(OBJECT_ID, 0, 10)
    missing_bucket = S3Backend(f"no-such-bucket-{uuid.uuid4().hex[:8]}", client=client, part_size=PART)
    with pytest.raises(StorageError) as raised:
        missing_bucket.check()
    assert not isinstance(raised.value, StorageUnavailable)  # a configuration error, not an outage
