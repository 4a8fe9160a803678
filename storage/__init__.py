"""Encrypted blob storage: the stream format, the keyring and the backends.

Knows nothing of cases or messages: it stores and returns encrypted byte ranges under
opaque object ids. The format is specified in docs/encryption.md.
"""

from storage.errors import DecryptionError, KeyringError, ObjectNotFound, ObjectTooLarge, StorageError
from storage.keyring import Keyring, LocalKeyring, WrappedKey
from storage.store import BlobStore, EncryptedObject, StoredObject

__all__ = [
    "BlobStore",
    "DecryptionError",
    "EncryptedObject",
    "Keyring",
    "KeyringError",
    "LocalKeyring",
    "ObjectNotFound",
    "ObjectTooLarge",
    "StorageError",
    "StoredObject",
    "WrappedKey",
]
