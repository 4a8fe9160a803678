"""Autosave through the API (PUT /api/v1/messages/{id}/draft): the text is sealed (encrypted and
written) before the save's unit of work, the save and its answer share that one unit, and a refused
save leaves no ciphertext behind (issue 13, load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from world import People, World

from shuttle.messages import authoring


def _objects(world: World) -> set[Path]:
    return {p for p in Path(world.svc.settings.blob_dir).rglob("*") if p.is_file()}


def test_an_autosave_is_answered_with_the_saved_message_and_a_refused_one_leaves_no_bytes(
        setup: tuple[Any, str, People], world: World) -> None:
    app, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,")
    author = world.sign_in(app, p.harmed)
    version = author.get(f"/api/v1/messages/{draft.id}").json()["version"]
    saved = author.put(f"/api/v1/messages/{draft.id}/draft", json={"text": "Dear Sam, more.", "version": version})
    assert saved.status_code == 200 and saved.json()["version"] == version + 1 and saved.json()["has_draft"] is True
    assert author.get(f"/api/v1/messages/{draft.id}/draft").json()["text"] == "Dear Sam, more."

    before = _objects(world)
    stale = author.put(f"/api/v1/messages/{draft.id}/draft", json={"text": "Dear Sam, older tab.", "version": version})
    assert stale.status_code == 409 and stale.json()["error"] == "stale"
    other = world.sign_in(app, p.harmed_proxy)  # not theirs: answered as a missing id
    assert other.put(f"/api/v1/messages/{draft.id}/draft", json={"text": "Mine now."}).status_code == 404
    assert _objects(world) == before  # the sealed texts of refused saves were removed at once
    assert author.get(f"/api/v1/messages/{draft.id}/draft").json()["text"] == "Dear Sam, more."
    signed_out = author.__class__(app, raise_server_exceptions=False)
    assert signed_out.put(f"/api/v1/messages/{draft.id}/draft", json={"text": "x"}).status_code == 401
    assert _objects(world) == before  # nobody signed in: nothing sealed
