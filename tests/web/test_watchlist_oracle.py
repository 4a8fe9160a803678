"""The watch list is never an oracle (invariant 10, issue 8 point 3).

An author could otherwise probe the case's watch list (the victim's street, school, new
name) one draft at a time. So every answer an author gets - the draft flags API, the write
and message pages, the page after sending, the message's status once the worker processed
it - must be the same whether or not their words contain a watch-list term. Only staff see
watch-list hits. Flag checks are also rate-limited per person.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from forms import hidden as _hidden
from forms import post_form as _post
from forms import sign_in_page as _sign_in
from world import World

from shuttle.messages import authoring, drafting, review
from shuttle.services import Services
from shuttle.web.app import build_app

WATCHED, UNWATCHED = "Elm Street", "Oak Street"  # same length: sizes may not differ either
LETTER = "Dear Sam,\nI walk past {} every day. Call me on 07700 900123."
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?")


def _same(a: Any, b: Any, ids: dict[str, str]) -> tuple[Any, Any]:
    """Both answers with B's message id and term written as A's, and timestamps blanked."""

    def norm(answer: Any, swap: bool) -> tuple[int, str, str]:
        text, location = answer.text, answer.headers.get("location", "")
        if swap:
            text = text.replace(UNWATCHED, WATCHED)
            for b_id, a_id in ids.items():
                text, location = text.replace(b_id, a_id), location.replace(b_id, a_id)
        return answer.status_code, ISO_TIME.sub("T", text), location

    return norm(a, False), norm(b, True)


@pytest.fixture
def setup(svc: Services) -> tuple[Any, World, str, Any]:
    world = World(svc)
    case_id, people = world.case(watchlist=[WATCHED, "Riverside Academy"])
    return build_app(svc, check_schema=False), world, case_id, people


def test_the_author_gets_the_same_answers_with_or_without_a_watch_list_term(setup: Any) -> None:
    app, world, case_id, p = setup
    page_client, _ = _sign_in(app, world, p.harmed)
    api = world.sign_in(app, p.harmed)
    write = page_client.get(f"/me/cases/{case_id}/write")
    created = {term: _post(page_client, f"/me/cases/{case_id}/write", write, text=LETTER.format(term))
               for term in (WATCHED, UNWATCHED)}
    a_id, b_id = (created[t].headers["location"].rsplit("/", 1)[1] for t in (WATCHED, UNWATCHED))
    ids = {b_id: a_id}

    def both(get: Any) -> None:
        first, second = _same(get(a_id), get(b_id), ids)
        assert first == second

    # Before sending: the flags API, the draft, the message page with its flags panel and key.
    both(lambda m: api.get(f"/api/v1/messages/{m}/draft/flags"))
    both(lambda m: api.get(f"/api/v1/messages/{m}/draft"))
    both(lambda m: api.get(f"/api/v1/messages/{m}"))
    both(lambda m: page_client.get(f"/me/messages/{m}"))
    flags = api.get(f"/api/v1/messages/{a_id}/draft/flags").json()
    assert [f["kind"] for f in flags["flags"]] == ["phone"]  # the author's own contact details still show
    assert WATCHED not in str(flags)

    # Sending with the key the page showed: both go straight through (no "please check" for one of them).
    pages = {m: page_client.get(f"/me/messages/{m}") for m in (a_id, b_id)}
    both(lambda m: _post(page_client, f"/me/messages/{m}", pages[m], action="submit", text=LETTER.format(
        WATCHED if m == a_id else UNWATCHED), version=_hidden(pages[m], "version"),
        flags_key=_hidden(pages[m], "flags_key")))
    both(lambda m: page_client.get(f"/me/messages/{m}"))
    assert world.run_jobs() == 2

    # Processed by the worker: the author's view and pages are still the same...
    both(lambda m: api.get(f"/api/v1/messages/{m}"))
    both(lambda m: page_client.get(f"/me/messages/{m}"))
    home = page_client.get("/me").text
    assert home.count("With your facilitator") >= 2
    listing = api.get(f"/api/v1/cases/{case_id}/messages").json()
    shown = [{k: v for k, v in m.items() if k not in ("id", "submitted_at")} for m in listing]
    assert shown[0] == shown[1]

    # ...while the facilitator sees the watch-list hit.
    seen = world.do(review.read_version, p.facilitator, a_id)
    assert ("watchlist", WATCHED) in {(f["kind"], f["text"]) for f in seen["flags"]}
    assert not [f for f in world.do(review.read_version, p.facilitator, b_id)["flags"] if f["kind"] == "watchlist"]


def test_the_flags_an_author_sees_do_not_depend_on_the_watch_list(setup: Any) -> None:
    _, world, case_id, p = setup
    draft = world.do(authoring.start_draft, p.harmed, case_id, LETTER.format(WATCHED))
    answer = world.do(drafting.draft_flags, p.harmed, draft.id)
    assert answer == {"flags": drafting.author_flags(LETTER.format(WATCHED)),
                      "key": drafting.flags_key(drafting.author_flags(LETTER.format(UNWATCHED)))}
    assert all(f["kind"] != "watchlist" for f in answer["flags"])
    assert world.do(drafting.text_flags, p.harmed, draft.id, "I go to Riverside Academy.") == []


def test_flag_checks_are_rate_limited_per_person(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, world, case_id, p = setup
    monkeypatch.setattr(drafting, "FLAG_CHECKS", drafting.Throttle(limit=3, window=timedelta(seconds=60)))
    start = world.svc.now()
    monkeypatch.setattr(world.svc, "clock", lambda: start)
    draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, 07700 900123.")
    proxy_draft = world.do(authoring.start_draft, p.harmed_proxy, case_id, "Dear Sam.")
    author, proxy = world.sign_in(app, p.harmed), world.sign_in(app, p.harmed_proxy)
    url = f"/api/v1/messages/{draft.id}/draft/flags"
    for _ in range(3):
        assert author.get(url).status_code == 200
    refused = author.get(url)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.json()["message"].startswith("You have checked for contact details very often")
    # Per person: someone else on the same side is not held up.
    assert proxy.get(f"/api/v1/messages/{proxy_draft.id}/draft/flags").status_code == 200
    # The write page still works: the server-rendered flags and sending do not count against it.
    page_client, _ = _sign_in(app, world, p.harmed)
    page = page_client.get(f"/me/messages/{draft.id}")
    assert page.status_code == 200 and "07700 900123" in page.text
    # Free again once the window has passed.
    monkeypatch.setattr(world.svc, "clock", lambda: start + timedelta(seconds=61))
    assert author.get(url).status_code == 200
