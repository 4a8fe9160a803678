"""Digest e-mails through a real SMTP server on 127.0.0.1 (aiosmtpd): what arrives, and when.

The clock is the service's (Services.clock), moved to the digest hour; the duty and the job run
as the worker runs them (workers.handlers.tick, World.run_jobs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from smtp_inbox import Inbox, free_port, smtp_server, words
from sqlalchemy import select
from world import People, World

from shuttle.jobs.models import Job
from shuttle.messages import authoring, review
from shuttle.notifications import mail, staff_mail
from shuttle.notifications import service as notifications
from shuttle.notifications.service import DIGEST_JOB
from shuttle.services import Actor
from workers.handlers import tick


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def to_digest_hour(self, days: int = 0) -> None:
        """Just past the next 18:00 UTC (plus `days`)."""
        self.now = notifications.next_digest_time(self.now, "18:00") + timedelta(days=days, seconds=30)


@pytest.fixture
def mailing(world: World, smtp: tuple[Inbox, int]) -> tuple[World, Inbox, Clock]:
    inbox, port = smtp
    clock = Clock()
    world.svc.clock = clock
    world.svc.settings = world.svc.settings.with_(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                                                  mail_from="shuttle@example.org", digest_at="18:00",
                                                  public_base_url="https://shuttle.example.org")
    return world, inbox, clock


def _opt_in(world: World, actor: Actor, address: str, *, wants: bool = True) -> None:
    world.do(notifications.save, actor, address=address, wants=wants)


def _released(world: World, case_id: str, people: People, text: str = "Dear Sam, I have waited.") -> str:
    return world.approved_letter(people, case_id, text)


def _change_suggested(world: World, case_id: str, people: People) -> None:
    """Jessica's second letter, to which the facilitator suggests a change (news for her)."""
    message = world.do(authoring.start_draft, people.harmed, case_id, "Dear Sam, again.")
    world.do(authoring.submit, people.harmed, message.id)
    world.run_jobs()
    world.do(review.claim, people.facilitator, message.id)
    world.do(review.propose_edit, people.facilitator, message.id, text="Dear Sam.")
    world.run_jobs()


def _digest_time(world: World, clock: Clock, days: int = 0) -> None:
    clock.to_digest_hour(days)
    tick(world.svc)
    world.run_jobs()


_words = words


def test_a_digest_arrives_with_nothing_but_the_fixed_words(mailing: tuple[World, Inbox, Clock]) -> None:
    world, inbox, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net")
    _opt_in(world, people.harmed, "jessica@example.net")
    _released(world, case_id, people, "Dear Sam, Elm Street, I have waited.")
    assert inbox.received == []  # nothing at release time

    _digest_time(world, clock)
    [to_sam] = inbox.to("sam@example.net")
    assert inbox.to("jessica@example.net") == []  # nothing needs Jessica
    subject, body = _words(to_sam)
    expected_subject, expected_body = mail.participant_words(world.svc.settings)
    assert subject == expected_subject == mail.PARTICIPANT_SUBJECT
    assert body.decode().replace("\r\n", "\n") == expected_body
    assert "https://shuttle.example.org/login" in body.decode()
    for revealing in ("Jessica", "Sam", "RJ-2026", "letter", "Elm", "waited", "facilitator", "harmed"):
        assert not re.search(rf"\b{revealing}\b", subject + body.decode(), re.IGNORECASE)

    # A different event for another person (a facilitator's suggested change): the same bytes.
    _change_suggested(world, case_id, people)
    _digest_time(world, clock)
    [to_jessica] = inbox.to("jessica@example.net")
    assert _words(to_jessica) == _words(to_sam)
    assert len(inbox.to("sam@example.net")) == 1  # nothing new for Sam: nothing sent


def test_at_most_one_a_day_and_none_when_nothing_is_new(mailing: tuple[World, Inbox, Clock]) -> None:
    world, inbox, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net")
    _released(world, case_id, people)
    _digest_time(world, clock)
    assert len(inbox.to("sam@example.net")) == 1

    _released(world, case_id, people, "A second letter.")  # released after today's digest
    clock.now += timedelta(hours=2)
    tick(world.svc)
    world.run_jobs()
    assert len(inbox.to("sam@example.net")) == 1  # not twice in a day

    _digest_time(world, clock)  # the next day's digest covers it
    assert len(inbox.to("sam@example.net")) == 2
    _digest_time(world, clock)  # nothing new since: nothing sent
    assert len(inbox.to("sam@example.net")) == 2


def test_nothing_for_someone_not_opted_in_or_who_removed_their_address(
        mailing: tuple[World, Inbox, Clock]) -> None:
    world, inbox, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net", wants=False)
    _opt_in(world, people.harmed_proxy, "mum@example.net")
    world.do(notifications.remove, people.harmed_proxy)
    _released(world, case_id, people)
    world.do(review.request_changes, people.facilitator, _claimed_draft(world, case_id, people), note="Shorter.")
    _digest_time(world, clock)
    assert inbox.received == []
    with world.svc.db.uow() as uow:
        assert uow.session.scalars(select(Job).where(Job.kind == DIGEST_JOB)).all() == []


