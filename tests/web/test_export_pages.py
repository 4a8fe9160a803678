"""Exporting a certified case record from the pages and the API (issue 11), as a browser and a client
send them: the reason is required, the answer is the signed zip, and only the case's facilitators and
the coordinator may; the coordinator's page publishes the key that checks it."""

from __future__ import annotations

import html
import io
import re
import zipfile
from typing import Any

import pytest
from forms import csrf_of, sign_in_page
from sqlalchemy import select
from world import People, World

from shuttle.audit.models import AuditEvent
from shuttle.exports import archive
from shuttle.exports.record import EXPORTED
from shuttle.services import Services

FINGERPRINT = re.compile(r'<code class="fingerprint">([^<]+)</code>')
PEM = re.compile(r'<pre class="public-key">([^<]+)</pre>', re.S)
LETTER = "Dear Sam, I needed you to hear this from me."


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)


@pytest.fixture
def case(world: World) -> tuple[str, People]:
    case_id, p = world.case()
    world.approved_letter(p, case_id, LETTER)
    return case_id, p


def _exports(world: World) -> list[AuditEvent]:
    with world.svc.db.uow() as uow:
        found = list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == EXPORTED)))
        for event in found:
            uow.session.expunge(event)
        return found


def _download(answer: Any) -> bytes:
    assert answer.status_code == 200, answer.text[:400]
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith('attachment; filename="RJ-2026-0001-record-')
    assert answer.headers["cache-control"] == "no-store"
    return bytes(answer.content)


def test_a_facilitator_exports_from_the_case_page_with_a_reason(app: Any, world: World,
                                                                case: tuple[str, People]) -> None:
    case_id, p = case
    client, _ = sign_in_page(app, world, p.facilitator)
    case_page = client.get(f"/staff/cases/{case_id}")
    assert f'href="/staff/cases/{case_id}/export"' in case_page.text
    form = client.get(f"/staff/cases/{case_id}/export")
    assert form.status_code == 200 and "Why are you exporting this record?" in form.text
    refused = client.post(f"/staff/cases/{case_id}/export", data={"csrf_token": csrf_of(form), "reason": "  "})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text and 'id="reason-error"' in refused.text
    assert "Say why this record is being exported" in refused.text and _exports(world) == []
    data = _download(client.post(f"/staff/cases/{case_id}/export",
                                 data={"csrf_token": csrf_of(form), "reason": "Court order 17 <county>."}))
    checked = archive.verify(data)
    assert checked.ok, checked.problems
    [event] = _exports(world)
    assert event.actor_id == p.facilitator.account_id and event.details["reason"] == "Court order 17 <county>."
    assert event.details["manifest_sha256"] == archive.sha256(_members(data)["manifest.json"])
    summary = _members(data)["summary.html"].decode()
    assert LETTER in summary and "Court order 17 &lt;county&gt;." in summary  # escaped in the summary


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def test_without_the_form_token_nothing_is_exported(app: Any, world: World, case: tuple[str, People]) -> None:
    case_id, p = case
    client, _ = sign_in_page(app, world, p.facilitator)
    answer = client.post(f"/staff/cases/{case_id}/export", data={"reason": "Court order."})
    assert answer.status_code == 403 and _exports(world) == []


