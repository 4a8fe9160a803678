"""Time-based one-time codes (RFC 6238) for staff, and encryption of their secrets at rest.

The secret is encrypted with AES-256-GCM under a key derived by HKDF-SHA256 from the
settings' secret key, with the account id as associated data, so a ciphertext copied onto
another account's row does not decrypt. Rotating the secret key therefore needs every
staff member to enrol again.
"""

from __future__ import annotations

import hmac
import os
from datetime import datetime

import pyotp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shuttle.db import utcnow

INTERVAL = 30
DIGITS = 6
# Accept the previous and the next code too: phone clocks drift and people type slowly.
VALID_WINDOW = 1
_FORMAT = b"\x01"  # version byte in front of nonce || ciphertext
_NONCE_LEN = 12


def new_secret() -> str:
    """A fresh base32 secret (160 bits) to show once as a QR code / text."""
    return pyotp.random_base32()


def _key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"shuttle/totp-secret/v1")
    return hkdf.derive(secret_key.encode())


def encrypt_secret(secret_key: str, account_id: str, secret: str) -> bytes:
    nonce = os.urandom(_NONCE_LEN)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), account_id.encode())
    return _FORMAT + nonce + sealed


def decrypt_secret(secret_key: str, account_id: str, blob: bytes) -> str:
    if blob[:1] != _FORMAT:
        raise ValueError("unknown TOTP secret format")
    nonce, sealed = blob[1 : 1 + _NONCE_LEN], blob[1 + _NONCE_LEN :]
    return AESGCM(_key(secret_key)).decrypt(nonce, sealed, account_id.encode()).decode()


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL


def current_totp(secret: str, now: datetime | None = None) -> str:
    """The code an authenticator app shows at `now` (demo data and tests)."""
    return _totp(secret).generate_otp(time_step(now or utcnow()))


def totp_uri(secret: str, username: str, issuer: str = "shuttle") -> str:
    """otpauth:// URI for the enrolment QR code."""
    return _totp(secret).provisioning_uri(name=username, issuer_name=issuer)


def normalise_code(code: str) -> str:
    """Digits only: people paste "123 456" or "123-456"."""
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")


def match_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The time-step whose code equals `code` within the window, newer than `after`.

    Refusing steps at or before the last accepted one stops a code (or an older one seen
    over a shoulder) from being used twice.
    """
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    current = time_step(now)
    found: int | None = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # Compare every candidate, in constant time, so the timing does not say which matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and (after is None or step > after):
            found = step
    return found
