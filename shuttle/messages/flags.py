"""Flags decided by a person (invariant 9): which flags an approval must resolve, and how.

Pure: the caller reads a version's flags (the worker's report) and the approver's answers.
A flag is resolved either by an edit that took it out (it is then no longer a flag of the
version being approved: `redacted_by_edit` lists those for the record) or by keeping it with
a short reason. No single click delivers a flagged phone number: `unresolved` must be empty
before an approval is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shuttle.i18n import N_, Sentence

#: Words a facilitator recognises for each kind of flag.
#: Marked for staff.po; translated where a page shows them (`| translated`).
FLAG_WORDS = {"phone": N_("phone number"), "email": N_("e-mail address"), "url": N_("web address"),
              "postcode": N_("postcode"), "handle": N_("social media name"), "watchlist": N_("watch-list term")}
MIN_REASON_CHARS = 5
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class FlagItem:
    """One flag of one version, with an id stable for that (immutable) version."""

    id: str
    kind: str
    text: str

    @property
    def words(self) -> str:
        return FLAG_WORDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Resolution:
    """How the approving facilitator resolved one flag: kept, with the reason why."""

    flag_id: str
    kind: str
    decision: str  # 'kept' (a redaction is an edit, so a redacted flag is not a flag of the approved version)
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"flag": self.flag_id, "kind": self.kind, "decision": self.decision, "reason": self.reason}


class ResolutionError(ValueError):
    """The answers do not resolve every flag; `missing` are the flags still open."""

    def __init__(self, message: str, missing: Sequence[FlagItem] = ()) -> None:
        super().__init__(message)
        self.message = message  # an i18n.Sentence: said in the reader's language where it is shown
        self.missing = tuple(missing)


def items(flags: Iterable[Mapping[str, object]]) -> list[FlagItem]:
    """The worker's report flags as items, in the order they appear in the text."""
    return [FlagItem(f"{f['kind']}-{f['start']}-{f['end']}", str(f["kind"]), str(f.get("text", ""))) for f in flags]


def redacted_by_edit(before: Iterable[FlagItem], after: Iterable[FlagItem]) -> list[FlagItem]:
    """Flags of an earlier version whose words no longer appear among the flags of the later one."""
    still = {(f.kind, f.text) for f in after}
    return [f for f in before if (f.kind, f.text) not in still]


def resolve(flags: Sequence[FlagItem], reasons: Mapping[str, str]) -> list[Resolution]:
    """Every flag kept with its reason, or ResolutionError naming the flags left open.

    `reasons` maps a flag id to the approver's reason for keeping it; ids of flags the version
    does not have are an error too (the page was for another version).
    """
    known = {f.id for f in flags}
    strangers = sorted(set(reasons) - known)
    if strangers:
        raise ResolutionError(Sentence(N_("These flags are not on this version: %(ids)s. Reload the page."),
                                       ids=", ".join(strangers)))
    too_long = [f for f in flags if len(reasons.get(f.id, "").strip()) > MAX_REASON_CHARS]
    if too_long:
        raise ResolutionError(Sentence(N_("A reason is at most %(max)s characters."), max=MAX_REASON_CHARS), too_long)
    missing = [f for f in flags if len(reasons.get(f.id, "").strip()) < MIN_REASON_CHARS]
    if missing:
        listed = [Sentence(N_("%(words)s \u201c%(text)s\u201d"), words=Sentence(f.words), text=f.text) for f in missing]
        raise ResolutionError(Sentence(
            N_("Resolve every flag before approving: redact it with an edit, or say why it can stay (at least %(min)s "
               "characters). Still open: %(listed)s."), min=MIN_REASON_CHARS, listed=listed), missing)
    return [Resolution(f.id, f.kind, "kept", reasons[f.id].strip()) for f in flags]
