"""A participant asks for digest e-mails on their page (360 and 1280 px, axe-core clean); at the
digest hour the e-mail arrives in a real SMTP server on 127.0.0.1 with nothing but the fixed words."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from browsing import Site, keep_in_docs, screenshot
from participant_helpers import AXE, DESKTOP, PHONE, signed_in
from smtp_inbox import Inbox, smtp_server, words

from shuttle.config import Settings
from shuttle.messages import authoring, review
from shuttle.messages.models import Message
from shuttle.notifications import mail
from shuttle.notifications.service import next_digest_time
from workers.handlers import tick

RUN_AXE = """async () => {
  const result = await axe.run(document, { runOnly: { type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
  return { passes: result.passes.length, violations: result.violations.map(v => ({ id: v.id, impact: v.impact,
    help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")) })) };
}"""


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    with smtp_server(box) as port:
        yield box, port


@pytest.fixture
def settings(settings: Settings, inbox: tuple[Inbox, int]) -> Settings:
    """The suite's settings with the test SMTP server as the relay (the `site` fixture builds on them)."""
    return settings.with_(smtp_host="127.0.0.1", smtp_port=inbox[1], smtp_starttls=False,
                          mail_from="shuttle@example.org", digest_at="18:00")


def _axe(page: Any, name: str) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    assert found["passes"] > 10, f"axe checked almost nothing on {name}: {found}"
    return [f"{name}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
            for v in found["violations"] if v["impact"] in ("serious", "critical")]


def _released(site: Site) -> None:
    p, world = site.people, site.world
    letter = world.do(authoring.start_draft, p.harmed, site.case_id, "Dear Sam,\nI have thought about that night.")
    world.do(authoring.submit, p.harmed, letter.id)
    deadline = time.monotonic() + 30
    while True:
        with site.svc.db.uow() as uow:
            message = uow.session.get(Message, letter.id)
            assert message is not None
            if message.state == "awaiting_review":
                break
        assert time.monotonic() < deadline, f"message still {message.state}"
        time.sleep(0.1)
    world.do(review.claim, p.facilitator, letter.id)
    world.do(review.approve, p.facilitator, letter.id)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: scripts/test installs it with npm")
def test_a_digest_e_mail_arrives_with_nothing_but_the_fixed_words(browser: Any, site: Site,
                                                                   inbox: tuple[Inbox, int]) -> None:
    box, _ = inbox
    problems: list[str] = []
    for viewport in (PHONE, DESKTOP):
        width = viewport["width"]
        sam = signed_in(browser, site, "responsible", viewport=viewport, bypass_csp=True)
        sam.get_by_role("link", name="E-mails when something needs you").click()
        sam.wait_for_load_state()
        problems += _axe(sam, f"notifications-{width}")
        sam.get_by_label("Your e-mail address").fill("sam@example.net")
        sam.get_by_label("Send me an e-mail when something new needs me").check()
        sam.get_by_role("button", name="Save").click()
        sam.wait_for_load_state()
        assert sam.get_by_text("Settings saved.").is_visible()
        problems += _axe(sam, f"notifications-saved-{width}")
        keep_in_docs(screenshot(sam, f"notifications-{width}"), f"participant-notifications-{width}")
        sam.context.close()
    assert problems == []

    _released(site)
    assert box.received == []  # nothing when the letter is released
    start = site.svc.now()
    site.svc.clock = lambda: next_digest_time(start, "18:00") + timedelta(seconds=30)  # the digest hour
    tick(site.svc)
    deadline = time.monotonic() + 20
    while not box.to("sam@example.net") and time.monotonic() < deadline:
        time.sleep(0.1)
    [digest] = box.to("sam@example.net")
    subject, body = words(digest)
    expected_subject, expected_body = mail.participant_words(site.svc.settings)
    assert subject == expected_subject and body.decode().replace("\r\n", "\n") == expected_body
    assert len(box.received) == 1
