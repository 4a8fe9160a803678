"""Key-encryption keys (KEKs) and the wrapping of per-object data keys (DEKs).

A wrapped DEK is handed back to the caller to keep in the application database rather
than stored beside the object: deleting that row then makes the object unrecoverable even
from backups of the object store (crypto-shredding). KEKs are versioned so rotation only
re-wraps DEKs and never re-encrypts payloads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import DecryptionError, KeyringError
from storage.ids import check_object_id
from storage.keyfile import KeyFile, b64decode, b64encode, locked

DEK_SIZE = 32
WRAP_NONCE_SIZE = 12
WRAPPED_SIZE = WRAP_NONCE_SIZE + DEK_SIZE + 16  # nonce || AES-GCM(DEK) || tag
_ENCODED = re.compile(r"v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class WrappedKey:
    """A DEK encrypted under KEK version `kek_version`: what the caller keeps per object."""

    kek_version: int
    wrapped: bytes

    def encode(self) -> str:
        """Compact text for a database column: `v<version>:<unpadded base64url>`."""
        return f"v{self.kek_version}:{b64encode(self.wrapped)}"

    @classmethod
    def decode(cls, text: str) -> WrappedKey:
        match = _ENCODED.fullmatch(text)
        if match is None:
            raise KeyringError("malformed wrapped key")
        try:
            wrapped = b64decode(match.group(2))
        except ValueError:
            raise KeyringError("malformed wrapped key") from None
        return cls(kek_version=int(match.group(1)), wrapped=wrapped)


class Keyring(Protocol):
    """Wraps and unwraps DEKs: a local key file today, a KMS behind the same shape later."""

    @property
    def primary_version(self) -> int: ...

    def wrap(self, data_key: bytes, object_id: str) -> WrappedKey:
        """Wrap under the primary version, bound to `object_id`."""
        ...

    def unwrap(self, key: WrappedKey, object_id: str) -> bytes:
        """Unwrap under any known version; `KeyringError` or `DecryptionError` on failure."""
        ...

    def rewrap(self, key: WrappedKey, object_id: str) -> WrappedKey:
        """Move a wrapped key to the primary version; the payload is never touched."""
        ...


def dek_aad(object_id: str, kek_version: int) -> bytes:
    """Associated data of a wrapped DEK: binds it to its object and its KEK version.

    The id is validated first so it cannot contain the `|` separator.
    """
    parts = (b"shuttle-dek-v1", check_object_id(object_id).encode("ascii"), str(kek_version).encode("ascii"))
    return b"|".join(parts)


class LocalKeyring:
    """KEK versions kept in a JSON file that only its owner can read (format: storage.keyfile)."""

    def __init__(self, path: Path, keyfile: KeyFile) -> None:
        self._path = path
        self._file = keyfile
        self._stamp: tuple[int, int] | None = None  # the file's (mtime, inode) when last read

    def __repr__(self) -> str:  # never the keys
        return f"LocalKeyring({str(self._path)!r}, versions={self.versions}, primary={self.primary_version})"

    @classmethod
    def open_or_create(cls, path: Path) -> LocalKeyring:
        """Load the keyring at `path`, creating it with one fresh KEK (version 1) on first run.

        Refuses (`KeyringError`) a file that group or others can access.
        """
        if not path.exists():
            KeyFile.new().write_new(path)
        return cls(path, KeyFile.read(path))

    @property
    def primary_version(self) -> int:
        return self._file.primary

    @property
    def versions(self) -> list[int]:
        """Every KEK version this keyring can unwrap."""
        return sorted(self._file.keys)

    def add_version(self) -> int:
        """Rotate: a fresh random KEK becomes the primary version; returns its number.

        Locks and re-reads the file first, so two rotations at once cannot lose a version
        (losing a KEK version would lose every object wrapped under it).
        """
        with locked(self._path):
            rotated = KeyFile.read(self._path).with_new_version()
            rotated.replace(self._path)
        self._file = rotated
        return rotated.primary

    def retire_version(self, version: int) -> None:
        """Remove an old KEK version from the file for good (never the primary): every data key
        still wrapped only under it becomes unrecoverable, in this database and in any backup of it.
        The caller checks first that nothing is wrapped under it (`shuttle.keys.retire`)."""
        with locked(self._path):
            retired = KeyFile.read(self._path).without_version(version)
            retired.replace(self._path)
        self._file = retired

    def wrap(self, data_key: bytes, object_id: str) -> WrappedKey:
        if len(data_key) != DEK_SIZE:
            raise ValueError(f"data key must be {DEK_SIZE} bytes")
        self._follow_rotation()
        version = self._file.primary
        nonce = os.urandom(WRAP_NONCE_SIZE)
        sealed = AESGCM(self._file.keys[version]).encrypt(nonce, data_key, dek_aad(object_id, version))
        return WrappedKey(kek_version=version, wrapped=nonce + sealed)

    def unwrap(self, key: WrappedKey, object_id: str) -> bytes:
        kek = self._kek(key.kek_version)
        if len(key.wrapped) != WRAPPED_SIZE:
            raise DecryptionError("wrapped key has the wrong length")
        nonce, sealed = key.wrapped[:WRAP_NONCE_SIZE], key.wrapped[WRAP_NONCE_SIZE:]
        try:
            return AESGCM(kek).decrypt(nonce, sealed, dek_aad(object_id, key.kek_version))
        except InvalidTag:
            raise DecryptionError("wrapped key failed authentication") from None

    def rewrap(self, key: WrappedKey, object_id: str) -> WrappedKey:
        """Re-wrap under the primary version; a key already there is verified and returned as is."""
        data_key = self.unwrap(key, object_id)
        if key.kek_version == self._file.primary:
            return key
        return self.wrap(data_key, object_id)

    def _follow_rotation(self) -> None:
        """Re-read the file when another process changed it (a rotation, a retirement), so that new
        data keys are wrapped under the current primary version, never under a retired one."""
        try:
            stamp = self._path.stat()
        except OSError:
            return
        if (stamp.st_mtime_ns, stamp.st_ino) != self._stamp:
            self._file, self._stamp = KeyFile.read(self._path), (stamp.st_mtime_ns, stamp.st_ino)

    def _kek(self, version: int) -> bytes:
        """Look a version up, re-reading the file once: another process may have rotated."""
        if version not in self._file.keys:
            self._file = KeyFile.read(self._path)
            if version not in self._file.keys:
                raise KeyringError(f"unknown key-encryption key version {version}")
        return self._file.keys[version]
