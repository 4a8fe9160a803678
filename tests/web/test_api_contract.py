"""The API keeps its own contract (issue 9): schemathesis generates requests from the OpenAPI
document (valid ones and ones that break it), signed in as a participant and as a facilitator, for
every operation, and checks each answer: no server error, a status the document lists for that
operation, a body that matches the document's schema for that status.

Bounded: EXAMPLES generated requests per operation and role, aimed at real ids (a case, its people,
a draft, a delivered letter, a video, an upload) so the handlers run past the id lookup.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from world import People, World

from shuttle.messages import authoring
from shuttle.organisations import service as organisations
from shuttle.services import Services
from shuttle.uploads import service as uploads
from shuttle.web.app import build_app
from shuttle.web.http import SESSION_COOKIE

#: Generated requests per operation and role (x 2 roles x every operation: the run's size).
EXAMPLES = 3
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
#: Ending the session would sign the run out (signing out is tested in test_api_flow); schemathesis
#: leaves out the document it was loaded from (test_openapi reads it).
SKIPPED = {("DELETE", "/session"), ("GET", "/openapi.json")}
PLAY = bytes(range(256)) * 64
# tus pieces and scanned forms are bytes as they come
schemathesis.serializer.alias(["application/offset+octet-stream", "application/pdf"], "application/octet-stream")


@dataclass
class Run:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    probed: set[tuple[str, str, str]] = field(default_factory=set)


def _coordinators(method: str, path: str) -> bool:
    """The coordinator's own operations: anyone else gets the 404 of a missing id before any field is read
    (the permission matrix proves that), so they are probed as the coordinator."""
    public = (method, path) == ("POST", "/referrals")
    return path.startswith("/coordinator/") or (path.startswith("/referrals") and not public) \
        or path.endswith("/legal-hold")


def _ids(world: World, svc: Services, case_id: str, p: People) -> dict[str, list[str]]:
    """Real ids of each kind for the path parameters; the others get a well-formed id that names nothing."""
    delivered = world.approved_letter(p, case_id)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a draft.")
    video = world.processed_video(p, case_id, PLAY)
    empty = world.do(authoring.start_media, p.harmed, case_id, "audio")
    upload = world.do(uploads.create, p.harmed, empty.id, 4096)
    organisation = world.do(organisations.add, p.coordinator, name="Victim Support", kind="victim_services")
    return {
        "case_id": [case_id],
        "participant_id": sorted(p.participant_ids.values()),
        "supporter_id": [p.participant_ids[p.supporter.account_id or ""]],
        "message_id": [delivered, draft.id, video],
        "upload_id": [upload.id],
        "account_id": [p.facilitator.account_id or "", p.co_facilitator.account_id or ""],
        "organisation_id": [organisation.id],
    }


def _strategy(operation: Any, ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    names = [p.name for p in operation.path_parameters]
    real = {name: st.sampled_from(ids[name]) for name in names if name in ids}
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    return st.tuples(cases, st.fixed_dictionaries(real))


def _fuzz(schema: Any, client: Any, cookie: str, csrf: str, ids: dict[str, list[str]], who: str, run: Run) -> None:
    for result in schema.get_all_operations():
        operation = result.ok()
        method = operation.method.upper()
        if (method, operation.path) not in SKIPPED and _coordinators(method, operation.path) == (who == "coordinator"):
            _probe(operation, client, {"X-CSRF-Token": csrf}, {SESSION_COOKIE: cookie}, ids, who, run)


def _probe(operation: Any, client: Any, headers: dict[str, str], cookies: dict[str, str],
           ids: dict[str, list[str]], who: str, run: Run) -> None:
    """EXAMPLES generated requests to one operation, each answer checked (failures kept, not shrunk)."""

    @given(_strategy(operation, ids))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def probe(drawn: tuple[Any, dict[str, str]]) -> None:
        case, real = drawn
        case.path_parameters = {**(case.path_parameters or {}), **real}
        run.requests += 1
        run.probed.add((who, operation.method.upper(), operation.path))
        try:
            response = case.call(session=client, headers=headers, cookies=cookies)
        except Exception as exc:  # the app raised: a server error that never became an answer
            run.failures.append(f"{who} {operation.method.upper()} {operation.path} raised {exc!r}")
            return
        run.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:
            run.failures.append(f"{who} {operation.method.upper()} {operation.path} -> {response.status_code}: "
                                f"{str(exc)[:600]}")

    probe()


def test_generated_requests_get_documented_answers_as_participant_and_facilitator(sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    ids = _ids(world, sqlite_svc, case_id, p)
    app = build_app(sqlite_svc, check_schema=False)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    run = Run()
    started = time.monotonic()
    with asgi.get_client(cast(Any, app)) as transport:
        for who, actor in (("participant", p.harmed), ("facilitator", p.facilitator), ("coordinator", p.coordinator)):
            signed_in = world.sign_in(app, actor)
            cookie = signed_in.cookies.get(SESSION_COOKIE)
            assert cookie
            _fuzz(schema, transport, cookie, str(signed_in.headers["X-CSRF-Token"]), ids, who, run)
    took = time.monotonic() - started
    print(f"schemathesis: {run.requests} requests in {took:.1f} s; statuses {sorted(run.statuses.items())}")
    documented = {(method.upper(), path) for path, ops in schema.raw_schema["paths"].items() for method in ops}
    wanted = {(who, method, path) for method, path in documented - SKIPPED
              for who in (("coordinator",) if _coordinators(method, path) else ("participant", "facilitator"))}
    assert run.probed == wanted, wanted ^ run.probed  # every operation, for each role
    assert sum(n for status, n in run.statuses.items() if status < 300) >= 100, run.statuses  # not all refusals
    assert not run.failures, "\n".join(run.failures)


@pytest.mark.parametrize("body", [{"status": 3}, {"status": "open", "unknown": 1}, {}])
def test_a_body_that_breaks_its_model_is_one_400_naming_each_field(sqlite_svc: Services, body: dict[str, Any]) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    staff = world.sign_in(build_app(sqlite_svc, check_schema=False), p.facilitator)
    answer = staff.post(f"/api/v1/cases/{case_id}/status", json=body)
    assert answer.status_code == 400, answer.text
    found = answer.json()
    assert found["error"] == "bad_input"
    named = {f["field"] for f in found["fields"]}
    assert named == ({"status"} if "unknown" not in body else {"unknown"}), found
    assert all(f"'{name}'" in found["message"] for name in named)


def test_tus_head_answers_the_offset_from_its_read_only_unit_of_work(sqlite_svc: Services) -> None:
    """Found by the run above: HEAD read the upload's columns after its unit of work had ended, which
    answered 500 once a read-only unit of work ended by rolling back; it now reads them inside."""
    world = World(sqlite_svc)
    case_id, p = world.case()
    message = world.do(authoring.start_media, p.harmed, case_id, "audio")
    upload = world.do(uploads.create, p.harmed, message.id, 4096)
    author = world.sign_in(build_app(sqlite_svc, check_schema=False), p.harmed)
    answer = author.head(f"/api/v1/uploads/{upload.id}", headers={"Tus-Resumable": "1.0.0"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Upload-Offset"] == "0" and answer.headers["Upload-Length"] == "4096"
    assert answer.headers["Upload-Expires"]
