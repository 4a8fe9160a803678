"""The digest e-mails and the SMTP relay that carries them (standard library only).

A participant's e-mail says only that there is something new on shuttle, with the sign-in
address: no name, no case, no content, no kind of message, the same words every time (an inbox
may be shared or watched). Staff get counts of their work and the dashboard's address (staff_mail.py).
Failures never carry an address or a body into the job's error (shown to the coordinator).
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from shuttle import i18n
from shuttle.config import Settings
from shuttle.i18n import N_
from shuttle.jobs.queue import PermanentJobError

#: A participant's digest, in the language they chose for their account (issue 12): marked for the
#: catalogue here, translated when it is composed (participant_words).
PARTICIPANT_SUBJECT = N_("Something new on shuttle")
PARTICIPANT_BODY = N_(
    "Hello,\n\n"
    "There is something new for you on shuttle.\n\n"
    "Sign in to see it:\n%(login)s\n\n"
    "This e-mail is the same every time. It is sent at most once a day, at the same time, "
    "whatever is waiting.\n"
    "You can stop these e-mails or remove your address on your page on shuttle.\n"
)
SMTP_TIMEOUT_SECONDS = 30


class RelayUnreachable(ConnectionError):
    """The relay could not be reached: a dependency outage (the worker retries on its budget)."""


class RelayRefused(Exception):
    """The relay answered with a temporary refusal (4xx): retried with backoff, then dead."""


def participant_words(settings: Settings, language: str | None = None) -> tuple[str, str]:
    """(subject, body): constants for this deployment and language, whatever the event. In `language`
    (the account's choice), else in the language being rendered (a page showing what the e-mail says)."""
    with i18n.using(i18n.known(language) or i18n.current()):
        return (i18n.gettext(PARTICIPANT_SUBJECT),
                i18n.gettext(PARTICIPANT_BODY) % {"login": f"{settings.public_base_url}/login"})


def compose(settings: Settings, to: str, subject: str, body: str, now: datetime,
            language: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body)
    if language:  # mail readers (and screen readers) then read it as that language (after set_content,
        message["Content-Language"] = "cy" if language == "cy" else "en-GB"  # which clears Content-*)
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand one e-mail to the relay. Unreachable: `RelayUnreachable` (an outage); a 4xx answer:
    `RelayRefused` (retried); a 5xx answer: `PermanentJobError` (dead at once)."""
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        _refused(codes[0] if codes else 550)
    except smtplib.SMTPResponseException as exc:
        _refused(exc.smtp_code)
    except smtplib.SMTPServerDisconnected:
        raise RelayUnreachable("the mail relay closed the connection") from None
    except smtplib.SMTPException as exc:  # before OSError: SMTPException is one
        raise RelayRefused(f"the mail relay failed ({type(exc).__name__})") from None
    except OSError as exc:
        raise RelayUnreachable(f"the mail relay could not be reached ({type(exc).__name__})") from None


def _refused(code: int) -> None:
    if 400 <= code < 500:
        raise RelayRefused(f"the mail relay refused it for now (SMTP {code})")
    raise PermanentJobError(f"the mail relay refused it (SMTP {code})")
