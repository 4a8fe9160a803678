"""The author times the words of their own recording (issue 12): the cue editor on their message's
page, the same one facilitators have (`captions.from_form` makes the WebVTT of both).

A facilitator's times are an edit (`review.propose_transcript_edit`: a new version the author may
have to accept). An author's are their own words: the times go in as the draft's transcript and
the recording the current version has is sent again with them (`authoring.submit`, unchanged): a
new version, processed (the worker checks every cue against the recording) and reviewed like any
other, and no caption text reaches the recipient before approval.

Only when the author may change the message (`authoring.as_writer`: its author side, and on a side
with a principal and a proxy only the one who started it; a state in EDITABLE, which for a
recording with a processed version means a facilitator asked for changes), the recording is one
they can play (the current version, processed), and no new recording waits in the draft (the
times would belong to another recording).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuttle.errors import BadInput, Conflict
from shuttle.i18n import N_
from shuttle.messages import authoring, captions, lifecycle
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.states import EDITABLE
from shuttle.services import Actor, Services

RECORDING_KINDS = ("audio", "video")


def timeable(message: Message, current: MessageVersion | None) -> bool:
    """Whether the author's cue editor applies: a recording in a state its author may change, its
    current version processed (what they play while timing), no new recording in the draft."""
    return (message.kind in RECORDING_KINDS and message.state in EDITABLE and message.draft_upload_id is None
            and current is not None and current.body_upload_id is not None and current.processed_blob_id is not None)


def send_timed(session: Session, svc: Services, actor: Actor, message_id: str, text: str,
               *, expected_version: int | None = None) -> Message:
    """Send the recording the current version has again, with `text` (WebVTT from the cue editor)
    as its transcript. Refused (nothing changed) if it cannot be timed now or the cues are wrong."""
    message, _, _ = authoring.as_writer(session, actor, message_id)
    lifecycle.check_fresh(message, expected_version)
    current = session.get(MessageVersion, message.current_version_id or "")
    if message.kind not in RECORDING_KINDS:
        raise BadInput(N_("Only the words of a recording can be timed."))
    if not timeable(message, current):
        raise Conflict(N_("The words of this recording cannot be timed now. Reload the page to see where it is."),
                       code="not_timeable")
    assert current is not None
    captions.parse(text)  # a sentence now, rather than a refusal from the worker later
    authoring.save_draft(session, svc, actor, message_id, text)
    # The draft's recording is, for this one send, the one the current version already has: submit
    # makes the new version from it and clears it again in the same transaction.
    message.draft_upload_id = current.body_upload_id
    return authoring.submit(session, svc, actor, message_id)
