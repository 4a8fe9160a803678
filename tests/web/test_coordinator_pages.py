"""The coordinator's pages over HTTP, through their forms as a browser sends them: staff and the enrolment
link, cases and their staffing, organisations; and the facilitator's conflict-of-interest form."""

from __future__ import annotations

import html
import re
from typing import Any

import pyotp
import pytest
from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import func, select
from world import People, TestClient, World, web_client

from shuttle.audit.models import AuditEvent
from shuttle.cases import assignment
from shuttle.messages import authoring, review
from shuttle.services import Services
from shuttle.web.app import SECURITY_HEADERS

LINK = re.compile(r'id="enrolment-link" class="code" value="([^"]+)"')
SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')
NEW_PASSWORD = "a lantern by the quay"


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)



@pytest.fixture
def staffed(world: World) -> tuple[str, People]:
    return world.case()


def _coordinator(app: Any, world: World, p: People) -> TestClient:
    client, landed = sign_in_page(app, world, p.coordinator)
    assert "<h1>The service</h1>" in landed.text
    return client


def _events(world: World) -> int:
    with world.svc.db.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _path(link: str) -> str:
    return "/" + html.unescape(link).split("/", 3)[3]


def _add_staff(client: TestClient, **fields: str) -> Any:
    page = client.get("/coordinator/staff")
    return client.post("/coordinator/staff", data={"csrf_token": csrf_of(page), **fields})


