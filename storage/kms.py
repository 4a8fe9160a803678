"""A keyring whose key-encryption keys are AWS KMS keys (or any KMS speaking that API).

Each KEK version is one symmetric KMS key, pinned by its ARN in a small JSON file (the
*version file*, format below). A data key is wrapped with KMS Encrypt under the primary
version's key, with the encryption context {"object_id": <id>, "purpose": "shuttle-dek-v1"},
which KMS authenticates and which Decrypt must repeat exactly: a wrapped key copied to
another object's row does not unwrap. The version is bound by the key: Decrypt and
ReEncrypt name the version's key ARN, and KMS refuses a ciphertext made under another key.

Why a file and not a KMS alias per version: the ARN list is what decides which key new
data keys are wrapped under, so it must not silently change; an alias can be re-pointed by
anyone with kms:UpdateAlias, a pinned ARN cannot. The file holds no secret (an ARN is not
one), but it is kept as private and written as carefully as the local keyring, and in the
same place (one shared keyring volume for web and workers, see docs/deployment.md).

Rotation (`add_version`) creates (or adopts) a KMS key as the new primary; `rewrap` moves a
wrapped key to it with ReEncrypt, so the data key never leaves KMS in clear during rotation,
and payloads are never touched. docs/encryption.md §5a is the specification.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from storage.errors import DecryptionError, KeyringError, StorageUnavailable
from storage.fsutil import ensure_private_dir, write_private_file
from storage.ids import check_object_id
from storage.keyfile import encode_versions, locked, read_versions, utc_now
from storage.keyring import DEK_SIZE, WrappedKey

log = logging.getLogger(__name__)


class KmsUnavailable(KeyringError, StorageUnavailable):
    """KMS could not be reached, or answered that it is failing (5xx, throttling): an outage."""

KMS_KEYRING_FORMAT = "shuttle-kms-keyring-v1"
CONTEXT_PURPOSE = "shuttle-dek-v1"
ALGORITHM = "SYMMETRIC_DEFAULT"
MAX_CIPHERTEXT_BLOB = 6144  # KMS's limit for CiphertextBlob
ORPHAN_KEY_DELETION_DAYS = 7  # KMS's minimum waiting period
RETIRE_DELETION_DAYS = 30  # a retired version's key: KMS's longest waiting period, to change one's mind
_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,128}")
# KMS answers for a ciphertext that does not authenticate (tampered, wrong context, wrong key).
_AUTHENTICATION_FAILURES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
_KEY_STATE_FAILURES = frozenset(
    {"DisabledException", "KMSInvalidStateException", "KeyUnavailableException", "NotFoundException"}
)


def encryption_context(object_id: str) -> dict[str, str]:
    """The KMS encryption context of a wrapped data key: binds it to its object."""
    return {"object_id": check_object_id(object_id), "purpose": CONTEXT_PURPOSE}


def make_kms_client(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
    retries: int = 5,
    session: boto3.session.Session | None = None,
    **credentials: Any,
) -> Any:
    """A KMS client with standard retries (throttling, 5xx, timeouts) and short timeouts."""
    config = Config(
        retries={"mode": "standard", "max_attempts": retries},  # retries after the first try
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return (session or boto3.session.Session()).client(
        "kms", endpoint_url=endpoint_url or None, region_name=region or None, config=config, **credentials
    )


@dataclass(frozen=True)
class KmsVersions:
    """Contents of a version file: KEK version → KMS key ARN, and the primary version."""

    keys: dict[int, str]
    primary: int
    created: dict[int, str] = field(default_factory=dict)

    @classmethod
    def first(cls, arn: str) -> KmsVersions:
        return cls(keys={1: arn}, primary=1, created={1: utc_now()})

    def with_version(self, arn: str) -> KmsVersions:
        """A copy with `arn` as a new version, which becomes primary."""
        if arn in self.keys.values():
            raise KeyringError(f"KMS key {arn} is already a version of this keyring")
        version = max(self.keys) + 1
        return KmsVersions(
            keys={**self.keys, version: arn}, primary=version, created={**self.created, version: utc_now()}
        )

    def without_version(self, version: int) -> KmsVersions:
        """A copy without `version` (retired); never the primary one."""
        if version == self.primary:
            raise KeyringError(f"key-encryption key version {version} is the primary one and cannot be retired")
        if version not in self.keys:
            raise KeyringError(f"unknown key-encryption key version {version}")
        return KmsVersions(keys={v: a for v, a in self.keys.items() if v != version}, primary=self.primary,
                           created={v: c for v, c in self.created.items() if v != version})

    def encode(self) -> bytes:
        return encode_versions(KMS_KEYRING_FORMAT, self.primary, "kms_key_arn", self.keys, self.created)

    @classmethod
    def read(cls, path: Path) -> KmsVersions:
        """Read and validate (private file, known format); a file half right is refused whole."""
        keys, primary, created = read_versions(path, KMS_KEYRING_FORMAT, _parse_arn_entry)
        return cls(keys=keys, primary=primary, created=created)


def _parse_arn_entry(path: Path, entry: dict[str, Any]) -> tuple[int, str]:
    version, arn = entry.get("version"), entry.get("kms_key_arn")
    if type(version) is not int or version < 1 or not isinstance(arn, str) or not _ARN.fullmatch(arn):
        raise KeyringError(f"keyring {path} has a malformed key entry (version and KMS key ARN)")
    return version, arn


class KmsKeyring:
    """Implements `storage.keyring.Keyring` with KMS Encrypt / Decrypt / ReEncrypt."""

    def __init__(self, path: Path, versions: KmsVersions, client: Any) -> None:
        self._path = path
        self._versions = versions
        self._client = client
        self._stamp: tuple[int, int] | None = None  # the file's (mtime, inode) when last read

    def __repr__(self) -> str:
        return f"KmsKeyring({str(self._path)!r}, versions={self.versions}, primary={self.primary_version})"

    @classmethod
    def open_or_create(cls, path: Path, *, client: Any, key_id: str | None = None) -> KmsKeyring:
        """Load the version file at `path`; on first run create it with version 1 = `key_id`
        (a key id, ARN or alias, resolved to and pinned as its ARN) or, without one, a new
        KMS key. Later, a given `key_id` must be one of the versions (a configuration that
        names a key the keyring does not use is refused rather than silently ignored).
        """
        if not path.exists():
            arn, created = _resolve_or_create(client, key_id, version=1)
            ensure_private_dir(path.parent)
            if not write_private_file(path, KmsVersions.first(arn).encode(), replace=False) and created:
                _schedule_deletion(client, arn)  # another process created the file first
        keyring = cls(path, KmsVersions.read(path), client)
        if key_id is not None:
            arn = _describe(client, key_id)["Arn"]
            if arn not in keyring._versions.keys.values():
                keyring._versions = KmsVersions.read(path)
                if arn not in keyring._versions.keys.values():
                    raise KeyringError(
                        f"the configured KMS key {key_id} is not a version of keyring {path}; "
                        "rotate to it (add_version) instead of changing the setting"
                    )
        return keyring

    @property
    def primary_version(self) -> int:
        return self._versions.primary

    @property
    def versions(self) -> list[int]:
        return sorted(self._versions.keys)

    def key_arn(self, version: int) -> str:
        """The KMS key of a version (re-reading the file once, as for unwrapping)."""
        return self._arn(version)

    def add_version(self, key_id: str | None = None) -> int:
        """Rotate: `key_id` (an existing symmetric key) or a new KMS key becomes the primary
        version; returns its number. Locked and re-read, so concurrent rotations lose nothing."""
        with locked(self._path):
            current = KmsVersions.read(self._path)
            arn, created = _resolve_or_create(self._client, key_id, version=max(current.keys) + 1)
            try:
                rotated = current.with_version(arn)
                write_private_file(self._path, rotated.encode(), replace=True)
            except BaseException:
                if created:
                    _schedule_deletion(self._client, arn)
                raise
        self._versions = rotated
        return rotated.primary

    def retire_version(self, version: int, *, pending_days: int = RETIRE_DELETION_DAYS) -> str:
        """Retire an old version (never the primary): schedule the deletion of its KMS key after
        `pending_days` (7 to 30, KMS's waiting period, cancellable until then) and remove it from the
        version file. Once KMS has deleted the key, every data key wrapped only under it is
        unrecoverable everywhere, database backups included. Returns the key's ARN. The caller
        checks first that nothing is wrapped under it (`shuttle.keys.retire`)."""
        if not 7 <= pending_days <= 30:
            raise KeyringError("KMS deletes a key after a waiting period of 7 to 30 days")
        with locked(self._path):
            current = KmsVersions.read(self._path)
            retired = current.without_version(version)
            arn = current.keys[version]
            try:
                with _kms_errors("ScheduleKeyDeletion", arn):
                    # by key id: the key is this account's (only its owner may delete it anyway)
                    self._client.schedule_key_deletion(KeyId=arn.rsplit("/", 1)[1], PendingWindowInDays=pending_days)
            except KeyringError:
                if _describe(self._client, arn).get("KeyState") != "PendingDeletion":  # not an earlier try
                    raise
            write_private_file(self._path, retired.encode(), replace=True)
        self._versions = retired
        return arn

    def wrap(self, data_key: bytes, object_id: str) -> WrappedKey:
        if len(data_key) != DEK_SIZE:
            raise ValueError(f"data key must be {DEK_SIZE} bytes")
        self._follow_rotation()
        version = self._versions.primary
        arn = self._versions.keys[version]
        with _kms_errors("Encrypt", arn):
            answer = self._client.encrypt(
                KeyId=arn,
                Plaintext=data_key,
                EncryptionContext=encryption_context(object_id),
                EncryptionAlgorithm=ALGORITHM,
            )
        return WrappedKey(kek_version=version, wrapped=answer["CiphertextBlob"])

    def unwrap(self, key: WrappedKey, object_id: str) -> bytes:
        arn = self._arn(key.kek_version)
        context = encryption_context(object_id)
        _check_blob(key)
        with _kms_errors("Decrypt", arn):
            answer = self._client.decrypt(
                CiphertextBlob=key.wrapped, EncryptionContext=context, KeyId=arn, EncryptionAlgorithm=ALGORITHM
            )
        data_key: bytes = answer["Plaintext"]
        if answer.get("KeyId") != arn or len(data_key) != DEK_SIZE:
            raise DecryptionError("wrapped key failed authentication")
        return data_key

    def rewrap(self, key: WrappedKey, object_id: str) -> WrappedKey:
        """ReEncrypt to the primary version inside KMS; a key already there is verified
        (one Decrypt) and returned as is, so a rotation job can be re-run."""
        source = self._arn(key.kek_version)
        primary = self._versions.primary
        if key.kek_version == primary:
            self.unwrap(key, object_id)
            return key
        destination = self._versions.keys[primary]
        context = encryption_context(object_id)
        _check_blob(key)
        with _kms_errors("ReEncrypt", source):
            answer = self._client.re_encrypt(
                CiphertextBlob=key.wrapped,
                SourceEncryptionContext=context,
                SourceKeyId=source,
                SourceEncryptionAlgorithm=ALGORITHM,
                DestinationKeyId=destination,
                DestinationEncryptionContext=context,
                DestinationEncryptionAlgorithm=ALGORITHM,
            )
        if answer.get("SourceKeyId") != source or answer.get("KeyId") != destination:
            raise DecryptionError("wrapped key failed authentication")
        return WrappedKey(kek_version=primary, wrapped=answer["CiphertextBlob"])

    def _follow_rotation(self) -> None:
        """Re-read the version file when another process changed it (a rotation, a retirement), so
        that new data keys are wrapped under the current primary version."""
        try:
            stamp = self._path.stat()
        except OSError:
            return
        if (stamp.st_mtime_ns, stamp.st_ino) != self._stamp:
            self._versions, self._stamp = KmsVersions.read(self._path), (stamp.st_mtime_ns, stamp.st_ino)

    def _arn(self, version: int) -> str:
        """Look a version up, re-reading the file once: another process may have rotated."""
        if version not in self._versions.keys:
            self._versions = KmsVersions.read(self._path)
            if version not in self._versions.keys:
                raise KeyringError(f"unknown key-encryption key version {version}")
        return self._versions.keys[version]


def _check_blob(key: WrappedKey) -> None:
    if not 1 <= len(key.wrapped) <= MAX_CIPHERTEXT_BLOB:
        raise DecryptionError("wrapped key has the wrong length")


@contextmanager
def _kms_errors(operation: str, arn: str) -> Iterator[None]:
    """KMS errors → `DecryptionError` (the ciphertext does not authenticate) or `KeyringError`
    (the key is disabled, pending deletion, gone, not ours to use, or KMS is unreachable)."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _AUTHENTICATION_FAILURES:
            raise DecryptionError("wrapped key failed authentication") from None
        if code in _KEY_STATE_FAILURES:
            raise KeyringError(
                f"KMS {operation} with key {arn} refused: {code} (the key is disabled, pending "
                "deletion or gone; objects wrapped under it cannot be opened until it is enabled)"
            ) from error
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500 or "Throttl" in code or code in ("KMSInternalException", "DependencyTimeoutException"):
            raise KmsUnavailable(f"KMS {operation} with key {arn} failed: {code or status}") from error
        raise KeyringError(f"KMS {operation} with key {arn} failed: {code}") from error
    except (BotoConnectionError, HTTPClientError) as error:
        raise KmsUnavailable(f"KMS {operation} with key {arn} failed: {error}") from error
    except BotoCoreError as error:
        raise KeyringError(f"KMS {operation} with key {arn} failed: {error}") from error


def _describe(client: Any, key_id: str) -> dict[str, Any]:
    with _kms_errors("DescribeKey", key_id):
        metadata: dict[str, Any] = client.describe_key(KeyId=key_id)["KeyMetadata"]
    return metadata


def _resolve_or_create(client: Any, key_id: str | None, *, version: int) -> tuple[str, bool]:
    """(ARN, created): a given key must be an enabled symmetric encryption key."""
    if key_id is None:
        with _kms_errors("CreateKey", "(new)"):
            metadata = client.create_key(
                Description=f"shuttle key-encryption key, version {version}",
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec=ALGORITHM,
                Tags=[{"TagKey": "shuttle", "TagValue": f"kek-v{version}"}],
            )["KeyMetadata"]
        created = True
    else:
        metadata = _describe(client, key_id)
        created = False
    arn = str(metadata["Arn"])
    spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec") or ALGORITHM
    usage = metadata.get("KeyUsage") or "ENCRYPT_DECRYPT"  # both are KMS's defaults when absent
    if usage != "ENCRYPT_DECRYPT" or spec != ALGORITHM:
        raise KeyringError(f"KMS key {arn} is not a symmetric encryption key ({spec}, {usage})")
    if metadata.get("KeyState") != "Enabled":
        raise KeyringError(f"KMS key {arn} is {metadata.get('KeyState')}, not Enabled")
    if not _ARN.fullmatch(arn):
        raise KeyringError(f"KMS answered an unexpected key ARN {arn!r}")
    return arn, created


def _schedule_deletion(client: Any, arn: str) -> None:
    """Best effort: a key this process created and nobody will use (it wrapped nothing)."""
    try:
        client.schedule_key_deletion(KeyId=arn, PendingWindowInDays=ORPHAN_KEY_DELETION_DAYS)
    except (ClientError, BotoCoreError) as error:
        log.warning("could not schedule deletion of unused KMS key %s: %s", arn, error)
