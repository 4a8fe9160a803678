"""The server-rendered pages: a letter's journey through forms, and what every page must carry."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

from alembic import command
from forms import csrf_of as _csrf
from forms import hidden as _hidden
from forms import post_form as _post
from forms import sign_in_page as _sign_in
from world import People, World, web_client

from shuttle import schema
from shuttle.services import Services
from shuttle.web.app import build_app

LETTER = "Dear Sam,\r\nI want you to know how that night changed things. Call me on 07700 900123."
FORM = {"Content-Type": "application/x-www-form-urlencoded"}






def _path(response: Any) -> str:
    return str(response.url.path)






def test_letter_travels_through_the_pages(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup

    # The author signs in and lands on their page; writes, saves and sends a letter.
    harmed, home = _sign_in(app, world, p.harmed)
    assert _path(home) == "/me" and "You have not written anything yet." in home.text
    write_url = f"/me/cases/{case_id}/write"
    assert f'href="{write_url}"' in home.text
    write = harmed.get(write_url)
    assert write.status_code == 200 and "Write a letter to the person responsible" in write.text
    started = _post(harmed, write_url, write, text="Dear Sam,")
    message_url = started.headers["location"]
    assert re.fullmatch(r"/me/messages/[0-9a-f]{32}", message_url)
    message_id = message_url.rsplit("/", 1)[1]

    page = harmed.get(message_url)
    assert page.status_code == 200 and "Dear Sam," in page.text
    _post(harmed, message_url, page, action="save", text=LETTER, version=_hidden(page, "version"))
    page = harmed.get(message_url)
    assert "Please check before sending" in page.text and "07700 900123" in page.text  # flagged for the author
    _post(harmed, message_url, page, action="submit", text=LETTER, version=_hidden(page, "version"))
    page = harmed.get(message_url)
    assert "sent to your facilitator" in page.text and "<textarea" not in page.text

    responsible, their_home = _sign_in(app, world, p.responsible)
    assert "Nothing is waiting for you." in their_home.text and message_id not in their_home.text
    assert world.run_jobs() == 1

    # The facilitator finds it in the queue; the review page marks the phone number; claim, approve.
    facilitator, dashboard = _sign_in(app, world, p.facilitator)
    review_url = f"/staff/messages/{message_id}"
    assert _path(dashboard) == "/staff" and f'href="{review_url}"' in dashboard.text
    review = facilitator.get(review_url)
    assert review.status_code == 200
    assert re.search(r'<mark class="flag flag-phone"[^>]*>07700 900123</mark>', review.text), review.text
    assert "/approve" not in review.text  # only after claiming
    _post(facilitator, review_url, review, action="claim", version=_hidden(review, "version"))
    review = facilitator.get(review_url)
    assert "reviewer: Fiona1" in review.text and f'href="{review_url}/approve"' in review.text

    # Approving is a step of its own: what will be delivered, to whom, and each flag to resolve.
    sheet = facilitator.get(f"{review_url}/approve")
    assert sheet.status_code == 200 and "the person responsible" in sheet.text and "07700 900123" in sheet.text
    flag_id = re.findall(r'name="keep-(phone-\d+-\d+)"', sheet.text)
    assert len(flag_id) == 1, sheet.text
    refused = facilitator.post(f"{review_url}/approve", data={"csrf_token": _csrf(sheet),
                                                              "version": _hidden(sheet, "version")})
    assert refused.status_code == 409, refused.text[:3000]
    assert "There is a problem" in refused.text and "Still open" in refused.text, refused.text[:3000]
    assert f'href="#keep-{flag_id[0]}"' in refused.text
    assert "delivered" not in facilitator.get(review_url).text.split("Status:")[1][:60]
    done = _post(facilitator, f"{review_url}/approve", sheet, version=_hidden(sheet, "version"),
                 **{f"keep-{flag_id[0]}": "Agreed at the preparation meeting: it is the service's number."})
    after = facilitator.get(done.headers["location"])
    assert "Approved" in after.text and "Delivered to the person responsible." in after.text
    assert "Nothing else is waiting for your review." in after.text
    assert "delivered, not yet opened" in facilitator.get(review_url).text

    # The recipient is told something is waiting, chooses to open it, and reads the processed text.
    their_home = responsible.get("/me")
    assert "A message from the person harmed is waiting." in their_home.text
    inbox_url = f"/me/inbox/{message_id}"
    assert f'href="{inbox_url}"' in their_home.text
    prompt = responsible.get(inbox_url)
    assert "Would you like to open it now?" in prompt.text and "07700" not in prompt.text
    later = _post(responsible, inbox_url, prompt, choice="later")
    assert later.headers["location"] == "/me"
    assert "Would you like to open it now?" in responsible.get(inbox_url).text  # still waiting
    opened = _post(responsible, inbox_url, prompt, choice="open")
    assert opened.headers["location"] == inbox_url
    letter = responsible.get(inbox_url)
    shown = re.search(r'<article class="letter">(.*?)</article>', letter.text, re.S)
    assert shown and html.unescape(shown.group(1)).startswith("Dear Sam,\nI want you to know")
    assert "\r" not in html.unescape(shown.group(1))
    assert "Opened" in responsible.get("/me").text  # in the conversation, with the day it was delivered
    author_page = harmed.get(message_url).text  # no receipt shared: "delivered", opened or not
    assert "Delivered" in author_page and "Delivered and opened" not in author_page


def test_participant_pages_have_quick_exit_and_strict_headers(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    harmed, home = _sign_in(app, world, p.harmed)
    written = _post(harmed, f"/me/cases/{case_id}/write", harmed.get(f"/me/cases/{case_id}/write"), text="Dear Sam")
    quick_exit = world.svc.settings.quick_exit_url
    pages = ["/me", f"/me/cases/{case_id}/write", written.headers["location"], f"/me/cases/{case_id}/leave"]
    anonymous = web_client(app)
    for client, url in [*((harmed, url) for url in pages),
                        *((anonymous, url) for url in ("/login", "/invite", "/set-password"))]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert f'id="quick-exit" class="quick-exit" href="{quick_exit}"' in page.text, url
        assert f'data-quick-exit="{quick_exit}"' in page.text, url
        _assert_strict_headers(page)
    facilitator, dashboard = _sign_in(app, world, p.facilitator)
    assert "quick-exit" not in dashboard.text  # staff pages do not need it
    for page in (dashboard, web_client(app).get("/static/shuttle.js")):
        _assert_strict_headers(page)


def _assert_strict_headers(page: Any) -> None:
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_forms_without_the_csrf_token_are_refused(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    written = _post(harmed, f"/me/cases/{case_id}/write", harmed.get(f"/me/cases/{case_id}/write"), text="Dear Sam")
    message_url = written.headers["location"]
    page = harmed.get(message_url)
    version = _hidden(page, "version")

    for url, fields in [(f"/me/cases/{case_id}/write", {"text": "Another"}),
                        (message_url, {"action": "save", "text": "Changed", "version": version}),
                        (message_url, {"action": "submit", "version": version}),
                        (message_url, {"action": "withdraw", "version": version}),
                        (f"/me/cases/{case_id}/holding", {"holding": "yes"}),
                        (f"/me/cases/{case_id}/leave", {"confirm": "yes"}),
                        ("/logout", {})]:
        for token in (None, "not-the-token"):
            data = fields if token is None else {**fields, "csrf_token": token}
            answer = harmed.post(url, content=urlencode(data), headers=FORM, follow_redirects=False)
            assert answer.status_code == 403, (url, token, answer.status_code)
            assert "did not come from this site" in answer.text
    page = harmed.get(message_url)
    assert "a draft" in page.text and ">Dear Sam</textarea>" in page.text
    assert "Your letter to" in harmed.get(message_url).text  # still signed in, still a draft
    home = harmed.get("/me")
    assert home.text.count("/me/messages/") == 1  # nothing else was written

    facilitator, _ = _sign_in(app, world, p.facilitator)
    case_page = facilitator.get(f"/staff/cases/{case_id}")
    assert case_page.status_code == 200
    answer = facilitator.post(f"/staff/cases/{case_id}", data={"action": "status", "status": "paused"},
                              follow_redirects=False)
    assert answer.status_code == 403
    assert "Status: <strong>open</strong>" in facilitator.get(f"/staff/cases/{case_id}").text

    # Before sign-in the forms are protected by the double-submit cookie.
    stranger = web_client(app)
    stranger.get("/login")
    answer = stranger.post("/login", data={"username": world.username(p.harmed), "password": World.PASSWORD},
                           follow_redirects=False)
    assert answer.status_code == 403 and "shuttle_session" not in stranger.cookies
    other = web_client(app)
    token = _csrf(other.get("/login"))
    stranger.cookies.clear()  # a token from another browser, without its cookie
    answer = stranger.post("/login", data={"csrf_token": token, "username": world.username(p.harmed),
                                           "password": World.PASSWORD}, follow_redirects=False)
    assert answer.status_code == 403 and "shuttle_session" not in stranger.cookies


def test_pages_need_sign_in(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    anonymous = web_client(app)
    for url in ["/", "/me", "/account", "/staff", f"/me/cases/{case_id}/write", f"/me/messages/{'0' * 32}",
                f"/me/inbox/{'0' * 32}", f"/staff/cases/{case_id}", f"/staff/messages/{'0' * 32}"]:
        answer = anonymous.get(url, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", url
    for url, fields in [(f"/me/cases/{case_id}/write", {"text": "x"}), (f"/me/cases/{case_id}/holding", {}),
                        ("/logout", {})]:
        answer = anonymous.post(url, data={"csrf_token": "x", **fields}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", url
    landed = anonymous.get("/me")
    assert _path(landed) == "/login" and "<h1>Sign in</h1>" in landed.text

    wrong = anonymous.post("/login", data={"csrf_token": _csrf(landed), "username": world.username(p.harmed),
                                           "password": "not the password"})
    assert wrong.status_code == 200 and "Username or password is wrong." in wrong.text
    assert "shuttle_session" not in anonymous.cookies

    # Signed out again: the pages are closed once more.
    harmed, home = _sign_in(app, world, p.harmed)
    signed_out = _post(harmed, "/logout", home)
    assert signed_out.headers["location"] == "/login"
    assert harmed.get("/me", follow_redirects=False).headers["location"] == "/login"


def test_pages_hide_what_is_not_yours_like_a_missing_page(world: World, setup: tuple[Any, str, People]) -> None:
    app, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    written = _post(harmed, f"/me/cases/{case_id}/write", harmed.get(f"/me/cases/{case_id}/write"), text="Dear Sam")
    message_id = written.headers["location"].rsplit("/", 1)[1]
    missing = "0" * 32
    responsible, _ = _sign_in(app, world, p.responsible)
    facilitator, _ = _sign_in(app, world, p.facilitator)
    for client, template in [(responsible, "/me/messages/{}"), (responsible, "/me/inbox/{}"),
                             (harmed, "/me/inbox/{}"), (harmed, "/staff/messages/{}"),
                             (facilitator, "/me/messages/{}")]:
        hidden = client.get(template.format(message_id))
        absent = client.get(template.format(missing))
        assert hidden.status_code == absent.status_code == 404, template
        assert hidden.text == absent.text, template
    answer = harmed.get(f"/me/messages/{message_id}", headers={"Accept": "application/json"})
    assert answer.status_code == 200  # pages stay pages for their owner


def test_health_and_readiness(svc: Services) -> None:
    app = build_app(svc, check_schema=False)
    client = web_client(app)
    assert client.get("/healthz").status_code == 200 and client.get("/healthz").json() == {"status": "ok"}

    # The tests build the schema with create_all: no migration revision is recorded, and readiness says so.
    unready = client.get("/readyz")
    assert unready.status_code == 503 and unready.json()["status"] == "not ready"
    assert any("shuttle db upgrade" in problem for problem in unready.json()["problems"])
    try:
        command.stamp(schema.alembic_config(svc.db), "head")
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "problems": []}
    finally:
        with svc.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def test_every_page_answers_every_role_without_error(world: World, setup: tuple[Any, str, People]) -> None:
    """Each page, as each kind of person: shown, redirected or not found; never a server error."""
    app, case_id, p = setup
    harmed, _ = _sign_in(app, world, p.harmed)
    written = _post(harmed, f"/me/cases/{case_id}/write", harmed.get(f"/me/cases/{case_id}/write"), text="Dear Sam")
    message_id = written.headers["location"].rsplit("/", 1)[1]
    urls = ["/", "/account", "/me", "/staff", f"/me/cases/{case_id}/write", f"/me/cases/{case_id}/leave",
            f"/me/messages/{message_id}", f"/me/inbox/{message_id}", f"/staff/cases/{case_id}",
            f"/staff/messages/{message_id}", "/login", "/login/totp", "/invite", "/set-password"]
    for actor in (p.harmed, p.responsible, p.harmed_proxy, p.supporter, p.facilitator, p.outsider_facilitator,
                  p.outsider_participant, p.coordinator):
        client, _ = _sign_in(app, world, actor)
        for url in urls:
            answer = client.get(url)
            assert answer.status_code in (200, 404), (world.username(actor), url, answer.status_code)
