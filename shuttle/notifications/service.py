"""Digest e-mails: who wants one and where to, what is new for them, and the daily duty.

Timing is the leak to avoid: a notification sent when a message is released tells whoever
watches the inbox when that happened. So every digest goes out at one fixed time of day
(SHUTTLE_DIGEST_AT, UTC), at most once a day per person, and only when something needs them
that the last digest did not cover. A participant's e-mail has the same words every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuttle import blobs, i18n
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.cases.models import Participant
from shuttle.errors import BadInput, NotFound
from shuttle.i18n import N_
from shuttle.jobs import queue
from shuttle.jobs.models import Job, JobState
from shuttle.messages.models import Message
from shuttle.messages.queries import facilitator_queue
from shuttle.messages.sharing import SupporterShare
from shuttle.messages.states import WAITING_ON_STAFF, State
from shuttle.notifications.models import NotificationSetting
from shuttle.notifications.staff_mail import StaffCounts
from shuttle.services import Actor, Services

DIGEST_JOB = "send_digest"
RETRY = "digest.retry"
#: Who may ask for a digest: participants (the fixed words) and facilitators (counts of their work).
DIGEST_ROLES = frozenset({"participant", "facilitator"})
MAX_ADDRESS_CHARS = 254
#: What needs an author: a facilitator asked for changes, or suggested changes to accept or not.
NEEDS_AUTHOR = (State.CHANGES_REQUESTED.value, State.AWAITING_AUTHOR.value)


def next_digest_time(now: datetime, digest_at: str) -> datetime:
    """The first moment at the digest time of day (UTC) strictly after `now`."""
    hour, minute = (int(part) for part in digest_at.split(":"))
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def _check_address(address: str) -> str:
    """A plausible address, one line (nothing can be smuggled into the e-mail's headers)."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if (not address or len(address) > MAX_ADDRESS_CHARS or not at or not local or "." not in domain
            or domain.startswith(".") or domain.endswith(".")
            or any(c.isspace() or c in "<>,;\"()[]\\" for c in address) or not address.isprintable()):
        raise BadInput(N_("Enter an e-mail address like name@example.com."))
    return address


def _row(session: Session, actor: Actor) -> NotificationSetting | None:
    if actor.role not in DIGEST_ROLES or actor.account_id is None:
        raise NotFound()
    return session.get(NotificationSetting, actor.account_id)


@dataclass(frozen=True)
class NotificationsView:
    """What the person's notifications page (and GET /api/v1/me/notifications) shows."""

    address: str  # "" when none is kept
    wants: bool  # a digest is wanted and there is an address to send it to
    configured: bool  # this service sends e-mail at all
    digest_at: str  # the time of day (UTC) digests go out
    staff: bool


def view(session: Session, svc: Services, actor: Actor) -> NotificationsView:
    """What the person's notifications page shows (a read: writes nothing)."""
    row = _row(session, actor)
    address = blobs.load_text(session, svc.store, row.address_blob_id) if row and row.address_blob_id else ""
    return NotificationsView(address=address, wants=bool(row and row.wants_digest and row.address_blob_id),
                             configured=svc.settings.mail_configured, digest_at=svc.settings.digest_at,
                             staff=actor.role != "participant")


def save(session: Session, svc: Services, actor: Actor, *, address: str, wants: bool) -> None:
    """Keep (or change) the address, encrypted, and whether a digest is wanted."""
    address = _check_address(address)
    row = _row(session, actor)
    now = svc.now()
    if row is None:
        row = NotificationSetting(account_id=actor.account_id, told=[])
        session.add(row)
    old = row.address_blob_id
    if old is None or blobs.load_text(session, svc.store, old) != address:
        row.address_blob_id = blobs.store_text(session, svc.store, address).id
        if old is not None:
            blobs.shred(session, old, now=now)
    if wants and not row.wants_digest:
        row.next_digest_at = next_digest_time(now, svc.settings.digest_at)
    elif not wants:
        row.next_digest_at = None
    row.wants_digest = wants
    row.updated_at = now


def remove(session: Session, svc: Services, actor: Actor) -> None:
    """Forget the address (its blob is shredded) and stop digests."""
    row = _row(session, actor)
    if row is None:
        return
    if row.address_blob_id is not None:
        blobs.shred(session, row.address_blob_id, now=svc.now())
    row.address_blob_id = None
    row.wants_digest = False
    row.next_digest_at = None
    row.told = []
    row.updated_at = svc.now()


def address_of(session: Session, svc: Services, account_id: str) -> str | None:
    """Where a digest goes now (read when sending: a removed address is never written to)."""
    row = session.get(NotificationSetting, account_id)
    if row is None or row.address_blob_id is None or not row.wants_digest:
        return None
    return blobs.load_text(session, svc.store, row.address_blob_id)


def language_of(session: Session, account_id: str) -> str:
    """The language the account chose for its pages (issue 12): its e-mails are written in it too."""
    return i18n.known(session.scalar(select(Account.language).where(Account.id == account_id))) or i18n.DEFAULT


# --- what is new -----------------------------------------------------------------------------------


