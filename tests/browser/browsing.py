"""Helpers for browser tests (import as `browsing`): the site, signing in, screenshots."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from world import People, World

from shuttle.services import Services

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
