"""Encrypted blobs referenced from the database.

The wrapped data key lives here, in the database, not beside the ciphertext: deleting the
row (shredding) makes the bytes unrecoverable even from object-store backups.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from shuttle.db import Base, UTCDateTime, utcnow
from shuttle.errors import Destroyed
from storage.keyring import WrappedKey
from storage.store import BlobStore, StoredObject


class Blob(Base):
    __tablename__ = "blobs"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    wrapped_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    kek_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # ciphertext deleted too


def record(session: Session, stored: StoredObject) -> Blob:
    """Keep a stored object's wrapped key in the caller's transaction.

    If that transaction rolls back, the written ciphertext has no key: it is unreadable
    garbage that the orphan sweeper removes.
    """
    blob = Blob(id=stored.object_id, size=stored.size, wrapped_key=stored.key.encode(),
                kek_version=stored.key.kek_version)
    session.add(blob)
    return blob


def store_bytes(session: Session, store: BlobStore, data: bytes) -> Blob:
    """Encrypt and write `data`, then record its key in the caller's transaction."""
    return record(session, store.put_bytes(data))


def store_text(session: Session, store: BlobStore, text: str) -> Blob:
    return store_bytes(session, store, text.encode("utf-8"))


def load_bytes(session: Session, store: BlobStore, blob_id: str) -> bytes:
    blob = session.get(Blob, blob_id)
    if blob is not None and blob.shredded_at is not None:
        raise Destroyed("This has been destroyed (its encryption key shredded): nobody can read it any more, "
                        "staff included.")
    if blob is None or blob.wrapped_key is None:
        raise LookupError(f"blob {blob_id} is missing or shredded")
    return store.get_bytes(blob.id, WrappedKey.decode(blob.wrapped_key))


def load_text(session: Session, store: BlobStore, blob_id: str) -> str:
    return load_bytes(session, store, blob_id).decode("utf-8")


def shred(session: Session, blob_id: str, *, now: datetime | None = None) -> None:
    """Destroy the data key in the caller's transaction: from its commit on, the bytes are noise.

    The ciphertext itself is removed afterwards by `remove_shredded_bytes`, so a rolled-back
    transaction never leaves a key without its bytes.
    """
    session.execute(update(Blob).where(Blob.id == blob_id, Blob.wrapped_key.is_not(None))
                    .values(wrapped_key=None, shredded_at=now or utcnow()))  # one statement, no read first


def remove_shredded_bytes(session: Session, store: BlobStore, *, now: datetime | None = None) -> int:
    """Delete the ciphertext of shredded blobs not yet purged; returns how many."""
    shredded = session.scalars(select(Blob).where(Blob.wrapped_key.is_(None), Blob.purged_at.is_(None))).all()
    for blob in shredded:
        store.delete(blob.id)
        blob.purged_at = now or utcnow()
    return len(shredded)
