"""BlobStore: what the rest of shuttle relies on when it stores and serves message bodies."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.backends import LocalBackend, MemoryBackend
from storage.backends.base import Backend, Writer
from storage.backends.s3 import S3Backend
from storage.errors import DecryptionError, ObjectNotFound, ObjectTooLarge, StorageError
from storage.ids import is_object_id
from storage.keyring import LocalKeyring, WrappedKey
from storage.kms import KmsKeyring
from storage.layout import HEADER_SIZE, TAG_SIZE, segment_span
from storage.store import BlobStore
from storage.stream import open_bytes

FAST = settings(deadline=None, database=None, max_examples=150)
S = 64


class RecordingBackend:
    """Passes everything through and records each ranged read."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.reads: list[tuple[int, int]] = []

    def writer(self, object_id: str) -> AbstractContextManager[Writer]:
        return self.inner.writer(object_id)

    def size(self, object_id: str) -> int:
        return self.inner.size(object_id)

    def read(self, object_id: str, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.inner.read(object_id, offset, length)

    def delete(self, object_id: str) -> None:
        self.inner.delete(object_id)

    def exists(self, object_id: str) -> bool:
        return self.inner.exists(object_id)

    def list_ids(self) -> Iterator[tuple[str, float]]:
        return self.inner.list_ids()


@pytest.fixture
def store(backend: Backend, keyring: LocalKeyring) -> BlobStore:
    return BlobStore(backend, keyring, segment_size=S)


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.parametrize("n", [0, 1, S - 1, S, S + 1, 5 * S, 5 * S + 3])
def test_round_trip(store: BlobStore, n: int) -> None:
    plaintext = os.urandom(n)
    stored = store.put(chunked(plaintext, 7))
    assert stored.size == n and is_object_id(stored.object_id)
    assert store.get_bytes(stored.object_id, stored.key) == plaintext
    assert store.get_bytes(stored.object_id, WrappedKey.decode(stored.key.encode())) == plaintext
    opened = store.open(stored.object_id, stored.key)
    assert opened.size == n
    assert b"".join(opened.read_range(0, n)) == plaintext


def test_ids_are_fresh_unless_given(store: BlobStore) -> None:
    a, b = store.put_bytes(b"a"), store.put_bytes(b"a")
    assert a.object_id != b.object_id
    assert store.put_bytes(b"c", object_id="chosen-id-01").object_id == "chosen-id-01"
    with pytest.raises(StorageError):
        store.put_bytes(b"c", object_id="../escape")


def test_ciphertext_contains_neither_plaintext_nor_key(
    store: BlobStore, backend: Backend, keyring: LocalKeyring
) -> None:
    plaintext = b"my address is 12 Acacia Avenue " * 10
    stored = store.put_bytes(plaintext)
    raw = backend.read(stored.object_id, 0, backend.size(stored.object_id))
    assert b"Acacia" not in raw
    assert keyring.unwrap(stored.key, stored.object_id) not in raw
    assert stored.key.wrapped not in raw


@given(data=st.data(), plaintext=st.binary(max_size=1000))
@FAST
def test_random_ranges_return_the_plaintext_slice(
    data: st.DataObject, plaintext: bytes, module_keyring: LocalKeyring
) -> None:
    store = BlobStore(MemoryBackend(), module_keyring, segment_size=S)
    stored = store.put_bytes(plaintext)
    opened = store.open(stored.object_id, stored.key)
    for _ in range(3):
        start = data.draw(st.integers(0, len(plaintext)))
        end = data.draw(st.integers(start, len(plaintext)))
        assert b"".join(opened.read_range(start, end)) == plaintext[start:end]


@given(data=st.data(), plaintext=st.binary(min_size=1, max_size=2000))
@FAST
def test_range_reads_touch_only_covering_segments(
    data: st.DataObject, plaintext: bytes, module_keyring: LocalKeyring
) -> None:
    backend = RecordingBackend(MemoryBackend())
    store = BlobStore(backend, module_keyring, segment_size=S)
    stored = store.put_bytes(plaintext)
    opened = store.open(stored.object_id, stored.key)
    assert backend.reads == [(0, HEADER_SIZE)]  # opening reads the header only
    backend.reads.clear()
    start = data.draw(st.integers(0, len(plaintext) - 1))
    end = data.draw(st.integers(start + 1, len(plaintext)))
    assert b"".join(opened.read_range(start, end)) == plaintext[start:end]
    span = segment_span(start, end, len(plaintext), S)
    assert backend.reads == [(span.offset, span.length)]  # one ranged read, nothing else
    assert span.length <= (end - start + 2 * S) // S * (S + TAG_SIZE)


def test_long_ranges_are_read_in_bounded_batches(keyring: LocalKeyring) -> None:
    backend = RecordingBackend(MemoryBackend())
    store = BlobStore(backend, keyring, segment_size=16 * 1024)
    plaintext = os.urandom(5 * 1024 * 1024 + 3)
    stored = store.put(chunked(plaintext, 100_000))
    backend.reads.clear()
    assert b"".join(store.open(stored.object_id, stored.key)) == plaintext
    assert max(length for _, length in backend.reads[1:]) <= 1024 * 1024  # memory stays flat
    covered = sorted(backend.reads)
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(covered))  # no gaps, no re-reads


