"""Who may do what (DESIGN.md section 8): pure rules, no I/O.

`shuttle.access` gathers an actor's membership of a case and asks these functions; a "no"
for something the actor may not even know exists becomes a 404 there (invariant 7).
"""

from __future__ import annotations

from dataclasses import dataclass

from shuttle.messages.states import DELIVERED, State

AUTHORING_ROLES = frozenset({"principal", "proxy"})


@dataclass(frozen=True)
class Membership:
    """An actor's standing in one case."""

    kind: str  # 'facilitator' | 'participant' | 'coordinator' | 'none'
    side: str | None = None
    participant_role: str | None = None
    participant_id: str | None = None

    @property
    def is_facilitator(self) -> bool:
        return self.kind == "facilitator"

    @property
    def is_participant(self) -> bool:
        return self.kind == "participant"


NO_MEMBERSHIP = Membership("none")


def may_see_case(m: Membership) -> bool:
    return m.is_facilitator or m.is_participant


def may_manage_case(m: Membership) -> bool:
    """Consent, assessment, case settings, pause and close: the case's facilitators only."""
    return m.is_facilitator


def may_write(m: Membership) -> bool:
    """Principals and proxies write for their side; supporters never do."""
    return m.is_participant and m.participant_role in AUTHORING_ROLES


def is_author_side(m: Membership, author_side: str) -> bool:
    return may_write(m) and m.side == author_side


def is_recipient_side(m: Membership, author_side: str) -> bool:
    return may_write(m) and m.side is not None and m.side != author_side


def may_see_message(m: Membership, *, author_side: str, state: State, submitted: bool,
                    author_participant_id: str) -> bool:
    """The author side sees its own; facilitators see a message of their case once it has been
    sent to them (an unsent draft is the author's private work: not listed, counted or shown);
    the other side learns of a message only once it is delivered. A draft never sent is its
    writer's alone (`author_participant_id`, who started it): the side's other person (a
    principal's proxy, or the reverse) learns of it once it is sent (issue 13)."""
    if is_author_side(m, author_side):
        return submitted or m.participant_id == author_participant_id
    if m.is_facilitator:
        return submitted
    return is_recipient_side(m, author_side) and state in DELIVERED


def may_change_message(m: Membership, *, author_side: str, author_participant_id: str) -> bool:
    """A side's message is written, changed, sent, withdrawn and its suggested edits answered only
    by the person who started it (issue 13): a proxy never takes over its principal's draft, nor
    the reverse, so each version is truly its writer's words and labelled as theirs."""
    return is_author_side(m, author_side) and m.participant_id == author_participant_id


def may_read_draft(m: Membership, *, author_side: str) -> bool:
    """A draft is the author's private work (an apology written over weeks): staff do not read it."""
    return is_author_side(m, author_side)


def may_review(m: Membership) -> bool:
    return m.is_facilitator


def may_open(m: Membership, *, author_side: str, state: State) -> bool:
    return is_recipient_side(m, author_side) and state in DELIVERED


def may_start_message(
    m: Membership, *, initiator: str, responsible_may_reply: bool, harmed_side_has_sent: bool
) -> bool:
    """The harmed side leads (invariant 4): whether the responsible side may write at all is
    its choice (`responsible_may_reply`), and unless the case lets either side begin, the
    responsible side writes only after the harmed side has sent something."""
    if not may_write(m):
        return False
    if m.side == "harmed":
        return True
    return responsible_may_reply and (initiator == "either" or harmed_side_has_sent)


# --- issue 10: private notes, writing on someone's behalf, supporters ---------------------------


def may_keep_private_notes(m: Membership) -> bool:
    """Private facilitator notes (and preparation records): the case's facilitators only, never
    participants or the coordinator (DESIGN.md section 8)."""
    return m.is_facilitator


def may_write_on_behalf(m: Membership, *, for_role: str | None) -> bool:
    """A facilitator enters a letter a principal or proxy dictated or posted; a supporter never writes."""
    return m.is_facilitator and for_role in AUTHORING_ROLES


def may_approve_as(actor_id: str | None, *, written_by: str, author_account_id: str, facilitators: int,
                   approved_by_another: bool = False) -> bool:
    """With two facilitators, a message one of them entered on a participant's behalf is approved
    by the other: four eyes on words no participant typed. With one facilitator, they may. In a
    case that needs two approvals, the one who entered it may add the second approval only after
    the other facilitator's (otherwise such a message could never be approved)."""
    entered_by_staff = written_by != author_account_id
    if entered_by_staff and facilitators > 1 and actor_id == written_by:
        return approved_by_another
    return True


def may_share_with_supporter(m: Membership, *, author_side: str, state: State) -> bool:
    """The recipient side (principal or proxy) shares a message it has opened with its supporters."""
    return is_recipient_side(m, author_side) and state == State.VIEWED


def may_see_shared(m: Membership, *, author_side: str, state: State, shared: bool) -> bool:
    """A supporter sees a delivered message only while the recipient side shares it with them."""
    return (m.is_participant and m.participant_role == "supporter" and m.side is not None
            and m.side != author_side and state in DELIVERED and shared)


# --- issue 10: the coordinator ---------------------------------------------------------------------


def may_run_service(role: str) -> bool:
    """Staff accounts, case assignment, organisations (DESIGN.md section 8): the coordinator only.
    Anyone else is answered as if the thing did not exist."""
    return role == "coordinator"


def may_see_figures(role: str) -> bool:
    """The service's figures (counts, shares and medians; never content): the coordinator only."""
    return role == "coordinator"


def may_record_own_conflict(m: Membership) -> bool:
    """A facilitator of a case says they know someone in it (so the coordinator replaces them)."""
    return m.is_facilitator


# --- issue 11: the certified case record ------------------------------------------------------------


def may_export_case(m: Membership) -> bool:
    """A signed record of a case (with its content, for a court or an inspector): the case's
    facilitators and the coordinator, always with a stated reason that the audit log keeps."""
    return m.is_facilitator or m.kind == "coordinator"


# --- issue 11: the outcome agreement, closure and feedback -----------------------------------------


def may_see_agreement(m: Membership) -> bool:
    """The case's facilitators, and the principals and proxies of each side (never a supporter)."""
    return m.is_facilitator or may_write(m)


def may_draft_agreement(m: Membership) -> bool:
    """Drafting the agreement, tracking its items and closing the case: the case's facilitators."""
    return m.is_facilitator


def may_answer_agreement(m: Membership) -> bool:
    """Agree, or ask for a change, for one's own side: its principal or a proxy."""
    return may_write(m)


def may_see_item_statuses(m: Membership, *, wants_outcome_news: bool) -> bool:
    """How the agreement is kept: its facilitators, and a participant who asked to hear it."""
    return m.is_facilitator or (may_write(m) and wants_outcome_news)


def may_give_feedback(m: Membership) -> bool:
    """Every participant of a case is offered the questionnaire at its closure; staff never answer it."""
    return m.is_participant and m.participant_id is not None


# --- issue 12: opening a message with the facilitator -----------------------------------------------


def may_ask_supported_opening(m: Membership, *, author_side: str, state: State) -> bool:
    """The recipient side (principal or proxy) asks to open a released, not yet opened message
    together with its facilitator; never the author side or a supporter."""
    return is_recipient_side(m, author_side) and state is State.RELEASED


def may_arrange_supported_opening(m: Membership) -> bool:
    """The case's facilitators arrange the time and start the session in which it opens."""
    return m.is_facilitator
