"""Domain errors. The web layer maps each to one HTTP status; the CLI to a message and exit 1."""

from __future__ import annotations

from typing import Any

from shuttle.i18n import N_


class ShuttleError(Exception):
    """Base: carries a message fit to show to the person who caused it."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}  # extra JSON fields for the API answer (e.g. the flags still open)
        if code is not None:
            self.code = code


class BadInput(ShuttleError):
    status = 400
    code = "bad_input"


class NotAuthenticated(ShuttleError):
    status = 401
    code = "not_authenticated"


class Forbidden(ShuttleError):
    """Only for actions on things the actor may already see (e.g. a participant reviewing)."""

    status = 403
    code = "forbidden"


class NotFound(ShuttleError):
    """Missing, or not the actor's to see: both answer exactly alike (invariant 7)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = N_("Not found."), *, code: str | None = None) -> None:
        super().__init__(message, code=code)


class Conflict(ShuttleError):
    """The state or version moved on (stale action, transition not allowed now)."""

    status = 409
    code = "conflict"


class Destroyed(ShuttleError, LookupError):
    """The content was crypto-shredded (retention, or a recipient's request to destroy it): nobody
    can read it any more. A LookupError too, as a missing blob is."""

    status = 410
    code = "destroyed"


class TooLarge(ShuttleError):
    status = 413
    code = "too_large"


class TooManyRequests(ShuttleError):
    status = 429
    code = "too_many_requests"