def _claimed_draft(world: World, case_id: str, people: People) -> str:
    message = world.do(authoring.start_draft, people.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, people.harmed, message.id)
    world.run_jobs()
    world.do(review.claim, people.facilitator, message.id)
    return str(message.id)


def test_an_unconfigured_relay_sends_nothing_and_queues_nothing(world: World, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    clock = Clock()
    world.svc.clock = clock
    assert not world.svc.settings.mail_configured
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net")
    _released(world, case_id, people)
    _digest_time(world, clock)
    assert inbox.received == []
    with world.svc.db.uow() as uow:
        assert uow.session.scalars(select(Job).where(Job.kind == DIGEST_JOB)).all() == []


def test_a_facilitator_gets_counts_of_their_work_and_may_turn_it_off(mailing: tuple[World, Inbox, Clock]) -> None:
    world, inbox, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.facilitator, "fiona@example.org")
    message = world.do(authoring.start_draft, people.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, people.harmed, message.id)
    world.run_jobs()
    _digest_time(world, clock)
    [digest] = inbox.to("fiona@example.org")
    subject, body = _words(digest)
    assert subject == staff_mail.STAFF_SUBJECT
    assert "waiting for review in your cases: 1" in body.decode()
    assert "https://shuttle.example.org/staff" in body.decode()
    assert "Jessica" not in body.decode() and "RJ-2026" not in body.decode()

    _opt_in(world, people.facilitator, "fiona@example.org", wants=False)
    _digest_time(world, clock)
    assert len(inbox.to("fiona@example.org")) == 1


def test_an_unreachable_relay_is_retried_then_dead_lettered(mailing: tuple[World, Inbox, Clock]) -> None:
    world, inbox, clock = mailing
    world.svc.settings = world.svc.settings.with_(smtp_port=free_port())  # nothing listens there
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net")
    _released(world, case_id, people)
    _digest_time(world, clock)
    job = _digest_job(world)
    assert job.state == "queued" and job.last_error and "could not be reached" in job.last_error
    assert "sam@example.net" not in job.last_error
    for _ in range(60):  # retried until the outage outlasts its budget
        clock.now += timedelta(seconds=60)
        world.run_jobs()
        if _digest_job(world).state == "dead":
            break
    assert _digest_job(world).state == "dead"
    with world.svc.db.uow() as uow:
        [dead] = notifications.undelivered(uow.session)
    assert dead["to"] == "Sam1" and "could not be reached" in dead["error"]
    assert inbox.received == []


def _digest_job(world: World) -> Job:
    with world.svc.db.uow() as uow:
        [job] = uow.session.scalars(select(Job).where(Job.kind == DIGEST_JOB)).all()
        uow.session.expunge(job)
        return job


@pytest.mark.parametrize("address", ["", "sam", "sam@", "@example.org", "sam@example", "sam@example.org\nBcc: x@y.z",
                                     "Sam <sam@example.org>", "a b@example.org"])
def test_an_address_that_is_not_one_is_refused(world: World, address: str) -> None:
    from shuttle.errors import BadInput

    _, people = world.case()
    with pytest.raises(BadInput, match="e-mail address like"):
        world.do(notifications.save, people.responsible, address=address, wants=True)


