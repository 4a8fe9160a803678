"""Log lines: readable text by default, one JSON object per line with SHUTTLE_LOG_FORMAT=json,
each carrying the id of the request it belongs to.

The request id is made here for every HTTP request, answered in the `X-Request-ID` header and
shown on error pages, so a person reporting a problem can quote it and an operator can find
every line of that request. Log calls never pass message text, names or file names (a test
plants canaries in an end-to-end run and searches every line for them); ids are fine.
"""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("shuttle_request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"


def new_request_id() -> str:
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (None outside a request) and `request_tag` (for the text format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        return True


class NoQueryStrings(logging.Filter):
    """uvicorn's access lines carry the full path: drop the query string, which may hold words
    (e.g. a photographed letter's transcript) and must never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def is_json(env: Mapping[str, str]) -> bool:
    return env.get("SHUTTLE_LOG_FORMAT", "").strip().lower() == "json"


def configure(env: Mapping[str, str], *, level: int = logging.INFO) -> None:
    """The root logger's one handler (stderr), as the environment asks; uvicorn's loggers are
    left to propagate to it (see `uvicorn_log_config`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if is_json(env) else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_shuttle", False):
            root.removeHandler(old)
    handler._shuttle = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in access.filters):
        access.addFilter(NoQueryStrings())


def uvicorn_log_config(env: Mapping[str, str]) -> dict[str, object] | None:
    """uvicorn's own logging setup in text mode; None (its loggers propagate to ours) in JSON."""
    if is_json(env):
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG


class RequestId:
    """ASGI middleware: a fresh id per HTTP request, in the log context, in `request.state`
    (error pages show it) and in the `X-Request-ID` answer header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        REQUEST_ID.set(request_id)  # each request runs in its own task: nothing leaks to the next

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, sending)
