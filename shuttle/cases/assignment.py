"""Who facilitates a case: the coordinator replaces, adds or removes a facilitator; a facilitator
(or the coordinator) records a conflict of interest, after which that facilitator cannot be assigned.

Rules kept here, once:
- a case has one or two facilitators, all active facilitator accounts, none with a recorded conflict;
- a case that needs two approvals keeps two facilitators: removing one is refused (replace them
  instead). The coordinator does not lower the case's approvals to make room: how many people
  approve each message is a safeguard the case's facilitators set (DESIGN.md section 8), and a
  staffing change must not quietly weaken it;
- a leaving facilitator's claims on messages are released back to the review queue, so nothing
  waits on someone who is gone; approvals they already gave stay (they were the case's facilitator
  then). The participants' accounts and pages do not change at all.

Use cases never commit; every change is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.access import load_case
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.conflict_models import CaseConflict
from shuttle.cases.models import Case, CaseFacilitator
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.messages import lifecycle
from shuttle.messages.models import Message
from shuttle.messages.states import Action, State
from shuttle.services import Actor, Services

MAX_FACILITATORS = 2
#: Why a facilitator is replaced (said in the audit log and on the case's page; marked for staff.po,
#: translated where the page shows them).
REASONS = {"leave": N_("leave"), "sickness": N_("sickness"), "conflict_of_interest": N_("a conflict of interest"),
           "workload": N_("workload"), "other": N_("another reason")}


def _coordinator(actor: Actor) -> None:
    if not permissions.may_run_service(actor.role):
        raise NotFound()


def _case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound()
    return case


def _open(case: Case) -> None:
    if case.status == "closed":
        raise Conflict(Sentence(N_("%(reference)s is closed: its facilitators no longer change."),
                                reference=case.reference), code="case_closed")


def facilitators_of(session: Session, case_id: str) -> list[CaseFacilitator]:
    """The case's facilitators, the lead (assigned first) first."""
    return list(session.scalars(select(CaseFacilitator).where(CaseFacilitator.case_id == case_id)
                                .order_by(CaseFacilitator.id)))


def is_conflicted(session: Session, case_id: str, account_id: str) -> bool:
    return session.scalar(select(CaseConflict.id).where(CaseConflict.case_id == case_id,
                                                        CaseConflict.account_id == account_id)) is not None


def _facilitator_account(session: Session, account_id: str) -> Account:
    """A facilitator's account; a participant's or a missing one answers like a missing id."""
    account = session.get(Account, account_id)
    if account is None or account.role not in ("facilitator", "coordinator"):
        raise NotFound()
    if account.role != "facilitator":
        raise BadInput(Sentence(N_("%(name)s is a coordinator; only facilitators are assigned to cases."),
                                name=account.display_name),
                       code="not_a_facilitator")
    return account


def check_assignable(session: Session, case: Case, account_id: str) -> Account:
    """The account may join the case as a facilitator; otherwise a sentence saying why not.

    Also for accepting a referral: the same rule wherever a facilitator is assigned.
    """
    account = _facilitator_account(session, account_id)
    if not account.active:
        raise BadInput(Sentence(N_("%(name)s's account is deactivated, so they cannot be assigned."),
                                name=account.display_name),
                       code="inactive")
    if is_conflicted(session, case.id, account.id):
        raise BadInput(Sentence(N_("%(name)s has a conflict of interest with %(reference)s (they know someone in it), "
                                   "so they cannot be assigned to it."), name=account.display_name,
                                reference=case.reference), code="conflict_of_interest")
    if account.id in {f.account_id for f in facilitators_of(session, case.id)}:
        raise BadInput(Sentence(N_("%(name)s is already a facilitator of %(reference)s."), name=account.display_name,
                                reference=case.reference), code="assigned")
    return account


def _member(session: Session, case: Case, account_id: str) -> tuple[CaseFacilitator, Account]:
    account = _facilitator_account(session, account_id)
    row = next((f for f in facilitators_of(session, case.id) if f.account_id == account.id), None)
    if row is None:
        raise BadInput(Sentence(N_("%(name)s is not a facilitator of %(reference)s."), name=account.display_name,
                                reference=case.reference), code="not_assigned")
    return row, account


def _release_claims(session: Session, svc: Services, actor: Actor, case: Case, account_id: str) -> int:
    """The leaving facilitator's claims go back to the queue (a held one keeps its place, unclaimed)."""
    claimed = list(session.scalars(select(Message).where(Message.case_id == case.id,
                                                       Message.claimed_by == account_id)))
    released = 0
    for message in claimed:
        if message.state == State.IN_REVIEW.value:
            lifecycle.transition(session, message, Action.UNCLAIM, actor, now=svc.now(),
                                 details={"released_from": account_id})
        message.claimed_by = None
        released += 1
    return released


