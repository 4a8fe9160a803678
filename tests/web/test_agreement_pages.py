"""Issue 11's pages over HTTP: the facilitators draft the agreement, one side asks for a change, both
agree, items are marked and shown to whoever asked to hear; the case closes with a reason; each
participant sees a plain closing page with what they received and the optional questionnaire."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from forms import csrf_of, post_form, sign_in_page
from sqlalchemy import select
from world import World

from shuttle.agreements.models import FeedbackAnswer
from shuttle.cases import preparation
from shuttle.cases.models import Case
from shuttle.messages import authoring, delivery, review
from shuttle.services import Services


@pytest.fixture
def world(sqlite_svc: Services) -> World:
    return World(sqlite_svc)


def _text(page: Any) -> str:
    main = page.text[page.text.index("<main"):]
    return re.sub(r"\s+([:,.;)])", r"\1", re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))))


def _textarea(page: Any, field_id: str) -> str:
    found = re.search(rf'<textarea id="{field_id}"[^>]*>(.*?)</textarea>', page.text, re.DOTALL)
    assert found, f"no field {field_id}"
    return html.unescape(found.group(1))


def _summary_links_to(page: Any, field_id: str) -> str:
    found = re.search(rf'<div class="error-summary"[^>]*>.*?<a href="#{field_id}">(.*?)</a>', page.text, re.DOTALL)
    assert found, f"no error summary linked to {field_id}"
    assert f'id="{field_id}"' in page.text, "the summary links to a field on the page"
    return html.unescape(found.group(1))


def _draft(world: World, client: Any, case_id: str, **rows: str) -> Any:
    url = f"/staff/cases/{case_id}/agreement"
    return post_form(client, url, client.get(url), action="draft", **rows)


ITEM_1 = {"item-1-what": "Sam writes to the school about the broken window", "item-1-owner": "responsible",
          "item-1-check": "Fiona reads the letter before it is sent"}


def test_the_agreement_from_draft_to_both_sides_agreeing(world: World, app: Any) -> None:
    case_id, p = world.case(label_responsible="Sam")
    world.do(preparation.record_wishes, p.facilitator, case_id, p.participant_ids[p.harmed.account_id or ""],
             questions=[], wants_reply=None, wants_outcome_news=True)
    fiona, _ = sign_in_page(app, world, p.facilitator)
    jessica, _ = sign_in_page(app, world, p.harmed)
    sam, _ = sign_in_page(app, world, p.responsible)
    mine = f"/me/cases/{case_id}/agreement"
    assert f"/staff/cases/{case_id}/agreement" in fiona.get(f"/staff/cases/{case_id}").text
    assert "No agreement has been drafted yet" in _text(fiona.get(f"/staff/cases/{case_id}/agreement"))
    due = (world.svc.now().date() + timedelta(days=3)).isoformat()
    _draft(world, fiona, case_id, **ITEM_1, **{"item-1-due": due})

    # Jessica sees Sam only by the label the facilitator set; she asks for a change, with a note.
    page = jessica.get(mine)
    seen = _text(page)
    assert "Your agreement with Sam" in seen and "By: Sam" in seen and "Fiona reads the letter" in seen
    refused = jessica.post(mine, data={"csrf_token": csrf_of(page), "action": "answer", "version": "1",
                                       "decision": "change", "note": "  "})
    assert refused.status_code == 400
    assert "Say what you would like changed" in _summary_links_to(refused, "note")
    asked = post_form(jessica, mine, page, action="answer", version="1", decision="change",
                      note="Also to me, please")
    assert asked.headers["location"] == f"{mine}?done=answered"
    assert "A change was asked for" in _text(sam.get(mine))
    assert "Also to me, please" not in sam.get(mine).text  # the note is the facilitators' to read
    staff = _text(fiona.get(f"/staff/cases/{case_id}/agreement"))
    assert "The person harmed asked for a change" in staff and "Also to me, please" in staff

    # A new version, both agree, then items are tracked.
    _draft(world, fiona, case_id, **{**ITEM_1, "item-1-what": "Sam writes to Jessica and the school"},
           **{"item-1-due": due})
    for client in (jessica, sam):
        post_form(client, mine, client.get(mine), action="answer", version="2", decision="agree")
    staff_page = fiona.get(f"/staff/cases/{case_id}/agreement")
    assert "Agreed by both sides" in _text(staff_page)
    dashboard = _text(fiona.get("/staff"))
    assert "Agreement items and check-ins due" in dashboard and f"due {due}" in dashboard
    item_id = re.search(r'name="item_id" value="([0-9a-f]{32})"', staff_page.text)
    assert item_id
    refused = fiona.post(f"/staff/cases/{case_id}/agreement", data={
        "csrf_token": csrf_of(staff_page), "action": "mark", "item_id": item_id.group(1), "status": "varied",
        "note": ""})
    assert refused.status_code == 400 and "Say how the item was varied" in _summary_links_to(
        refused, f"note-{item_id.group(1)}")
    post_form(fiona, f"/staff/cases/{case_id}/agreement", staff_page, action="mark", item_id=item_id.group(1),
              status="done", note="Both letters seen")
    assert "Agreement items and check-ins due" not in _text(fiona.get("/staff"))
    assert "Now: done" in _text(jessica.get(mine))  # she asked to hear how it is kept
    assert "Now:" not in _text(sam.get(mine))  # he did not
    assert "Both letters seen" not in jessica.get(mine).text


def test_a_bad_draft_shows_the_form_again_with_the_words_and_the_field_named(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/agreement"
    page = fiona.get(url)
    answer = fiona.post(url, data={"csrf_token": csrf_of(page), "action": "draft", **ITEM_1,
                                   "item-2-what": "Jessica chooses where", "item-2-owner": "harmed",
                                   "item-2-check": ""})
    assert answer.status_code == 400
    assert "Item 2: say how it will be checked" in _summary_links_to(answer, "item-2-check")
    assert _textarea(answer, "item-1-what") == ITEM_1["item-1-what"]
    assert _textarea(answer, "item-2-what") == "Jessica chooses where"
    answer = fiona.post(url, data={"csrf_token": csrf_of(page), "action": "draft", **ITEM_1,
                                   "item-1-due": "next Tuesday"})
    assert answer.status_code == 400 and "2027-03-14" in _summary_links_to(answer, "item-1-due")
    for who in (p.harmed, p.coordinator, p.outsider_facilitator):
        client, _ = sign_in_page(app, world, who)
        assert client.get(url).status_code == 404


def test_closing_with_a_reason_then_the_closing_page_and_the_questionnaire(world: World, app: Any) -> None:
    case_id, p = world.case()
    letter = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I wanted you to know.")
    world.do(authoring.submit, p.harmed, letter.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, letter.id)
    world.do(review.approve, p.facilitator, letter.id)
    world.do(delivery.open_message, p.responsible, letter.id)
    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/agreement"
    page = fiona.get(url)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    answer = fiona.post(url, data={"csrf_token": csrf_of(page), "action": "close", "confirm": "yes",
                                   "version": version.group(1)})
    assert answer.status_code == 400 and "Say why the case closes" in _summary_links_to(answer, "reason-close")
    post_form(fiona, url, page, action="close", reason="completed", confirm="yes", version=version.group(1))
    assert "it closes as completed" in _text(fiona.get(url))

    sam, _ = sign_in_page(app, world, p.responsible)
    home = sam.get("/me")
    assert f"/me/cases/{case_id}/agreement" in home.text
    mine = f"/me/cases/{case_id}/agreement"
    closing = sam.get(mine)
    seen = _text(closing)
    assert "is coming to an end" in seen and "Dear Sam, I wanted you to know." in seen
    assert "Would you tell us how it went?" in seen
    refused = sam.post(mine, data={"csrf_token": csrf_of(closing), "action": "feedback", "choice": "answer",
                                   "comment": "x" * 2001})
    assert refused.status_code == 400 and _textarea(refused, "comment") == "x" * 2001
    _summary_links_to(refused, "comment")
    post_form(sam, mine, closing, action="feedback", choice="answer", satisfied="4", recommend="yes",
              comment="Glad I did it")
    assert "Would you tell us how it went?" not in _text(sam.get(mine))
    jessica, _ = sign_in_page(app, world, p.harmed)
    post_form(jessica, mine, jessica.get(mine), action="feedback", choice="decline")
    with world.svc.db.uow() as uow:
        rows = uow.session.scalars(select(FeedbackAnswer)).all()
        assert [(r.side, r.satisfied, r.recommend) for r in rows] == [("responsible", 4, True)]

    post_form(fiona, url, fiona.get(url), action="finish", confirm="yes")
    with world.svc.db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None and case.status == "closed"
    assert "has ended" in _text(sam.get(mine)) and "Dear Sam, I wanted you to know." in _text(sam.get(mine))
    assert fiona.get(f"/staff/cases/{case_id}").status_code == 200  # its timeline reads the new events


def test_a_supporter_sees_no_agreement_but_is_offered_the_questionnaire(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, _ = sign_in_page(app, world, p.facilitator)
    _draft(world, fiona, case_id, **ITEM_1)
    sue, _ = sign_in_page(app, world, p.supporter)
    mine = f"/me/cases/{case_id}/agreement"
    assert "Sam writes to the school" not in sue.get(mine).text
    url = f"/staff/cases/{case_id}/agreement"
    page = fiona.get(url)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    post_form(fiona, url, page, action="close", reason="not_contacted", confirm="yes", version=version.group(1))
    assert "Would you tell us how it went?" in _text(sue.get(mine))


def test_the_agreement_through_the_api(world: World, app: Any) -> None:
    case_id, p = world.case()
    fiona, jessica, sam = (world.sign_in(app, actor) for actor in (p.facilitator, p.harmed, p.responsible))
    api = f"/api/v1/cases/{case_id}"
    refused = fiona.post(f"{api}/agreement/versions", json={"items": [{"what": "x", "owner": "responsible",
                                                                        "check": "", "due_on": "soon"}]})
    assert refused.status_code == 400 and "due_on" in refused.json()["message"]
    item = {"what": "Sam repairs the fence", "owner": "responsible", "due_on": None, "check": "Fiona looks"}
    assert fiona.post(f"{api}/agreement/versions", json={"items": [item]}).json() == {"version": 1}
    assert jessica.post(f"{api}/agreement/answers", json={"version": 1, "decision": "change",
                                                          "note": "Paint it too"}).json() == {"state": "change_asked"}
    mine = sam.get(f"{api}/agreement").json()
    assert mine["other_answer"] == "change" and "Paint it too" not in str(mine)
    assert "Paint it too" in str(fiona.get(f"{api}/agreement").json())
    fiona.post(f"{api}/agreement/versions", json={"items": [{**item, "what": "Sam repairs and paints the fence"}]})
    assert jessica.post(f"{api}/agreement/answers", json={"version": 2, "decision": "agree"}).status_code == 200
    assert sam.post(f"{api}/agreement/answers", json={"version": 2, "decision": "agree"}).json() == {
        "state": "agreed"}
    staff = fiona.get(f"{api}/agreement").json()
    assert staff["agreed_version"] == 2 and staff["agreed_at"]
    item_id = staff["versions"][0]["items"][0]["id"]
    assert fiona.post(f"{api}/agreement/items/{item_id}/updates", json={"status": "done"}).status_code == 201
    assert sam.post(f"{api}/feedback", json={"satisfied": 5}).status_code == 409  # not closing yet
    assert fiona.post(f"{api}/closure", json={"reason": "someday"}).status_code == 400
    assert fiona.post(f"{api}/closure", json={"reason": "completed"}).json() == {"status": "closing",
                                                                                  "reason": "completed"}
    assert sam.post(f"{api}/feedback", json={"satisfied": 7}).status_code == 400
    assert sam.post(f"{api}/feedback", json={"declined": True}).json() == {"done": True}
    assert sam.post(f"{api}/feedback", json={"satisfied": 5}).status_code == 409  # asked once
    checkins = fiona.get(f"{api}/checkins").json()
    assert len(checkins) == 6 and all(c["done_at"] is None for c in checkins)
    assert fiona.post(f"{api}/checkins/{checkins[0]['id']}", json={"wellbeing": "Well",
                                                                   "got_what_wanted": "maybe"}).status_code == 400
    assert fiona.post(f"{api}/checkins/{checkins[0]['id']}", json={"wellbeing": "Well",
                                                                   "got_what_wanted": "yes"}).json() == {"done": True}
    cora = world.sign_in(app, p.coordinator)
    entry = cora.post("/api/v1/support-services", json={"name": "Victim Support", "helps_with": "Listening",
                                                         "how_to_reach": "0808 168 9111"}).json()
    assert [e["name"] for e in fiona.get("/api/v1/support-services").json()] == ["Victim Support"]
    jessica_id = p.participant_ids[p.harmed.account_id or ""]
    assert fiona.post(f"{api}/participants/{jessica_id}/support", json={"service_id": entry["id"]}).status_code == 200
    assert [e["name"] for e in jessica.get(f"{api}/agreement").json()["support"]] == ["Victim Support"]
    assert cora.patch(f"/api/v1/support-services/{entry['id']}", json={"active": False}).status_code == 200
    assert fiona.get("/api/v1/support-services").json() == []
    assert fiona.post(f"{api}/closure/finish", json={}).json() == {"status": "closed", "reason": "completed"}


def test_aftercare_pages_checkins_and_signposting(world: World, app: Any) -> None:
    case_id, p = world.case()
    cora, _ = sign_in_page(app, world, p.coordinator)
    directory = cora.get("/coordinator/support-services")
    assert "The directory is empty" in _text(directory)
    refused = cora.post("/coordinator/support-services", data={
        "csrf_token": csrf_of(directory), "name": "Victim Support", "helps_with": "", "how_to_reach": "0808"})
    assert refused.status_code == 400 and "Give what it helps with" in _summary_links_to(refused, "helps_with")
    assert 'value="Victim Support"' in refused.text
    post_form(cora, "/coordinator/support-services", directory, name="Victim Support",
              helps_with="Emotional support after a crime", how_to_reach="Call 0808 168 9111")

    fiona, _ = sign_in_page(app, world, p.facilitator)
    url = f"/staff/cases/{case_id}/agreement"
    page = fiona.get(url)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    post_form(fiona, url, page, action="close", reason="completed", confirm="yes", version=version.group(1))
    page = fiona.get(url)
    checkin = re.search(r'name="checkin_id" value="([0-9a-f]{32})"', page.text)
    assert checkin and "Check-ins" in _text(page)
    refused = fiona.post(url, data={"csrf_token": csrf_of(page), "action": "checkin", "checkin_id": checkin.group(1),
                                    "wellbeing": "Calmer now", "got_what_wanted": ""})
    assert refused.status_code == 400 and _textarea(refused, f"wellbeing-{checkin.group(1)}") == "Calmer now"
    _summary_links_to(refused, f"got_what_wanted-{checkin.group(1)}")
    post_form(fiona, url, page, action="checkin", checkin_id=checkin.group(1), wellbeing="Calmer now",
              got_what_wanted="yes")
    assert "How they are: Calmer now" in _text(fiona.get(url))
    service_id = re.search(r'<option value="([0-9a-f]{32})">Victim Support', page.text)
    assert service_id
    post_form(fiona, url, page, action="share", participant_id=p.participant_ids[p.responsible.account_id or ""],
              service_id=service_id.group(1))
    sam, _ = sign_in_page(app, world, p.responsible)
    seen = _text(sam.get(f"/me/cases/{case_id}/agreement"))
    assert "Support you can turn to" in seen and "Call 0808 168 9111" in seen
    jessica, _ = sign_in_page(app, world, p.harmed)
    assert "Support you can turn to" not in _text(jessica.get(f"/me/cases/{case_id}/agreement"))
    assert fiona.get("/coordinator/support-services").status_code == 404
