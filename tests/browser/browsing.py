"""Helpers for browser tests (import as `browsing`): the site, signing in, screenshots."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import serve_in_thread
from world import People, World

from shuttle.services import Services
from shuttle.web.app import build_app

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class Site:
    """The running service and the people of its case."""

    base: str
    svc: Services
    world: World
    case_id: str
    people: People

    def username(self, who: str) -> str:
        return self.world.username(getattr(self.people, who))



def sign_in(browser: Any, site: Site, who: str, *, viewport: dict[str, int] | None = None) -> Any:
    """A new private window (context) signed in as `who` through the sign-in page."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site.base}/login")
    page.get_by_label("Username").fill(site.username(who))
    page.get_by_label("Password").fill(World.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


@contextmanager
def serving(svc: Services) -> Iterator[str]:
    """The service on its own port with a worker thread, as `shuttle demo` runs it: its base URL."""
    from workers.handlers import build_worker

    stop = threading.Event()
    worker = build_worker(svc)
    worker.poll_interval = 0.2
    worker_thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    worker_thread.start()
    base, stop_server = serve_in_thread(build_app(svc, check_schema=False))
    try:
        yield base
    finally:
        stop_server()
        stop.set()
        worker_thread.join(timeout=10)


def redeem(browser: Any, base: str, code: str, password: str, viewport: dict[str, int]) -> Any:
    """A new private window where a participant redeems their invitation code and chooses a password."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/invite")
    page.get_by_label("Invitation code").fill(code)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("New password").fill(password)
    page.get_by_label("Type it again").fill(password)
    page.get_by_role("button", name="Save password").click()
    page.wait_for_url(re.compile(r"/me"))
    return page


LETTER = "Dear Sam, I have wanted to write this for a long time."


def send_first_letter(page: Any, base: str, text: str = LETTER) -> None:
    """From the participant's home: write a letter, save it, send it to the facilitator."""
    page.goto(f"{base}/me")
    page.get_by_role("link", name="Write a letter").click()
    page.get_by_label("Your letter").fill(text)
    page.get_by_role("button", name="Save draft").click()
    check_and_send(page)
    page.get_by_text(re.compile("sent to your facilitator|being prepared|waiting for a facilitator")).wait_for()


def check_and_send(page: Any) -> None:
    """From a draft's page: "Continue to check and send", then on "Check your message", send it."""
    page.get_by_role("button", name="Continue to check and send").click()
    page.get_by_role("heading", name=re.compile("^Check your ")).wait_for()
    page.get_by_role("button", name="Send to my facilitator").click()


def screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def keep_in_docs(path: Path, name: str) -> None:
    """Copy a screenshot into docs/screenshots for the README (only when asked to)."""
    if os.environ.get("SHUTTLE_UPDATE_DOC_SCREENSHOTS"):
        target = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
