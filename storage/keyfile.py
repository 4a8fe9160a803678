"""The local keyring file: its JSON format, its permissions, and safe rewriting.

Kept apart from the wrapping logic so the on-disk format (documented in
docs/encryption.md) has one place to change and to test.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from storage.errors import KeyringError
from storage.fsutil import PRIVATE_FILE_MODE, ensure_private_dir, write_private_file

KEK_SIZE = 32
KEYRING_FORMAT = "shuttle-keyring-v1"

V = TypeVar("V")


def b64encode(data: bytes) -> str:
    """Unpadded base64url, the text encoding of every key and wrapped key."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Inverse of `b64encode`; raises ValueError on anything that is not base64url."""
    if not text.isascii() or any(c in text for c in "+/="):
        raise ValueError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("not unpadded base64url") from error


@dataclass(frozen=True)
class KeyFile:
    """Contents of a keyring file: KEK versions, their creation times, and the primary version."""

    keys: dict[int, bytes]
    primary: int
    created: dict[int, str] = field(default_factory=dict)

    @classmethod
    def new(cls) -> KeyFile:
        """A first keyring: one random KEK, version 1."""
        return cls(keys={1: os.urandom(KEK_SIZE)}, primary=1, created={1: utc_now()})

    def with_new_version(self) -> KeyFile:
        """A copy with one more random KEK, which becomes primary."""
        version = max(self.keys) + 1
        return KeyFile(
            keys={**self.keys, version: os.urandom(KEK_SIZE)},
            primary=version,
            created={**self.created, version: utc_now()},
        )

    def without_version(self, version: int) -> KeyFile:
        """A copy without `version` (retiring it); never the primary one."""
        if version == self.primary:
            raise KeyringError(f"key-encryption key version {version} is the primary one and cannot be retired")
        if version not in self.keys:
            raise KeyringError(f"unknown key-encryption key version {version}")
        return KeyFile(keys={v: k for v, k in self.keys.items() if v != version}, primary=self.primary,
                       created={v: c for v, c in self.created.items() if v != version})

    def encode(self) -> bytes:
        encoded = {version: b64encode(key) for version, key in self.keys.items()}
        return encode_versions(KEYRING_FORMAT, self.primary, "key", encoded, self.created)

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        """Read and validate; a keyring that is half right is refused whole."""
        keys, primary, created = read_versions(path, KEYRING_FORMAT, _parse_entry)
        return cls(keys=keys, primary=primary, created=created)

    def write_new(self, path: Path) -> None:
        """Create the file (0600, parent dirs 0700); if another process won the race, keep theirs."""
        ensure_private_dir(path.parent)
        write_private_file(path, self.encode(), replace=False)

    def replace(self, path: Path) -> None:
        """Atomically replace the file (temp + fsync + rename + fsync dir, mode 0600)."""
        write_private_file(path, self.encode(), replace=True)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive advisory lock for read-modify-write of the keyring at `path`.

    The lock lives on a sibling `.lock` file because the keyring itself is replaced by rename.
    """
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_versions(
    fmt: str, primary: int, field: str, values: Mapping[int, str], created: Mapping[int, str]
) -> bytes:
    """A version document (the local keyring, the KMS version file): format, primary, one entry a version."""
    entries = [{"version": version, "created": created.get(version, ""), field: values[version]}
               for version in sorted(values)]
    document = {"format": fmt, "primary": primary, "keys": entries}
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def read_versions(
    path: Path, fmt: str, parse_entry: Callable[[Path, dict[str, Any]], tuple[int, V]]
) -> tuple[dict[int, V], int, dict[int, str]]:
    """Read and validate a version document (private file, known format, each entry by `parse_entry`);
    a document half right is refused whole. Neither a version nor its value may appear twice."""
    document = read_private_json(path)
    if not isinstance(document, dict) or document.get("format") != fmt:
        raise KeyringError(f"keyring {path} is not a {fmt} file")
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise KeyringError(f"keyring {path} has no keys")
    values: dict[int, V] = {}
    created: dict[int, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise KeyringError(f"keyring {path} has a malformed key entry")
        version, value = parse_entry(path, entry)
        if version in values or value in values.values():
            raise KeyringError(f"keyring {path} lists version {version} or its key twice")
        values[version] = value
        created[version] = str(entry.get("created", ""))
    primary = document.get("primary")
    if type(primary) is not int or primary not in values:
        raise KeyringError(f"keyring {path}: primary version is not one of its keys")
    return values, primary, created


def _parse_entry(path: Path, entry: dict[str, Any]) -> tuple[int, bytes]:
    version, encoded = entry.get("version"), entry.get("key")
    if type(version) is not int or version < 1 or not isinstance(encoded, str):
        raise KeyringError(f"keyring {path} has a malformed key entry")
    try:
        key = b64decode(encoded)
    except ValueError:
        raise KeyringError(f"keyring {path}: key version {version} is not base64url") from None
    if len(key) != KEK_SIZE:
        raise KeyringError(f"keyring {path}: key version {version} is not {KEK_SIZE} bytes")
    return version, key


def read_private_json(path: Path) -> Any:
    """Read JSON from a regular file that neither group nor others can access."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise KeyringError(f"keyring {path} not found") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise KeyringError(f"keyring {path} is not a regular file")
        if mode & 0o077:
            raise KeyringError(
                f"keyring {path} has mode {stat.S_IMODE(mode):04o}: group and others must have no "
                f"access (chmod {PRIVATE_FILE_MODE:o} {path})"
            )
        raw = handle.read()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyringError(f"keyring {path} is not valid JSON") from None
