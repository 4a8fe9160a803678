"""`shuttle demo`: one open case with a facilitator and both sides, ready to walk through."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle.accounts import service as accounts
from shuttle.accounts.models import Account
from shuttle.accounts.totp import decrypt_secret
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.referrals import service as referrals
from shuttle.referrals.models import Referral
from shuttle.services import Actor, Services

REFERENCE = "RJ-2026-0001"
PEOPLE = (
    # username, role, display name, password (demo only: printed on the screen)
    ("fiona", "facilitator", "Fiona (facilitator)", "quiet-harbour-lantern"),
    ("jessica", "participant", "Jessica", "blue-kettle-morning"),
    ("sam", "participant", "Sam", "gravel-path-evening"),
    ("cora", "coordinator", "Cora (coordinator)", "amber-stile-orchard"),
    ("frank", "facilitator", "Frank (facilitator)", "copper-gate-meadow"),  # a second, for a referral's case
)


def _account(session: Session, svc: Services, username: str, role: str, name: str,
             password: str) -> tuple[Account, str | None]:
    """The demo account, created if missing (then with its new authenticator secret, for staff)."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is not None:
        return account, None
    return accounts.create_account(session, svc.settings, username=username, role=role, display_name=name,
                                   password=password, passwords=svc.passwords, now=svc.now())


def _authenticator(session: Session, svc: Services, fiona: Account, created: str | None) -> tuple[str, str]:
    """A staff member's (Fiona's, Cora's) authenticator secret and what to say about it. A rerun keeps
    (and shows again) the secret enrolled before, so a code set up earlier keeps working; only when it
    cannot be read (the secret key changed) is a new one enrolled, and that is said."""
    if created is not None:
        return created, ""
    if fiona.totp_secret_enc is not None:
        try:
            return decrypt_secret(svc.settings.secret_key, fiona.id, fiona.totp_secret_enc), \
                " (the same as before: a code set up earlier still works)"
        except (InvalidTag, ValueError):
            pass
    return accounts.enroll_totp(session, svc.settings, fiona.id), \
        " (NEW: the earlier one could not be read with this secret key; set this one up instead)"


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


#: The referral the demo starts with, waiting in the coordinator's inbox (as if sent on /refer).
DEMO_REFERRAL = {"source": "victim_services", "referrer_name": "Priya Shah",
                 "referrer_organisation": "Northshire Victim Services",
                 "referrer_contact": "01632 960 118", "person_name": "Maya", "side": "harmed",
                 "person_knows": "yes", "offence": "Street robbery (phone taken)", "court": "no",
                 "contact_phone": "07700 900 461", "safe_message": "yes", "best_time": "Weekday mornings"}


def _referral(session: Session, svc: Services) -> str:
    """One referral waiting for first contact (made once; a rerun keeps the one there is)."""
    waiting = session.scalar(select(Referral.reference).order_by(Referral.received_at).limit(1))
    if waiting is not None:
        return waiting
    return referrals.submit(session, svc, DEMO_REFERRAL, client="shuttle demo").reference


def create_demo(svc: Services) -> list[str]:
    """Create (or refresh) the demo; returns the sign-in lines to print."""
    with svc.db.uow() as uow:
        made = {username: _account(uow.session, svc, username, role, name, password)
                for username, role, name, password in PEOPLE}
        fiona, jessica, sam = (made[name][0] for name in ("fiona", "jessica", "sam"))
        _case(uow.session, svc, fiona, jessica, sam)
        referral = _referral(uow.session, svc)
        secret, said = _authenticator(uow.session, svc, fiona, made["fiona"][1])
        cora_secret, cora_said = _authenticator(uow.session, svc, made["cora"][0], made["cora"][1])
        frank_secret, frank_said = _authenticator(uow.session, svc, made["frank"][0], made["frank"][1])
        uow.commit()
    return [
        f"facilitator  username fiona    password {PEOPLE[0][3]}",
        f"             authenticator secret {secret}{said}",
        f"             current code: run `shuttle totp {secret}`",
        f"harmed       username jessica  password {PEOPLE[1][3]}",
        f"responsible  username sam      password {PEOPLE[2][3]}",
        f"coordinator  username cora     password {PEOPLE[3][3]}",
        f"             authenticator secret {cora_secret}{cora_said}",
        f"             current code: run `shuttle totp {cora_secret}`",
        f"facilitator  username frank    password {PEOPLE[4][3]}   (not on the demo case; for a referral's)",
        f"             authenticator secret {frank_secret}{frank_said}",
        f"case         {REFERENCE}",
        f"referral     {referral} waiting in the coordinator's inbox (/coordinator/referrals; the form is /refer)",
    ]