def participant_items(session: Session, account_id: str) -> list[str]:
    """What needs this participant now, as keys (message id and state, no content): a message
    delivered to them (or shared with them as a supporter) and not opened yet; their side's
    message a facilitator asked them to change or suggested changes to. A key changes when the
    same message needs them again."""
    sides = session.execute(select(Participant.case_id, Participant.side).where(
        Participant.account_id == account_id, Participant.active.is_(True),
        Participant.role.in_(("principal", "proxy")))).all()
    items: set[str] = set()
    for case_id, side in sides:
        rows = session.execute(select(Message.id, Message.state, Message.author_side, Message.released_at,
                                      Message.current_version_id).where(
            Message.case_id == case_id,
            or_(Message.state == State.RELEASED.value, Message.state.in_(NEEDS_AUTHOR)))).all()
        for message_id, state, author_side, released_at, version_id in rows:
            if state == State.RELEASED.value and author_side != side:
                items.add(f"open:{message_id}:{released_at.isoformat() if released_at else ''}")
            elif state in NEEDS_AUTHOR and author_side == side:
                items.add(f"{state}:{message_id}:{version_id or ''}")
    shared = session.scalars(select(SupporterShare.id).join(Participant, Participant.id == SupporterShare.supporter_id)
                             .where(Participant.account_id == account_id, Participant.active.is_(True),
                                    SupporterShare.revoked_at.is_(None), SupporterShare.opened_at.is_(None)))
    items.update(f"shared:{share_id}" for share_id in shared)
    return sorted(items)


def staff_counts(session: Session, svc: Services, account_id: str) -> StaffCounts:
    """A facilitator's queue, overdue reviews and escalations to them, as the dashboard counts them."""
    items = facilitator_queue(session, svc, Actor(account_id, "facilitator"))
    waiting = [i for i in items if i["state"] in WAITING_ON_STAFF]
    return StaffCounts(queue=len(waiting),
                       overdue=sum(1 for i in waiting if i["sla"] and i["sla"]["state"] == "overdue"),
                       escalated=sum(1 for i in waiting if i["escalated_to_me"]))


# --- the daily duty --------------------------------------------------------------------------------


def enqueue_digests(session: Session, svc: Services, *, limit: int = 200) -> int:
    """Periodic only (a GET never writes): for each person whose digest time has come (found by
    the `next_digest_at` index), enqueue one send job when something needs them, and move their
    next digest to the next day's time. Nothing at all while no relay is configured.
    Returns how many people were looked at (the batch size, for the tick's batching)."""
    if not svc.settings.mail_configured:
        return 0
    now = svc.now()
    due = list(session.scalars(select(NotificationSetting).where(NotificationSetting.next_digest_at <= now)
                               .order_by(NotificationSetting.next_digest_at).limit(limit)))
    roles = dict(session.execute(select(Account.id, Account.role).where(
        Account.id.in_([row.account_id for row in due]), Account.active.is_(True))).all()) if due else {}
    for row in due:
        row.next_digest_at = next_digest_time(now, svc.settings.digest_at)
        payload = _digest_payload(session, svc, row, roles.get(row.account_id))
        if payload is not None and row.address_blob_id is not None and row.wants_digest:
            queue.enqueue(session, DIGEST_JOB, payload, now=now, max_attempts=svc.settings.job_max_attempts)
            row.last_digest_at = now
    return len(due)


def _digest_payload(session: Session, svc: Services, row: NotificationSetting,
                    role: str | None) -> dict[str, Any] | None:
    """The job's payload when a digest is due for this person, else None (nothing new)."""
    if role == "participant":
        items = participant_items(session, row.account_id)
        new = set(items) - set(row.told or [])
        row.told = items  # what this digest covers; what was opened or answered drops out
        return {"account_id": row.account_id, "kind": "participant"} if new else None
    if role == "facilitator":
        counts = staff_counts(session, svc, row.account_id)
        if not counts.anything:
            return None
        return {"account_id": row.account_id, "kind": "staff",
                "counts": {"queue": counts.queue, "overdue": counts.overdue, "escalated": counts.escalated}}
    return None


def undelivered(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """Digest e-mails that could not be sent (dead jobs), newest first, for the coordinator."""
    jobs = list(session.scalars(select(Job).where(Job.kind == DIGEST_JOB, Job.state == JobState.DEAD.value)
                                .order_by(Job.finished_at.desc()).limit(limit)))
    ids = {str((job.payload or {}).get("account_id", "")) for job in jobs}
    names = dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all())
    return [{"id": job.id, "to": names.get(str((job.payload or {}).get("account_id", "")), "an account"),
             "at": job.finished_at, "attempts": job.attempts, "error": job.last_error or ""} for job in jobs]


def retry_digest(session: Session, svc: Services, actor: Actor, job_id: str) -> None:
    """The coordinator's "try again" on a digest that could not be sent (audited)."""
    if actor.role != "coordinator":
        raise NotFound()
    job = session.get(Job, job_id)
    if job is None or job.kind != DIGEST_JOB:
        raise NotFound()
    queue.retry(session, job_id, now=svc.now())
    audit.record(session, action=RETRY, actor_id=actor.account_id, actor_role=actor.role, subject_type="job",
                 subject_id=job_id, now=svc.now())
