"""Who may call which API route (DESIGN.md section 8, invariant 7), route by route and role by role.

The table below is the specification: one row per route (and per message action), one
column per role. A route added to `shuttle.web.api.ROUTES` without a row fails the test.
Every request is also repeated with each id in its path replaced by a random one, which
must answer exactly like an id the caller may not see: same status, same body.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.services import Actor, Services
from shuttle.web import api
from shuttle.web.app import build_app
from world import People, TestClient, World, web_client

OK = "2xx"  # allowed, and done
NOW = 409  # allowed to this role, but not in the message's or case's current state
NO = 404  # not this role's to see or do: answered exactly like a missing id
ANON = 401  # not signed in

NOT_FOUND = {"error": "not_found", "message": "Not found."}
SIGN_IN_ROUTES = {("POST", "/session"), ("POST", "/session/totp"), ("POST", "/session/invitation"),
                  ("POST", "/session/password")}
UNCHECKED_ROUTES = {("GET", "/openapi.json")}  # public by design: the API's own description
ACTION_PATH = "/messages/{message_id}/actions/{action}"

ROLES = ("author", "other_side", "proxy", "supporter", "facilitator", "foreign_facilitator",
         "foreign_participant", "coordinator", "anonymous")

# (method, path, target): the outcome for each role, in the order of ROLES. The target says
# what the path's ids point at: "case" is the case of all the roles but the foreign ones,
# "spare case" another case of the same people (leaving it changes nothing in "case"),
# "quiet case" one more where nothing was sent yet; a message target names the state of a
# message the author (the harmed principal) wrote in "case". See Targets below.
EXPECTED: dict[tuple[str, str, str], tuple[Any, ...]] = {
    #                                                     auth  other proxy supp  facil f.fac f.par coord anon
    ("DELETE", "/session", "own session"):                (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/me", "-"):                                  (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/cases", "-"):                               (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/cases/{case_id}", "case"):                  (OK,   OK,   OK,   OK,   OK,   NO,   NO,   NO,   ANON),
    ("PATCH", "/cases/{case_id}/settings", "case"):       (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/status", "case"):          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/consents", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/assessments", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/holding", "case"):         (OK,   OK,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/withdraw", "spare case"):  (OK,   OK,   OK,   OK,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/messages", "case"):         (OK,   OK,   OK,   OK,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/messages", "case"):        (OK,   OK,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/messages", "quiet case"):  (OK,   NOW,  OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}", "draft"):           (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}", "awaiting review"): (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}", "released"):        (OK,   OK,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/draft", "draft"):     (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/draft", "draft"):     (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/draft", "awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/versions/{version_id}", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/versions/{version_id}", "released"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/open", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/open", "released"):  (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/submit", "fresh draft"):
                                                          (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/submit", "awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/withdraw", "fresh draft"):
                                                          (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/withdraw", "released"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/accept-edit", "fresh awaiting author"):
                                                          (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/accept-edit", "awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/decline-edit", "fresh awaiting author"):
                                                          (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/claim", "fresh awaiting review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/claim", "draft"):
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/unclaim", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/request-changes", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/edit", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/reject", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/approve", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/approve", "awaiting review"):  # not claimed first
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/schedule", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/retry", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("GET", "/review-queue", "-"):                        (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
}

#: The body each request sends (None: no body). Actions not listed send {}.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/cases/{case_id}/settings"): {"label_harmed": "the person harmed"},
    ("POST", "/cases/{case_id}/status"): {"status": "open"},
    ("POST", "/cases/{case_id}/participants/{participant_id}/consents"): {"kind": "receive_messages", "granted": True},
    ("POST", "/cases/{case_id}/participants/{participant_id}/assessments"): {"outcome": "suitable"},
    ("POST", "/cases/{case_id}/holding"): {"holding": False},
    ("POST", "/cases/{case_id}/withdraw"): {},
    ("POST", "/cases/{case_id}/messages"): {"text": "Dear Sam, hello."},
    ("PUT", "/messages/{message_id}/draft"): {"text": "Dear Sam, a second go."},
    ("POST", "/messages/{message_id}/open"): {},
    ("POST", "/messages/{message_id}/actions/request-changes"): {"note": "Please say it in your own words."},
    ("POST", "/messages/{message_id}/actions/edit"): {"text": "Dear Sam, shorter."},
    ("POST", "/messages/{message_id}/actions/reject"): {"code": "other"},
    ("POST", "/messages/{message_id}/actions/schedule"): {"at": "2099-01-01T09:00:00+00:00"},
}


def _api_routes() -> set[tuple[str, str]]:
    """Every (method, path) of the API, message actions expanded one by one."""
    found = set()
    for route in api.ROUTES:
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if route.path == ACTION_PATH:
                found |= {(method, ACTION_PATH.replace("{action}", a)) for a in api.ACTIONS}
            else:
                found.add((method, route.path))
    return found - SIGN_IN_ROUTES - UNCHECKED_ROUTES


def test_every_api_route_and_action_has_an_expectation() -> None:
    routes = _api_routes()
    covered = {(method, path) for method, path, _ in EXPECTED}
    assert routes - covered == set(), "routes without a row in EXPECTED: add one"
    assert covered - routes == set(), "rows in EXPECTED for routes that no longer exist"
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


# --- the world the requests are made in ---------------------------------------------------------


@dataclass
class Targets:
    """The cases and messages the table's targets name.

    A new message is made for every unsafe request expected to succeed, so each success
    starts from the state its row names; refused requests change nothing and share one.
    """

    world: World
    case_id: str
    people: People
    spare_case_id: str
    quiet_case_id: str
    shared: dict[str, dict[str, str]] = field(default_factory=dict)

    def _as(self, use_case: Callable[..., Any], actor: Actor, *args: Any, **kwargs: Any) -> Any:
        return self.world.do(use_case, actor, *args, **kwargs)

    def draft(self) -> str:
        message = self._as(authoring.start_draft, self.people.harmed, self.case_id, "Dear Sam, I have waited.")
        return str(message.id)

    def awaiting_review(self) -> str:
        message_id = self.draft()
        self._as(authoring.submit, self.people.harmed, message_id)
        self.world.run_jobs()
        return message_id

    def in_review(self) -> str:
        message_id = self.awaiting_review()
        self._as(review.claim, self.people.facilitator, message_id)
        return message_id

    def awaiting_author(self) -> str:
        message_id = self.in_review()
        self._as(review.propose_edit, self.people.facilitator, message_id, text="Dear Sam, I waited.")
        self.world.run_jobs()
        return message_id

    def released(self) -> str:
        message_id = self.in_review()
        self._as(review.approve, self.people.facilitator, message_id)
        return message_id

    def ids(self, target: str, *, fresh: bool) -> dict[str, str]:
        """Path parameters for a target; message targets also give the current version's id."""
        if target in {"case", "-", "own session"}:
            return {"case_id": self.case_id,
                    "participant_id": self.people.participant_ids[self.people.harmed.account_id or ""]}
        if target == "spare case":
            return {"case_id": self.spare_case_id}
        if target == "quiet case":
            return {"case_id": self.quiet_case_id}
        kind = target.removeprefix("fresh ")
        if not fresh and kind in self.shared:
            return self.shared[kind]
        message_id = getattr(self, kind.replace(" ", "_"))()
        with self.world.svc.db.uow() as uow:
            message = uow.session.get(Message, message_id)
            assert message is not None
            made = {"message_id": message_id}
            if message.current_version_id:  # a draft has none yet
                made["version_id"] = message.current_version_id
        if not fresh:
            self.shared[kind] = made
        return made


