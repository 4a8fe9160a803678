"""Issue 14, target 1, for the participants' side: the participant's home (/me), their case page
(where they write), the JSON list of a case's messages, /api/v1/me, /api/v1/cases and a
message's requests run the same number of SQL statements whatever the number of messages (one
batched query per kind of thing, view builders that take preloaded rows), and at most
MAX_STATEMENTS.

Statements are counted with a `before_cursor_execute` listener on the test engine, around one
GET of each page, after a first GET (so what a first request caches is not counted). The same
person (the harmed side's principal) looks at an exchange of 1 message, then of 50 messages of
every kind they can see: their drafts, letters with the facilitator, letters delivered to the
other side, letters delivered to them (waiting, opened, held or returned at their request).
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

from sqlalchemy import select
from support import statements_of
from world import People, World

from shuttle.messages import authoring, delivery, requests, review
from shuttle.messages.request_models import RecipientRequest
from shuttle.services import Actor, Services
from shuttle.web.app import build_app

MAX_STATEMENTS = 15
#: On PostgreSQL each test runs inside one outer transaction (tests/testdb.py), so a unit of work
#: is a savepoint there: these stand for the BEGIN and COMMIT that psycopg sends without a cursor
#: in production, and are not counted. SQLite's BEGIN is counted.
HARNESS = re.compile(r"(RELEASE |ROLLBACK TO )?SAVEPOINT ", re.I)


def counting(svc: Services) -> AbstractContextManager[list[str]]:
    return statements_of(svc, ignoring=HARNESS)


def _letter(world: World, p: People, case_id: str, author: Actor, *, send: bool = True,
            approve: bool = True) -> str:
    message = world.do(authoring.start_draft, author, case_id, "Dear reader, I have thought about what to say.")
    if send:
        world.do(authoring.submit, author, message.id)
        world.run_jobs()
        if approve:
            world.do(review.claim, p.facilitator, message.id)
            world.do(review.approve, p.facilitator, message.id)  # released: every gate is open
    return str(message.id)


def _to_harmed(world: World, p: People, case_id: str, what: str) -> None:
    """A letter from the responsible side delivered to the harmed side, then `what` the harmed side did."""
    message_id = _letter(world, p, case_id, p.responsible)
    if what == "opened":
        world.do(delivery.open_message, p.harmed, message_id, share_receipt=True)
    elif what == "held":
        world.do(requests.request, p.harmed, message_id, "hold", "Not yet, please.")
    elif what == "returned":
        world.do(delivery.open_message, p.harmed, message_id)
        row = world.do(requests.request, p.harmed, message_id, "return", "")
        world.do(requests.handle, p.facilitator, row.id, "done", "Done.")


#: What each further message is, in turn (the first is always a letter delivered to the other side).
MIX = ("draft", "with facilitator", "delivered", "to me", "opened", "held", "returned", "by proxy")


def _exchange(world: World, messages: int) -> tuple[str, People, str]:
    """A case with `messages` messages; returns its id, its people and its first message's id."""
    case_id, p = world.case(read_receipts_allowed=True, author_must_accept_edits=False)
    first = _letter(world, p, case_id, p.harmed)
    for i in range(messages - 1):
        what = MIX[i % len(MIX)]
        if what == "draft":
            _letter(world, p, case_id, p.harmed, send=False)
        elif what == "with facilitator":
            _letter(world, p, case_id, p.harmed, approve=False)
        elif what == "delivered":
            _letter(world, p, case_id, p.harmed)
        elif what == "by proxy":
            _letter(world, p, case_id, p.harmed_proxy)
        else:
            _to_harmed(world, p, case_id, {"to me": "waiting"}.get(what, what))
    return case_id, p, first


def _counts(world: World, messages: int) -> dict[str, int]:
    """Statements per GET of each page, as the harmed side's principal."""
    case_id, p, first = _exchange(world, messages)
    client = world.sign_in(build_app(world.svc, check_schema=False), p.harmed)
    pages = {"home": "/me", "case page": f"/me/cases/{case_id}/write", "record": f"/me/cases/{case_id}/record",
             "standing": f"/me/cases/{case_id}/holding", "leave": f"/me/cases/{case_id}/leave",
             "my message": f"/me/messages/{first}",
             "case messages (JSON)": f"/api/v1/cases/{case_id}/messages",
             "me (JSON)": "/api/v1/me", "cases (JSON)": "/api/v1/cases"}
    if messages > len(MIX):  # one of each kind delivered to me: its page and its requests
        pages["inbox item"] = f"/me/inbox/{_last_returned(world, p)}"
        pages["inbox item's requests (JSON)"] = f"/api/v1/messages/{_last_returned(world, p)}/requests"
    found = {}
    for name, url in pages.items():
        assert client.get(url).status_code == 200, url
        with counting(world.svc) as statements:
            answer = client.get(url)
        assert answer.status_code == 200, url
        found[name] = len(statements)
    return found


def _last_returned(world: World, p: People) -> str:
    """The last message the harmed side asked to have returned (its page lists the request)."""
    with world.svc.db.uow() as uow:
        return str(uow.session.scalars(select(RecipientRequest.message_id).where(RecipientRequest.kind == "return")
                                       .order_by(RecipientRequest.requested_at.desc())).first())


def test_participant_pages_run_the_same_statements_for_1_and_50_messages(world: World) -> None:
    one = _counts(world, 1)
    fifty = _counts(world, 50)
    each = {page: one.get(page) for page in fifty}
    print({page: (each[page], fifty[page]) for page in fifty})
    assert {page: one[page] for page in one} == {page: fifty[page] for page in one}
    assert max(fifty.values()) <= MAX_STATEMENTS, fifty
