"""Processing an audio, video or image version: decrypt into private scratch, run the
pipeline (probe, re-encode, scrub, verify), encrypt what it produced, report back.

Plaintext exists only inside the job's scratch directory (0700, tmpfs when it fits), which
is wiped when the job ends, however it ends.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shuttle import blobs
from shuttle.jobs import queue
from shuttle.jobs.queue import ClaimedJob, PermanentJobError
from shuttle.messages import captions, processing
from shuttle.messages.processing import MediaFacts, ProcessingInput
from shuttle.messages.text import Flag, normalise, scan
from shuttle.services import Services
from shuttle.uploads import service as uploads
from workers.letters import LetterResult
from workers.loop import JobContext
from workers.media.edits import EditList
from workers.media.errors import InvalidEdit, MediaRefused, VerificationFailed
from workers.media.pipeline import Result, process
from workers.media.probe import MediaLimits
from workers.media.scratch import Scratch, default_root, wipe_stale_scratch
from workers.media.tools import Tools

CONTENT_TYPES = {"video": "video/mp4", "audio": "audio/mp4", "image": "image/jpeg"}
READ_CHUNK = 1024 * 1024


class MediaJob:
    """The handler for media versions; finds ffmpeg once, on first use."""

    def __init__(self, svc: Services, tools: Tools | None = None, limits: MediaLimits | None = None) -> None:
        self.svc = svc
        self._tools = tools
        self.limits = limits or MediaLimits(max_file_bytes=svc.settings.limits.max_upload_bytes)

    def wipe_stale_scratch(self) -> list[Path]:
        """At start-up: plaintext left in scratch by a worker that crashed is removed."""
        roots = [self.svc.settings.scratch_dir] if self.svc.settings.scratch_dir else [
            Path("/dev/shm"), Path(tempfile.gettempdir())]
        return [path for root in roots for path in wipe_stale_scratch(root)]

    @property
    def tools(self) -> Tools:
        if self._tools is None:
            from workers.media.tools import find_tools

            self._tools = find_tools(self.svc.settings.ffmpeg or None, self.svc.settings.ffprobe or None)
        return self._tools

    def __call__(self, job: ClaimedJob, ctx: JobContext, wanted: ProcessingInput) -> None:
        root = self.svc.settings.scratch_dir or default_root(2 * self.limits.max_file_bytes)
        with Scratch(root) as work:
            source = work / "input"
            self._decrypt(wanted, source)
            try:
                result = process(source, work / "out", tools=self.tools, limits=self.limits,
                                 edits=EditList.from_dict(wanted.edits) if wanted.edits else None,
                                 progress=lambda f: ctx.report_progress(int(f * 100), "processing"),
                                 scratch_root=work, should_stop=ctx.lease_lost.is_set)
            except (MediaRefused, InvalidEdit) as refusal:  # the file itself: its author may send another
                self._fail(wanted.version_id, refusal.reason, refused=True)
                raise PermanentJobError(refusal.reason) from None
            except VerificationFailed as exc:  # our output was not clean: never passed on, staff told
                self._fail(wanted.version_id, "The processed file did not pass the metadata check, so it is "
                           "held back. Please tell the service's operators.", refused=False)
                raise PermanentJobError(str(exc)) from None
            self._store(job, wanted, result)

    def _decrypt(self, wanted: ProcessingInput, target: Path) -> None:
        """The upload's plaintext, into the private scratch file only."""
        if wanted.body_upload_id is None:
            raise PermanentJobError("this version has no upload")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, self.svc.db.uow() as uow:
            for chunk in uploads.read(uow.session, self.svc.store, wanted.body_upload_id):
                out.write(chunk)

    def _fail(self, version_id: str, reason: str, *, refused: bool) -> None:
        with self.svc.db.uow() as uow:
            processing.fail(uow.session, self.svc, version_id, reason, refused=refused)
            uow.commit()

    def _store(self, job: ClaimedJob, wanted: ProcessingInput, result: Result) -> None:
        """Encrypt the outputs and attach them, with the job's completion, in one transaction."""
        store = self.svc.store
        with self.svc.db.uow() as uow:
            raw_transcript = blobs.load_text(uow.session, store, wanted.body_blob_id) if wanted.body_blob_id else ""
        try:
            cues = timed_transcript(raw_transcript, result)
        except captions.InvalidCaptions as refusal:  # checked before anything is stored
            self._fail(wanted.version_id, refusal.reason, refused=True)
            raise PermanentJobError(refusal.reason) from None
        if cues is not None:
            raw_transcript = captions.plain_text(cues)
        transcript = process_transcript(raw_transcript, wanted.watchlist)
        report = json.dumps(_report(result, transcript.flags if transcript else [])).encode()
        delivery = store.put(_read(result.delivery))
        poster = store.put(_read(result.poster)) if result.poster else None
        with self.svc.db.uow() as uow:
            media_blob = blobs.record(uow.session, delivery)
            poster_blob = blobs.record(uow.session, poster) if poster else None
            report_blob = blobs.store_bytes(uow.session, store, report)
            transcript_blob = blobs.store_text(uow.session, store, transcript.text) if transcript else None
            captions_blob = blobs.store_text(uow.session, store, captions.serialise(cues)) if cues else None
            uow.session.flush()
            facts = MediaFacts(CONTENT_TYPES[result.kind],
                               int(result.duration * 1000) if result.duration else None,
                               poster_blob.id if poster_blob else None)
            processing.finish(uow.session, self.svc, wanted.version_id, processed_blob_id=media_blob.id,
                              report_blob_id=report_blob.id, flag_count=len(transcript.flags) if transcript else 0,
                              media=facts, transcript_blob_id=transcript_blob.id if transcript_blob else None,
                              captions_blob_id=captions_blob.id if captions_blob else None)
            queue.complete(uow.session, job, {"kind": result.kind, "duration": result.duration,
                                              "removed": list(result.removed)}, now=self.svc.now())
            uow.commit()


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            yield chunk


def timed_transcript(raw: str, result: Result) -> list[captions.Cue] | None:
    """A timed transcript's cues (None: the transcript is plain text), checked against the
    delivered media's length, each cue's words normalised like a letter's; InvalidCaptions with
    a sentence for the author when they cannot be used."""
    if not captions.is_webvtt(raw):
        return None
    if result.kind not in ("audio", "video"):
        raise captions.InvalidCaptions("Only a recording's transcript can have times.")
    cues = captions.parse(raw, duration_ms=int(result.duration * 1000) if result.duration else None)
    words = [captions.Cue(cue.start_ms, cue.end_ms, captions.clean_text(normalise(cue.text))) for cue in cues]
    return [cue for cue in words if cue.text]


def process_transcript(raw: str, watchlist: tuple[str, ...]) -> LetterResult | None:
    """The author's transcript of a recording or photographed letter goes through the same
    normalisation and contact-detail scan as a letter; None when there is none."""
    text = normalise(raw)
    if not text.strip():
        return None
    return LetterResult(text, scan(text, watchlist))


def _report(result: Result, flags: list[Flag]) -> dict[str, Any]:
    """For the reviewer: what the scrubber removed, what the verification checked, and the
    transcript's flags."""
    return {"flags": [flag.to_dict() for flag in flags], "removed": list(result.removed), "duration": result.duration,
            "width": result.width, "height": result.height,
            "verification": {k: v.to_dict() for k, v in result.verification.items()}}
