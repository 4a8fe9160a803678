"""Key rotation: a new key-encryption key version, then every data key re-wrapped under it.

Payloads are never re-encrypted. The work is done in small committed batches, so an
interrupted rotation resumes where it stopped; old versions keep decrypting until then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from shuttle.blobs import Blob
from shuttle.services import Services
from storage.keyring import WrappedKey

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rotation:
    version: int
    rewrapped: int
    resumed: bool


def _behind(svc: Services, version: int) -> int:
    with svc.db.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Blob).where(
            Blob.wrapped_key.is_not(None), Blob.kek_version < version)) or 0)


def rotate(svc: Services, *, batch: int = 500, progress: Progress | None = None, new_version: bool = True) -> Rotation:
    """Add a version (unless an earlier rotation is unfinished) and re-wrap every data key."""
    keyring = svc.store.keyring
    resumed = _behind(svc, keyring.primary_version) > 0
    if new_version and not resumed:
        add = getattr(keyring, "add_version", None)
        if add is None:
            raise RuntimeError("this keyring cannot add versions")
        add()
    version = keyring.primary_version
    total, done = _behind(svc, version), 0
    while True:
        with svc.db.uow() as uow:
            rows = uow.session.scalars(select(Blob).where(Blob.wrapped_key.is_not(None), Blob.kek_version < version)
                                       .order_by(Blob.id).limit(batch)).all()
            if not rows:
                break
            for blob in rows:
                fresh = keyring.rewrap(WrappedKey.decode(blob.wrapped_key or ""), blob.id)
                blob.wrapped_key, blob.kek_version = fresh.encode(), fresh.kek_version
            uow.commit()
        done += len(rows)
        if progress:
            progress(done, total)
    return Rotation(version, done, resumed)
