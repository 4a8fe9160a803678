"""The composition root: the one place that turns settings into running parts."""

from __future__ import annotations

from shuttle.config import ConfigError, Settings
from shuttle.db import Database
from shuttle.services import Services
from storage.errors import StorageError
from storage.factory import make_backend, make_keyring
from storage.store import BlobStore


def build_store(settings: Settings) -> BlobStore:
    """One storage interface; local folder or S3, local key file or KMS, picked by settings."""
    try:
        keyring = make_keyring(settings.keyring_kind, path=settings.keyring_path, kms_key_id=settings.kms_key_id,
                               kms_endpoint_url=settings.kms_endpoint_url, region=settings.s3_region)
        backend = make_backend(settings.blob_backend, local_root=settings.blob_dir, s3_bucket=settings.s3_bucket,
                               s3_endpoint_url=settings.s3_endpoint_url, s3_region=settings.s3_region)
    except (StorageError, ValueError) as exc:
        raise ConfigError(f"storage is not usable: {exc}") from exc
    return BlobStore(backend, keyring)


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = Database(settings.database_url, shared_writers=settings.sqlite_shared_writers)
    return Services(settings=settings, db=database, store=build_store(settings))
