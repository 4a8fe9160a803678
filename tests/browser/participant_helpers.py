"""Helpers for the participants' browser tests (import as `participant_helpers`): contexts that may
bypass the CSP for injected test tools, the API as a signed-in person, waiting for the worker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from browsing import Site
from world import World

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"


def start_video_recording(page: Any) -> None:
    """From a participant's home: choose a video, turn the (fake) camera on and start recording."""
    page.get_by_role("link", name="Send a recording or a photo").click()
    page.get_by_label("A video").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Turn on the camera").click()
    page.get_by_role("button", name="Start recording").click()


def signed_in(browser: Any, site: Site, who: str, *, viewport: dict[str, int] | None = None,
              bypass_csp: bool = False) -> Any:
    """A new private window signed in as `who` through the sign-in page (bypass_csp: only for axe)."""
    context = browser.new_context(viewport=viewport or DESKTOP, bypass_csp=bypass_csp)
    page = context.new_page()
    page.goto(f"{site.base}/login")
    page.get_by_label("Username").fill(site.username(who))
    page.get_by_label("Password").fill(World.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def csrf(page: Any) -> str:
    return str(page.locator("form[action='/logout'] input[name='csrf_token']").first.get_attribute("value"))


def api(page: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call /api/v1 with the page's cookies and CSRF token; returns the JSON answer."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    answer = page.request.fetch(f"{origin}/api/v1{path}", method=method, data=body,
                                headers={"X-CSRF-Token": csrf(page)})
    assert answer.ok, f"{method} {path}: {answer.status} {answer.text()}"
    return answer.json()


def wait_for_state(page: Any, message_id: str, states: set[str], timeout: float = 60.0) -> dict[str, Any]:
    """Poll the message (as whoever `page` is) until its state is one of `states` (the worker runs meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        view = api(page, "GET", f"/messages/{message_id}")
        if view["state"] in states:
            return dict(view)
        assert time.monotonic() < deadline, f"message still {view['state']}: {view.get('processing')}"
        page.wait_for_timeout(250)


def message_id_of(page: Any) -> str:
    """The id in an address like /me/messages/<id>?done=…"""
    return str(page.url.split("/me/messages/", 1)[1].split("?", 1)[0].split("/", 1)[0].split("#", 1)[0])
