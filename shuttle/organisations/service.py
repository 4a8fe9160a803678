"""Use cases for the partner organisations the coordinator keeps: add, rename, deactivate, reactivate.

A deactivated organisation stays in the table (consents already given name it) but is no longer
offered for new ones. Names are unique whatever their capitals and spacing ("Northshire Police" and
"northshire  police" are one organisation). Use cases never commit; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.audit import log as audit
from shuttle.errors import BadInput, Conflict, NotFound
from shuttle.i18n import N_, Sentence
from shuttle.organisations.models import ORGANISATION_KINDS, Organisation
from shuttle.services import Actor, Services

NAME_MAX = 120
#: Marked for staff.po (babel-staff.cfg); the coordinator's pages translate them where they show them.
KIND_WORDS = {"police": N_("Police"), "probation": N_("Probation"), "prison": N_("Prison"),
              "victim_services": N_("Victim services"), "youth_offending_team": N_("Youth offending team"),
              "other": N_("Other")}


@dataclass(frozen=True)
class OrganisationRow:
    id: str
    name: str
    kind: str
    active: bool
    created_at: datetime

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind)


def _coordinator(actor: Actor) -> None:
    if not permissions.may_run_service(actor.role):
        raise NotFound()


def _clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise BadInput(Sentence(N_("Give the organisation's name, up to %(max)s characters."), max=NAME_MAX),
                       code="name")
    return name


def _check_kind(kind: str) -> str:
    if kind not in ORGANISATION_KINDS:
        raise BadInput(Sentence(N_("The kind of organisation is one of: %(kinds)s."),
                                kinds=", ".join(ORGANISATION_KINDS)), code="kind")
    return kind


def _unique(session: Session, name: str, except_id: str | None = None) -> None:
    query = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    if except_id is not None:
        query = query.where(Organisation.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict(Sentence(N_("There is already an organisation called %(name)s."), name=name), code="name_taken")


def _flush(session: Session, name: str) -> None:
    """Flush in a savepoint: a twin added at the same moment is a Conflict, not a broken transaction."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(Sentence(N_("There is already an organisation called %(name)s."), name=name),
                       code="name_taken") from None


def _get(session: Session, organisation_id: str) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    return organisation


def _row(o: Organisation) -> OrganisationRow:
    return OrganisationRow(id=o.id, name=o.name, kind=o.kind, active=o.active, created_at=o.created_at)


def _audit(session: Session, svc: Services, actor: Actor, action: str, o: Organisation, **details: str) -> None:
    audit.record(session, action=action, actor_id=actor.account_id, actor_role=actor.role,
                 subject_type="organisation", subject_id=o.id, details=details, now=svc.now())


def add(session: Session, svc: Services, actor: Actor, *, name: str, kind: str = "other") -> OrganisationRow:
    _coordinator(actor)
    clean = _clean_name(name)
    _check_kind(kind)
    _unique(session, clean)
    organisation = Organisation(name=clean, kind=kind, active=True, created_at=svc.now())
    session.add(organisation)
    _flush(session, clean)
    _audit(session, svc, actor, "organisation.add", organisation, name=clean, kind=kind)
    return _row(organisation)


def rename(session: Session, svc: Services, actor: Actor, organisation_id: str, *, name: str) -> OrganisationRow:
    _coordinator(actor)
    organisation = _get(session, organisation_id)
    clean = _clean_name(name)
    _unique(session, clean, except_id=organisation.id)
    before = organisation.name
    organisation.name = clean
    _flush(session, clean)
    _audit(session, svc, actor, "organisation.rename", organisation, before=before, name=clean)
    return _row(organisation)


def set_active(session: Session, svc: Services, actor: Actor, organisation_id: str, active: bool) -> OrganisationRow:
    """Deactivate (no longer offered on new consent forms) or reactivate."""
    _coordinator(actor)
    organisation = _get(session, organisation_id)
    if organisation.active == active:
        raise Conflict(Sentence(N_("%(name)s is active already.") if active else N_("%(name)s is deactivated already."),
                                name=organisation.name), code="unchanged")
    organisation.active = active
    _audit(session, svc, actor, "organisation.reactivate" if active else "organisation.deactivate", organisation)
    return _row(organisation)


def list_all(session: Session, svc: Services, actor: Actor) -> list[OrganisationRow]:
    """The coordinator's list: active first, by name."""
    _coordinator(actor)
    found = session.scalars(select(Organisation).order_by(Organisation.active.desc(), Organisation.name))
    return [_row(o) for o in found]


def choices(session: Session) -> list[OrganisationRow]:
    """The active organisations, by name: what a consent-to-share form may name (any staff page)."""
    return [_row(o) for o in session.scalars(select(Organisation).where(Organisation.active.is_(True))
                                              .order_by(Organisation.name))]