def test_an_empty_range_reads_nothing(keyring: LocalKeyring) -> None:
    backend = RecordingBackend(MemoryBackend())
    store = BlobStore(backend, keyring, segment_size=S)
    stored = store.put_bytes(b"x" * 200)
    opened = store.open(stored.object_id, stored.key)
    backend.reads.clear()
    assert list(opened.read_range(100, 100)) == []
    assert backend.reads == []
    with pytest.raises(ValueError):
        opened.read_range(0, 201)


def test_too_large_uploads_leave_nothing(tmp_path: Path, keyring: LocalKeyring) -> None:
    root = tmp_path / "blobs"
    store = BlobStore(LocalBackend(root), keyring, segment_size=S)
    with pytest.raises(ObjectTooLarge) as raised:
        store.put(chunked(os.urandom(1000), 10), object_id="too-large-01", max_bytes=999)
    assert raised.value.limit == 999
    assert not LocalBackend(root).exists("too-large-01")
    assert [p for p in root.rglob("*") if p.is_file()] == []
    assert store.put(chunked(b"x" * 999, 10), max_bytes=999).size == 999  # the limit itself is allowed


def test_a_failing_upload_source_leaves_nothing(store: BlobStore, backend: Backend) -> None:
    def source() -> Iterator[bytes]:
        yield b"x" * 500
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put(source(), object_id="aborted-upload")
    assert not backend.exists("aborted-upload")
    assert list(backend.list_ids()) == []


def test_delete_is_idempotent_and_final(store: BlobStore) -> None:
    stored = store.put_bytes(b"gone soon")
    store.delete(stored.object_id)
    store.delete(stored.object_id)
    with pytest.raises(ObjectNotFound):
        store.open(stored.object_id, stored.key)


@given(data=st.data(), plaintext=st.binary(max_size=300))
@FAST
def test_a_flipped_stored_byte_is_refused(data: st.DataObject, plaintext: bytes, module_keyring: LocalKeyring) -> None:
    backend = MemoryBackend()
    store = BlobStore(backend, module_keyring, segment_size=S)
    stored = store.put_bytes(plaintext)
    raw = bytearray(backend.raw(stored.object_id))
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    backend.put_raw(stored.object_id, bytes(raw))
    with pytest.raises(DecryptionError):
        store.get_bytes(stored.object_id, stored.key)


def test_swapping_whole_objects_is_refused(keyring: LocalKeyring) -> None:
    backend = MemoryBackend()
    store = BlobStore(backend, keyring, segment_size=S)
    a, b = store.put_bytes(b"letter A" * 20), store.put_bytes(b"letter B" * 20)
    backend.put_raw(b.object_id, backend.raw(a.object_id))  # A's bytes now under B's id
    with pytest.raises(DecryptionError):
        store.get_bytes(b.object_id, b.key)  # B's key, A's bytes
    with pytest.raises(DecryptionError):
        store.get_bytes(b.object_id, a.key)  # A's key no longer matches the id


def test_a_different_keyring_cannot_read(store: BlobStore, backend: Backend, tmp_path: Path) -> None:
    stored = store.put_bytes(b"secret")
    stranger = BlobStore(backend, LocalKeyring.open_or_create(tmp_path / "other" / "keyring.json"))
    with pytest.raises(DecryptionError):
        stranger.get_bytes(stored.object_id, stored.key)


def test_rotation_rewraps_keys_without_touching_ciphertext(tmp_path: Path) -> None:
    backend = MemoryBackend()
    keyring = LocalKeyring.open_or_create(tmp_path / "keyring.json")
    store = BlobStore(backend, keyring, segment_size=S)
    plaintext = os.urandom(5 * S + 1)
    stored = store.put_bytes(plaintext)
    before = backend.raw(stored.object_id)
    keyring.add_version()
    rewrapped = keyring.rewrap(stored.key, stored.object_id)
    assert (stored.key.kek_version, rewrapped.kek_version) == (1, 2)
    assert backend.raw(stored.object_id) == before
    assert store.get_bytes(stored.object_id, stored.key) == plaintext
    assert store.get_bytes(stored.object_id, rewrapped) == plaintext
    assert store.put_bytes(b"new").key.kek_version == 2


