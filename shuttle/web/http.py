"""Request plumbing shared by the API and the pages: bodies, sign-in, CSRF, running use cases.

Use cases are synchronous and run in a worker thread, each in one unit of work that also
authenticates the caller: an answer is sent only after the transaction committed.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shuttle.accounts import service as accounts
from shuttle.accounts.service import CountedFailure, Principal
from shuttle.db import UnitOfWork, WriteInReadOnly
from shuttle.errors import BadInput, Conflict, Forbidden, NotAuthenticated, TooLarge
from shuttle.i18n import N_, Sentence
from shuttle.services import Actor, Services

SESSION_COOKIE = "shuttle_session"
PRE_COOKIE = "shuttle_pre"  # double-submit CSRF token for forms shown before sign-in
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL text refuses it), lone surrogates
#: More digits than any size, offset, count or version here needs (int() refuses over 4300).
MAX_DIGITS = 18
#: Deeper than any body this API takes (media edits are the deepest, at 4); deeper is refused.
MAX_JSON_DEPTH = 32
#: What every id looks like (shuttle.db.new_id: a UUID4 as 32 lowercase hex digits).
ID_SHAPE = re.compile("[0-9a-f]{32}")
#: Well-formed but never issued: a UUID4's 13th digit is always 4. Stands in for a malformed id.
NO_SUCH_ID = "0" * 32
T = TypeVar("T")


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes `limit` (never buffered beyond it)."""
    declared = to_natural(request.headers.get("content-length", ""))
    if declared is not None and declared > limit:
        raise TooLarge(Sentence(N_("The request is larger than %(kib)s KiB."), kib=limit // 1024))
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise TooLarge(Sentence(N_("The request is larger than %(kib)s KiB."), kib=limit // 1024))
    return bytes(received)


async def read_json(request: Request) -> dict[str, Any]:
    body = await read_body(request, services(request).settings.limits.max_request_bytes)
    if not body:
        return {}
    if "json" not in request.headers.get("content-type", ""):
        raise BadInput(N_("Send JSON with Content-Type: application/json."))
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise BadInput(N_("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadInput(N_("The body must be a JSON object."))
    _check_storable(data)
    return data


def _check_storable(body: dict[str, Any]) -> None:
    """No NUL and no unpaired surrogate (not encodable as UTF-8) in any string, and no nesting
    deeper than MAX_JSON_DEPTH. A loop, not recursion: depth must not cost stack."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str) and UNSTORABLE_CHARACTER.search(value):
            raise BadInput(N_("The body contains characters that cannot be stored (NUL or an unpaired surrogate)."))
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise BadInput(Sentence(N_("The body is nested more than %(depth)s levels deep."),
                                        depth=MAX_JSON_DEPTH))
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


async def read_form(request: Request) -> dict[str, str]:
    """URL-encoded forms only (message content never comes as a multipart upload here)."""
    body = await read_body(request, services(request).settings.limits.max_request_bytes)
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise BadInput(N_("Send the form URL-encoded."))
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadInput(N_("The form is not valid UTF-8.")) from None
    if any("\x00" in key or "\x00" in value for key, value in pairs):
        raise BadInput(N_("The form contains a NUL character, which no field accepts."))
    return dict(pairs)


def field(data: dict[str, Any], name: str, kind: type[T], *, default: T | None = None, required: bool = True) -> T:
    """One validated field of a JSON body or form."""
    if name not in data or data[name] is None:
        if default is not None or not required:
            return default  # type: ignore[return-value]
        raise BadInput(Sentence(N_("'%(name)s' is required."), name=name))
    value = data[name]
    if kind is bool and isinstance(value, str):
        value = value.lower() in {"1", "true", "yes", "on"}
    if kind is int and isinstance(value, str):
        value = to_int(value, default=value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadInput(Sentence(N_("'%(name)s' must be %(kind)s."), name=name, kind=kind.__name__))
    return value


def to_int(raw: str, *, default: Any = None) -> Any:
    """A whole number written in ASCII digits ("12", "-3"), else `default`."""
    value = to_natural(raw[1:] if raw.startswith("-") else raw)
    if value is None:
        return default
    return -value if raw.startswith("-") else value


def to_natural(raw: str) -> int | None:
    """A whole number >= 0 written in at most MAX_DIGITS ASCII digits ("12"), else None.

    Not str.isdigit() alone: it accepts "²", which int() refuses; int() also refuses strings
    of more than 4300 digits, which no size, offset or version needs.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_DIGITS:
        return None
    return int(raw)


def id_or_missing(raw: str | None) -> str:
    """`raw` if it has the shape of an id, else NO_SUCH_ID: a malformed id (NUL, upper case, too
    long) then answers exactly as a well-formed id that names nothing (invariant 7), whoever
    asks and whatever the route checks first, and its bytes never reach the database."""
    return raw if raw is not None and ID_SHAPE.fullmatch(raw) else NO_SUCH_ID


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


#: Where a request keeps who is signed in and a unit of work left open for it (scope["state"]).
REQUEST_UNIT = "shuttle_request_unit"
#: Use cases (by code object) seen writing when run for a GET: later they begin ready to write.
_WRITES_ON_READ: set[object] = set()


class _Redo(Exception):
    """A read-only unit of work met a write: the whole step is redone in one that may write."""

    def __init__(self, *, learn: bool) -> None:
        super().__init__()
        self.learn = learn


@dataclass
class RequestUnit:
    """One request's database state: the principal once looked up, and the read-only unit of work
    that lookup began, kept open (safe methods only) for the request's use case to continue in."""

    principal: Principal | None = None
    looked_up: bool = False
    held: UnitOfWork | None = None

    def take(self) -> UnitOfWork | None:
        held, self.held = self.held, None
        return held


class OneUnitOfWork:
    """ASGI middleware: gives each HTTP request its RequestUnit, so the session is looked up once
    and a page that asks who is signed in and then runs its view does both in one unit of work;
    closes whatever unit of work the request left open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unit = RequestUnit()
        scope.setdefault("state", {})[REQUEST_UNIT] = unit
        try:
            await self.app(scope, receive, send)
        finally:
            held = unit.take()
            if held is not None:
                await run_in_threadpool(held.__exit__, None, None, None)


def request_unit(request: Request) -> RequestUnit | None:
    found = request.scope.get("state", {}).get(REQUEST_UNIT)
    return found if isinstance(found, RequestUnit) else None


def _open(svc: Services, *, readonly: bool) -> UnitOfWork:
    uow = svc.db.uow()
    uow.readonly = readonly  # set, not passed: a Database subclass may take no arguments
    uow.__enter__()
    return uow


def _portable(uow: UnitOfWork) -> bool:
    """Whether a unit of work may be continued on another thread (the tests' turn-taking ones
    hold a per-thread lock for their length, so they are not kept open between steps)."""
    return type(uow) is UnitOfWork


def _authenticate(uow: UnitOfWork, svc: Services, token: str) -> Principal:
    now = svc.now()
    checked = accounts.check_session(uow.session, svc.settings, token, now=now)
    if checked.slide_to is not None:  # the idle expiry slides (at most once a minute): a write
        if uow.readonly:
            raise _Redo(learn=False)
        accounts.slide_session(uow.session, checked.principal.session_id, now=now, expires_at=checked.slide_to)
    return checked.principal


def _in_unit(svc: Services, step: Callable[[UnitOfWork], T], *, readonly: bool, unit: RequestUnit | None,
             learn_as: object = None) -> T:
    """`step(uow)` in a unit of work (read-only if asked: on SQLite it never takes the write lock),
    continuing the one the request holds if it suits; a read-only one that meets a write is
    abandoned and the step redone in one that may write (remembered under `learn_as`). Closed
    at the end unless the step left it held by the request."""
    held = unit.take() if unit is not None else None
    if held is not None and not readonly:
        held.__exit__(None, None, None)
        held = None
    uow = held or _open(svc, readonly=readonly)
    try:
        try:
            try:
                return step(uow)
            except WriteInReadOnly:
                raise _Redo(learn=True) from None
            except Exception:
                if uow.readonly and uow.write_refused:  # a refused write the step caught and went on from
                    raise _Redo(learn=True) from None
                raise
        except _Redo as redo:
            if not uow.readonly:
                raise
            if redo.learn and learn_as is not None:
                _WRITES_ON_READ.add(learn_as)
            uow.__exit__(None, None, None)
            uow = _open(svc, readonly=False)
            return step(uow)
    finally:
        if unit is None or unit.held is not uow:
            uow.__exit__(None, None, None)


def _code(use_case: Callable[..., Any]) -> object:
    return getattr(use_case, "__code__", use_case)


async def run(
    request: Request,
    use_case: Callable[..., T],
    *args: Any,
    csrf: str | None = None,
    writes: bool | None = None,
    **kwargs: Any,
) -> T:
    """Authenticate and run `use_case(session, svc, actor, *args)` in one committed unit of work,
    in the thread pool (`run_here` does it on a thread the route already is on)."""
    return await run_in_threadpool(lambda: run_here(request, use_case, *args, csrf=csrf, writes=writes, **kwargs))


def run_here(
    request: Request,
    use_case: Callable[..., T],
    *args: Any,
    csrf: str | None = None,
    writes: bool | None = None,
    **kwargs: Any,
) -> T:
    """Authenticate and run `use_case(session, svc, actor, *args)` in one committed unit of work.

    The session is looked up once per request (later steps reuse the principal). For GET and
    HEAD the unit of work is read-only (on SQLite: a deferred BEGIN, never the write lock) and
    continues the one `current_principal` began, if any; a use case that writes there (an
    audited view, the idle expiry sliding) is redone ready to write, and remembered so.
    `writes`: True or False when the caller knows (then nothing is remembered).
    """
    svc = services(request)
    csrf = csrf if csrf is not None else request.headers.get("x-csrf-token")
    unit = request_unit(request)
    readonly = (request.method in SAFE_METHODS and writes is not True
                and (writes is False or _code(use_case) not in _WRITES_ON_READ))

    def step(uow: UnitOfWork) -> T:
        if unit is not None and unit.principal is not None:
            principal = unit.principal
        else:
            token = request.cookies.get(SESSION_COOKIE)
            if not token:
                raise NotAuthenticated(N_("Please sign in."))
            principal = _authenticate(uow, svc, token)
            if unit is not None:
                unit.principal, unit.looked_up = principal, True
        if request.method not in SAFE_METHODS and not csrf_matches(principal.csrf_token, csrf):
            raise Forbidden(N_("The form has expired or did not come from this site. Reload the page and try again."),
                            code="csrf")
        actor = Actor(principal.account_id, principal.role)
        try:
            result = use_case(uow.session, svc, actor, *args, **kwargs)
            if uow.readonly and uow.write_refused:
                raise _Redo(learn=True)
            uow.commit()
        except StaleDataError:
            raise Conflict(N_("Someone else changed this at the same moment. Reload and try again."),
                           code="stale") from None
        return result

    return _in_unit(svc, step, readonly=readonly, unit=unit, learn_as=_code(use_case) if writes is None else None)


async def run_anonymous(request: Request, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """For sign-in steps: commits even when the step fails, so failed attempts are counted."""
    svc = services(request)
    unit = request_unit(request)
    if unit is not None:  # a sign-in step may change who is signed in: look again if asked
        unit.principal, unit.looked_up = None, False

    def step(uow: UnitOfWork) -> T:
        try:
            result = use_case(uow.session, svc, *args, **kwargs)
        except CountedFailure:
            uow.commit()
            raise
        uow.commit()
        return result

    return await run_in_threadpool(lambda: _in_unit(svc, step, readonly=request.method in SAFE_METHODS, unit=unit))


async def current_principal(request: Request) -> Principal | None:
    """Who is signed in (fully), for pages that look different per role; None if nobody.

    Looked up once per request, read-only (the write lock only when the idle expiry slides).
    For GET and HEAD the unit of work it began is kept open for the page's `run`, so the page's
    whole request is one unit of work; a form's action then runs in its own, which may write."""
    unit = request_unit(request)
    if unit is not None and unit.looked_up:
        return unit.principal
    if not request.cookies.get(SESSION_COOKIE):
        return None
    return await run_in_threadpool(principal_here, request)


def principal_here(request: Request) -> Principal | None:
    """`current_principal` on the calling thread (a route already in the thread pool)."""
    unit = request_unit(request)
    if unit is not None and unit.looked_up:
        return unit.principal
    svc = services(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    safe = request.method in SAFE_METHODS

    def step(uow: UnitOfWork) -> Principal | None:
        try:
            principal = _authenticate(uow, svc, token)
        except NotAuthenticated:
            return None
        if uow.readonly and safe and unit is not None and _portable(uow):
            unit.held = uow  # the page's `run` continues in it (or OneUnitOfWork closes it)
        else:
            uow.commit()
        return principal

    principal = _in_unit(svc, step, readonly=True, unit=unit)
    if unit is not None:
        unit.principal, unit.looked_up = principal, True
    return principal


# --- the edge: every route's input is checked for shape before its handler runs -----------------------


class EdgeRoute(Route):
    """A route whose `..._id` path values are ids or NO_SUCH_ID, whose query has no NUL, and
    whose 405 names every method its path answers (other routes may share the path)."""

    def __init__(self, route: Route, allowed: set[str]) -> None:
        super().__init__(route.path, route.endpoint, methods=sorted(route.methods or ()), name=route.name,
                         include_in_schema=route.include_in_schema)
        self.allow = ", ".join(sorted(allowed))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            raise HTTPException(status_code=405, headers={"Allow": self.allow})
        if any("\x00" in key or "\x00" in value for key, value in Request(scope).query_params.multi_items()):
            raise BadInput(N_("The address contains a NUL character, which no query value accepts."))
        scope["path_params"] = {name: id_or_missing(value) if name.endswith("_id") else value
                                for name, value in scope.get("path_params", {}).items()}
        await self.app(scope, receive, send)


def at_the_edge(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The same routes, each an EdgeRoute (once, for every route the app serves)."""
    allowed: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, Route):
            allowed.setdefault(route.path, set()).update(route.methods or ())
    return [EdgeRoute(route, allowed[route.path]) if isinstance(route, Route) else route for route in routes]
