"""The notifications pages over HTTP: the address kept encrypted, changed and removed by its owner;
every sentence about the e-mail on the page; the coordinator's list of digests that could not be sent."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import select
from support import enqueue_job
from world import People, World

from shuttle import blobs
from shuttle.blobs import Blob
from shuttle.jobs.models import Job
from shuttle.notifications import mail, staff_mail
from shuttle.notifications.models import NotificationSetting
from shuttle.notifications.service import DIGEST_JOB
from shuttle.services import Services


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    sqlite_svc.settings = sqlite_svc.settings.with_(smtp_host="127.0.0.1", smtp_port=2525,
                                                    mail_from="shuttle@example.org")
    return World(sqlite_svc)


def _row(world: World, account_id: str | None) -> NotificationSetting | None:
    with world.svc.db.uow() as uow:
        row = uow.session.get(NotificationSetting, account_id)
        if row is not None:
            uow.session.expunge(row)
        return row


def test_a_participant_gives_changes_and_removes_their_address(setup: tuple[Any, str, People], world: World) -> None:
    app, _, people = setup
    client, home = sign_in_page(app, world, people.responsible)
    assert 'href="/me/notifications"' in home.text
    page = client.get("/me/notifications")
    assert page.status_code == 200
    text = html.unescape(page.text)
    subject, body = mail.participant_words(world.svc.settings)
    assert f"The subject is “{subject}”" in text
    shown = text.split("This is all of it:", 1)[1].split("</blockquote>", 1)[0]
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown)).strip() == re.sub(r"\s+", " ", body).strip()
    assert "An inbox may be shared with someone or watched by someone" in text
    assert "at most one e-mail a day, always at 18:00 (UTC)".lower() in text.lower()
    assert 'name="wants" value="yes">' in page.text  # not ticked until the person chooses it

    bad = client.post("/me/notifications", data={"csrf_token": csrf_of(page), "address": "sam at home", "wants": "yes"})
    assert bad.status_code == 400
    assert 'value="sam at home"' in bad.text and 'href="#address"' in bad.text and 'aria-invalid="true"' in bad.text

    post_form(client, "/me/notifications", page, address="sam@example.net", wants="yes", action="save")
    saved = client.get("/me/notifications?done=saved")
    assert "Settings saved." in saved.text and 'value="sam@example.net"' in saved.text
    row = _row(world, people.responsible.account_id)
    assert row is not None and row.wants_digest and row.next_digest_at is not None and row.address_blob_id
    first_blob = row.address_blob_id
    with world.svc.db.uow() as uow:
        assert blobs.load_text(uow.session, world.svc.store, first_blob) == "sam@example.net"

    post_form(client, "/me/notifications", saved, address="sam@example.org", action="save")  # changed, box unticked
    row = _row(world, people.responsible.account_id)
    assert row is not None and not row.wants_digest and row.next_digest_at is None
    with world.svc.db.uow() as uow:
        old = uow.session.get(Blob, first_blob)
        assert old is not None and old.wrapped_key is None  # the old address is shredded

    post_form(client, "/me/notifications", saved, action="remove")
    row = _row(world, people.responsible.account_id)
    assert row is not None and row.address_blob_id is None and not row.wants_digest
    assert "Your address is removed." in client.get("/me/notifications?done=removed").text


def test_each_role_has_its_own_page(setup: tuple[Any, str, People], world: World) -> None:
    app, _, people = setup
    staff, account = sign_in_page(app, world, people.facilitator)
    assert staff.get("/account").status_code == 200 and 'href="/account/notifications"' in staff.get("/account").text
    page = staff.get("/account/notifications")
    assert page.status_code == 200 and staff_mail.STAFF_SUBJECT in html.unescape(page.text)
    assert staff.get("/me/notifications").status_code == 404
    participant, _ = sign_in_page(app, world, people.harmed)
    assert participant.get("/account/notifications").status_code == 404
    coordinator, _ = sign_in_page(app, world, people.coordinator)
    assert coordinator.get("/account/notifications").status_code == 404
    assert coordinator.get("/me/notifications").status_code == 404


def test_a_get_writes_nothing(setup: tuple[Any, str, People], world: World) -> None:
    app, _, people = setup
    client, _ = sign_in_page(app, world, people.responsible)
    client.get("/me/notifications")
    assert _row(world, people.responsible.account_id) is None


def test_the_coordinator_sees_a_digest_that_could_not_be_sent_and_tries_again(
        setup: tuple[Any, str, People], world: World) -> None:
    app, _, people = setup
    job_id = enqueue_job(world.svc.db, DIGEST_JOB, {"account_id": people.responsible.account_id,
                                                  "kind": "participant"})
    with world.svc.db.uow() as uow:
        job = uow.session.get(Job, job_id)
        assert job is not None
        job.state, job.attempts = "dead", 5
        job.last_error = "RelayRefused: the mail relay refused it for now (SMTP 451)"
        job.finished_at = world.svc.now()
        uow.commit()
    client, home = sign_in_page(app, world, people.coordinator)
    assert "Digest e-mails that could not be sent" in home.text and "To Sam1" in home.text
    assert "SMTP 451" in home.text
    post_form(client, f"/coordinator/digests/{job_id}", home)
    with world.svc.db.uow() as uow:
        assert uow.session.scalars(select(Job.state).where(Job.id == job_id)).one() == "queued"
    assert "Digest e-mails that could not be sent" not in client.get("/coordinator").text
    facilitator, _ = sign_in_page(app, world, people.facilitator)
    assert facilitator.post(f"/coordinator/digests/{job_id}", data={"csrf_token": "x"}).status_code == 404


def test_the_api_keeps_changes_and_removes_an_address(setup: tuple[Any, str, People], world: World) -> None:
    app, _, people = setup
    client = world.sign_in(app, people.harmed_proxy)
    assert client.get("/api/v1/me/notifications").json()["address"] == ""
    bad = client.put("/api/v1/me/notifications", json={"address": "mum@", "wants": True})
    assert bad.status_code == 400 and "e-mail address like" in bad.json()["message"]
    assert client.put("/api/v1/me/notifications", json={"address": "mum"}).status_code == 400  # no "wants"
    saved = client.put("/api/v1/me/notifications", json={"address": " mum@example.net ", "wants": True})
    assert saved.status_code == 200
    assert saved.json() | {} == {"address": "mum@example.net", "wants": True, "configured": True,
                                 "digest_at": "18:00", "staff": False}
    gone = client.delete("/api/v1/me/notifications")
    assert gone.status_code == 200 and gone.json()["address"] == "" and not gone.json()["wants"]
