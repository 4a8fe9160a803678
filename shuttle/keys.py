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


class StillInUse(Exception):
    """A KEK version still wraps data keys: retiring it would destroy those objects."""


@dataclass(frozen=True)
class Retirement:
    retired: tuple[int, ...]
    primary: int
    remaining: tuple[int, ...]


def wrapped_under(svc: Services) -> dict[int, int]:
    """How many live data keys each KEK version wraps (shredded objects have none)."""
    with svc.db.uow() as uow:
        rows = uow.session.execute(select(Blob.kek_version, func.count()).where(Blob.wrapped_key.is_not(None))
                                   .group_by(Blob.kek_version)).all()
    return {int(version): int(count) for version, count in rows}


def retire(svc: Services, versions: list[int] | None = None, **options: int) -> Retirement:
    """Retire old KEK versions (every one older than the primary, or those given) once no data key
    in the database is wrapped under them; refuses (`StillInUse`, nothing retired) otherwise.

    After this, a wrapped data key in a database backup made before a shredding cannot be unwrapped
    with this keyring any more (with KMS: once KMS has deleted the key, after its waiting period)."""
    keyring = svc.store.keyring
    retire_version = getattr(keyring, "retire_version", None)
    known = getattr(keyring, "versions", None)
    if retire_version is None or known is None:
        raise RuntimeError("this keyring cannot retire versions")
    primary = keyring.primary_version
    chosen = sorted(set(versions)) if versions else [v for v in known if v != primary]
    for version in chosen:
        if version == primary:
            raise StillInUse(f"key-encryption key version {version} is the primary one: every new object is "
                             "wrapped under it; rotate first (shuttle keys rotate)")
        if version not in known:
            raise StillInUse(f"there is no key-encryption key version {version} (versions: "
                             f"{', '.join(map(str, known))})")
    in_use = {v: n for v, n in wrapped_under(svc).items() if v in chosen}
    if in_use:
        listed = ", ".join(f"version {v} still wraps {n} data key{'s' if n != 1 else ''}"
                           for v, n in sorted(in_use.items()))
        raise StillInUse(f"nothing retired: {listed}; re-wrap first (shuttle keys rotate)")
    for version in chosen:
        retire_version(version, **options)
    return Retirement(tuple(chosen), primary, tuple(v for v in getattr(keyring, "versions", []) if v not in chosen))
