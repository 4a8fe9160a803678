"""Issue 14, target 1, for the facilitators' pages: the dashboard (queue and cases), the staff
case page, the review page, the JSON review queue and a case's messages in JSON (as its
facilitator) run the same number of SQL statements whatever the number of messages (eager
loading, one batched query per kind of thing), and at most MAX_STATEMENTS.

Statements are counted with a `before_cursor_execute` listener on the test engine, around one
GET of each page, after a first GET (so what a first request caches is not counted). Transaction
control (BEGIN, SAVEPOINT, RELEASE, COMMIT: the test database's savepoints on PostgreSQL, the
unit of work's BEGIN on SQLite) is not a query and is left out of the count.
"""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from support import statements_of
from world import People, World

from shuttle.cases.models import Case
from shuttle.messages import authoring, delivery, requests, review
from shuttle.messages.models import Message
from shuttle.messages.staff_view import staff_messages
from shuttle.messages.views import for_staff
from shuttle.services import Services

MAX_STATEMENTS = 15
TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def counting(svc: Services) -> AbstractContextManager[list[str]]:
    return statements_of(svc, ignoring=TRANSACTION_CONTROL)


def _round(world: World, p: People, case_id: str, i: int) -> None:
    """One round of messages in the states a facilitator's pages show differently: waiting for
    review, claimed, approved with a release time ahead (in the queue with its blockers),
    delivered with an open recipient request (on the case page), and just sent (being prepared)."""
    def letter(author: Any, text: str) -> str:
        message = world.do(authoring.start_draft, author, case_id, text)
        world.do(authoring.submit, author, message.id)
        return str(message.id)

    waiting = letter(p.harmed, f"Dear Sam, letter {i}: call me on 07700 900{i:03d}.")
    claimed = letter(p.responsible, f"Dear Jessica, reply {i}.")
    scheduled = letter(p.harmed, f"Dear Sam, a letter for later {i}.")
    delivered = letter(p.harmed, f"Dear Sam, a letter now {i}.")
    world.run_jobs(limit=100)
    letter(p.harmed, f"Dear Sam, still being prepared {i}.")
    for message_id in (claimed, scheduled, delivered):
        world.do(review.claim, p.facilitator, message_id)
    world.do(review.schedule_release, p.facilitator, scheduled, world.svc.now() + timedelta(days=30))
    for message_id in (scheduled, delivered):
        world.do(review.approve, p.facilitator, message_id, resolutions={})
    world.do(delivery.open_message, p.responsible, delivered, share_receipt=True)
    world.do(requests.request, p.responsible, delivered, "return" if i % 2 else "destroy", f"Note {i}.")
    del waiting


def _counts(world: World, app: Any, rounds: int) -> dict[str, int]:
    case_id, p = world.case(two_facilitators=True, read_receipts_allowed=True, initiator="either")
    for i in range(rounds):
        _round(world, p, case_id, i)
    first = world.do(lambda s, svc: s.scalar(select(Message.id).where(Message.case_id == case_id)
                                             .order_by(Message.created_at).limit(1)))
    staff = world.sign_in(app, p.facilitator)
    pages = {"dashboard": "/staff", "case page": f"/staff/cases/{case_id}",
             "review page": f"/staff/messages/{first}", "JSON queue": "/api/v1/review-queue",
             "JSON case messages": f"/api/v1/cases/{case_id}/messages"}
    counts = {}
    for name, url in pages.items():
        assert staff.get(url).status_code == 200, url  # warm: what a first request caches is not counted
        with counting(world.svc) as statements:
            answer = staff.get(url)
        assert answer.status_code == 200, url
        counts[name] = len(statements)
        if os.environ.get("SHOW_STATEMENTS"):
            with open(f"/tmp/sc/{world.svc.db.dialect}-{rounds}-{name}.sql", "w") as out:
                out.write("\n\n".join(statements))
    return counts


def test_staff_pages_run_the_same_statements_for_one_round_and_for_ten(world: World, app: Any) -> None:
    one = _counts(world, app, 1)
    many = _counts(world, app, 10)
    print(f"\nstatements per page, {world.svc.db.dialect}: 1 round {one}, 10 rounds {many}")
    assert one == many
    assert max(many.values()) <= MAX_STATEMENTS, many


def test_the_batched_staff_views_are_the_one_at_a_time_views(world: World) -> None:
    """`staff_view.staff_messages` (rows read once per kind) gives each message exactly what
    `views.for_staff` gives it alone, in every state the rounds make."""
    case_id, p = world.case(two_facilitators=True, read_receipts_allowed=True, initiator="either")
    for i in range(2):
        _round(world, p, case_id, i)

    def both(s: Any, svc: Services) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        case = s.get(Case, case_id)
        messages = list(s.scalars(select(Message).where(Message.case_id == case_id).order_by(Message.created_at)))
        batched = [view.as_dict() for view in staff_messages(s, svc, [(m, case) for m in messages])]
        return batched, [for_staff(s, svc, m, case) for m in messages]

    batched, alone = world.do(both)
    assert {m["state"] for m in alone} >= {"awaiting_review", "in_review", "approved", "viewed", "submitted"}
    assert any(m["release_blockers"] for m in alone)  # the approved one waits for its release time
    assert batched == alone
