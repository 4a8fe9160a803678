"""What a facilitator is shown before and after approving: the approval sheet and what comes next.

The sheet says what will be delivered (the processed version, nothing else), to whom (the
other side's label), what happens after this approval, and lists every flag to resolve, with
the resolutions an earlier approver gave. Reading it is an audited view of content.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.accounts.models import Account
from shuttle.cases.models import Case, CaseFacilitator, other_side
from shuttle.errors import Conflict
from shuttle.i18n import N_, Sentence
from shuttle.messages import flags, review
from shuttle.messages.flags import FlagItem
from shuttle.messages.gates import release_blockers
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.numbering import KIND_NAMES
from shuttle.messages.release import approvers_of, release_facts
from shuttle.messages.states import IN_REVIEW_STATES, State, describe
from shuttle.services import Actor, Services


@dataclass(frozen=True)
class EarlierApproval:
    by: str
    resolutions: tuple[flags.Resolution, ...]


@dataclass(frozen=True)
class ApprovalSheet:
    message_id: str
    row_version: int
    kind: str
    kind_name: str
    author_label: str
    recipient_label: str
    version_id: str
    version_number: int
    text: str | None  # a letter's processed text
    transcript: str | None
    flags: tuple[FlagItem, ...]
    redacted: tuple[FlagItem, ...]  # taken out by an edit since the author's version
    earlier: tuple[EarlierApproval, ...]
    approvals: int
    approvals_required: int
    then: str  # what happens after this approval, in one sentence


def _names(session: Session, ids: list[str]) -> dict[str, str]:
    return {a.id: a.display_name for a in session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}


def _redacted(session: Session, svc: Services, message: Message, version: MessageVersion,
              now_flags: list[flags.FlagItem]) -> list[flags.FlagItem]:
    """Flags of the author's last version that a facilitator's edit took out."""
    if version.origin != "facilitator":
        return []
    author = session.scalar(select(MessageVersion).where(
        MessageVersion.message_id == message.id, MessageVersion.origin == "author",
        MessageVersion.number < version.number).order_by(MessageVersion.number.desc()).limit(1))
    if author is None:
        return []
    return flags.redacted_by_edit(review.version_flags(session, svc, author), now_flags)


def _then(session: Session, svc: Services, case: Case, message: Message, approvals_after: int) -> str:
    recipient = case.label_of(other_side(message.author_side))
    if approvals_after < case.approvals_required:
        return Sentence(N_("This case needs %(required)s different facilitators: after your approval a second "
                           "facilitator must approve it before it is delivered to %(recipient)s."),
                        required=case.approvals_required, recipient=recipient)
    facts = replace(release_facts(session, svc, case, message, version_id=message.current_version_id),
                    approvals=approvals_after)
    blockers = release_blockers(facts)
    if blockers:
        return Sentence(N_("It will be delivered to %(recipient)s once nothing holds it; now: %(blockers)s."),
                        recipient=recipient, blockers=blockers)
    return Sentence(N_("It will be delivered to %(recipient)s at once: they see that a message is waiting and open "
                       "it when they choose."), recipient=recipient)


def approval_sheet(session: Session, svc: Services, actor: Actor, message_id: str) -> ApprovalSheet:
    """The sheet for the reviewer holding the message; a 409 when it cannot be approved now."""
    message, case = review.reviewer_message(session, actor, message_id)
    if message.state != State.IN_REVIEW or message.claimed_by != actor.account_id:
        raise Conflict(N_("Claim this message for review first; only the reviewer holding it can approve it."),
                       code="not_claimed")
    content = review.read_version(session, svc, actor, message_id)  # audited view of content
    version = session.get(MessageVersion, content["version_id"])
    assert version is not None
    found = flags.items(content["flags"])
    records = review.approval_records(session, svc, version.id)
    names = _names(session, [r.facilitator_id for r in records])
    approvals = len(approvers_of(session, version.id))
    return ApprovalSheet(
        message_id=message.id, row_version=message.row_version, kind=message.kind,
        kind_name=KIND_NAMES.get(message.kind, N_("Message")), author_label=case.label_of(message.author_side),
        recipient_label=case.label_of(other_side(message.author_side)), version_id=version.id,
        version_number=version.number, text=content["text"], transcript=content["transcript"],
        flags=tuple(found), redacted=tuple(_redacted(session, svc, message, version, found)),
        earlier=tuple(EarlierApproval(names.get(r.facilitator_id, N_("a former facilitator")), r.resolutions)
                      for r in records),
        approvals=approvals, approvals_required=case.approvals_required,
        then=_then(session, svc, case, message, approvals + 1))


@dataclass(frozen=True)
class NextItem:
    message_id: str
    kind_name: str
    author_label: str
    case_reference: str
    status: str


@dataclass(frozen=True)
class AfterApproval:
    message_id: str
    kind_name: str
    recipient_label: str
    outcome: str  # what became of the approved message, in words
    next: NextItem | None


def _outcome(session: Session, svc: Services, case: Case, message: Message) -> str:
    recipient = case.label_of(other_side(message.author_side))
    if message.state in (State.RELEASED, State.VIEWED):
        return Sentence(N_("Delivered to %(recipient)s."), recipient=recipient)
    if message.state == State.APPROVED:
        blockers = release_blockers(release_facts(session, svc, case, message))
        return (Sentence(N_("Approved; not delivered yet because %(blockers)s."), blockers=blockers) if blockers
                else Sentence(N_("Approved.")))
    if message.state in IN_REVIEW_STATES:
        return Sentence(N_("Your approval is recorded; a second facilitator must approve it too."))
    return Sentence(N_("It is %(state)s."), state=Sentence(describe(State(message.state))))


def next_in_queue(session: Session, actor: Actor, after: str) -> NextItem | None:
    """The oldest message of my cases waiting for a review I can give (not one I approved already)."""
    mine = select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)
    rows = session.execute(
        select(Message, Case).join(Case, Case.id == Message.case_id)
        .where(Message.case_id.in_(mine), Message.id != after,
               Message.state.in_([s.value for s in IN_REVIEW_STATES]))
        .order_by(Message.submitted_at, Message.created_at)).all()
    for message, case in rows:
        taken = message.state == State.IN_REVIEW and message.claimed_by not in (None, actor.account_id)
        if taken or actor.account_id in approvers_of(session, message.current_version_id):
            continue
        return NextItem(message.id, KIND_NAMES.get(message.kind, N_("Message")), case.label_of(message.author_side),
                        case.reference, describe(State(message.state)))
    return None


def after_approval(session: Session, svc: Services, actor: Actor, message_id: str) -> AfterApproval:
    message, case = review.reviewer_message(session, actor, message_id)
    return AfterApproval(message.id, KIND_NAMES.get(message.kind, N_("Message")),
                         case.label_of(other_side(message.author_side)),
                         _outcome(session, svc, case, message), next_in_queue(session, actor, message.id))
