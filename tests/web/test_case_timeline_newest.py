"""Issue 14: the staff case page shows the newest TIMELINE_NEWEST timeline entries, with a link to the
whole timeline (`?timeline=all`) and one back; any other value of `timeline` is the default. A
message's state is said once, at its latest entry shown. In English and Welsh."""

from __future__ import annotations

import html
import re
from typing import Any

from world import People, World

from shuttle import i18n
from shuttle.cases import service as cases
from shuttle.cases.timeline import case_timeline
from shuttle.cases.workspace import TIMELINE_NEWEST
from shuttle.messages import authoring, review

TIMELINE = re.compile(r'<ol class="timeline"[^>]*>(.*?)</ol>', re.DOTALL)
ENTRY = re.compile(r"<li\b.*?</li>", re.DOTALL)
WHOLE = re.compile(r'<a href="/staff/cases/([^"?]+)\?timeline=all#timeline-heading">Show the whole timeline '
                   r"\((\d+) entries\)</a>")
NEWEST = re.compile(r'<a href="/staff/cases/([^"?#]+)#timeline-heading">Show only the newest (\d+)</a>')


def _long_case(world: World) -> tuple[str, People]:
    """An open case whose letter was sent, then paused and resumed enough times to push the letter's
    sending out of the newest entries, then approved (its latest entries among the newest)."""
    case_id, p = world.case()
    message = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I have waited.")
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    for _ in range(TIMELINE_NEWEST // 2 + 1):
        world.do(cases.set_status, p.facilitator, case_id, "paused")
        world.do(cases.set_status, p.facilitator, case_id, "open")
    world.do(review.claim, p.facilitator, message.id)
    world.do(review.approve, p.facilitator, message.id)
    return case_id, p


def _whole_count(world: World, p: People, case_id: str) -> int:
    """How many entries the case's whole timeline has, as `case_timeline` (not the page) tells it."""
    return int(world.do(lambda session, _svc: len(case_timeline(session, p.facilitator, case_id))))


def _entries(page: Any) -> list[str]:
    assert page.status_code == 200, page.text
    found = TIMELINE.search(page.text)
    assert found, "no timeline"
    return ENTRY.findall(found.group(1))


def test_a_long_timeline_shows_its_newest_entries_and_a_link_to_the_whole(world: World, app: Any) -> None:
    case_id, p = _long_case(world)
    whole_count = _whole_count(world, p, case_id)
    assert whole_count > TIMELINE_NEWEST + 2
    staff = world.sign_in(app, p.facilitator)
    page = staff.get(f"/staff/cases/{case_id}")
    shown = _entries(page)
    assert len(shown) == TIMELINE_NEWEST
    assert WHOLE.findall(page.text) == [(case_id, str(whole_count))]
    assert not NEWEST.search(page.text)
    assert f'reversed start="{whole_count}"' in page.text  # numbered as in the whole timeline

    whole = staff.get(f"/staff/cases/{case_id}?timeline=all")
    everything = _entries(whole)
    assert len(everything) == whole_count
    assert shown == everything[:TIMELINE_NEWEST]  # newest first; the state said at the same (latest) entry
    assert NEWEST.findall(whole.text) == [(case_id, str(TIMELINE_NEWEST))]
    assert not WHOLE.search(whole.text)
    assert "the person harmed sent a letter" in html.unescape(whole.text)
    assert "the person harmed sent a letter" not in html.unescape(page.text)


def test_a_messages_state_is_said_once_at_its_latest_entry_shown(world: World, app: Any) -> None:
    case_id, p = _long_case(world)
    staff = world.sign_in(app, p.facilitator)
    for url in (f"/staff/cases/{case_id}", f"/staff/cases/{case_id}?timeline=all"):
        entries = _entries(staff.get(url))
        said = [i for i, entry in enumerate(entries) if "is now" in entry]
        letter = [i for i, entry in enumerate(entries) if "Letter 1" in entry]
        assert said == letter[:1], url


def test_any_other_value_is_the_newest_entries(world: World, app: Any) -> None:
    case_id, p = _long_case(world)
    staff = world.sign_in(app, p.facilitator)
    default = _entries(staff.get(f"/staff/cases/{case_id}"))
    for value in ("", "ALL", "none", "30", "all%20", "%F0%9F%90%8D"):
        page = staff.get(f"/staff/cases/{case_id}?timeline={value}")
        assert _entries(page) == default, value
        assert WHOLE.search(page.text), value


def test_a_short_timeline_has_no_link(world: World, app: Any) -> None:
    case_id, p = world.case()
    staff = world.sign_in(app, p.facilitator)
    for url in (f"/staff/cases/{case_id}", f"/staff/cases/{case_id}?timeline=all"):
        page = staff.get(url)
        assert len(_entries(page)) == _whole_count(world, p, case_id) > 0
        assert "Show the whole timeline" not in page.text and "Show only the newest" not in page.text, url


def test_the_links_in_welsh(world: World, app: Any) -> None:
    case_id, p = _long_case(world)
    whole_count = _whole_count(world, p, case_id)
    staff = world.sign_in(app, p.facilitator)
    staff.cookies.set(i18n.COOKIE, "cy")
    page = html.unescape(staff.get(f"/staff/cases/{case_id}").text)
    assert f"Dangos y llinell amser gyfan ({whole_count} cofnod)" in page and "Show the whole" not in page
    whole = html.unescape(staff.get(f"/staff/cases/{case_id}?timeline=all").text)
    assert f"Dangos y {TIMELINE_NEWEST} cofnod diweddaraf yn unig" in whole and "Show only" not in whole
