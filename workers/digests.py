"""The digest e-mail job: read the address at sending time, compose the fixed words, hand to the relay."""

from __future__ import annotations

from shuttle.jobs import queue
from shuttle.jobs.queue import ClaimedJob
from shuttle.notifications import mail, staff_mail
from shuttle.notifications.service import address_of, language_of
from shuttle.services import Services
from workers.loop import JobContext


def send_digest(svc: Services, job: ClaimedJob, ctx: JobContext) -> None:
    """Send one digest. Nothing is sent when the relay is no longer configured or the person
    removed their address or turned digests off since the job was queued (the job completes).

    Sent before the job completes: if completing fails the e-mail may go twice, never zero times."""
    with svc.db.uow() as uow:
        account_id = str(job.payload.get("account_id", ""))
        to = address_of(uow.session, svc, account_id)
        language = language_of(uow.session, account_id)  # read at sending time, as the address is
    sent = bool(to and svc.settings.mail_configured)
    if sent and to:
        if job.payload.get("kind") == "staff":  # a facilitator's counts, in the language they chose
            counts = job.payload.get("counts") or {}
            subject, body = staff_mail.staff_words(svc.settings, staff_mail.StaffCounts(
                queue=int(counts.get("queue", 0)), overdue=int(counts.get("overdue", 0)),
                escalated=int(counts.get("escalated", 0))), language)
        else:  # a participant's, in the language they chose
            subject, body = mail.participant_words(svc.settings, language)
        mail.send(svc.settings, mail.compose(svc.settings, to, subject, body, svc.now(), language))
    with svc.db.uow() as uow:
        queue.complete(uow.session, job, {"sent": sent}, now=svc.now())
        uow.commit()
