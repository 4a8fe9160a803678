"""Processing a letter version: normalise the text and flag contact details for the reviewer.

The output (the processed text) is what may one day cross to the other side; the report
(the flags) is for the facilitator only. Both are stored encrypted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from shuttle import blobs
from shuttle.jobs import queue
from shuttle.jobs.queue import ClaimedJob, PermanentJobError
from shuttle.messages import processing
from shuttle.messages.processing import ProcessingInput
from shuttle.messages.text import Flag, normalise, scan
from shuttle.services import Services


@dataclass(frozen=True)
class LetterResult:
    text: str
    flags: list[Flag]

    def report(self) -> str:
        return json.dumps({"flags": [flag.to_dict() for flag in self.flags]})


def process_letter(raw: str, watchlist: tuple[str, ...]) -> LetterResult:
    """Pure: the text that may cross, and what the reviewer must look at."""
    text = normalise(raw)
    if not text.strip():
        raise PermanentJobError("the letter is empty once invisible characters are removed")
    return LetterResult(text, scan(text, watchlist))


def process(svc: Services, job: ClaimedJob, wanted: ProcessingInput) -> None:
    with svc.db.uow() as uow:
        raw = blobs.load_text(uow.session, svc.store, wanted.body_blob_id or "")
    try:
        result = process_letter(raw, wanted.watchlist)
    except PermanentJobError as exc:
        with svc.db.uow() as uow:
            processing.fail(uow.session, svc, wanted.version_id, str(exc), refused=True)
            uow.commit()
        raise
    with svc.db.uow() as uow:
        processed = blobs.store_text(uow.session, svc.store, result.text)
        report = blobs.store_text(uow.session, svc.store, result.report())
        processing.finish(uow.session, svc, wanted.version_id, processed_blob_id=processed.id,
                          report_blob_id=report.id, flag_count=len(result.flags))
        queue.complete(uow.session, job, {"flags": len(result.flags)}, now=svc.now())
        uow.commit()
