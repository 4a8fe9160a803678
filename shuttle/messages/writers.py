"""Whose words a message carries (issue 13): the labels staff, the author side and the recipient see.

A side may have a principal and a proxy. Each writes their own messages: a draft is changed and
sent only by the person who started it (`permissions.may_change_message`), and every version
records the participant whose words it carries (`MessageVersion.written_as_participant_id`): the
participant who sent it, or for whom a facilitator entered it; a facilitator's proposed edit
carries the participant of the version it edits.

A label is read from the version that is shown or delivered, never guessed from who started the
message: a proxy's letter is labelled as written by someone acting for the side, after a
facilitator's edit too, and when (before migration 0003) a proxy sent a draft its principal began.
All pure: the callers load the rows.
"""

from __future__ import annotations

from shuttle.cases.models import Participant
from shuttle.messages.models import Message, MessageVersion


def writer_id(message: Message, version: MessageVersion | None) -> str:
    """The participant whose words `version` of `message` carries; the message's author for a
    draft not yet sent (it is theirs alone) or a version that recorded nobody."""
    if version is not None and version.written_as_participant_id:
        return version.written_as_participant_id
    return message.author_participant_id


def written_as_words(writer: Participant | None) -> str:
    """"principal", or "proxy (mother of Jessica)" for a proxy (staff and the author side)."""
    if writer is not None and writer.role == "proxy":
        return f"proxy ({writer.acting_for})" if writer.acting_for else "proxy"
    return "principal"


def is_proxy(writer: Participant | None) -> bool:
    """Whether the recipient is told the message was written by someone acting for the side."""
    return writer is not None and writer.role == "proxy"


def started_by_words(starter: Participant | None) -> str:
    """The person who started a message, named for the side's other person."""
    if starter is not None and starter.role == "proxy":
        return f"the proxy ({starter.acting_for})" if starter.acting_for else "the proxy"
    return "the principal"
