"""The backend contract (every backend), and the local backend's on-disk guarantees."""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path

import pytest

from storage.backends import LocalBackend
from storage.backends.base import Backend
from storage.errors import ObjectNotFound, StorageError

OBJECT_ID = "object-aaaaaaaa"


class Boom(Exception):
    pass


def files_under(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, names in os.walk(root) for f in names]


def test_write_then_read_size_exists_list(backend: Backend) -> None:
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"hello ")
        writer.write(b"")
        writer.write(b"world")
    assert backend.exists(OBJECT_ID)
    assert backend.size(OBJECT_ID) == 11
    assert backend.read(OBJECT_ID, 0, 11) == b"hello world"
    assert backend.read(OBJECT_ID, 6, 3) == b"wor"
    assert backend.read(OBJECT_ID, 6, 100) == b"world"  # cut short at the end
    assert backend.read(OBJECT_ID, 20, 5) == b""
    assert [object_id for object_id, _ in backend.list_ids()] == [OBJECT_ID]


def test_an_exception_mid_write_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(Boom), backend.writer(OBJECT_ID) as writer:
        writer.write(b"partial")
        raise Boom
    assert not backend.exists(OBJECT_ID)
    assert list(backend.list_ids()) == []
    with pytest.raises(ObjectNotFound):
        backend.size(OBJECT_ID)


def test_an_object_appears_only_when_the_write_completes(backend: Backend) -> None:
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"data")
        assert not backend.exists(OBJECT_ID)
    assert backend.exists(OBJECT_ID)


def test_a_failed_overwrite_keeps_the_old_object(backend: Backend) -> None:
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"old")
    with pytest.raises(Boom), backend.writer(OBJECT_ID) as writer:
        writer.write(b"new")
        raise Boom
    assert backend.read(OBJECT_ID, 0, 10) == b"old"
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"new")
    assert backend.read(OBJECT_ID, 0, 10) == b"new"


def test_missing_objects(backend: Backend) -> None:
    assert not backend.exists(OBJECT_ID)
    with pytest.raises(ObjectNotFound):
        backend.size(OBJECT_ID)
    with pytest.raises(ObjectNotFound):
        backend.read(OBJECT_ID, 0, 1)


def test_delete_is_idempotent(backend: Backend) -> None:
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"x")
    backend.delete(OBJECT_ID)
    backend.delete(OBJECT_ID)
    assert not backend.exists(OBJECT_ID)
    assert list(backend.list_ids()) == []


@pytest.mark.parametrize(
    "bad_id",
    ["../../etc/passwd", "..", "../aaaaaaaaa", "aa/../../bbbb", "/etc/passwd", "short", "", "a" * 129,
     "abcdefgh\x00", "abcd.efgh", "abcd efgh", "abcdéfgh", "aaaaaaaa\n"],
)
def test_ids_that_could_escape_are_refused_everywhere(backend: Backend, bad_id: str) -> None:
    with pytest.raises(StorageError), backend.writer(bad_id) as writer:
        writer.write(b"x")
    for call in (
        lambda: backend.size(bad_id),
        lambda: backend.read(bad_id, 0, 1),
        lambda: backend.delete(bad_id),
        lambda: backend.exists(bad_id),
    ):
        with pytest.raises(StorageError):
            call()


def test_local_layout_is_private_and_fanned_out(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    backend = LocalBackend(root)
    ids = ["abcdefgh01", "abZZZZZZ02", "xy_-0000003"]
    for object_id in ids:
        with backend.writer(object_id) as writer:
            writer.write(b"x")
    assert sorted(p.relative_to(root).as_posix() for p in files_under(root)) == [
        "ab/abZZZZZZ02", "ab/abcdefgh01", "xy/xy_-0000003",
    ]
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for path in files_under(root):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(object_id for object_id, _ in backend.list_ids()) == sorted(ids)


def test_local_aborted_write_leaves_no_temp_litter(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "blobs")
    with pytest.raises(Boom), backend.writer(OBJECT_ID) as writer:
        writer.write(b"x" * 10000)
        raise Boom
    assert files_under(tmp_path) == []


def test_local_listing_skips_temp_files_and_strangers(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    backend = LocalBackend(root)
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"x")
    (root / "ob" / f".{OBJECT_ID}.1234.tmp").write_bytes(b"crash leftover")
    (root / "ob" / "zzzzzzzzzz").write_bytes(b"wrong bucket")
    (root / "notes.txt").write_bytes(b"not a bucket")
    assert [object_id for object_id, _ in backend.list_ids()] == [OBJECT_ID]


def test_local_listing_of_a_missing_root_is_empty(tmp_path: Path) -> None:
    assert list(LocalBackend(tmp_path / "nothing-yet").list_ids()) == []


def test_local_modified_time_is_reported(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "blobs")
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"x")
    os.utime(tmp_path / "blobs" / "ob" / OBJECT_ID, (1_000_000, 1_000_000))
    assert list(backend.list_ids()) == [(OBJECT_ID, 1_000_000.0)]


def test_abandoning_a_listing_half_way_releases_its_handles(backend: Backend) -> None:
    """An orphan sweeper may stop early; warnings are errors, so a leaked handle would fail."""
    for object_id in ("first-object", "second-object"):
        with backend.writer(object_id) as writer:
            writer.write(b"x")
    listing = backend.list_ids()
    next(listing)
    del listing
    gc.collect()


def test_local_read_into_fills_the_buffer_as_read_answers(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    with backend.writer(OBJECT_ID) as writer:
        writer.write(b"hello world")
    buffer = bytearray(b"?" * 8)
    assert backend.read_into(OBJECT_ID, 6, memoryview(buffer)[:3]) == 3
    assert buffer == b"wor?????"
    assert backend.read_into(OBJECT_ID, 6, memoryview(buffer)) == 5  # cut short at the end
    assert buffer[:5] == b"world"
    assert backend.read_into(OBJECT_ID, 20, memoryview(buffer)) == 0
    with pytest.raises(ObjectNotFound):
        backend.read_into("object-bbbbbbbb", 0, memoryview(buffer))
    with pytest.raises(StorageError):
        backend.read_into("../escape", 0, memoryview(buffer))
