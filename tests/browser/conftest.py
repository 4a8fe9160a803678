"""Browser tests: Debian's chromium driven by Playwright against a real server on 127.0.0.1.

The server runs in this process (uvicorn in a thread) with its in-process worker, on a
fresh SQLite database and blob folder; `people` holds a ready case (World). Each person
gets their own browser context (their own cookies), as in separate private windows.
Screenshots go to test-artifacts/screenshots (kept by CI as artifacts).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import Site
from support import make_services, need, serve_in_thread
from world import World

from shuttle.db import Base, Database
from shuttle.web.app import build_app

CHROMIUM = os.environ.get("SHUTTLE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need(Path(CHROMIUM).exists(), f"chromium not found at {CHROMIUM} (Debian package chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, settings: Any) -> Iterator[Site]:
    """A fresh service with a worker thread, on its own port.

    The case's settings can be changed per test with indirect parametrisation, e.g.
    `@pytest.mark.parametrize("site", [{"initiator": "either"}], indirect=True)`."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'shuttle.db'}")
    import shuttle.models  # noqa: F401

    Base.metadata.create_all(db.engine)
    svc = make_services(db, settings)
    world = World(svc)
    case_id, people = world.case(**{"read_receipts_allowed": True, "watchlist": ["Elm Street"],
                                    **getattr(request, "param", {})})
    from workers.handlers import build_worker

    stop = threading.Event()
    worker = build_worker(svc)
    worker.poll_interval = 0.2
    worker_thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    worker_thread.start()
    base, stop_server = serve_in_thread(build_app(svc, check_schema=False))
    try:
        yield Site(base, svc, world, case_id, people)
    finally:
        stop_server()
        stop.set()
        worker_thread.join(timeout=10)
        db.dispose()
