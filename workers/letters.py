"""Processing a letter version: normalise the text and flag contact details for the reviewer.

The output (the processed text) is what may one day cross to the other side; the report
(the flags) is for the facilitator only. Both are stored encrypted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from shuttle import blobs
from shuttle.blobs import Blob
from shuttle.jobs import queue
from shuttle.jobs.queue import ClaimedJob, PermanentJobError
from shuttle.messages import processing
from shuttle.messages.processing import ProcessingInput
from shuttle.messages.text import Flag, normalise, scan
from shuttle.services import Services
from storage.keyring import WrappedKey
from workers.preload import preload


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


def process(svc: Services, job: ClaimedJob, wanted: ProcessingInput, body: Blob | None) -> None:
    """`body`: the letter's blob row, read when the job started. Decrypting, processing and
    encrypting the results happen outside any transaction; one transaction then records them."""
    raw = _decrypt(svc, body, wanted.body_blob_id)
    try:
        result = process_letter(raw, wanted.watchlist)
    except PermanentJobError as exc:
        with svc.db.uow() as uow:
            processing.fail(uow.session, svc, wanted.version_id, str(exc), refused=True)
            uow.commit()
        raise
    processed = svc.store.put_bytes(result.text.encode("utf-8"))
    report = svc.store.put_bytes(result.report().encode("utf-8"))
    with svc.db.uow() as uow:
        rows = preload(uow.session, wanted.version_id)  # noqa: F841  (held: the session keeps them weakly)
        processed_blob = blobs.record(uow.session, processed)
        report_blob = blobs.record(uow.session, report)
        queue.complete(uow.session, job, {"flags": len(result.flags)}, now=svc.now())
        # last: its audit event takes the chain lock, held until the commit
        processing.finish(uow.session, svc, wanted.version_id, processed_blob_id=processed_blob.id,
                          report_blob_id=report_blob.id, flag_count=len(result.flags))
        uow.commit()


def _decrypt(svc: Services, body: Blob | None, blob_id: str | None) -> str:
    """As `blobs.load_text`, from the row read when the job started (no transaction now)."""
    if body is None or body.id != blob_id or body.wrapped_key is None:
        raise LookupError(f"blob {blob_id} is missing or shredded")
    return svc.store.get_bytes(body.id, WrappedKey.decode(body.wrapped_key)).decode("utf-8")
