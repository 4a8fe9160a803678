"""Property-based (issue 8, point 5): settings changes interleaved with review actions never leave
a message where no action can move it.

A message waiting for review must be approvable by enough facilitators who have not approved
it yet; an approved one must have the approvals the case now asks for (else nobody could ever
give the missing one: an approved message cannot be claimed). Held messages are judged by
where they will return to.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select
from support import make_services
from world import World

import shuttle.models  # noqa: F401
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.config import Settings
from shuttle.db import Base, Database
from shuttle.errors import ShuttleError
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.messages.release import approvers_of
from shuttle.messages.states import IN_REVIEW_STATES, State

FACILITATORS = ("facilitator", "co_facilitator")


class SettingsAndReview(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        conf = Settings.from_env({"SHUTTLE_DATA_DIR": str(Path(self.tmp.name)), "SHUTTLE_SECRET_KEY": "s" * 40})
        db = Database("sqlite://")
        Base.metadata.create_all(db.engine)
        self.svc = make_services(db, conf)
        self.world = World(self.svc)
        self.case_id, self.people = self.world.case(two_facilitators=True, approvals_required=2)
        self.send()  # something to review from the first step

    def teardown(self) -> None:
        self.svc.db.dispose()
        self.tmp.cleanup()

    def attempt(self, use_case, who: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return self.world.do(use_case, getattr(self.people, who), *args, **kwargs)
        except ShuttleError:
            return None

    def pick(self, index: int) -> str | None:
        with self.svc.db.uow() as uow:
            ids = list(uow.session.scalars(select(Message.id).order_by(Message.created_at)))
        return ids[index % len(ids)] if ids else None

    @rule()
    def send(self) -> None:
        """The harmed side sends a letter; the worker processes it."""
        draft = self.attempt(authoring.start_draft, "harmed", self.case_id, "Dear Sam, I am sorry.")
        if draft is not None and self.attempt(authoring.submit, "harmed", draft.id) is not None:
            event("sent")
        self.world.run_jobs()

    @rule(who=st.sampled_from(FACILITATORS), index=st.integers(0, 3), claim_first=st.booleans())
    def approve(self, who: str, index: int, claim_first: bool) -> None:
        if (message_id := self.pick(index)) is None:
            return
        if claim_first:
            self.attempt(review.claim, who, message_id, take_over=True)
        if self.attempt(review.approve, who, message_id) is not None:
            event("approved")

    @rule(who=st.sampled_from(FACILITATORS), index=st.integers(0, 9))
    def give_back(self, who: str, index: int) -> None:
        if (message_id := self.pick(index)) is not None:
            self.attempt(review.unclaim, who, message_id)

    @rule(required=st.sampled_from([1, 2]))
    def change_approvals_needed(self, required: int) -> None:
        self.attempt(cases.update_settings, "facilitator", self.case_id, {"approvals_required": required})

    @rule(status=st.sampled_from(["paused", "open"]))
    def pause_or_resume(self, status: str) -> None:
        self.attempt(cases.set_status, "facilitator", self.case_id, status)

    @rule(index=st.integers(0, 9), later=st.booleans())
    def schedule(self, index: int, later: bool) -> None:
        if (message_id := self.pick(index)) is not None:
            at = self.svc.now().replace(year=2099) if later else None
            self.attempt(review.schedule_release, "facilitator", message_id, at)

    @rule(index=st.integers(0, 9))
    def recall(self, index: int) -> None:
        if (message_id := self.pick(index)) is not None:
            self.attempt(review.recall, "co_facilitator", message_id, reason="Called back to look again.")

    @invariant()
    def no_message_is_stranded(self) -> None:
        with self.svc.db.uow() as uow:
            case = uow.session.get(Case, self.case_id)
            assert case is not None
            facilitators = set(cases.facilitator_ids(uow.session, case.id))
            for message in uow.session.scalars(select(Message)):
                state = State(message.held_from or message.state)
                approvers = set(approvers_of(uow.session, message.current_version_id))
                if state is State.APPROVED:
                    assert len(approvers) >= case.approvals_required, "approved, short of approvals: stuck"
                    assert message.approved_version_id == message.current_version_id
                elif state in IN_REVIEW_STATES:
                    still_needed = case.approvals_required - len(approvers)
                    assert still_needed > 0, "in review with enough approvals: nobody can approve it again"
                    assert len(facilitators - approvers) >= still_needed, "nobody left who may approve it"


SettingsAndReview.TestCase.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSettingsNeverStrandAMessage = SettingsAndReview.TestCase
