"""Settings → backend and keyring: what the composition root calls.

Strings in, objects out, so the caller needs no knowledge of the classes. Empty strings
count as unset (environment variables are often set to ""). boto3 is imported only when
an S3 backend or a KMS keyring is asked for.
"""

from __future__ import annotations

from pathlib import Path

from storage.backends.base import Backend
from storage.keyring import Keyring

BACKEND_KINDS = ("local", "s3", "memory")
KEYRING_KINDS = ("local", "kms")


def make_backend(
    kind: str,
    *,
    local_root: str | Path | None = None,
    s3_bucket: str | None = None,
    s3_endpoint_url: str | None = None,
    s3_region: str | None = None,
) -> Backend:
    """`local` needs `local_root`; `s3` needs `s3_bucket` (endpoint and region optional:
    AWS defaults, or e.g. `http://minio:9000`); `memory` is for tests (nothing persists)."""
    if kind == "local":
        if not local_root:
            raise ValueError("the local backend needs a root directory")
        from storage.backends.local import LocalBackend

        return LocalBackend(Path(local_root))
    if kind == "s3":
        if not s3_bucket:
            raise ValueError("the S3 backend needs a bucket name")
        from storage.backends.s3 import S3Backend

        return S3Backend(s3_bucket, endpoint_url=s3_endpoint_url or None, region=s3_region or None)
    if kind == "memory":
        from storage.backends.memory import MemoryBackend

        return MemoryBackend()
    raise ValueError(f"unknown blob backend {kind!r}; expected one of {', '.join(BACKEND_KINDS)}")


def make_keyring(
    kind: str,
    *,
    path: str | Path | None = None,
    kms_key_id: str | None = None,
    kms_endpoint_url: str | None = None,
    region: str | None = None,
    cache_path: str | Path | None = None,
) -> Keyring:
    """`local`: the key file at `path` (created on first use).

    `kms`: the KMS version file at `path` (created on first use with version 1 =
    `kms_key_id`, or a new KMS key when none is given; see `storage.kms`). `cache_path`
    is accepted as another name for that file, because with this design the file is a
    pinned list of KMS key ARNs rather than a cache; giving both with different values
    is an error.
    """
    if kind == "local":
        if not path:
            raise ValueError("the local keyring needs a path")
        from storage.keyring import LocalKeyring

        return LocalKeyring.open_or_create(Path(path))
    if kind == "kms":
        if path and cache_path and Path(path) != Path(cache_path):
            raise ValueError("give the KMS keyring's version file as `path` or `cache_path`, not two different files")
        versions_file = path or cache_path
        if not versions_file:
            raise ValueError("the KMS keyring needs a path for its version file")
        from botocore.exceptions import BotoCoreError

        from storage.errors import KeyringError
        from storage.kms import KmsKeyring, make_kms_client

        try:
            client = make_kms_client(endpoint_url=kms_endpoint_url or None, region=region or None)
        except BotoCoreError as error:  # typically no region configured anywhere
            raise KeyringError(f"cannot set up the KMS client: {error}") from error
        return KmsKeyring.open_or_create(Path(versions_file), client=client, key_id=kms_key_id or None)
    raise ValueError(f"unknown keyring {kind!r}; expected one of {', '.join(KEYRING_KINDS)}")
