"""/metrics: Prometheus text for the operator only (bearer token), labelled by route template,
never by a case, person or message id."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from world import World, web_client

from shuttle.accounts.models import Account
from shuttle.cases.models import Case
from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app
from storage.errors import StorageUnavailable

TOKEN = "t" * 40


def _scrape(client, token: str = TOKEN):  # type: ignore[no-untyped-def]
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def test_without_a_configured_token_metrics_is_not_there(sqlite_svc: Services) -> None:
    client = web_client(build_app(sqlite_svc, check_schema=False))
    assert client.get("/metrics").status_code == 404
    assert _scrape(client).status_code == 404


def test_metrics_for_the_operator_only_and_no_ids_in_any_label(
        sqlite_svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = sqlite_svc
    svc.settings = replace(svc.settings, metrics_token=TOKEN)
    world = World(svc)
    case_id, p = world.case()
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, a letter.")
    world.do(authoring.submit, p.harmed, draft.id)  # a queued job
    app = build_app(svc, check_schema=False)
    anonymous = web_client(app)
    assert anonymous.get("/metrics").status_code == 401
    assert _scrape(anonymous, "wrong").status_code == 401
    with world.sign_in(app, p.facilitator) as staff:
        assert staff.get(f"/api/v1/messages/{draft.id}").status_code == 200
        assert staff.get("/api/v1/messages/no-such-message-id").status_code == 404
        staff.get(f"/no/such/page/{draft.id}")
        with svc.db.uow() as uow:
            version_id = uow.session.get(Message, draft.id).current_version_id  # type: ignore[union-attr]
        monkeypatch.setattr(svc.store._backend, "read", lambda *a, **k: (_ for _ in ()).throw(
            StorageUnavailable("down")))
        assert staff.get(f"/api/v1/messages/{draft.id}/versions/{version_id}").status_code == 503
        monkeypatch.undo()
    answer = _scrape(anonymous)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    requests = families["shuttle_http_requests"].samples
    routes = {s.labels["route"] for s in requests}
    assert "/api/v1/messages/{message_id}" in routes and "unmatched" in routes
    assert any(s.labels["status"] == "404" for s in requests)
    assert "shuttle_http_request_duration_seconds" in families
    jobs = {(s.labels["kind"], s.labels["state"]): s.value for s in families["shuttle_jobs"].samples}
    assert sum(v for (kind, state), v in jobs.items() if state == "queued") >= 1
    assert "shuttle_job_oldest_waiting_seconds" in families
    assert "shuttle_review_items_past_sla" in families
    assert any(s.labels == {"dependency": "object_store", "kind": "unavailable"} and s.value >= 1
               for s in families["shuttle_dependency_errors"].samples)
    with svc.db.uow() as uow:
        ids = [*uow.session.query(Case.id).all(), *uow.session.query(Account.id).all(),
               *uow.session.query(Message.id).all()]
    labels = " ".join(v for f in families.values() for s in f.samples for v in s.labels.values())
    for (some_id,) in ids:
        assert some_id not in labels and some_id not in answer.text
    assert not re.search(r"[A-Za-z0-9_-]{32}", labels)
