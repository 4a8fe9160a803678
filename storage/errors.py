"""Storage errors.

Callers map these to their own responses; the storage layer never guesses what an error
means for a user. Every failure to authenticate is a `DecryptionError`: wrong bytes are
never returned.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base for everything the storage package raises on purpose."""


class ObjectNotFound(StorageError):
    """No object under this id (never written, deleted, or an aborted write)."""

    def __init__(self, object_id: str) -> None:
        super().__init__(f"no stored object {object_id!r}")
        self.object_id = object_id


class StorageUnavailable(StorageError):
    """The object store or the KMS could not be reached or answered that it is failing
    (connection refused or reset, timeouts, 5xx, throttling): an outage, worth retrying later.
    Not a missing object, not bad bytes, not a configuration mistake."""


class DecryptionError(StorageError):
    """Ciphertext or wrapped key failed authentication: tampering, truncation, wrong key or id.

    Deliberately vague: which check failed is of use to an attacker, not to the caller.
    """


class ObjectTooLarge(StorageError):
    """An upload went past the caller's limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"object larger than the limit of {limit} bytes")
        self.limit = limit


class KeyringError(StorageError):
    """The keyring is missing, unsafe (readable by others), malformed, or lacks a key version."""
