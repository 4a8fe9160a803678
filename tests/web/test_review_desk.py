"""Issue 12, a review desk for a busy day: the queue filtered and sorted with counts equal to what
is listed, "approve and next" (through the approval sheet and its flags) and "request changes and
next", confirmations shown once, a facilitator's transcript of a recording as a version the
author accepts, the keyboard shortcuts listed on the review page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from forms import csrf_of, sign_in_page
from sqlalchemy import select
from support import Clock
from world import People, World

from shuttle import blobs
from shuttle.messages import authoring, processing, review
from shuttle.messages.models import Message, MessageVersion

ITEM = re.compile(r'<li id="queue-([0-9a-f]{32})"')
GROUP = re.compile(r'<h3 id="queue-([a-z]+)" class="queue-group">[^<]*\((\d+)\)</h3>\s*<ol[^>]*>(.*?)</ol>', re.DOTALL)
COUNT = re.compile(r'<p class="queue-count"[^>]*>(\d+)')
FLASH = re.compile(r'<div class="notice notice-good flash" role="status" id="flash"><p>(.*?)</p>')


def _letter(world: World, author: Any, case_id: str, text: str) -> str:
    message = world.do(authoring.start_draft, author, case_id, text)
    world.do(authoring.submit, author, message.id)
    return str(message.id)


def _desk(world: World) -> tuple[str, str, People, dict[str, str]]:
    """Two cases of one facilitator: letters waiting (one flagged), one claimed by the facilitator,
    one claimed by the co-facilitator, a video, one being prepared."""
    case_a, p = world.case(two_facilitators=True, initiator="either")
    case_b, _ = world.case(people=p, initiator="either")
    made = {
        "flagged": _letter(world, p.harmed, case_a, "Dear Sam, call me on 07700 900123."),
        "plain": _letter(world, p.responsible, case_a, "Dear Jessica, I am sorry."),
        "mine": _letter(world, p.harmed, case_a, "Dear Sam, a second letter."),
        "theirs": _letter(world, p.harmed, case_a, "Dear Sam, a third letter."),
        "other case": _letter(world, p.harmed, case_b, "Dear Sam, from the other case."),
    }
    world.run_jobs(limit=100)
    made["video"] = world.processed_video(p, case_a, b"play")
    made["preparing"] = _letter(world, p.harmed, case_b, "Dear Sam, still being prepared.")
    world.do(review.claim, p.facilitator, made["mine"])
    world.do(review.claim, p.co_facilitator, made["theirs"])
    return case_a, case_b, p, made


def _listed(page: Any) -> list[str]:
    """The ids the queue lists, checking that every count on the page is what is listed."""
    assert page.status_code == 200, page.text[:300]
    queue = page.text[page.text.index('id="queue"'):page.text.index('id="cases-heading"')]
    ids = ITEM.findall(queue)
    for _key, count, items in GROUP.findall(queue):
        assert int(count) == len(ITEM.findall(items))
    total = COUNT.search(queue)
    assert total is not None and int(total.group(1)) == len(ids)
    return ids


def test_filters_and_sorts_list_what_they_say_with_counts_equal_to_the_rows(world: World, app: Any) -> None:
    case_a, case_b, p, made = _desk(world)
    staff = world.sign_in(app, p.facilitator)
    everything = _listed(staff.get("/staff"))
    assert set(everything) == set(made.values())
    expected = {
        f"case={case_b}": {made["other case"], made["preparing"]},
        "kind=video": {made["video"]},
        "kind=letter": set(made.values()) - {made["video"]},
        "flagged=yes": {made["flagged"]},
        "mine=yes": {made["mine"]},
        "state=in_review": {made["mine"], made["theirs"]},
        f"state=awaiting_review&case={case_a}": {made["flagged"], made["plain"], made["video"]},
        "kind=letter&flagged=yes&mine=yes": set(),
        "overdue=yes": set(),
    }
    for query, wanted in expected.items():
        page = staff.get(f"/staff?{query}")
        assert set(_listed(page)) == wanted, query
        # "1 of 7 messages shown": the plural follows the whole queue's count, not what is listed
        assert f"{len(wanted)} of {len(everything)} messages shown:" in page.text, query
        if not wanted:
            assert "No message in the queue matches these filters." in page.text
    # the newest first is the oldest first reversed (among the same group)
    oldest = _listed(staff.get("/staff?state=awaiting_review"))
    newest = _listed(staff.get("/staff?state=awaiting_review&sort=newest"))
    assert newest == list(reversed(oldest)) and len(oldest) == 4
    by_case = _listed(staff.get("/staff?sort=case&state=awaiting_review"))
    assert by_case[-1] == made["other case"]  # RJ-2026-0002 after RJ-2026-0001
    # the filter form works without JavaScript: a GET form with the fields the server reads
    form = re.search(r'<form method="get" action="/staff#queue".*?</form>', staff.get("/staff").text, re.DOTALL)
    assert form is not None
    assert all(f'name="{name}"' in form.group(0) for name in ("case", "kind", "state", "overdue", "flagged",
                                                                   "mine", "sort"))
    assert staff.get("/staff?kind=poem").status_code == 400
    assert staff.get("/staff?sort=sideways").status_code == 400
    # overdue: the review deadline passed for everything waiting
    world.svc.clock = Clock(world.svc.now() + timedelta(days=30))
    overdue = _listed(world.sign_in(app, p.facilitator).get("/staff?overdue=yes&sort=due"))
    assert set(overdue) == {made[k] for k in ("flagged", "plain", "mine", "theirs", "video", "other case")}


def _sheet_form(page: Any) -> dict[str, str]:
    form = re.search(r'<form method="post" action="[^"]+/approve" class="approve-sheet">(.*?)</form>', page.text,
                     re.DOTALL)
    assert form is not None
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1))}


def test_approve_and_next_goes_through_the_flags_then_to_the_next_of_the_filtered_queue(
        world: World, app: Any) -> None:
    case_a, _case_b, p, made = _desk(world)
    world.do(review.claim, p.facilitator, made["flagged"])
    staff, _ = sign_in_page(app, world, p.facilitator)  # the token in the form only, as a browser
    page = staff.get(f"/staff/messages/{made['flagged']}?kind=letter")
    assert f'href="/staff/messages/{made["flagged"]}/approve?then=next&amp;kind=letter"' in page.text
    sheet = staff.get(f"/staff/messages/{made['flagged']}/approve?then=next&kind=letter")
    fields = _sheet_form(sheet)
    assert fields["then"] == "next" and fields["queue"] == "kind=letter"
    # the flag must still be resolved: without a reason the sheet comes back, nothing is approved
    refused = staff.post(f"/staff/messages/{made['flagged']}/approve", data=fields, follow_redirects=False)
    assert refused.status_code in (400, 409)
    flag_ids = re.findall(r'name="keep-([^"]+)"', sheet.text)
    assert flag_ids
    done = staff.post(f"/staff/messages/{made['flagged']}/approve",
                      data={**fields, **{f"keep-{f}": "The probation officer's number." for f in flag_ids}},
                      follow_redirects=False)
    assert done.status_code == 303
    target = done.headers["location"]
    assert target == f"/staff/messages/{made['plain']}?kind=letter"  # the video is not a letter
    landed = staff.get(target)
    said = FLASH.search(landed.text)
    assert said is not None
    assert html.unescape(said.group(1)) == ("Approved: Letter 1 in RJ-2026-0001. "
                                            "Next: Letter from the person responsible, case RJ-2026-0001.")
    assert FLASH.search(staff.get(target).text) is None  # shown once
    state = world.do(lambda s, svc: s.get(Message, made["flagged"]).state)
    assert state != "in_review"


def test_request_changes_and_next(world: World, app: Any) -> None:
    _case_a, _case_b, p, made = _desk(world)
    staff, _ = sign_in_page(app, world, p.facilitator)  # the token in the form only, as a browser
    page = staff.get(f"/staff/messages/{made['mine']}")
    answer = staff.post(f"/staff/messages/{made['mine']}",
                        data={"csrf_token": csrf_of(page), "action": "request-changes", "then": "next",
                              "version": re.findall(r'name="version" value="(\d+)"', page.text)[0],
                              "note": "Please take out the street name."}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/staff/messages/{made['flagged']}"  # the oldest I can decide on
    said = FLASH.search(staff.get(answer.headers["location"]).text)
    assert said is not None
    assert html.unescape(said.group(1)).startswith("Changes requested: Letter 3 in RJ-2026-0001. Next: ")
    assert world.do(lambda s, svc: s.get(Message, made["mine"]).state) == "changes_requested"


def test_every_staff_action_confirms_once(world: World, app: Any) -> None:
    case_a, _case_b, p, made = _desk(world)
    staff = world.sign_in(app, p.facilitator)
    page = staff.get(f"/staff/messages/{made['plain']}")
    version = re.findall(r'name="version" value="(\d+)"', page.text)[0]
    claimed = staff.post(f"/staff/messages/{made['plain']}", data={"csrf_token": csrf_of(page), "action": "claim",
                                                                  "version": version})
    assert FLASH.search(claimed.text) is not None and FLASH.search(claimed.text).group(1) == "Claimed."  # type: ignore[union-attr]
    assert FLASH.search(staff.get(f"/staff/messages/{made['plain']}").text) is None
    case_page = staff.get(f"/staff/cases/{case_a}")
    settings = re.search(r'<form[^>]*>(?:(?!</form>).)*value="settings"(?:(?!</form>).)*</form>', case_page.text,
                         re.DOTALL)
    assert settings is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', settings.group(0)))
    saved = staff.post(f"/staff/cases/{case_a}", data={
        **fields, "action": "settings", "label_harmed": "Jessica", "label_responsible": "Sam", "initiator": "either",
        "responsible_may_reply": "yes", "approvals_required": "1", "author_must_accept_edits": "yes",
        "read_receipts_allowed": "no"})
    said = FLASH.search(saved.text)
    assert said is not None and said.group(1) == "Settings saved."
    assert FLASH.search(staff.get(f"/staff/cases/{case_a}").text) is None
    # a cookie another page made up is not shown
    staff.cookies.set("shuttle_flash", "SGFja2Vk.0000", path="/staff")
    assert FLASH.search(staff.get("/staff").text) is None


def test_a_facilitators_transcript_is_a_version_the_author_accepts(world: World, app: Any) -> None:
    case_id, p = world.case(author_must_accept_edits=True, initiator="either")
    video = world.processed_video(p, case_id, b"play")
    world.do(review.claim, p.facilitator, video)
    staff = world.sign_in(app, p.facilitator)
    page = staff.get(f"/staff/messages/{video}")
    assert 'value="edit-transcript"' in page.text
    answer = staff.post(f"/staff/messages/{video}", data={
        "csrf_token": csrf_of(page), "action": "edit-transcript", "text": "Hello Sam. I wanted to say sorry.",
        "note": "I wrote down what you said.", "version": re.findall(r'name="version" value="(\d+)"', page.text)[0]},
        follow_redirects=False)
    assert answer.status_code == 303
    said = FLASH.search(staff.get(answer.headers["location"]).text)
    assert said is not None and said.group(1) == "Transcript edit proposed."

    def latest(s: Any, svc: Any) -> tuple[MessageVersion, str, str | None]:
        v = s.scalars(select(MessageVersion).where(MessageVersion.message_id == video)
                      .order_by(MessageVersion.number.desc())).first()
        return v, blobs.load_text(s, svc.store, v.body_blob_id), v.body_upload_id

    version, text, upload = world.do(latest)
    assert version.number == 2 and version.origin == "facilitator" and text == "Hello Sam. I wanted to say sorry."
    assert upload is not None  # the same recording
    with world.svc.db.uow() as uow:  # the worker's part, as tests/world.py processed_video stands in for it
        wanted = processing.begin(uow.session, world.svc, version.id)
        assert wanted is not None
        media = blobs.store_bytes(uow.session, world.svc.store, b"play")
        report = blobs.store_text(uow.session, world.svc.store, '{"flags": [], "removed": []}')
        transcript = blobs.store_text(uow.session, world.svc.store, text)
        uow.session.flush()
        processing.finish(uow.session, world.svc, version.id, processed_blob_id=media.id, report_blob_id=report.id,
                          flag_count=0, media=processing.MediaFacts("video/mp4", 3000, None),
                          transcript_blob_id=transcript.id)
        uow.commit()
    assert world.do(lambda s, svc: s.get(Message, video).state) == "awaiting_author"
    world.do(authoring.accept_edit, p.harmed, video)
    assert world.do(lambda s, svc: s.get(Message, video).state) in ("in_review", "awaiting_review")
    shown = staff.get(f"/staff/messages/{video}")
    assert "Hello Sam. I wanted to say sorry." in shown.text
    # a letter has no transcript to write
    letter = _letter(world, p.harmed, case_id, "Dear Sam.")
    world.run_jobs()
    world.do(review.claim, p.facilitator, letter)
    page = staff.get(f"/staff/messages/{letter}")
    assert 'value="edit-transcript"' not in page.text
    refused = staff.post(f"/staff/messages/{letter}", data={
        "csrf_token": csrf_of(page), "action": "edit-transcript", "text": "x",
        "version": re.findall(r'name="version" value="(\d+)"', page.text)[0]}, follow_redirects=False)
    assert refused.status_code == 400


def test_the_review_page_lists_its_keyboard_shortcuts_and_the_dates_of_the_message(world: World, app: Any) -> None:
    _case_a, _case_b, p, made = _desk(world)
    world.do(review.claim, p.facilitator, made["plain"])
    staff = world.sign_in(app, p.facilitator)
    page = staff.get(f"/staff/messages/{made['plain']}?kind=letter")
    shortcuts = re.search(r'<section[^>]*id="shortcuts".*?</section>', page.text, re.DOTALL)
    assert shortcuts is not None
    for key, words in (("a", "Approve"), ("c", "Request changes"), ("n", "Next"), ("j", "Next"), ("k", "Previous")):
        assert re.search(rf"<kbd>{key}</kbd>\s*</dt>\s*<dd>{words}", shortcuts.group(0)), key
    assert f'href="/staff?go=next&amp;from={made["plain"]}&amp;kind=letter" data-shortcut="n"' in page.text
    # "next" from the review page: a GET that only reads and goes to the neighbour in the filtered queue
    after = staff.get(f"/staff?go=next&from={made['plain']}&kind=letter", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/staff/messages/")
    before = staff.get(f"/staff?go=previous&from={made['plain']}&kind=letter", follow_redirects=False)
    assert before.headers["location"] == f"/staff/messages/{made['flagged']}?kind=letter"
    timeline = re.search(r'<section[^>]*id="timeline".*?</section>', page.text, re.DOTALL)
    assert timeline is not None
    for step in ("Draft started by the person responsible", "Sent for review",
                 "Version 1 (the person responsible's) processed",
                 "Claimed by"):
        assert step in html.unescape(timeline.group(0)), step
