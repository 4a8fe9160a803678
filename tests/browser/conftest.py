"""Browser tests: Debian's chromium driven by Playwright against a real server on 127.0.0.1.

The server runs in this process (uvicorn in a thread) with its in-process worker, on a
fresh SQLite database and blob folder; `people` holds a ready case (World). Each person
gets their own browser context (their own cookies), as in separate private windows.
Screenshots go to test-artifacts/screenshots (kept by CI as artifacts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import Site, serving
from support import make_services, need
from world import World

from shuttle.db import Base, Database

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
    try:
        with serving(svc) as base:
            yield Site(base, svc, world, case_id, people)
    finally:
        db.dispose()
