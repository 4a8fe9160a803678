"""The media pipeline: probe untrusted uploads, re-encode to one delivery profile, scrub, verify.

Pure media: no database, no HTTP. The job handler and the CLI call `pipeline.process`.
"""

from workers.media.edits import Blur, EditList, Region, TimeRange
from workers.media.errors import (
    InvalidEdit,
    MediaError,
    MediaRefused,
    ResourceLimitHit,
    RunCancelled,
    RunTimeout,
    ToolFailed,
    ToolsMissing,
    VerificationFailed,
)
from workers.media.pipeline import Result, process
from workers.media.probe import MediaLimits, Probe, probe
from workers.media.scratch import Scratch, wipe_stale_scratch
from workers.media.tools import Tools, find_tools

__all__ = [
    "Blur", "EditList", "InvalidEdit", "MediaError", "MediaLimits", "MediaRefused", "Probe",
    "Region", "ResourceLimitHit", "Result", "RunCancelled", "RunTimeout", "Scratch", "TimeRange",
    "ToolFailed", "Tools", "ToolsMissing", "VerificationFailed", "find_tools", "probe", "process",
    "wipe_stale_scratch",
]
