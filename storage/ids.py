"""Object ids: opaque, random, and safe to use as a file name or S3 key as they are."""

from __future__ import annotations

import re
import secrets

from storage.errors import StorageError

_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")


def new_object_id() -> str:
    """A fresh id with 192 random bits, so ids can be minted anywhere without coordination."""
    return secrets.token_urlsafe(24)


def is_object_id(value: object) -> bool:
    """True if `value` is a well-formed object id."""
    return isinstance(value, str) and _ID_PATTERN.fullmatch(value) is not None


def check_object_id(object_id: str) -> str:
    """Return `object_id` if it is well formed; refuse anything that could escape a directory."""
    if not is_object_id(object_id):
        raise StorageError("invalid object id: expected 8-128 characters of [A-Za-z0-9_-]")
    return object_id
