"""Retiring old key-encryption-key versions (issue 11): a retired version unwraps nothing any more,
so a wrapped key kept in a database backup cannot bring a shredded object back; the primary is
never retired; the KMS keyring schedules the deletion of the version's key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from storage.errors import KeyringError
from storage.keyfile import KeyFile
from storage.keyring import LocalKeyring
from storage.kms import KmsKeyring, KmsVersions


def test_a_retired_local_version_unwraps_nothing_and_the_primary_is_never_retired(keyring: LocalKeyring) -> None:
    data_key = os.urandom(32)
    old = keyring.wrap(data_key, "object-aaaaaaaa")  # as a database backup keeps it
    keyring.add_version()
    fresh = keyring.rewrap(old, "object-aaaaaaaa")
    with pytest.raises(KeyringError):
        keyring.retire_version(2)  # the primary
    keyring.retire_version(1)
    assert keyring.versions == [2] and keyring.primary_version == 2
    assert keyring.unwrap(fresh, "object-aaaaaaaa") == data_key
    with pytest.raises(KeyringError):
        keyring.unwrap(old, "object-aaaaaaaa")  # the backup's copy is useless now
    reopened = LocalKeyring.open_or_create(keyring._path)
    assert reopened.versions == [2]
    with pytest.raises(KeyringError):
        reopened.unwrap(old, "object-aaaaaaaa")
    with pytest.raises(KeyringError):
        keyring.retire_version(1)  # gone already
    assert keyring.add_version() == 3  # a retired number is never used again


def test_another_process_wraps_under_the_new_primary_after_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    web = LocalKeyring.open_or_create(path)
    assert web.wrap(os.urandom(32), "object-bbbbbbbb").kek_version == 1
    LocalKeyring.open_or_create(path).add_version()  # `shuttle keys rotate`, elsewhere
    assert web.wrap(os.urandom(32), "object-bbbbbbbb").kek_version == 2


def test_the_file_format_is_unchanged_by_retiring(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = LocalKeyring.open_or_create(path)
    keyring.add_version()
    keyring.add_version()
    keyring.retire_version(2)
    read = KeyFile.read(path)
    assert sorted(read.keys) == [1, 3] and read.primary == 3 and sorted(read.created) == [1, 3]


def test_a_retired_kms_version_has_its_key_scheduled_for_deletion(tmp_path: Path, kms_client: Any) -> None:
    keyring = KmsKeyring.open_or_create(tmp_path / "kms.json", client=kms_client)
    data_key = os.urandom(32)
    old = keyring.wrap(data_key, "object-cccccccc")
    first_arn = keyring.key_arn(1)
    keyring.add_version()
    fresh = keyring.rewrap(old, "object-cccccccc")
    with pytest.raises(KeyringError):
        keyring.retire_version(2)
    with pytest.raises(KeyringError):
        keyring.retire_version(1, pending_days=3)  # KMS's waiting period is 7 to 30 days
    assert keyring.retire_version(1, pending_days=7) == first_arn
    assert kms_client.describe_key(KeyId=first_arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert keyring.versions == [2] and KmsVersions.read(tmp_path / "kms.json").keys.keys() == {2}
    assert keyring.unwrap(fresh, "object-cccccccc") == data_key
    with pytest.raises(KeyringError):
        keyring.unwrap(old, "object-cccccccc")  # unknown version: the backup's copy is refused
