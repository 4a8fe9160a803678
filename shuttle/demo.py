"""`shuttle demo`: one open case with a facilitator and both sides, ready to walk through."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.accounts import service as accounts
from shuttle.accounts.models import Account
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.services import Actor, Services

REFERENCE = "RJ-2026-0001"
PEOPLE = (
    # username, role, display name, password (demo only: printed on the screen)
    ("fiona", "facilitator", "Fiona (facilitator)", "quiet-harbour-lantern"),
    ("jessica", "participant", "Jessica", "blue-kettle-morning"),
    ("sam", "participant", "Sam", "gravel-path-evening"),
)


def _account(session: Session, svc: Services, username: str, role: str, name: str, password: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        account, _ = accounts.create_account(session, svc.settings, username=username, role=role,
                                             display_name=name, password=password, passwords=svc.passwords)
    return account


def _case(session: Session, svc: Services, fiona: Account, jessica: Account, sam: Account) -> None:
    if session.scalar(select(Case.id).where(Case.reference == REFERENCE)):
        return
    staff = Actor(fiona.id, "facilitator")
    case = cases.create_case(session, staff, reference=REFERENCE, facilitators=[fiona.id], now=svc.now(),
                             label_harmed="Jessica", label_responsible="the person responsible",
                             initiator="harmed", responsible_may_reply=True, read_receipts_allowed=True,
                             watchlist=["Elm Street", "Riverside Academy"])
    for account, side in ((jessica, "harmed"), (sam, "responsible")):
        participant = cases.add_participant(session, svc, staff, case.id, account_id=account.id, side=side)
        for kind in ("take_part", "receive_messages"):
            cases.record_consent(session, svc, staff, case.id, participant.id, kind=kind, granted=True)
        cases.record_assessment(session, svc, staff, case.id, participant.id, outcome="suitable")
    cases.set_status(session, svc, staff, case.id, "open")


def create_demo(svc: Services) -> list[str]:
    """Create (or refresh) the demo; returns the sign-in lines to print."""
    with svc.db.uow() as uow:
        made = {username: _account(uow.session, svc, username, role, name, password)
                for username, role, name, password in PEOPLE}
        _case(uow.session, svc, made["fiona"], made["jessica"], made["sam"])
        secret = accounts.enroll_totp(uow.session, svc.settings, made["fiona"].id)
        uow.commit()
    return [
        f"facilitator  username fiona    password {PEOPLE[0][3]}",
        f"             authenticator secret {secret}",
        f"             current code: run `shuttle totp {secret}`",
        f"harmed       username jessica  password {PEOPLE[1][3]}",
        f"responsible  username sam      password {PEOPLE[2][3]}",
        f"case         {REFERENCE}",
    ]
