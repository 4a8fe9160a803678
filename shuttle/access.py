"""Loading things on behalf of an actor: membership first, then the rules in `permissions`.

Anything the actor may not see raises NotFound, worded exactly like a missing id (invariant 7).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.accounts.models import Account
from shuttle.cases.models import Case, CaseFacilitator, Participant
from shuttle.errors import NotFound
from shuttle.messages.models import Message
from shuttle.messages.states import State
from shuttle.permissions import Membership
from shuttle.services import Actor

#: Rows held for the rest of a unit of work (`Session.info`): the session's identity map holds loaded
#: rows only weakly, so a participant read for a membership was read again by the view of the same
#: unit (an autosave's answer: `Session.get` of the author).
_KEPT = "access.kept"


def membership(session: Session, actor: Actor, case_id: str) -> Membership:
    if actor.account_id is None:
        return permissions.NO_MEMBERSHIP
    if actor.role == "facilitator":
        found = session.scalar(
            select(CaseFacilitator.id).where(
                CaseFacilitator.case_id == case_id, CaseFacilitator.account_id == actor.account_id
            )
        )
        return Membership("facilitator") if found else permissions.NO_MEMBERSHIP
    if actor.role == "participant":
        part = session.scalar(
            select(Participant).where(
                Participant.case_id == case_id,
                Participant.account_id == actor.account_id,
                Participant.active.is_(True),
            )
        )
        if part is None:
            return permissions.NO_MEMBERSHIP
        session.info.setdefault(_KEPT, []).append(part)  # held: the unit's later reads of it cost no query
        return Membership("participant", part.side, part.role, part.id)
    if actor.role == "coordinator":
        return Membership("coordinator")
    return permissions.NO_MEMBERSHIP


def load_case(session: Session, actor: Actor, case_id: str) -> tuple[Case, Membership]:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound()
    member = membership(session, actor, case.id)
    if not permissions.may_see_case(member):
        raise NotFound()
    return case, member


def load_message(session: Session, actor: Actor, message_id: str) -> tuple[Message, Case, Membership]:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound()
    case = session.get(Case, message.case_id)
    assert case is not None
    member = membership(session, actor, case.id)
    if not permissions.may_see_message(member, author_side=message.author_side, state=State(message.state),
                                       submitted=message.first_submitted_at is not None,
                                       author_participant_id=message.author_participant_id):
        raise NotFound()
    return message, case, member


def load_case_as_facilitator(session: Session, actor: Actor, case_id: str) -> tuple[Case, list[Account]]:
    """`load_case` for one of the case's facilitators, with the case's facilitators' accounts (the
    lead, assigned first, first): two queries. NotFound for anyone else, as for a missing case."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound()
    facilitators = list(session.scalars(select(Account).join(CaseFacilitator, CaseFacilitator.account_id == Account.id)
                                        .where(CaseFacilitator.case_id == case.id).order_by(CaseFacilitator.id)))
    member = (Membership("facilitator") if actor.role == "facilitator" and actor.account_id is not None
              and actor.account_id in {a.id for a in facilitators} else permissions.NO_MEMBERSHIP)
    if not (permissions.may_see_case(member) and member.is_facilitator):
        raise NotFound()
    return case, facilitators


def load_message_as_facilitator(session: Session, actor: Actor,
                                message_id: str) -> tuple[Message, Case, list[str]]:
    """`load_message` for one of the case's facilitators, with the ids of the case's facilitators
    (the lead, assigned first, first): two queries. NotFound for anyone else, as for a missing id."""
    found = session.execute(select(Message, Case).join(Case, Case.id == Message.case_id)
                            .where(Message.id == message_id)).first()
    if found is None:
        raise NotFound()
    message, case = found
    facilitators = list(session.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case.id)
                                        .order_by(CaseFacilitator.id)))
    member = (Membership("facilitator") if actor.role == "facilitator" and actor.account_id is not None
              and actor.account_id in facilitators else permissions.NO_MEMBERSHIP)
    if not member.is_facilitator or not permissions.may_see_message(
            member, author_side=message.author_side, state=State(message.state),
            submitted=message.first_submitted_at is not None, author_participant_id=message.author_participant_id):
        raise NotFound()
    return message, case, facilitators


def facilitator_cases(session: Session, actor: Actor) -> list[Case]:
    """The cases a facilitator facilitates, newest first, in one query (none for anyone else)."""
    if actor.role != "facilitator" or actor.account_id is None:
        return []
    return list(session.scalars(select(Case).where(Case.id.in_(
        select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)))
        .order_by(Case.created_at.desc())))


def cases_of(session: Session, actor: Actor) -> list[tuple[Case, Membership]]:
    """The cases an actor belongs to, newest first."""
    if actor.role == "facilitator":
        ids = select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == actor.account_id)
    elif actor.role == "participant":
        ids = select(Participant.case_id).where(
            Participant.account_id == actor.account_id, Participant.active.is_(True)
        )
    else:
        return []
    cases = session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.created_at.desc())).all()
    found = memberships(session, actor, [case.id for case in cases])
    return [(case, found[case.id]) for case in cases]


_CASE_LISTS: dict[str, Any] = {}


def case_list_of(session: Session, actor: Actor) -> list[tuple[str, str, str, str, str, Membership]]:
    """What a list of the actor's cases shows, newest first, in one Core statement built once per
    role: (id, reference, status, label_harmed, label_responsible, membership). The same cases and
    memberships as `cases_of`, without loading Case objects."""
    if actor.account_id is None or actor.role not in ("facilitator", "participant"):
        return []
    statement = _CASE_LISTS.get(actor.role)
    if statement is None:
        c = Case.__table__.c
        columns = [c.id, c.reference, c.status, c.label_harmed, c.label_responsible, c.created_at]
        if actor.role == "facilitator":
            f = CaseFacilitator.__table__.c
            statement = (select(*columns).join(CaseFacilitator.__table__, f.case_id == c.id)
                         .where(f.account_id == bindparam("account_id")))
        else:
            pt = Participant.__table__.c
            statement = (select(*columns, pt.id.label("participant_id"), pt.side, pt.role)
                         .join(Participant.__table__, pt.case_id == c.id)
                         .where(pt.account_id == bindparam("account_id"), pt.active.is_(True)))
        statement = statement.order_by(c.created_at.desc(), c.id)
        _CASE_LISTS[actor.role] = statement
    found: dict[str, tuple[str, str, str, str, str, Membership]] = {}
    for row in session.connection().execute(statement, {"account_id": actor.account_id}):
        if row.id not in found:
            member = (Membership("facilitator") if actor.role == "facilitator"
                      else Membership("participant", row.side, row.role, row.participant_id))
            found[row.id] = (row.id, row.reference, row.status, row.label_harmed, row.label_responsible, member)
    return list(found.values())


def memberships(session: Session, actor: Actor, case_ids: list[str]) -> dict[str, Membership]:
    """`membership` in each of many cases, in at most one query."""
    if not case_ids or actor.account_id is None or actor.role not in ("facilitator", "participant"):
        return {case_id: membership(session, actor, case_id) for case_id in case_ids}  # no query for these
    if actor.role == "facilitator":
        mine = set(session.scalars(select(CaseFacilitator.case_id).where(
            CaseFacilitator.case_id.in_(case_ids), CaseFacilitator.account_id == actor.account_id)))
        return {c: Membership("facilitator") if c in mine else permissions.NO_MEMBERSHIP for c in case_ids}
    parts = {p.case_id: p for p in session.scalars(select(Participant).where(
        Participant.case_id.in_(case_ids), Participant.account_id == actor.account_id,
        Participant.active.is_(True)))}
    return {c: Membership("participant", parts[c].side, parts[c].role, parts[c].id) if c in parts
            else permissions.NO_MEMBERSHIP for c in case_ids}