def _actors(p: People, foreign: People) -> dict[str, Actor | None]:
    return {"author": p.harmed, "other_side": p.responsible, "proxy": p.harmed_proxy, "supporter": p.supporter,
            "facilitator": p.facilitator, "foreign_facilitator": foreign.facilitator,
            "foreign_participant": foreign.harmed, "coordinator": p.coordinator, "anonymous": None}


def _expected_status(expected: Any, status: int) -> bool:
    return 200 <= status < 300 if expected == OK else status == expected


def test_permission_matrix(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    foreign_case_id, foreign = world.case()  # the foreign facilitator and participant have a case of their own
    spare_case_id, _ = world.case(people=p)
    quiet_case_id, _ = world.case(people=p)  # nothing sent yet: the responsible side may not begin
    targets = Targets(world, case_id, p, spare_case_id, quiet_case_id)
    targets.ids("released", fresh=False)  # the harmed side has sent: now the responsible side may write too
    app = build_app(svc, check_schema=False)
    actors = _actors(p, foreign)
    clients: dict[str, TestClient] = {role: _client(world, app, actor) for role, actor in actors.items()}

    failures = []
    for (method, path, target), row in EXPECTED.items():
        body = BODIES.get((method, path), {} if method != "GET" and "/actions/" in path else None)
        for role, expected in zip(ROLES, row):
            client = clients[role]
            if target == "own session":
                client = _client(world, app, actors[role])
            ids = targets.ids(target, fresh=expected == OK and method != "GET")
            answer = client.request(method, "/api/v1" + path.format(**ids), json=body)
            if not _expected_status(expected, answer.status_code):
                failures.append(f"{method} {path} [{target}] as {role}: expected {expected}, "
                                f"got {answer.status_code} {answer.text[:120]}")
                continue
            failures += _compare_wrong_ids(client, method, path, ids, body, answer, role, target)
    assert failures == [], "\n".join(failures)


def _client(world: World, app: Any, actor: Actor | None) -> TestClient:
    return web_client(app) if actor is None else world.sign_in(app, actor)


def _compare_wrong_ids(client: TestClient, method: str, path: str, ids: dict[str, str], body: Any,
                       answer: Any, role: str, target: str) -> list[str]:
    """Each id replaced by a random one answers like a foreign id: 401 as before, else 404 and the same body."""
    failures = []
    for name in ids:
        if "{" + name + "}" not in path:
            continue
        wrong = client.request(method, "/api/v1" + path.format(**{**ids, name: uuid.uuid4().hex}), json=body)
        if answer.status_code in (401, 404):
            expected = (answer.status_code, answer.json())
        else:
            expected = (404, NOT_FOUND)
        if (wrong.status_code, wrong.json()) != expected:
            failures.append(f"{method} {path} [{target}] as {role} with a random {name}: "
                            f"{wrong.status_code} {wrong.text[:120]}, but a foreign id gives {expected}")
        if answer.status_code == 404 and answer.json() != NOT_FOUND:
            failures.append(f"{method} {path} [{target}] as {role}: 404 body {answer.text[:120]}")
    return failures


def test_foreign_ids_inside_ones_own_case_answer_like_missing_ones(sqlite_svc: Services) -> None:
    """A facilitator's own case with another case's participant, or a message with another message's version."""
    world = World(sqlite_svc)
    case_id, p = world.case()
    foreign_case_id, foreign = world.case()
    app = build_app(sqlite_svc, check_schema=False)
    mine = Targets(world, case_id, p, case_id, case_id).ids("awaiting review", fresh=True)
    theirs = Targets(world, foreign_case_id, foreign, foreign_case_id, foreign_case_id).ids("awaiting review",
                                                                                           fresh=True)
    facilitator = world.sign_in(app, p.facilitator)
    foreign_participant = foreign.participant_ids[foreign.harmed.account_id or ""]
    requests = [
        ("GET", f"/messages/{mine['message_id']}/versions/{theirs['version_id']}", None),
        ("POST", f"/cases/{case_id}/participants/{foreign_participant}/consents",
         {"kind": "take_part", "granted": False}),
        ("POST", f"/cases/{case_id}/participants/{foreign_participant}/assessments", {"outcome": "not_suitable"}),
        ("GET", f"/messages/{theirs['message_id']}", None),
    ]
    for method, path, body in requests:
        answer = facilitator.request(method, "/api/v1" + path, json=body)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), path
    # The foreign participant is untouched.
    foreign_facilitator = world.sign_in(app, foreign.facilitator)
    view = foreign_facilitator.get(f"/api/v1/cases/{foreign_case_id}").json()
    row = next(x for x in view["participants"] if x["id"] == foreign_participant)
    assert row["consent_take_part"] and row["assessment"] == "suitable"


