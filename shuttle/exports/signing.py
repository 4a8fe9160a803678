"""The service's export signing key: Ed25519, made once, kept encrypted at rest.

The private key (32 raw bytes) is stored as an encrypted blob: a fresh data key wrapped by the
service's key-encryption key (the keyring, local key file or KMS), like every message body, so
`shuttle keys rotate` re-wraps it too and a copy of the object store alone cannot read it. Which
blob holds it is said by the audit event that recorded its making (`export.signing_key.created`,
with the blob id and the public key's fingerprint): that pointer is itself in the hash chain, and
the first such event is the key. The private key is only ever in memory, to sign a manifest.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.errors import NotFound, ShuttleError
from shuttle.services import Actor, Services

KEY_CREATED = "export.signing_key.created"
# pg_advisory_xact_lock key for "making the export signing key" (ASCII "shEXPkey").
KEY_LOCK = 0x7368_4558_506B_6579


class SigningKeyUnavailable(ShuttleError):
    status = 503
    code = "signing_key_unavailable"


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, as `SHA256:` and 64 hex digits."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def grouped(fp: str) -> str:
    """A fingerprint in groups of four hex digits, for reading aloud or comparing by eye."""
    digits = fp.removeprefix("SHA256:")
    return "SHA256: " + " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


@dataclass(frozen=True)
class PublicKeyView:
    """What the coordinator's page shows: safe to publish anywhere."""

    pem: str
    fingerprint: str
    fingerprint_grouped: str
    raw_base64: str


def view_of(public: Ed25519PublicKey) -> PublicKeyView:
    fp = fingerprint(public)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKeyView(public_pem(public), fp, grouped(fp), base64.b64encode(raw).decode("ascii"))


def _created_event(session: Session) -> AuditEvent | None:
    return session.scalar(select(AuditEvent).where(AuditEvent.action == KEY_CREATED)
                          .order_by(AuditEvent.seq).limit(1))


def _load(session: Session, svc: Services, event: AuditEvent) -> Ed25519PrivateKey:
    blob_id = str(event.details.get("blob_id", ""))
    try:
        raw = blobs.load_bytes(session, svc.store, blob_id)
        key = Ed25519PrivateKey.from_private_bytes(raw)
    except Exception as exc:  # shredded, missing, or the keyring cannot unwrap it
        raise SigningKeyUnavailable("The service's export signing key cannot be read, so no record can be "
                                    "signed; the operator should check the keyring and the blob store.") from exc
    if fingerprint(key.public_key()) != event.details.get("fingerprint"):
        raise SigningKeyUnavailable("The service's export signing key does not match the fingerprint recorded "
                                    "when it was made, so no record is signed with it.")
    return key


def existing(session: Session, svc: Services) -> Ed25519PrivateKey | None:
    """The key if it was made (read-only)."""
    event = _created_event(session)
    return _load(session, svc, event) if event is not None else None


def existing_public(session: Session, svc: Services) -> PublicKeyView | None:
    key = existing(session, svc)
    return view_of(key.public_key()) if key is not None else None


def make_key(session: Session, svc: Services, actor: Actor) -> PublicKeyView:
    """The coordinator's "make the key now" (so it can be published before the first export)."""
    if not permissions.may_run_service(actor.role):
        raise NotFound()
    return view_of(get_or_create(session, svc, actor).public_key())


def public_key_page(session: Session, svc: Services, actor: Actor) -> PublicKeyView | None:
    """The coordinator's page: the public key, or None before it is made. Reads only."""
    if not permissions.may_run_service(actor.role):
        raise NotFound()
    return existing_public(session, svc)


def get_or_create(session: Session, svc: Services, actor: Actor) -> Ed25519PrivateKey:
    """The key, made now in the caller's transaction if the service has none yet.

    Two processes making it at once: on PostgreSQL an advisory lock orders them and the second
    finds the first's; on SQLite the transaction is already the only writer."""
    found = existing(session, svc)
    if found is not None:
        return found
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_LOCK})
        found = existing(session, svc)
        if found is not None:
            return found
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    blob = blobs.store_bytes(session, svc.store, raw)
    audit.record(session, action=KEY_CREATED, actor_id=actor.account_id, actor_role=actor.role,
                 subject_type="signing_key", subject_id=blob.id,
                 details={"blob_id": blob.id, "algorithm": "Ed25519", "fingerprint": fingerprint(key.public_key())},
                 now=svc.now())
    return key
