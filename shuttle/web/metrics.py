"""`/metrics` for the operator, in the Prometheus text format (prometheus-client).

Only with a bearer token from settings (SHUTTLE_METRICS_TOKEN); without one configured the
route answers 404 like any unknown address, so a public deployment shows nothing.

No label ever carries a case, person or message id: requests are labelled by route
*template* (`/api/v1/messages/{message_id}/media`, never the path), method and status; jobs by
kind and state; dependency errors by dependency. Queue figures are read from the database at
scrape time, so every web process reports the same, shared queue.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuttle.jobs.models import Job, JobState
from shuttle.messages import sla
from shuttle.messages.models import Message as ShuttleMessage
from shuttle.messages.states import WAITING_ON_STAFF
from shuttle.services import Services

UNMATCHED = "unmatched"  # any address no route answers: one label, whatever was asked

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("shuttle_http_requests", "HTTP requests answered, by route template, method and status",
                   ["route", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("shuttle_http_request_duration_seconds", "Time to answer, by route template and method",
                    ["route", "method"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DEPENDENCY_ERRORS = Counter("shuttle_dependency_errors", "Object store and KMS failures seen by the web service",
                            ["dependency", "kind"], registry=REGISTRY)


def dependency_error(exc: BaseException, kind: str) -> None:
    """Count an outage or integrity failure of the object store or the KMS."""
    from storage.kms import KmsUnavailable

    DEPENDENCY_ERRORS.labels("kms" if isinstance(exc, KmsUnavailable) else "object_store", kind).inc()


def route_templates(routes: Iterable[BaseRoute], prefix: str = "") -> dict[int, str]:
    """id(endpoint) -> its full path template, through mounts (and the wrappers around them)."""
    found: dict[int, str] = {}
    for route in routes:
        if isinstance(route, Route):
            found.setdefault(id(route.endpoint), prefix + route.path)
        elif isinstance(route, Mount):
            app: Any = route.app
            while not hasattr(app, "routes") and hasattr(app, "app"):
                app = app.app  # e.g. SignInFirst(Router(...))
            found.update({k: v for k, v in route_templates(getattr(app, "routes", []), prefix + route.path).items()
                          if k not in found})
    return found


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp, templates: dict[int, str]) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            endpoint = scope.get("endpoint")
            template = self.templates.get(id(endpoint), UNMATCHED) if endpoint is not None else UNMATCHED
            method = scope["method"] if scope["method"] in _METHODS else "other"
            REQUESTS.labels(template, method, str(status)).inc()
            LATENCY.labels(template, method).observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class QueueCollector(Collector):
    """Read at scrape time from the shared database: jobs by kind and state, the age of the
    oldest waiting job by kind, review items past their deadline."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.svc.now()
        jobs = GaugeMetricFamily("shuttle_jobs", "Jobs by kind and state (dead: dead letters)",
                                 labels=["kind", "state"])
        age = GaugeMetricFamily("shuttle_job_oldest_waiting_seconds", "Age of the oldest queued job, by kind",
                                labels=["kind"])
        with self.svc.db.uow() as uow:
            session = uow.session
            for kind, state, count in session.execute(
                    select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)):
                jobs.add_metric([kind, state], count)
            for kind, oldest in session.execute(
                    select(Job.kind, func.min(Job.created_at)).where(Job.state == JobState.QUEUED.value)
                    .group_by(Job.kind)):
                age.add_metric([kind], max(0.0, (now - _aware(oldest, now)).total_seconds()))
            overdue = self._past_sla(session, now)
        yield jobs
        yield age
        yield GaugeMetricFamily("shuttle_review_items_past_sla", "Messages waiting on staff past the review deadline",
                                value=overdue)

    def _past_sla(self, session: Any, now: datetime) -> int:
        days = self.svc.settings.review_sla_working_days
        if not days:
            return 0
        waiting = session.execute(select(ShuttleMessage.waiting_since, ShuttleMessage.submitted_at,
                                         ShuttleMessage.created_at)
                                  .where(ShuttleMessage.state.in_([s.value for s in WAITING_ON_STAFF])))
        return sum(1 for row in waiting if sla.status(row[0] or row[1] or row[2], now, days).overdue)


def _aware(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo is not None or like.tzinfo is None else value.replace(tzinfo=like.tzinfo)


def _authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, credential = given.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(credential.strip().encode(), token.encode())


def metrics_endpoint(svc: Services) -> Any:
    """The /metrics handler: 404 unless a token is configured, 401 without that token."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(svc))

    async def metrics(request: Request) -> Response:
        token = svc.settings.metrics_token
        if not token:
            return PlainTextResponse("Not found.", status_code=404)
        if not _authorised(request, token):
            return PlainTextResponse("A bearer token is needed.", status_code=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        body = await run_in_threadpool(lambda: generate_latest(REGISTRY) + generate_latest(registry))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