def test_lists_show_each_role_only_its_room(sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    _, foreign = world.case()
    targets = Targets(world, case_id, p, case_id, case_id)
    waiting = targets.ids("awaiting review", fresh=True)["message_id"]
    released = targets.ids("released", fresh=True)["message_id"]
    app = build_app(sqlite_svc, check_schema=False)

    def listed(actor: Actor, path: str) -> list[str]:
        answer = world.sign_in(app, actor).get("/api/v1" + path)
        assert answer.status_code == 200, answer.text
        return [m["id"] for m in answer.json()]

    assert listed(p.facilitator, "/review-queue") == [waiting]  # the released one needs nothing more
    for actor in (p.harmed, p.responsible, p.supporter, p.coordinator, foreign.facilitator):
        assert listed(actor, "/review-queue") == []
    assert set(listed(p.harmed, f"/cases/{case_id}/messages")) == {waiting, released}
    assert set(listed(p.harmed_proxy, f"/cases/{case_id}/messages")) == {waiting, released}
    assert listed(p.responsible, f"/cases/{case_id}/messages") == [released]
    assert listed(p.supporter, f"/cases/{case_id}/messages") == []
    assert listed(p.coordinator, "/cases") == []
    assert case_id not in listed(foreign.harmed, "/cases") and case_id not in listed(foreign.facilitator, "/cases")
    me = world.sign_in(app, p.coordinator).get("/api/v1/me").json()
    assert me["role"] == "coordinator" and me["cases"] == []


@pytest.mark.parametrize("role", ["supporter", "coordinator"])
def test_roles_without_messages_cannot_read_content(sqlite_svc: Services, role: str) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    targets = Targets(world, case_id, p, case_id, case_id)
    released = targets.ids("released", fresh=True)
    client = world.sign_in(build_app(sqlite_svc, check_schema=False), getattr(p, role))
    for method, path in [("GET", "/messages/{message_id}"), ("POST", "/messages/{message_id}/open"),
                         ("GET", "/messages/{message_id}/versions/{version_id}")]:
        answer = client.request(method, "/api/v1" + path.format(**released), json={} if method == "POST" else None)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), path
