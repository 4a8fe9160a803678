"""Builds the Starlette application from the services: routes, errors, headers, lifespan."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuttle import i18n, schema
from shuttle.errors import ShuttleError
from shuttle.i18n import N_, Sentence
from shuttle.logs import RequestId
from shuttle.services import Services
from shuttle.web import api, metrics, pages
from shuttle.web.http import SESSION_COOKIE, OneUnitOfWork, at_the_edge, current_principal
from shuttle.web.pages.language import ChosenLanguage
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "geolocation=(), camera=(self), microphone=(self)",
}


class SecurityHeaders:
    """Every answer: strict CSP, no referrer, nothing cached (a shared family computer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: API paths anyone may call: signing in, and the API's own description.
PUBLIC_API = ("/api/v1/session", "/api/v1/openapi.json")
#: Exact (method, path) pairs anyone may call: sending a referral (rate-limited per address).
PUBLIC_API_CALLS = {("POST", "/api/v1/referrals")}


class SignInFirst:
    """An API request without a session answers 401 before its body or path is looked at,
    so an anonymous caller learns nothing from 400s or 404s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _public(scope) and not Request(scope).cookies.get(SESSION_COOKIE):
            response = JSONResponse({"error": "not_authenticated", "message": "Please sign in."}, status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _public(scope: Scope) -> bool:
    path = scope["path"]
    return (scope["method"] == "OPTIONS" or (scope["method"], path) in PUBLIC_API_CALLS
            or any(path == p or path.startswith(p + "/") for p in PUBLIC_API))


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


async def in_readers_language(request: Request, message: str) -> str:
    """An error's sentence (marked with N_ where it is raised) in the language of whoever asked: the
    API's "message" is what the pages' scripts show them (issue 12). Unmarked sentences stay as they are."""
    try:
        principal = await current_principal(request)  # already looked up by the route, as a rule
    except Exception:  # the error may be the database itself: the cookie's choice, else English
        principal = None
    with i18n.using(pages.common.page_language(request, principal)):
        return i18n.translate(message)  # a Sentence (i18n) with its names, any other text as a msgid


async def shuttle_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShuttleError)
    if _wants_json(request):
        message = await in_readers_language(request, exc.message)
        return JSONResponse({**exc.details, "error": exc.code, "message": message}, status_code=exc.status)
    if exc.status == 401:
        return pages.go("/login")
    return await pages.error_page(request, exc.status, exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message: str = N_("Not found.") if exc.status_code == 404 else str(exc.detail)
    if exc.status_code == 405:  # the headers carry Allow (shuttle.web.http.EdgeRoute)
        message = Sentence(N_("This address does not answer %(method)s; it answers %(allowed)s."),
                           method=request.method, allowed=(exc.headers or {}).get("Allow", ""))
    if _wants_json(request):  # an unknown address answers exactly like a missing id (invariant 7), language too
        error = "not_found" if exc.status_code == 404 else "http"
        return JSONResponse({"error": error, "message": await in_readers_language(request, message)},
                            status_code=exc.status_code, headers=exc.headers)
    response = await pages.error_page(request, exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    request_id = getattr(request.state, "request_id", None)
    return JSONResponse({"error": "internal", "message": "Something went wrong on our side. Nothing was lost; "
                         "please try again." + (f" If you tell us about it, quote {request_id}." if request_id else ""),
                         "request_id": request_id}, status_code=500,
                        headers={"X-Request-ID": request_id} if request_id else None)


RETRY_AFTER_SECONDS = 30


async def dependency_down(request: Request, exc: Exception) -> Response:
    """The object store or KMS is down: 503 with Retry-After and a sentence, not a 500."""
    log.warning("dependency down on %s %s: %s", request.method, request.url.path, exc)
    metrics.dependency_error(exc, "unavailable")
    message = N_("Stored files cannot be reached just now. Nothing was lost; please try again in a minute.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _wants_json(request):
        return JSONResponse({"error": "unavailable", "message": await in_readers_language(request, message)},
                            status_code=503, headers=headers)
    response = await pages.error_page(request, 503, message)
    response.headers.update(headers)
    return response


def _ready(svc: Services) -> list[str]:
    problems = []
    try:
        with svc.db.engine.connect() as conn:
            conn.execute(text("select 1"))
        schema.check_current(svc.db)
    except Exception as exc:  # any reason the database is not usable is a readiness problem
        problems.append(f"database: {exc}")
    try:
        probe = svc.store.put_bytes(b"ready")  # proves the key ring and blob store are writable
        svc.store.delete(probe.object_id)
    except Exception as exc:
        problems.append(f"blob store: {exc}")
    return problems


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    problems = await run_in_threadpool(_ready, request.app.state.services)
    return JSONResponse({"status": "ready" if not problems else "not ready", "problems": problems},
                        status_code=200 if not problems else 503)


def build_app(svc: Services, *, run_worker: bool = False, check_schema: bool = True) -> Starlette:
    """The one function that builds the web application (and, embedded, its worker)."""
    if check_schema:
        schema.check_current(svc.db)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        threads = _start_background(svc, stop) if run_worker else []
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.metrics_endpoint(svc), methods=["GET"]),
        Mount("/api/v1", app=SignInFirst(Router(at_the_edge(api.ROUTES)))),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *at_the_edge(pages.ROUTES),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ShuttleError: shuttle_error, HTTPException: http_error,
                            StorageUnavailable: dependency_down, Exception: server_error},
    )
    app.state.services = svc
    app.add_middleware(ChosenLanguage)  # the request's language (cookie) for pages and Python-built sentences
    app.add_middleware(OneUnitOfWork)  # innermost: one session lookup and unit of work per request
    app.add_middleware(SecurityHeaders)
    app.add_middleware(metrics.RequestMetrics, templates=metrics.route_templates(routes))
    app.add_middleware(RequestId)  # outermost of ours: every line and error page of a request has its id
    return app


def _start_background(svc: Services, stop: threading.Event) -> list[threading.Thread]:
    from workers.handlers import build_worker, run_ticker  # the embedded worker, only when asked for

    worker = build_worker(svc)
    threads = [
        threading.Thread(target=worker.run, args=(stop,), name="shuttle-worker", daemon=True),
        threading.Thread(target=run_ticker, args=(svc, stop), name="shuttle-ticker", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads
