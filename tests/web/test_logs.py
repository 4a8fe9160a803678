"""Logs: one JSON object per line with SHUTTLE_LOG_FORMAT=json, each request's lines carrying
its id (also on error pages and in X-Request-ID), and no message text, names or file names
in any line of an end-to-end run that planted canaries everywhere."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import pytest
from world import World

from shuttle import logs
from shuttle.accounts.models import Account
from shuttle.services import Services
from shuttle.web.app import build_app
from storage.errors import StorageUnavailable

API = "/api/v1"
LETTER_CANARY = "Nightjar-Quillfeather remembers the blue gate on Larkspur Row"
NAME_CANARY = "Zephyrine Quokkaworth"
FILE_CANARY = "IMG_Canary_Wombatfield.mov"
CANARIES = ("Nightjar", "Quillfeather", "Larkspur", "Zephyrine", "Quokkaworth", "Canary_Wombatfield")
MP4_HEAD = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12


class Lines(logging.Handler):
    """Every line as SHUTTLE_LOG_FORMAT=json would write it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.addFilter(logs.RequestIdFilter())
        self.setFormatter(logs.JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _name_accounts(svc: Services, *account_ids: str) -> None:
    with svc.db.uow() as uow:
        for account_id in account_ids:
            uow.session.get(Account, account_id).display_name = NAME_CANARY  # type: ignore[union-attr]
        uow.commit()


def test_an_end_to_end_run_logs_json_lines_with_request_ids_and_no_canary(
        sqlite_svc: Services, lines: Lines, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = sqlite_svc
    world = World(svc)
    case_id, p = world.case()
    _name_accounts(svc, p.harmed.account_id, p.responsible.account_id)
    app = build_app(svc, check_schema=False)
    with world.sign_in(app, p.harmed) as harmed, world.sign_in(app, p.facilitator) as staff:
        letter = harmed.post(f"{API}/cases/{case_id}/messages", json={"text": f"Dear Sam, {LETTER_CANARY}."}).json()
        harmed.post(f"{API}/messages/{letter['id']}/actions/submit", json={"version": letter["version"]})
        world.run_jobs()
        [item] = staff.get(f"{API}/review-queue").json()
        staff.get(f"{API}/messages/{letter['id']}/versions/{item['current_version_id']}")
        staff.get(f"/staff/messages/{letter['id']}", headers={"accept": "text/html"})
        video = harmed.post(f"{API}/cases/{case_id}/messages", json={"kind": "video"}).json()
        meta = (f"message_id {base64.b64encode(video['id'].encode()).decode()},"
                f"filename {base64.b64encode(FILE_CANARY.encode()).decode()}")
        harmed.post(f"{API}/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "999",
                                               "Upload-Metadata": meta})
        missing = harmed.get("/me/messages/no-such-message-at-all", headers={"accept": "text/html"})
        monkeypatch.setattr(svc.store._backend, "read", lambda *a, **k: (_ for _ in ()).throw(
            StorageUnavailable("down")))
        down = staff.get(f"{API}/messages/{letter['id']}/versions/{item['current_version_id']}")
        page = staff.get(f"/staff/messages/{letter['id']}", headers={"accept": "text/html"})
        monkeypatch.undo()
    assert missing.status_code == 404 and down.status_code == 503
    assert missing.headers["x-request-id"] not in missing.text  # a 404 is the same for every guess
    assert down.headers["x-request-id"]
    assert page.status_code == 503 and page.headers["retry-after"]
    assert page.headers["x-request-id"] in page.text  # a person can quote it from the error page

    assert lines.lines, "the run logged something"
    entries = [json.loads(line) for line in lines.lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    outage = [e for e in entries if "dependency down" in e["message"]]
    assert outage and outage[0]["request_id"] == down.headers["x-request-id"]
    for line in lines.lines:
        for canary in CANARIES:
            assert canary.lower() not in line.lower(), f"{canary!r} in a log line: {line}"


def test_the_text_format_stays_readable_and_json_is_chosen_by_setting() -> None:
    assert logs.is_json({"SHUTTLE_LOG_FORMAT": "json"}) and not logs.is_json({})
    record = logging.LogRecord("shuttle.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    logs.RequestIdFilter().filter(record)
    assert json.loads(logs.JsonFormatter().format(record))["message"] == "hello there"
    assert logging.Formatter(logs.TEXT_FORMAT).format(record).endswith("INFO shuttle.x: hello there")


def test_access_lines_never_carry_a_query_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """A transcript travels in a query string (photo on behalf): uvicorn logs the path, not it."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    logs.configure({"SHUTTLE_LOG_FORMAT": "json"})
    handler = Lines()
    access = logging.getLogger("uvicorn.access")
    # An earlier test may have run uvicorn in this process, whose logging config disables or
    # quietens its access logger: as a served process starts, it is on and at INFO.
    monkeypatch.setattr(access, "disabled", False)
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST",
                    f"/api/v1/cases/c/participants/p/photo?transcript={LETTER_CANARY}", "1.1", 201)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    [line] = handler.lines
    assert "/photo?" in line and "Nightjar" not in line
