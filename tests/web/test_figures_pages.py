"""The coordinator's figures page over HTTP: charts drawn on the server as SVG that parses as XML, each
with a title and a description and a table of the same numbers beside it; the CSV download has the
page's numbers; only the coordinator gets either."""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from forms import sign_in_page
from support import Clock
from world import World, web_client

from shuttle.referrals import service as referrals

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
ROW = re.compile(r'<tr data-key="([^"]+)"><th scope="row">[^<]*</th><td>([^<]*)</td></tr>')
NS = "{http://www.w3.org/2000/svg}"
POLICE = {"source": "police", "referrer_name": "PC Dawn Price", "referrer_organisation": "Northshire Police",
          "referrer_contact": "dawn.price@example.org", "person_name": "Sam Hill", "side": "responsible",
          "person_knows": "yes", "offence": "Criminal damage", "court": "not_sure", "contact_via_referrer": "yes"}


def _seed(world: World) -> Any:
    world.svc.clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))  # a Monday in 2026Q4
    case_id, p = world.case()
    for n in range(6):
        world.do(referrals.submit, POLICE, client=f"10.1.0.{n}")
    for _ in range(2):
        world.approved_letter(p, case_id)
    world.svc.clock.now += timedelta(days=3)  # type: ignore[attr-defined]
    return p


def _page_numbers(text: str) -> dict[str, str]:
    return {key: html.unescape(value) for key, value in ROW.findall(text)}


def test_the_figures_page_draws_each_chart_as_svg_with_the_numbers_beside_it_and_the_csv_has_them(
        app: Any, world: World) -> None:
    p = _seed(world)
    client, _ = sign_in_page(app, world, p.coordinator)
    page = client.get("/coordinator/figures")
    assert page.status_code == 200
    assert "Download these figures as CSV" in page.text
    running = re.findall(r'<script(?![^>]*type="application/json")', page.text.split("<main")[-1])
    assert not running  # no script runs after <main> (a JSON data block is not one)
    charts = SVG.findall(page.text)
    assert len(charts) == 6  # one per table of counts
    for chart in charts:
        root = ET.fromstring(chart)  # valid XML as written
        assert root.tag == f"{NS}svg" and root.get("role") == "img"
        title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    numbers = _page_numbers(page.text)
    assert numbers["referrals_by_source/police"] == "6"
    assert numbers["messages_by_kind/letter"] == "fewer than 5"
    assert numbers["satisfied_share"] == "not enough answers to show"
    police_bar = next(c for c in charts if "Referrals by source" in c)
    assert "Police: 6" in police_bar and 'width="260.0"' in police_bar  # the largest bar, full width

    download = client.get("/coordinator/figures.csv?quarter=2026Q4")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="shuttle-figures-2026Q4.csv"' in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    from_csv = {f"{r['figure']}/{r['item']}" if r["item"] else r["figure"]: r["value"] for r in rows}
    assert from_csv["referrals_by_source/police"] == "6" and from_csv["messages_by_kind/letter"] == "<5"
    words = {"<5": "fewer than 5"}
    assert {k: words.get(v, v) for k, v in from_csv.items()} == {
        k: v.removesuffix(" working hours").removesuffix("%") for k, v in numbers.items()}


def test_a_quarter_is_chosen_and_a_bad_one_is_said(app: Any, world: World) -> None:
    p = _seed(world)
    client, _ = sign_in_page(app, world, p.coordinator)
    earlier = client.get("/coordinator/figures?quarter=2026Q3")
    assert earlier.status_code == 200 and "July to September 2026" in earlier.text
    assert _page_numbers(earlier.text)["referrals_by_source/police"] == "fewer than 5"
    everything = client.get("/coordinator/figures?quarter=all")
    assert everything.status_code == 200 and _page_numbers(everything.text)["referrals_by_source/police"] == "6"
    bad = client.get("/coordinator/figures?quarter=2026Q9")
    assert bad.status_code == 400 and "Choose a quarter like 2026Q4, or all time." in bad.text
    assert client.get("/coordinator/figures.csv?quarter=2026Q9").status_code == 400


def test_only_the_coordinator_gets_the_figures(app: Any, world: World) -> None:
    p = _seed(world)
    for actor in (p.facilitator, p.harmed, p.supporter):
        client, _ = sign_in_page(app, world, actor)
        for url in ("/coordinator/figures", "/coordinator/figures.csv"):
            answer = client.get(url)
            assert answer.status_code == 404 and "Police" not in answer.text
    stranger = web_client(app)
    for url in ("/coordinator/figures", "/coordinator/figures.csv"):
        answer = stranger.get(url, follow_redirects=False)
        assert answer.status_code in (302, 303) and "/login" in answer.headers["location"]


def test_the_api_answers_the_same_numbers_to_the_coordinator_only(app: Any, world: World) -> None:
    p = _seed(world)
    page_client, _ = sign_in_page(app, world, p.coordinator)
    numbers = _page_numbers(page_client.get("/coordinator/figures?quarter=all").text)
    api = world.sign_in(app, p.coordinator)
    got = api.get("/api/v1/coordinator/figures", params={"quarter": "all"})
    assert got.status_code == 200
    body = got.json()
    assert body["period"] == "all" and body["label"] == "All time"
    values = {}
    for section in body["sections"]:
        for table in section["tables"]:
            for row in (*table["rows"], table["total"]):
                values[f"{table['key']}/{row['key']}"] = row
        for row in section["stats"]:
            values[row["key"]] = row
    assert values["referrals_by_source/police"]["value"] == 6
    assert values["messages_by_kind/letter"] == {"key": "letter", "label": "Letters", "value": None, "text": "<5"}
    words = {"<5": "fewer than 5"}
    assert {k: words.get(v["text"], v["text"]) for k, v in values.items()} == {
        k: v.removesuffix(" working hours").removesuffix("%") for k, v in numbers.items()}
    assert api.get("/api/v1/coordinator/figures", params={"quarter": "2026Q0"}).status_code == 400
    assert api.get("/api/v1/coordinator/figures").json()["period"] == "2026Q4"
    for actor in (p.facilitator, p.harmed):
        assert world.sign_in(app, actor).get("/api/v1/coordinator/figures").status_code == 404