def test_a_coordinator_adds_a_facilitator_who_enrols_by_the_link_and_is_signed_in(
        app: Any, world: World, staffed: tuple[str, People]) -> None:
    _, p = staffed
    coordinator = _coordinator(app, world, p)
    made = _add_staff(coordinator, display_name="Nina Reyes", username="nina", role="facilitator")
    assert made.status_code == 200 and "<strong>only now</strong>" in made.text
    link = LINK.search(made.text)
    assert link is not None
    assert LINK.search(coordinator.get("/coordinator/staff").text) is None  # never shown again
    assert "Waiting to enrol" in coordinator.get("/coordinator/staff").text

    person = web_client(app)
    before = _events(world)
    form = person.get(_path(link.group(1)))
    assert form.status_code == 200 and "<svg" in form.text and "nina" in form.text
    assert _events(world) == before  # opening the link writes nothing
    assert form.headers["content-security-policy"] == SECURITY_HEADERS["content-security-policy"]
    assert "data:" not in form.text and "<script>" not in form.text  # the QR code is inline SVG, no script
    secret = SECRET.search(form.text)
    assert secret is not None
    totp = pyotp.TOTP(secret.group(1))

    answer = person.post(_path(link.group(1)), data={"csrf_token": csrf_of(form), "password": NEW_PASSWORD,
                                                     "confirm": "something else", "code": totp.now()})
    assert answer.status_code == 400 and "not the same" in answer.text and "<svg" in answer.text
    wrong = "000000" if totp.now() != "000000" else "111111"
    answer = person.post(_path(link.group(1)), data={"csrf_token": csrf_of(form), "password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD, "code": wrong})
    assert answer.status_code == 400 and "not the one your authenticator app shows" in answer.text
    done = post_form(person, _path(link.group(1)), form, password=NEW_PASSWORD, confirm=NEW_PASSWORD,
                     code=totp.now())
    assert done.headers["location"] == "/"
    assert "Your work" in person.get("/staff").text  # signed in, as a facilitator
    again = web_client(app).get(_path(link.group(1)))
    assert again.status_code == 404 and "Ask your coordinator for a new link" in again.text
    assert "nina" in coordinator.get("/coordinator/staff").text


def test_the_add_form_comes_back_with_what_was_typed_and_why(app: Any, world: World,
                                                            staffed: tuple[str, People]) -> None:
    _, p = staffed
    coordinator = _coordinator(app, world, p)
    answer = _add_staff(coordinator, display_name="Nina Reyes", username="N!", role="facilitator")
    assert answer.status_code == 400 and "3 to 40 characters" in answer.text and 'value="Nina Reyes"' in answer.text
    answer = _add_staff(coordinator, display_name="Again", username=world.username(p.facilitator), role="facilitator")
    assert answer.status_code == 409 and "taken" in answer.text
    answer = _add_staff(coordinator, display_name="Pat", username="pat", role="participant")
    assert answer.status_code == 400 and "facilitator or a coordinator" in answer.text


def test_deactivate_reactivate_and_reset_from_the_staff_list(app: Any, world: World,
                                                             staffed: tuple[str, People]) -> None:
    _, p = staffed
    coordinator = _coordinator(app, world, p)
    facilitator, _ = sign_in_page(app, world, p.facilitator)
    page = coordinator.get("/coordinator/staff")
    target = f"/coordinator/staff/{p.facilitator.account_id}"
    post_form(coordinator, target, page, action="deactivate")
    assert facilitator.get("/staff", follow_redirects=False).headers["location"] == "/login"  # session ended
    assert "Deactivated" in coordinator.get("/coordinator/staff").text
    post_form(coordinator, target, page, action="reactivate")
    facilitator, _ = sign_in_page(app, world, p.facilitator)
    reset = coordinator.post(target, data={"csrf_token": csrf_of(page), "action": "reset"})
    assert reset.status_code == 200 and LINK.search(reset.text) is not None
    assert facilitator.get("/staff", follow_redirects=False).headers["location"] == "/login"
    own = coordinator.post(f"/coordinator/staff/{p.coordinator.account_id}",
                           data={"csrf_token": csrf_of(page), "action": "deactivate"})
    assert own.status_code == 400 and "own account" in own.text
    participant = coordinator.post(f"/coordinator/staff/{p.harmed.account_id}",
                                   data={"csrf_token": csrf_of(page), "action": "deactivate"})
    assert participant.status_code == 404


@pytest.mark.parametrize("role", ["facilitator", "harmed", "supporter"])
def test_others_get_not_found_on_every_coordinator_page(app: Any, world: World, staffed: tuple[str, People],
                                                        role: str) -> None:
    case_id, p = staffed
    client, _ = sign_in_page(app, world, getattr(p, role))
    for path in ("/coordinator", "/coordinator/staff", "/coordinator/cases", f"/coordinator/cases/{case_id}",
                 "/coordinator/organisations"):
        assert client.get(path).status_code == 404, path
    anonymous = web_client(app)
    assert anonymous.get("/coordinator/cases", follow_redirects=False).headers["location"] == "/login"


def test_the_cases_list_filters_and_shows_no_content(app: Any, world: World, staffed: tuple[str, People]) -> None:
    case_id, p = staffed
    other_id, q = world.case()
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, about the bicycle.")
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    coordinator = _coordinator(app, world, p)
    before = _events(world)
    everything = coordinator.get("/coordinator/cases")
    assert everything.status_code == 200 and "RJ-2026-0001" in everything.text and "RJ-2026-0002" in everything.text
    assert "bicycle" not in everything.text
    mine = coordinator.get(f"/coordinator/cases?facilitator={q.facilitator.account_id}")
    assert "RJ-2026-0002" in mine.text and "RJ-2026-0001" not in mine.text
    assert "0 cases match" in coordinator.get("/coordinator/cases?status=paused").text
    assert "0 cases match" in coordinator.get("/coordinator/cases?overdue=yes").text
    bad = coordinator.get("/coordinator/cases?status=lost")
    assert bad.status_code == 400 and "Status is one of" in bad.text and "RJ-2026-0001" in bad.text
    assert coordinator.get("/coordinator/cases?facilitator=nobody").status_code == 400
    case_page = coordinator.get(f"/coordinator/cases/{case_id}")
    assert case_page.status_code == 200 and "bicycle" not in case_page.text
    assert _events(world) == before  # looking writes nothing


def test_replacing_a_facilitator_from_the_case_page(app: Any, world: World, staffed: tuple[str, People]) -> None:
    case_id, p = staffed
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam.")
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, message.id)
    coordinator = _coordinator(app, world, p)
    page = coordinator.get(f"/coordinator/cases/{case_id}")
    world.do(assignment.record_conflict, p.coordinator, case_id, p.outsider_facilitator.account_id)
    refused = coordinator.post(f"/coordinator/cases/{case_id}", data={
        "csrf_token": csrf_of(page), "action": "replace", "account_id": p.facilitator.account_id,
        "joining": p.outsider_facilitator.account_id, "reason": "leave"})
    assert refused.status_code == 400 and "conflict of interest" in refused.text
    post_form(coordinator, f"/coordinator/cases/{case_id}", page, action="replace",
              account_id=p.facilitator.account_id, joining=p.co_facilitator.account_id, reason="leave")
    shown = coordinator.get(f"/coordinator/cases/{case_id}").text
    assert f"({world.username(p.co_facilitator)})</span></h3>" in shown
    assert f"({world.username(p.facilitator)})</span></h3>" not in shown
    newcomer, _ = sign_in_page(app, world, p.co_facilitator)
    assert newcomer.get(f"/staff/cases/{case_id}").status_code == 200
    assert newcomer.get(f"/staff/messages/{message.id}").status_code == 200  # back in the queue, for them
    leaver, _ = sign_in_page(app, world, p.facilitator)
    assert leaver.get(f"/staff/cases/{case_id}").status_code == 404
    for person in (p.harmed, p.responsible):  # the participants' pages keep working
        client, landed = sign_in_page(app, world, person)
        assert landed.status_code == 200 and client.get("/me").status_code == 200


def test_a_facilitator_records_a_conflict_of_interest_from_their_case_page(
        app: Any, world: World, staffed: tuple[str, People]) -> None:
    case_id, p = staffed
    facilitator, _ = sign_in_page(app, world, p.facilitator)
    page = facilitator.get(f"/staff/cases/{case_id}")
    assert "Record a conflict of interest" in page.text
    unticked = facilitator.post(f"/staff/cases/{case_id}/conflict", data={"csrf_token": csrf_of(page)})
    assert unticked.status_code == 400 and "Tick the box" in unticked.text
    recorded = facilitator.post(f"/staff/cases/{case_id}/conflict", data={"csrf_token": csrf_of(page),
                                                                          "confirm": "yes"})
    assert recorded.status_code == 200 and "It is recorded" in recorded.text and "RJ-2026-0001" in recorded.text
    again = facilitator.post(f"/staff/cases/{case_id}/conflict", data={"csrf_token": csrf_of(page), "confirm": "yes"})
    assert "It was recorded already" in again.text
    outsider, _ = sign_in_page(app, world, p.outsider_facilitator)
    assert outsider.post(f"/staff/cases/{case_id}/conflict",
                         data={"csrf_token": csrf_of(outsider.get("/staff")), "confirm": "yes"}).status_code == 404
    coordinator = _coordinator(app, world, p)
    assert "conflict of interest" in coordinator.get("/coordinator/cases").text


def test_organisations_page_adds_renames_and_deactivates(app: Any, world: World,
                                                         staffed: tuple[str, People]) -> None:
    _, p = staffed
    coordinator = _coordinator(app, world, p)
    page = coordinator.get("/coordinator/organisations")
    assert "No organisations yet" in page.text
    post_form(coordinator, "/coordinator/organisations", page, name="Northshire Police", kind="police")
    twin = coordinator.post("/coordinator/organisations", data={"csrf_token": csrf_of(page),
                                                                "name": "northshire police", "kind": "police"})
    assert twin.status_code == 409 and "already an organisation" in twin.text
    assert 'value="northshire police"' in twin.text
    empty = coordinator.post("/coordinator/organisations", data={"csrf_token": csrf_of(page), "name": " ",
                                                                 "kind": "police"})
    assert empty.status_code == 400 and "name" in empty.text
    listed = coordinator.get("/coordinator/organisations")
    found = re.search(r'id="organisation-([0-9a-f]{32})"', listed.text)
    assert found is not None
    target = f"/coordinator/organisations/{found.group(1)}"
    post_form(coordinator, target, listed, action="rename", name="Northshire Constabulary")
    post_form(coordinator, target, listed, action="deactivate")
    shown = coordinator.get("/coordinator/organisations").text
    assert "Northshire Constabulary" in shown and "No: deactivated" in shown
