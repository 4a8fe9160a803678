"""Fixtures the web tests share: a world of people with an open case, and the app built on it.

A test module that needs another shape (its own clock, SQLite only) defines its own fixture of
the same name, which takes precedence here.
"""

from __future__ import annotations

from typing import Any

import pytest
from world import People, World

from shuttle.web.app import build_app


@pytest.fixture
def setup(world: World) -> tuple[Any, str, People]:
    """The app, an open case's id and its people."""
    case_id, people = world.case()
    return build_app(world.svc, check_schema=False), case_id, people
