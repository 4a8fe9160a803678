"""How long a recording may be, in one place: the browser's recorder stops there (the
participant's page) and the media worker refuses anything longer (workers/media/probe.py
`MediaLimits`)."""

from __future__ import annotations

MAX_RECORDING_SECONDS: dict[str, int] = {"video": 600, "audio": 1200}