def test_crypto_shredding(tmp_path: Path) -> None:
    """Once an object's wrapped key is gone, a copy of its bytes (say, from an object-store
    backup) cannot be opened with anything still at hand: the keyring, other objects' keys,
    or a fresh keyring. The data key was random, existed only wrapped, and is not in the
    ciphertext; recovering it means breaking AES-256-GCM. This holds only while no other
    copy of the wrapped key (a database backup) survives next to a keyring that has its
    KEK version."""
    backend = MemoryBackend()
    keyring = LocalKeyring.open_or_create(tmp_path / "keyring.json")
    store = BlobStore(backend, keyring, segment_size=S)
    victim = store.put_bytes(b"the letter that must be forgotten" * 5)
    other = store.put_bytes(b"another letter" * 5)
    victim_id, backup = victim.object_id, backend.raw(victim.object_id)
    del victim  # the caller destroys the only record of the wrapped key...
    store.delete(victim_id)  # ...then the bytes; later they are restored from a backup
    backend.put_raw(victim_id, backup)

    with pytest.raises(DecryptionError):
        store.get_bytes(victim_id, other.key)  # a wrapped key only unwraps for its own id
    other_dek = keyring.unwrap(other.key, other.object_id)
    with pytest.raises(DecryptionError):
        open_bytes(other_dek, victim_id, backup)  # another object's data key
    with pytest.raises(DecryptionError):
        open_bytes(os.urandom(32), victim_id, backup)  # a guessed data key
    fresh = LocalKeyring.open_or_create(tmp_path / "fresh" / "keyring.json")
    with pytest.raises(DecryptionError):
        BlobStore(backend, fresh).get_bytes(victim_id, fresh.wrap(os.urandom(32), victim_id))


@pytest.fixture(params=["local", "kms"])
def any_keyring(request: pytest.FixtureRequest, tmp_path: Path) -> LocalKeyring | KmsKeyring:
    if request.param == "local":
        return LocalKeyring.open_or_create(tmp_path / "keys" / "keyring.json")
    client: Any = request.getfixturevalue("kms_client")
    return KmsKeyring.open_or_create(tmp_path / "keys" / "kms-keyring.json", client=client)


def test_rotation_on_s3_rewraps_keys_and_never_touches_ciphertext(
    any_keyring: LocalKeyring | KmsKeyring, s3_backend: S3Backend, s3_client: Any
) -> None:
    store = BlobStore(s3_backend, any_keyring, segment_size=S)
    plaintext = os.urandom(7 * S + 5)
    stored = store.put_bytes(plaintext)
    before = s3_client.head_object(Bucket=s3_backend.bucket, Key=stored.object_id)
    any_keyring.add_version()
    rewrapped = any_keyring.rewrap(stored.key, stored.object_id)
    assert (stored.key.kek_version, rewrapped.kek_version) == (1, 2)
    after = s3_client.head_object(Bucket=s3_backend.bucket, Key=stored.object_id)
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])
    assert store.get_bytes(stored.object_id, stored.key) == plaintext  # old version still usable
    assert store.get_bytes(stored.object_id, WrappedKey.decode(rewrapped.encode())) == plaintext


def test_crypto_shredding_survives_backups_and_rotation(
    any_keyring: LocalKeyring | KmsKeyring, s3_backend: S3Backend, s3_client: Any
) -> None:
    """The property, stated as narrowly as it holds: once the only record of an object's
    wrapped data key is destroyed (the caller's row) and the object deleted, a copy of its
    ciphertext taken earlier (a bucket backup) and restored under its own id cannot be
    decrypted with anything the system still holds: no other object's wrapped key, before or
    after those keys are re-wrapped by a rotation, no other object's data key, no fresh key
    wrapped for that id, under any KEK version. Its data key was random, lived only wrapped
    in that row, and is not in the ciphertext; getting it back means breaking AES-256-GCM.

    Not covered, because it is not true: a database backup that still holds the row, together
    with a KEK version that still works (a local keyring that keeps old versions, a KMS key
    not yet deleted), recovers the object. See docs/encryption.md §9."""
    bucket = s3_backend.bucket
    store = BlobStore(s3_backend, any_keyring, segment_size=S)
    victim = store.put_bytes(b"the letter that must be forgotten" * 5)
    others = [store.put_bytes(f"another letter {i}".encode() * 5) for i in range(3)]
    victim_id = victim.object_id
    s3_client.copy_object(Bucket=bucket, Key=f"backup/{victim_id}", CopySource={"Bucket": bucket, "Key": victim_id})
    del victim  # the caller destroys the only record of the wrapped key...
    store.delete(victim_id)  # ...then the bytes
    assert not s3_backend.exists(victim_id)

    any_keyring.add_version()  # a rotation re-wraps every key still recorded (not the victim's)
    rewrapped = [any_keyring.rewrap(other.key, other.object_id) for other in others]
    for other, key in zip(others, rewrapped, strict=True):
        assert store.get_bytes(other.object_id, key).startswith(b"another letter")

    # The backup is restored under the victim's id.
    s3_client.copy_object(Bucket=bucket, Key=victim_id, CopySource={"Bucket": bucket, "Key": f"backup/{victim_id}"})
    backup = s3_backend.read(victim_id, 0, s3_backend.size(victim_id))
    for key in [other.key for other in others] + rewrapped:
        with pytest.raises(DecryptionError):
            store.get_bytes(victim_id, key)  # a wrapped key only unwraps for its own id
    for other in others:
        with pytest.raises(DecryptionError):
            open_bytes(any_keyring.unwrap(other.key, other.object_id), victim_id, backup)  # its data key
    for _ in range(2):
        with pytest.raises(DecryptionError):
            store.get_bytes(victim_id, any_keyring.wrap(os.urandom(32), victim_id))  # a fresh key, same id
