"""A small world for tests: people, a case, and a way to act as each of them.

Everything goes through the real use cases, each call in its own committed unit of work,
as a request would.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from shuttle import blobs
from shuttle.accounts import service as accounts
from shuttle.cases import service as cases
from shuttle.messages import authoring, processing, review
from shuttle.messages.models import Message
from shuttle.messages.states import State
from shuttle.services import Actor, Services
from shuttle.uploads import service as uploads
from workers.handlers import build_worker

with warnings.catch_warnings():
    # Starlette asks for httpx2 when only httpx is installed; its TestClient works the same with either.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@dataclass
class People:
    facilitator: Actor
    co_facilitator: Actor
    harmed: Actor
    responsible: Actor
    harmed_proxy: Actor
    supporter: Actor
    outsider_facilitator: Actor
    outsider_participant: Actor
    coordinator: Actor
    participant_ids: dict[str, str] = field(default_factory=dict)


class World:
    #: Every account World creates can sign in with this password (staff without TOTP unless enabled).
    PASSWORD = "a quiet walk by the river"

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._worker = build_worker(svc, worker_id="test-worker")
        self.usernames: dict[str, str] = {}  # account id -> username, to sign in over HTTP

    def do(self, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.svc.db.uow() as uow:
            result = use_case(uow.session, self.svc, *args, **kwargs)
            uow.commit()
            return result

    def account(self, username: str, role: str, *, password: str | None = PASSWORD) -> Actor:
        with self.svc.db.uow() as uow:
            account, _ = accounts.create_account(uow.session, self.svc.settings, username=username, role=role,
                                                 display_name=username.title(), password=password,
                                                 with_totp=False, passwords=self.svc.passwords, now=self.svc.now())
            uow.commit()
        self.usernames[account.id] = account.username
        return Actor(account.id, role)

    def username(self, actor: Actor) -> str:
        assert actor.account_id is not None
        return self.usernames[actor.account_id]

    def enable_totp(self, actor: Actor) -> str:
        """Turn on the second factor for a World account; returns the secret (for current_totp)."""
        assert actor.account_id is not None
        with self.svc.db.uow() as uow:
            secret = accounts.enroll_totp(uow.session, self.svc.settings, actor.account_id)
            uow.commit()
        return secret

    def case(self, *, two_facilitators: bool = False, people: People | None = None,
             **settings: Any) -> tuple[str, People]:
        """An open case with consent and suitable assessments for everyone, as a facilitator prepares it.

        With `people`, the same accounts take the same places in one more case (their
        participant ids in it are in the returned People).
        """
        n = len(getattr(self, "_made", [])) + 1
        self._made = [*getattr(self, "_made", []), n]
        people = replace(people, participant_ids={}) if people is not None else People(
            facilitator=self.account(f"fiona{n}", "facilitator"),
            co_facilitator=self.account(f"frank{n}", "facilitator"),
            harmed=self.account(f"jessica{n}", "participant"),
            responsible=self.account(f"sam{n}", "participant"),
            harmed_proxy=self.account(f"mum{n}", "participant"),
            supporter=self.account(f"sue{n}", "participant"),
            outsider_facilitator=self.account(f"olga{n}", "facilitator"),
            outsider_participant=self.account(f"oscar{n}", "participant"),
            coordinator=self.account(f"cora{n}", "coordinator"),
        )
        staff = people.facilitator
        chosen = [staff, people.co_facilitator] if two_facilitators else [staff]
        facilitators = [actor.account_id for actor in chosen if actor.account_id is not None]
        with self.svc.db.uow() as uow:
            case = cases.create_case(uow.session, staff, reference=f"RJ-2026-{n:04d}",
                                     facilitators=facilitators, now=self.svc.now(), **settings)
            uow.commit()
            case_id = case.id
        members = (("harmed", people.harmed, "principal", ""), ("responsible", people.responsible, "principal", ""),
                   ("harmed", people.harmed_proxy, "proxy", "mother of Jessica"),
                   ("harmed", people.supporter, "supporter", ""))
        for side, actor, role, acting_for in members:
            participant = self.do(cases.add_participant, staff, case_id, account_id=actor.account_id, side=side,
                                  role=role, acting_for=acting_for)
            people.participant_ids[actor.account_id or ""] = participant.id
            for kind in ("take_part", "receive_messages"):
                self.do(cases.record_consent, staff, case_id, participant.id, kind=kind, granted=True)
            self.do(cases.record_assessment, staff, case_id, participant.id, outcome="suitable")
        self.do(cases.set_status, staff, case_id, "open")
        return case_id, people

    def sign_in(self, app: Any, actor: Actor, *, totp_secret: str | None = None) -> TestClient:
        """A client signed in as `actor` through the API, sending its CSRF token on every request."""
        return api_client(app, self.username(actor), self.PASSWORD, totp_secret=totp_secret)

    def approved_letter(self, people: People, case_id: str, text: str = "Dear Sam, I have thought about it.",
                        *, author: Actor | None = None) -> str:
        """A letter written (by the harmed side unless `author`), processed, claimed and approved:
        released at once where nothing holds it. Its id."""
        writer = author or people.harmed
        message = self.do(authoring.start_draft, writer, case_id, text)
        self.do(authoring.submit, writer, message.id)
        self.run_jobs()
        self.wait_for_review(message.id)  # a site's worker thread may have taken the job instead
        self.do(review.claim, people.facilitator, message.id)
        self.do(review.approve, people.facilitator, message.id)
        return str(message.id)

    def in_reply_to(self, message_id: str) -> str | None:
        """The message a message answers (its `in_reply_to_id`), read from the database."""
        with self.svc.db.uow() as uow:
            message = uow.session.get(Message, message_id)
            assert message is not None
            return message.in_reply_to_id

    def wait_for_review(self, message_id: str, seconds: float = 60) -> None:
        """Until the message's processing is over (at once when run_jobs ran it here)."""
        deadline = time.monotonic() + seconds
        while True:
            with self.svc.db.uow() as uow:
                state = uow.session.scalars(select(Message.state).where(Message.id == message_id)).one()
            if state not in (State.SUBMITTED.value, State.PROCESSING.value) or time.monotonic() > deadline:
                return
            time.sleep(0.1)

    def processed_video(self, people: People, case_id: str, play: bytes, *, poster: bytes | None = b"poster",
                        report: str = '{"flags": [], "removed": []}') -> str:
        """A video message uploaded and submitted by the harmed side, with the media worker's reporting
        use cases standing in for the worker (`play` as its delivery file): awaiting review. Its id."""
        message = self.do(authoring.start_media, people.harmed, case_id, "video")
        upload = self.do(uploads.create, people.harmed, message.id, 4)
        self.do(uploads.record_part, people.harmed, upload.id, 0, self.svc.store.put_bytes(b"orig"))
        self.do(authoring.submit, people.harmed, message.id)
        with self.svc.db.uow() as uow:
            version_id = uow.session.scalars(select(Message.current_version_id).where(Message.id == message.id)).one()
            assert version_id is not None
            wanted = processing.begin(uow.session, self.svc, version_id)
            assert wanted is not None
            media = blobs.store_bytes(uow.session, self.svc.store, play)
            poster_id = blobs.store_bytes(uow.session, self.svc.store, poster).id if poster is not None else None
            findings = blobs.store_text(uow.session, self.svc.store, report)
            uow.session.flush()
            processing.finish(uow.session, self.svc, wanted.version_id, processed_blob_id=media.id,
                              report_blob_id=findings.id, flag_count=0,
                              media=processing.MediaFacts("video/mp4", 3000, poster_id))
            uow.commit()
        return str(message.id)

    def run_jobs(self, limit: int = 20) -> int:
        ran = 0
        while ran < limit and self._worker.run_once():
            ran += 1
        return ran


def web_client(app: Any) -> TestClient:
    """A client of the app that keeps its own cookies (one per person); errors answer as they would live."""
    return TestClient(app, raise_server_exceptions=False)


def api_client(app: Any, username: str, password: str, *, totp_secret: str | None = None) -> TestClient:
    """Sign in with POST /api/v1/session (then /session/totp for staff with a second factor)."""
    client = web_client(app)
    answer = client.post("/api/v1/session", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    if answer.json()["stage"] == "totp":
        assert totp_secret is not None, f"{username} needs a TOTP code"
        answer = client.post("/api/v1/session/totp", json={"code": accounts.current_totp(totp_secret)})
        assert answer.status_code == 200, answer.text
    assert answer.json()["stage"] == "full", answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client
