"""Autosave through the API (PUT /api/v1/messages/{id}/draft): the text is sealed (encrypted and
written) before the save's unit of work, the save and its answer share that one unit, and a refused
save leaves no ciphertext behind (issue 13, load)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from support import statements_of
from world import People, World

from shuttle.blobs import Blob
from shuttle.messages import authoring
from shuttle.messages.models import Message


def _objects(world: World) -> set[Path]:
    return {p for p in Path(world.svc.settings.blob_dir).rglob("*") if p.is_file()}


def _saved_once(setup: tuple[Any, str, People], world: World) -> tuple[Any, Message, int, Any]:
    """A letter's author, signed in, who has autosaved once: (their client, the draft, its version
    before the save, the save's answer)."""
    app, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam,")
    author = world.sign_in(app, p.harmed)
    version = author.get(f"/api/v1/messages/{draft.id}").json()["version"]
    saved = author.put(f"/api/v1/messages/{draft.id}/draft", json={"text": "Dear Sam, more.", "version": version})
    return author, draft, version, saved


def test_an_autosave_is_answered_with_the_saved_message_and_a_refused_one_leaves_no_bytes(
        setup: tuple[Any, str, People], world: World) -> None:
    app, _, p = setup
    author, draft, version, saved = _saved_once(setup, world)
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



#: Statements an autosave runs (issue 14: on PostgreSQL, under load, each is a round trip that gives
#: the interpreter lock up and queues for it again): who is signed in, the message, its case, the
#: writer's membership, the new draft's key, the message, the old key destroyed, and the answer's
#: view (the writer's account and the notes for them). The old draft's key is destroyed in one
#: statement, and the writer's participant row, read for the membership, serves the view too.
AUTOSAVE_STATEMENTS = 9
NOT_COUNTED = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)


def _draft_key(world: World, message_id: str) -> tuple[str, str | None]:
    with world.svc.db.uow() as uow:
        message = uow.session.get(Message, message_id)
        assert message is not None and message.draft_blob_id is not None
        blob = uow.session.get(Blob, message.draft_blob_id)
        assert blob is not None
        return blob.id, blob.wrapped_key


def test_an_autosave_runs_a_handful_of_statements_and_destroys_the_old_key(
        setup: tuple[Any, str, People], world: World) -> None:
    author, draft, version, saved = _saved_once(setup, world)
    old_blob, old_key = _draft_key(world, draft.id)
    assert old_key is not None
    with statements_of(world.svc, ignoring=NOT_COUNTED) as ran:
        again = author.put(f"/api/v1/messages/{draft.id}/draft",
                           json={"text": "Dear Sam, more again.", "version": saved.json()["version"]})
    assert again.status_code == 200 and again.json()["version"] == saved.json()["version"] + 1
    assert len(ran) <= AUTOSAVE_STATEMENTS, "\n".join(ran)
    assert author.get(f"/api/v1/messages/{draft.id}/draft").json()["text"] == "Dear Sam, more again."
    with world.svc.db.uow() as uow:
        shredded = uow.session.get(Blob, old_blob)
        assert shredded is not None and shredded.wrapped_key is None and shredded.shredded_at is not None
