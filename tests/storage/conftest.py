"""Fixtures for the storage tests: keyrings in temp dirs and both backends behind one contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.backends import LocalBackend, MemoryBackend
from storage.backends.base import Backend
from storage.keyring import LocalKeyring


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring.open_or_create(tmp_path / "keys" / "keyring.json")


@pytest.fixture(scope="module")
def module_keyring(tmp_path_factory: pytest.TempPathFactory) -> LocalKeyring:
    """Shared by property tests (Hypothesis refuses function-scoped fixtures)."""
    return LocalKeyring.open_or_create(tmp_path_factory.mktemp("keys") / "keyring.json")


@pytest.fixture(params=["local", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every backend must pass the same contract tests."""
    if request.param == "local":
        yield LocalBackend(tmp_path / "blobs")
    else:
        yield MemoryBackend()
