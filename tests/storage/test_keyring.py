"""The keyring contract (local key file and AWS KMS, the latter on moto over HTTP), and the
local keyring's own guarantees: private on disk, stable across restarts, rotation without
data loss."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from storage.errors import DecryptionError, KeyringError
from storage.keyfile import KeyFile
from storage.keyring import Keyring, LocalKeyring, WrappedKey
from storage.kms import KmsKeyring

OBJECT_ID = "object-aaaaaaaa"
DEK = os.urandom(32)


class RotatingKeyring(Keyring, Protocol):
    @property
    def versions(self) -> list[int]: ...

    def add_version(self) -> int: ...


Opener = Callable[[Path], RotatingKeyring]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=["local", "kms"])
def open_keyring(request: pytest.FixtureRequest) -> Opener:
    """Open (creating on first use) a keyring whose state lives at a path: both kinds."""
    if request.param == "local":
        return LocalKeyring.open_or_create
    kms_client: Any = request.getfixturevalue("kms_client")
    return lambda path: KmsKeyring.open_or_create(path, client=kms_client)


@pytest.fixture
def any_keyring(open_keyring: Opener, tmp_path: Path) -> RotatingKeyring:
    return open_keyring(tmp_path / "keys" / "keyring.json")


def test_first_run_creates_a_private_file_in_a_private_dir(open_keyring: Opener, tmp_path: Path) -> None:
    path = tmp_path / "new" / "keyring.json"
    keyring = open_keyring(path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert keyring.primary_version == 1 and keyring.versions == [1]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temp file left behind"


def test_existing_parent_dir_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    LocalKeyring.open_or_create(tmp_path / "keyring.json")
    assert mode(tmp_path) == 0o755


def test_reopening_gives_the_same_keys(open_keyring: Opener, tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    wrapped = open_keyring(path).wrap(DEK, OBJECT_ID)
    assert open_keyring(path).unwrap(wrapped, OBJECT_ID) == DEK


def test_creating_over_an_existing_file_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    wrapped = LocalKeyring.open_or_create(path).wrap(DEK, OBJECT_ID)
    KeyFile.new().write_new(path)  # a second process losing the creation race
    assert LocalKeyring.open_or_create(path).unwrap(wrapped, OBJECT_ID) == DEK


@pytest.mark.parametrize("unsafe", [0o640, 0o604, 0o620, 0o602, 0o644])
def test_a_file_others_can_access_is_refused(open_keyring: Opener, tmp_path: Path, unsafe: int) -> None:
    path = tmp_path / "keyring.json"
    open_keyring(path)
    path.chmod(unsafe)
    with pytest.raises(KeyringError, match="mode"):
        open_keyring(path)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"{}",
        json.dumps({"format": "shuttle-keyring-v1", "primary": 1, "keys": []}).encode(),
        json.dumps({"format": "shuttle-keyring-v1", "primary": 2, "keys": [{"version": 1, "key": "A" * 43}]}).encode(),
        json.dumps({"format": "shuttle-keyring-v1", "primary": 1, "keys": [{"version": 1, "key": "A" * 10}]}).encode(),
        json.dumps({"format": "shuttle-keyring-v1", "primary": 1, "keys": [{"version": 1, "key": "+" * 43}]}).encode(),
        json.dumps(
            {"format": "shuttle-keyring-v1", "primary": 1, "keys": [{"version": 1, "key": "A" * 43}] * 2}
        ).encode(),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "keyring.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyringError):
        LocalKeyring.open_or_create(path)


def test_wrapped_key_text_round_trips(any_keyring: RotatingKeyring) -> None:
    wrapped = any_keyring.wrap(DEK, OBJECT_ID)
    text = wrapped.encode()
    assert text.startswith("v1:")
    assert len(text) < 100 or isinstance(any_keyring, KmsKeyring)  # a KMS blob is longer (AWS: ~250 chars)
    assert WrappedKey.decode(text) == wrapped
    for bad in ("", "v1", "v0:AAAA", "1:AAAA", "v1:AA+A", "v1:AAAA=", "v-1:AAAA", "v1:A"):
        with pytest.raises(KeyringError):
            WrappedKey.decode(bad)


def test_unwrap_is_bound_to_the_object_id(any_keyring: RotatingKeyring) -> None:
    wrapped = any_keyring.wrap(DEK, OBJECT_ID)
    assert any_keyring.unwrap(wrapped, OBJECT_ID) == DEK
    with pytest.raises(DecryptionError):
        any_keyring.unwrap(wrapped, "object-bbbbbbbb")
    with pytest.raises(DecryptionError):
        any_keyring.rewrap(wrapped, "object-bbbbbbbb")


def test_tampered_or_foreign_wrapped_keys_are_refused(
    open_keyring: Opener, any_keyring: RotatingKeyring, tmp_path: Path
) -> None:
    wrapped = any_keyring.wrap(DEK, OBJECT_ID)
    for index in (-1, -20, len(wrapped.wrapped) // 2):  # in the tag, the sealed key, the middle
        flipped = bytearray(wrapped.wrapped)
        flipped[index] ^= 1
        with pytest.raises((DecryptionError, KeyringError)):
            any_keyring.unwrap(WrappedKey(1, bytes(flipped)), OBJECT_ID)
    flipped = bytearray(wrapped.wrapped)
    flipped[-1] ^= 1  # an authentication tag is the last bytes of both kinds
    with pytest.raises(DecryptionError):
        any_keyring.unwrap(WrappedKey(1, bytes(flipped)), OBJECT_ID)
    with pytest.raises(DecryptionError):
        any_keyring.unwrap(WrappedKey(1, wrapped.wrapped[:-1]), OBJECT_ID)
    with pytest.raises(DecryptionError):
        any_keyring.unwrap(WrappedKey(1, b""), OBJECT_ID)
    with pytest.raises(KeyringError):
        any_keyring.unwrap(WrappedKey(7, wrapped.wrapped), OBJECT_ID)
    other = open_keyring(tmp_path / "other" / "keyring.json")  # also version 1, another KEK
    # Local: the tag fails. KMS: Decrypt names the version's key, and KMS refuses a
    # ciphertext of another key (AWS: IncorrectKeyException → DecryptionError; moto answers
    # AccessDeniedException, which is a KeyringError here: it is also IAM's answer).
    with pytest.raises((DecryptionError, KeyringError)):
        other.unwrap(wrapped, OBJECT_ID)


def test_rotation_keeps_old_keys_working_and_rewraps_to_the_new_version(
    open_keyring: Opener, tmp_path: Path
) -> None:
    path = tmp_path / "keyring.json"
    keyring = open_keyring(path)
    old = keyring.wrap(DEK, OBJECT_ID)
    assert keyring.add_version() == 2
    assert keyring.primary_version == 2 and mode(path) == 0o600
    new = keyring.rewrap(old, OBJECT_ID)
    assert new.kek_version == 2 and new.wrapped != old.wrapped
    assert keyring.unwrap(old, OBJECT_ID) == keyring.unwrap(new, OBJECT_ID) == DEK
    assert keyring.rewrap(new, OBJECT_ID) == new  # already primary: unchanged
    reopened = open_keyring(path)
    assert reopened.primary_version == 2 and reopened.unwrap(old, OBJECT_ID) == DEK
    assert reopened.versions == [1, 2]
    with pytest.raises(DecryptionError):
        keyring.rewrap(old, "object-bbbbbbbb")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp file left behind"


def test_a_rotation_by_another_process_is_picked_up(open_keyring: Opener, tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    web, operator = open_keyring(path), open_keyring(path)
    operator.add_version()
    wrapped = operator.wrap(DEK, OBJECT_ID)
    assert wrapped.kek_version == 2
    assert web.unwrap(wrapped, OBJECT_ID) == DEK
    assert web.primary_version == 2


def test_rotations_from_stale_instances_never_lose_a_version(open_keyring: Opener, tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    first, second = open_keyring(path), open_keyring(path)
    under_2 = (first.add_version(), first.wrap(DEK, OBJECT_ID))[1]
    assert second.add_version() == 3  # re-read the file, did not overwrite version 2
    assert open_keyring(path).unwrap(under_2, OBJECT_ID) == DEK


def test_repr_does_not_show_keys(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = LocalKeyring.open_or_create(path)
    keys = [entry["key"] for entry in json.loads(path.read_text())["keys"]]
    assert all(key not in repr(keyring) for key in keys)
