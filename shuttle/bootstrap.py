"""The composition root: the one place that turns settings into running parts."""

from __future__ import annotations

from shuttle.config import ConfigError, Settings
from shuttle.db import Database
from shuttle.services import Services
from storage.backends.local import LocalBackend
from storage.keyring import LocalKeyring
from storage.store import BlobStore


def build_store(settings: Settings) -> BlobStore:
    keyring = LocalKeyring.open_or_create(settings.keyring_path)
    if settings.blob_backend == "local":
        return BlobStore(LocalBackend(settings.blob_dir), keyring)
    raise ConfigError("SHUTTLE_BLOB_BACKEND=s3 is not available yet in this build; use 'local'.")


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Services(settings=settings, db=Database(settings.database_url), store=build_store(settings))
