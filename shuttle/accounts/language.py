"""A person's language (issue 12), remembered on their account so it follows them to any device."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuttle.accounts.models import Account
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_, known
from shuttle.services import Actor, Services


def remember_language(session: Session, svc: Services, actor: Actor, language: str) -> None:
    """Store the signed-in person's choice of language ("en" or "cy") on their account."""
    chosen = known(language)
    if chosen is None:
        raise BadInput(N_("Choose English or Cymraeg."))
    account = session.get(Account, actor.account_id)
    if account is None:
        raise NotFound(N_("There is no such account."))
    account.language = chosen