def _audit(session: Session, svc: Services, actor: Actor, action: str, case: Case, **details: object) -> None:
    audit.record(session, action=action, actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                 subject_type="case", subject_id=case.id, details=details, now=svc.now())


def replace_facilitator(session: Session, svc: Services, actor: Actor, case_id: str, *, leaving: str,
                        joining: str, reason: str) -> Case:
    """One facilitator hands the case to another (leave, sickness...); the lead keeps the lead's place."""
    _coordinator(actor)
    case = _case(session, case_id)
    if reason not in REASONS:
        raise BadInput(Sentence(N_("Say why: one of %(reasons)s."), reasons=", ".join(REASONS)), code="reason")
    _open(case)
    row, _ = _member(session, case, leaving)
    check_assignable(session, case, joining)
    row.account_id = joining
    released = _release_claims(session, svc, actor, case, leaving)
    _audit(session, svc, actor, "case.reassign", case, leaving=leaving, joining=joining, reason=reason,
           claims_released=released)
    session.flush()
    return case


def add_facilitator(session: Session, svc: Services, actor: Actor, case_id: str, account_id: str) -> Case:
    """A second facilitator (a case has one or two)."""
    _coordinator(actor)
    case = _case(session, case_id)
    _open(case)
    if len(facilitators_of(session, case.id)) >= MAX_FACILITATORS:
        raise BadInput(Sentence(N_("%(reference)s has two facilitators already: replace one instead."),
                                reference=case.reference), code="two_already")
    check_assignable(session, case, account_id)
    session.add(CaseFacilitator(case_id=case.id, account_id=account_id))
    _audit(session, svc, actor, "case.add_facilitator", case, joining=account_id)
    session.flush()
    return case


def remove_facilitator(session: Session, svc: Services, actor: Actor, case_id: str, account_id: str) -> Case:
    """Back to one facilitator. Refused for the last one, and while the case needs two approvals."""
    _coordinator(actor)
    case = _case(session, case_id)
    _open(case)
    row, account = _member(session, case, account_id)
    if len(facilitators_of(session, case.id)) <= 1:
        raise BadInput(Sentence(N_("%(name)s is %(reference)s's only facilitator: replace them instead."),
                                name=account.display_name, reference=case.reference),
                       code="last_facilitator")
    if case.approvals_required > 1:
        raise BadInput(Sentence(N_("%(reference)s needs two different facilitators to approve each message, so it "
                                   "keeps two: replace the facilitator instead, or ask its facilitators to set one "
                                   "approval first."), reference=case.reference), code="approvals_impossible")
    session.delete(row)
    released = _release_claims(session, svc, actor, case, account.id)
    _audit(session, svc, actor, "case.remove_facilitator", case, leaving=account.id, claims_released=released)
    session.flush()
    return case


def _add_conflict(session: Session, svc: Services, actor: Actor, case: Case, account: Account) -> bool:
    """Record it once; False if it was recorded already (nothing changes)."""
    if is_conflicted(session, case.id, account.id):
        return False
    session.add(CaseConflict(case_id=case.id, account_id=account.id, recorded_by=actor.account_id,
                             recorded_at=svc.now()))
    _audit(session, svc, actor, "case.conflict_of_interest", case, facilitator=account.id)
    session.flush()
    return True


def record_own_conflict(session: Session, svc: Services, actor: Actor, case_id: str) -> bool:
    """A facilitator of the case says they know someone in it; the coordinator then replaces them.
    Whether this was new (recording twice changes nothing)."""
    return own_conflict_recorded(session, svc, actor, case_id)[0]


def own_conflict_recorded(session: Session, svc: Services, actor: Actor, case_id: str) -> tuple[bool, str]:
    """`record_own_conflict`, with the case's reference, for the page that says what happened."""
    case, member = load_case(session, actor, case_id)
    if not permissions.may_record_own_conflict(member) or actor.account_id is None:
        raise NotFound()
    account = session.get(Account, actor.account_id)
    assert account is not None
    return _add_conflict(session, svc, actor, case, account), case.reference


def record_conflict(session: Session, svc: Services, actor: Actor, case_id: str, account_id: str) -> bool:
    """The coordinator records that a facilitator knows someone in the case."""
    _coordinator(actor)
    case = _case(session, case_id)
    return _add_conflict(session, svc, actor, case, _facilitator_account(session, account_id))