class Refusing(Inbox):
    """A relay that refuses every recipient for now (451) or for good (550)."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return f"{self.code} not now" if self.code < 500 else f"{self.code} no such mailbox"


@pytest.mark.parametrize("code, tries", [(451, 5), (550, 1)])
def test_a_refusing_relay_is_retried_with_backoff_then_dead_lettered(world: World, code: int, tries: int) -> None:
    with smtp_server(Refusing(code)) as port:
        clock = Clock()
        world.svc.clock = clock
        world.svc.settings = world.svc.settings.with_(smtp_host="127.0.0.1", smtp_port=port,
                                                      smtp_starttls=False, mail_from="shuttle@example.org")
        case_id, people = world.case()
        _opt_in(world, people.responsible, "sam@example.net")
        _released(world, case_id, people)
        _digest_time(world, clock)
        for _ in range(10):
            if _digest_job(world).state == "dead":
                break
            assert _digest_job(world).state == "queued"
            clock.now += timedelta(seconds=700)  # past the longest backoff
            world.run_jobs()
        job = _digest_job(world)
        assert job.state == "dead" and job.attempts == tries
        assert f"SMTP {code}" in (job.last_error or "") and "sam@" not in (job.last_error or "")


def test_the_duty_works_in_batches_on_what_is_due(mailing: tuple[World, Inbox, Clock]) -> None:
    world, _, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net")
    _opt_in(world, people.harmed, "jessica@example.net")
    with world.svc.db.uow() as uow:
        assert notifications.enqueue_digests(uow.session, world.svc, limit=1) == 0  # not due yet
    clock.to_digest_hour()
    with world.svc.db.uow() as uow:
        assert notifications.enqueue_digests(uow.session, world.svc, limit=1) == 1
        uow.commit()
    with world.svc.db.uow() as uow:
        assert notifications.enqueue_digests(uow.session, world.svc, limit=5) == 1  # the other one
        uow.commit()
    with world.svc.db.uow() as uow:
        assert notifications.enqueue_digests(uow.session, world.svc, limit=5) == 0  # tomorrow's now


def test_mail_settings_are_checked() -> None:
    from shuttle.config import ConfigError, Settings

    base = {"SHUTTLE_DATA_DIR": "/tmp/shuttle-mail-settings", "SHUTTLE_SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigError, match="SHUTTLE_MAIL_FROM"):
        Settings.from_env({**base, "SHUTTLE_SMTP_HOST": "relay.example.org"})
    for bad in ("6pm", "24:00", "18:7", "18:60"):
        with pytest.raises(ConfigError, match="SHUTTLE_DIGEST_AT"):
            Settings.from_env({**base, "SHUTTLE_DIGEST_AT": bad})
    settings = Settings.from_env({**base, "SHUTTLE_SMTP_HOST": "relay.example.org",
                                  "SHUTTLE_MAIL_FROM": "s@example.org", "SHUTTLE_SMTP_PASSWORD": "hunter22",
                                  "SHUTTLE_DIGEST_AT": "7:30"})
    assert settings.mail_configured and settings.digest_at == "07:30" and "hunter22" not in repr(settings)
    assert not Settings.from_env(base).mail_configured


def _choose_language(world: World, account_id: str | None, language: str) -> None:
    from shuttle.accounts.models import Account

    with world.svc.db.uow() as uow:
        account = uow.session.get(Account, account_id)
        assert account is not None
        account.language = language
        uow.commit()


def test_a_participant_who_chose_welsh_gets_their_digest_in_welsh(mailing: tuple[World, Inbox, Clock]) -> None:
    """Issue 12: the digest is written in the language the person chose for their account, read when it
    is sent; someone who chose nothing gets English."""
    world, inbox, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.responsible, "sam@example.net")
    _opt_in(world, people.harmed, "jessica@example.net")
    _choose_language(world, people.responsible.account_id, "cy")
    _released(world, case_id, people)
    _change_suggested(world, case_id, people)
    _digest_time(world, clock)

    [welsh] = inbox.to("sam@example.net")
    subject, body = _words(welsh)
    text = body.decode().replace("\r\n", "\n")
    assert subject == "Rhywbeth newydd ar shuttle" and welsh["Content-Language"] == "cy"
    assert text.startswith("Helo,\n\nMae rhywbeth newydd i chi ar shuttle.")
    assert "Mewngofnodwch i'w weld:\nhttps://shuttle.example.org/login\n" in text
    assert (subject, text) == mail.participant_words(world.svc.settings, "cy")
    for words_in_english in ("Something new", "Hello", "Sign in", "e-mail is the same"):
        assert words_in_english not in subject + text, words_in_english

    [english] = inbox.to("jessica@example.net")  # no choice made: English, as before
    assert _words(english)[0] == mail.PARTICIPANT_SUBJECT and english["Content-Language"] == "en-GB"
    assert "There is something new for you on shuttle." in _words(english)[1].decode()


def test_a_facilitator_who_chose_welsh_gets_their_digest_in_welsh(mailing: tuple[World, Inbox, Clock]) -> None:
    """Issue 12: a facilitator's counts are written in the language they chose for their account, as a
    participant's digest is; the counts and the dashboard's address are the same in either."""
    world, inbox, clock = mailing
    case_id, people = world.case()
    _opt_in(world, people.facilitator, "fiona@example.org")
    _choose_language(world, people.facilitator.account_id, "cy")
    message = world.do(authoring.start_draft, people.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, people.harmed, message.id)
    world.run_jobs()
    _digest_time(world, clock)

    [welsh] = inbox.to("fiona@example.org")
    subject, body = _words(welsh)
    text = body.decode().replace("\r\n", "\n")
    assert subject == "Eich gwaith ar shuttle heddiw" and welsh["Content-Language"] == "cy"
    assert text.startswith("Helo,\n\nEich gwaith ar shuttle heddiw:\n")
    assert "- yn aros i'w hadolygu yn eich achosion: 1\n" in text
    assert "Eich dangosfwrdd: https://shuttle.example.org/staff\n" in text
    assert (subject, text) == staff_mail.staff_words(world.svc.settings, staff_mail.StaffCounts(1, 0, 0), "cy")
    for words_in_english in ("Your shuttle work", "Hello", "waiting for review", "Your dashboard", "turn these"):
        assert words_in_english not in subject + text, words_in_english
