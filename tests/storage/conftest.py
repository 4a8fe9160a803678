"""Fixtures for the storage tests: keyrings in temp dirs, every backend behind one contract,
and moto's S3 and KMS served over HTTP on 127.0.0.1 (one server for the session, started
and stopped here; a fresh bucket per test)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from moto_support import empty_bucket, new_kms_client, new_s3_client

from storage.backends import LocalBackend, MemoryBackend
from storage.backends.base import Backend
from storage.backends.s3 import MIN_PART_SIZE, S3Backend
from storage.keyring import LocalKeyring


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring.open_or_create(tmp_path / "keys" / "keyring.json")


@pytest.fixture(scope="module")
def module_keyring(tmp_path_factory: pytest.TempPathFactory) -> LocalKeyring:
    """Shared by property tests (Hypothesis refuses function-scoped fixtures)."""
    return LocalKeyring.open_or_create(tmp_path_factory.mktemp("keys") / "keyring.json")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 + KMS server in a thread, on a free port of 127.0.0.1."""
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_log.setLevel(level)


@pytest.fixture(scope="session")
def s3_client(moto_endpoint: str) -> Any:
    """Shared; tests that hook events into a client make their own."""
    return new_s3_client(moto_endpoint)


@pytest.fixture(scope="session")
def kms_client(moto_endpoint: str) -> Any:
    return new_kms_client(moto_endpoint)


@pytest.fixture
def s3_bucket(s3_client: Any) -> Iterator[str]:
    """A fresh, empty bucket; emptied and removed afterwards (moto keeps objects in memory)."""
    bucket = f"shuttle-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    try:
        yield bucket
    finally:
        empty_bucket(s3_client, bucket)
        s3_client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_backend(s3_client: Any, s3_bucket: str) -> S3Backend:
    return S3Backend(s3_bucket, client=s3_client, part_size=MIN_PART_SIZE)


@pytest.fixture(params=["local", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every backend must pass the same contract tests."""
    if request.param == "local":
        yield LocalBackend(tmp_path / "blobs")
    elif request.param == "memory":
        yield MemoryBackend()
    else:
        yield request.getfixturevalue("s3_backend")