def test_the_coordinator_exports_from_the_case_list_and_publishes_the_key(app: Any, world: World,
                                                                          case: tuple[str, People]) -> None:
    case_id, p = case
    client, _ = sign_in_page(app, world, p.coordinator)
    before = client.get("/coordinator/export-key")
    assert before.status_code == 200 and "No key has been made yet" in before.text
    made = client.post("/coordinator/export-key", data={"csrf_token": csrf_of(before)}, follow_redirects=False)
    assert made.status_code == 303
    page = client.get("/coordinator/export-key")
    fingerprint = html.unescape(FINGERPRINT.search(page.text).group(1))  # type: ignore[union-attr]
    pem = html.unescape(PEM.search(page.text).group(1))  # type: ignore[union-attr]
    listing = client.get("/coordinator/cases")
    assert f'href="/coordinator/cases/{case_id}/export"' in listing.text
    assert 'href="/coordinator/export-key"' in listing.text
    form = client.get(f"/coordinator/cases/{case_id}/export")
    assert form.status_code == 200 and fingerprint in form.text
    refused = client.post(f"/coordinator/cases/{case_id}/export", data={"csrf_token": csrf_of(form)})
    assert refused.status_code == 400 and 'id="reason-error"' in refused.text
    data = _download(client.post(f"/coordinator/cases/{case_id}/export",
                                 data={"csrf_token": csrf_of(form), "reason": "Inspection."}))
    by_pem, by_fingerprint = archive.verify(data, pem), archive.verify(data, fingerprint)
    assert by_pem.ok and by_pem.key_source == "given"
    assert by_fingerprint.ok and by_fingerprint.key_source == "fingerprint given"
    [event] = _exports(world)
    assert event.actor_role == "coordinator" and event.actor_id == p.coordinator.account_id


@pytest.mark.parametrize("who", ["harmed", "supporter", "outsider_facilitator", "coordinator_on_staff_path",
                                 "facilitator_on_coordinator_path"])
def test_anyone_else_gets_the_missing_case_answer(app: Any, world: World, case: tuple[str, People],
                                                  who: str) -> None:
    case_id, p = case
    actor = {"coordinator_on_staff_path": p.coordinator, "facilitator_on_coordinator_path": p.facilitator}.get(
        who) or getattr(p, who)
    path = (f"/coordinator/cases/{case_id}/export" if who == "facilitator_on_coordinator_path"
            else f"/staff/cases/{case_id}/export")
    client, landed = sign_in_page(app, world, actor)
    assert client.get(path).status_code == 404
    assert client.post(path, data={"csrf_token": csrf_of(landed), "reason": "Curious."}).status_code == 404
    assert client.get("/coordinator/export-key").status_code == (200 if actor == p.coordinator else 404)
    assert _exports(world) == []


def test_the_api_answers_the_zip_and_names_a_missing_reason(app: Any, world: World,
                                                            case: tuple[str, People]) -> None:
    case_id, p = case
    api = world.sign_in(app, p.facilitator)
    missing = api.post(f"/api/v1/cases/{case_id}/export", json={})
    assert missing.status_code == 400
    assert "Say why" in missing.json()["message"]
    data = _download(api.post(f"/api/v1/cases/{case_id}/export", json={"reason": "Complaint 3."}))
    assert archive.verify(data).ok
    assert world.sign_in(app, p.responsible).post(f"/api/v1/cases/{case_id}/export",
                                                   json={"reason": "Mine."}).status_code == 404
    assert len(_exports(world)) == 1


def test_the_api_gives_the_coordinator_the_public_key(app: Any, world: World, case: tuple[str, People]) -> None:
    case_id, p = case
    coordinator = world.sign_in(app, p.coordinator)
    before = coordinator.get("/api/v1/coordinator/export-key")
    assert before.status_code == 200 and before.json() == {"made": False, "algorithm": "Ed25519",
                                                           "fingerprint": None, "pem": None}
    data = _download(coordinator.post(f"/api/v1/cases/{case_id}/export", json={"reason": "Inspection."}))
    key = coordinator.get("/api/v1/coordinator/export-key").json()
    assert key["made"] and archive.verify(data, key["pem"]).fingerprint == key["fingerprint"]
    assert archive.verify(data, key["fingerprint"]).ok
    assert world.sign_in(app, p.facilitator).get("/api/v1/coordinator/export-key").status_code == 404
    wrong = coordinator.post(f"/api/v1/cases/{case_id}/export", json={"reason": 17})
    assert wrong.status_code == 400 and "'reason'" in wrong.json()["message"]
