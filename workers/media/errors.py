"""The ways media processing ends other than success.

Two audiences: a *refusal* is the upload's fault and its `reason` is a plain sentence shown
to the author and the facilitator (never a stack trace, never file content); every other
error is ours or the machine's, carries a technical `detail` for the log, and is worth a retry.
"""

from __future__ import annotations

from shuttle.messages.edits import InvalidEdit  # a domain error: the edit list's rules live there

__all__ = ["InvalidEdit", "MediaError", "MediaRefused", "ResourceLimitHit", "RunCancelled", "RunTimeout",
           "ToolFailed", "ToolsMissing", "VerificationFailed"]


class MediaError(Exception):
    """Base class of everything this package raises on purpose."""


class MediaRefused(MediaError):
    """The upload is not acceptable: wrong kind of file, damaged, over a limit, hostile.

    Permanent: retrying cannot help. `reason` is written for a person.
    """

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail  # for the log only: may mention tool output


class VerificationFailed(MediaError):
    """Our own output still carries something that must not cross. A bug, never shipped."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the processed file did not pass verification: " + "; ".join(problems))
        self.problems = list(problems)


class ToolsMissing(MediaError):
    """ffmpeg (or a part of it we need) cannot be found or is unusable."""


class ToolFailed(MediaError):
    """A child process failed for a reason that is not clearly the upload's fault."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class RunTimeout(ToolFailed):
    """The wall-clock limit of a child process was reached; it was killed."""


class RunCancelled(ToolFailed):
    """The caller asked to stop (e.g. the job's lease was lost); the child was killed."""


class ResourceLimitHit(ToolFailed):
    """The child was stopped by a resource limit (CPU time, output size, memory)."""
