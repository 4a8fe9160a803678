"""Driving the server-rendered pages without a browser: read a form's fields, post it back."""

from __future__ import annotations

import html
import re
from typing import Any

from world import TestClient, World, web_client

from shuttle.services import Actor

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: Any) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, "the page has no form with a CSRF token"
    return html.unescape(found.group(1))


def hidden(page: Any, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert found, f"no hidden field {name}"
    return html.unescape(found.group(1))


def sign_in_page(app: Any, world: World, actor: Actor) -> tuple[TestClient, Any]:
    """Through the sign-in page, as a browser would: GET the form, POST it back, follow the redirects."""
    client = web_client(app)
    form = client.get("/login")
    assert form.status_code == 200 and "shuttle_pre" in client.cookies
    landed = client.post("/login", data={"csrf_token": csrf_of(form), "username": world.username(actor),
                                         "password": World.PASSWORD})
    assert landed.status_code == 200, landed.text
    return client, landed


def post_form(client: TestClient, url: str, page: Any, **fields: str) -> Any:
    """Submit a form of `page` with its CSRF token, without following the redirect."""
    answer = client.post(url, data={"csrf_token": csrf_of(page), **fields}, follow_redirects=False)
    assert answer.status_code == 303, f"{answer.status_code}: {answer.text[:400]}"
    return answer
