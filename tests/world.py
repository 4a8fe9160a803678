"""A small world for tests: people, a case, and a way to act as each of them.

Everything goes through the real use cases, each call in its own committed unit of work,
as a request would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shuttle.accounts import service as accounts
from shuttle.cases import service as cases
from shuttle.services import Actor, Services
from workers.handlers import build_worker


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
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._worker = build_worker(svc, worker_id="test-worker")

    def do(self, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.svc.db.uow() as uow:
            result = use_case(uow.session, self.svc, *args, **kwargs)
            uow.commit()
            return result

    def account(self, username: str, role: str, *, password: str | None = None) -> Actor:
        with self.svc.db.uow() as uow:
            account, _ = accounts.create_account(uow.session, self.svc.settings, username=username, role=role,
                                                 display_name=username.title(), password=password,
                                                 with_totp=False, passwords=self.svc.passwords)
            uow.commit()
        return Actor(account.id, role)

    def case(self, *, two_facilitators: bool = False, **settings: Any) -> tuple[str, People]:
        """An open case with consent and suitable assessments for everyone, as a facilitator prepares it."""
        n = len(getattr(self, "_made", [])) + 1
        self._made = [*getattr(self, "_made", []), n]
        people = People(
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
        facilitators = [staff.account_id, people.co_facilitator.account_id] if two_facilitators else [
            staff.account_id]
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

    def run_jobs(self, limit: int = 20) -> int:
        ran = 0
        while ran < limit and self._worker.run_once():
            ran += 1
        return ran
