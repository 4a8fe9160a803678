"""Forms never lose what was typed: a letter over the limit, a stale version or a paused case
answer with the same form, the words in it, and an error summary linked to the field."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from forms import csrf_of, hidden
from forms import sign_in_page as sign_in
from world import People, World

from shuttle.cases import service as cases
from shuttle.messages import authoring
from shuttle.messages.models import Message
from shuttle.services import Services
from shuttle.web.app import build_app
from shuttle.web.pages.common import about_words

SUMMARY_TO_FIELD = re.compile(r'<div class="error-summary"[^>]*>.*?<a href="#text">(.*?)</a>', re.DOTALL)


@pytest.fixture
def setup(sqlite_svc: Services) -> tuple[Any, World, str, People]:
    world = World(sqlite_svc)
    case_id, people = world.case()
    return build_app(sqlite_svc, check_schema=False), world, case_id, people


def _textarea(page: Any) -> str:
    found = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', page.text, re.DOTALL)
    assert found, "no letter field"
    return html.unescape(found.group(1))


def _summary(page: Any) -> str:
    found = SUMMARY_TO_FIELD.search(page.text)
    assert found, "no error summary linked to the field"
    return html.unescape(found.group(1))


def _drafts(world: World) -> int:
    with world.svc.db.uow() as uow:
        return uow.session.query(Message).count()


def test_the_limit_is_said_in_words() -> None:
    assert about_words(64 * 1024) == "about 10,000 words"
    assert about_words(1) == "about 1 word"
    assert about_words(650) == "about 100 words"
    assert about_words(13_000) == "about 2,000 words"


def test_a_new_letter_over_the_limit_comes_back_with_its_words(setup: Any) -> None:
    app, world, case_id, p = setup
    client, _ = sign_in(app, world, p.harmed)
    page = client.get(f"/me/cases/{case_id}/write")
    assert "It can be up to about 10,000 words long." in page.text
    assert 'id="text-count"' in page.text and 'data-max-bytes="65536"' in page.text
    limit = world.svc.settings.limits.max_letter_bytes
    words = "Dear Sam, " + "I have so much to say. " * (limit // 23 + 700)  # about 1,000 words too many
    answer = client.post(f"/me/cases/{case_id}/write", data={"csrf_token": csrf_of(page), "text": words})
    assert answer.status_code == 413
    assert _textarea(answer) == words
    assert _summary(answer) == ("This is too long to save. It can be up to about 10,000 words: take out about "
                                "2,000 words, then save it again.")
    assert 'id="text-error"' in answer.text and "<title>Error: " in answer.text
    assert _drafts(world) == 0


def test_a_saved_draft_over_the_limit_or_stale_comes_back_with_its_words(setup: Any) -> None:
    app, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, the start.")
    client, _ = sign_in(app, world, p.harmed)
    url = f"/me/messages/{draft.id}"
    page = client.get(url)
    assert "It can be up to about 10,000 words long." in page.text and 'id="text-count"' in page.text
    too_long = "Dear Sam, " + "x" * world.svc.settings.limits.max_letter_bytes
    answer = client.post(url, data={"csrf_token": csrf_of(page), "version": hidden(page, "version"),
                                    "action": "save", "text": too_long})
    assert answer.status_code == 413, answer.text[-1500:]
    assert _textarea(answer) == too_long
    assert _summary(answer).startswith("This is too long to save.")
    assert world.do(authoring.read_draft, p.harmed, draft.id) == "Dear Sam, the start."

    world.do(authoring.save_draft, p.harmed, draft.id, "Dear Sam, from my phone.")  # another window
    mine = "Dear Sam, the start, and what I wrote on the computer."
    answer = client.post(url, data={"csrf_token": csrf_of(page), "version": hidden(page, "version"),
                                    "action": "save", "text": mine})
    assert answer.status_code == 409 and _textarea(answer) == mine
    assert "changed somewhere else" in _summary(answer) and "not saved yet" in _summary(answer)
    # Saving the form shown again keeps these words: it carries the current version.
    saved = client.post(url, data={"csrf_token": csrf_of(answer), "version": hidden(answer, "version"),
                                   "action": "save", "text": _textarea(answer)}, follow_redirects=False)
    assert saved.status_code == 303
    assert world.do(authoring.read_draft, p.harmed, draft.id) == mine


def test_sending_while_the_case_is_paused_keeps_the_words_on_the_form(setup: Any) -> None:
    app, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, the start.")
    client, _ = sign_in(app, world, p.harmed)
    url = f"/me/messages/{draft.id}"
    page = client.get(url)
    world.do(cases.set_status, p.facilitator, case_id, "paused")
    mine = "Dear Sam, the start, and the end."
    answer = client.post(url, data={"csrf_token": csrf_of(page), "version": hidden(page, "version"),
                                    "action": "submit", "text": mine, "flags_key": hidden(page, "flags_key")})
    assert answer.status_code == 409 and _textarea(answer) == mine
    assert "paused" in _summary(answer) and "Your draft is kept." in _summary(answer)
    assert world.do(authoring.read_draft, p.harmed, draft.id) == mine  # true: it was kept


def test_words_for_a_message_no_longer_editable_are_shown_to_copy(setup: Any) -> None:
    app, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, the start.")
    client, _ = sign_in(app, world, p.harmed)
    url = f"/me/messages/{draft.id}"
    page = client.get(url)
    world.do(authoring.submit, p.harmed, draft.id)  # sent from another window meanwhile
    mine = "Dear Sam, words typed in the old window."
    answer = client.post(url, data={"csrf_token": csrf_of(page), "action": "save", "text": mine})
    assert answer.status_code == 409 and _textarea(answer) == mine
    assert "could not be saved here" in answer.text and _summary(answer)
