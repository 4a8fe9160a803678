"""The service's figures (issue 11): a set of cases seeded through the use cases over two quarters on a
moved clock, every figure counted again here from the seeded facts (plain Python, not the feature's
functions) and compared with what the figures use case shows; the suppression rules; the CSV."""

from __future__ import annotations

import csv
import io
import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select
from support import Clock
from world import World

from shuttle.agreements import aftercare
from shuttle.agreements import rules as agreement_rules
from shuttle.agreements import service as agreements
from shuttle.agreements.models import AgreementItem
from shuttle.cases import service as cases
from shuttle.errors import BadInput, NotFound
from shuttle.figures import rules
from shuttle.figures.view import Figures, csv_text, figures
from shuttle.messages import authoring, review
from shuttle.referrals import service as referrals
from shuttle.services import Services

START = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)  # a Monday in 2026Q3
Q4_START = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # a Monday in 2026Q4
END = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday: "today" when the figures are read
HOUR = timedelta(hours=1)

SELF = {"source": "self_harmed", "person_name": "Jessica Green", "offence": "Burglary at my home",
        "court": "no", "contact_phone": "07700 900982", "safe_message": "yes", "best_time": "after 6pm"}


def _agency(source: str) -> dict[str, str]:
    return {"source": source, "referrer_name": "PC Dawn Price", "referrer_organisation": "Northshire Police",
            "referrer_contact": "dawn.price@example.org", "person_name": "Sam Hill", "side": "responsible",
            "person_knows": "yes", "offence": "Criminal damage", "court": "not_sure", "contact_via_referrer": "yes"}


def qkey(moment: datetime | date) -> str:
    return f"{moment.year}Q{(moment.month - 1) // 3 + 1}"


def working_hours(start: datetime, end: datetime) -> float:
    """Hour by hour (every seeded time is on the hour): the hours that fall Monday to Friday."""
    hours, at = 0, start
    while at < end:
        hours += at.weekday() < 5
        at += HOUR
    return float(hours)


@dataclass
class Facts:
    """What the test did, in plain words: the figures are counted again from these."""

    referrals: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)
    cases: dict[str, tuple[str, str]] = field(default_factory=dict)  # case id -> (quarter begun, status now)
    closures: list[tuple[str, str]] = field(default_factory=list)  # (quarter, reason)
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (quarter, kind)
    decisions: list[tuple[str, str, float]] = field(default_factory=list)  # (quarter, kind, working hours)
    agreements: list[tuple[str, list[str | None]]] = field(default_factory=list)  # (quarter, item marks)
    feedback: list[tuple[str, int | None, bool | None]] = field(default_factory=list)
    checkins: list[tuple[date, datetime | None]] = field(default_factory=list)


class Seed:
    def __init__(self, world: World, clock: Clock) -> None:
        self.world, self.clock, self.facts = world, clock, Facts()
        first, self.p = world.case()  # the accounts; this first case is left open
        self.facts.cases[first] = (qkey(clock.now), "open")
        self._clients = 0

    def at(self, moment: datetime) -> None:
        assert moment >= self.clock.now
        self.clock.now = moment

    def later(self, hours: float) -> None:
        self.clock.now += timedelta(hours=hours)

    # --- referrals ---

    def referral(self, source: str) -> str:
        self._clients += 1
        raw = SELF if source == "self_harmed" else _agency(source)
        made = self.world.do(referrals.submit, raw, client=f"10.0.0.{self._clients}")
        return str(made.id)

    def contact(self, referral_id: str, received: datetime, after_hours: int | None, source: str) -> None:
        contacted = None
        if after_hours is not None:
            contacted = received + after_hours * HOUR
            self.world.do(referrals.record_contact, self.p.coordinator, referral_id, method="phone",
                          outcome="no_answer", at=received + HOUR / 2)  # a try that did not reach them
            self.world.do(referrals.record_contact, self.p.coordinator, referral_id, method="phone",
                          outcome="reached", at=contacted)
        self.facts.referrals.append((source, received, contacted))

    # --- a case's life ---

    def case(self) -> str:
        case_id, _ = self.world.case(people=self.p)
        self.facts.cases[case_id] = (qkey(self.clock.now), "open")
        return case_id

    def status(self, case_id: str, status: str) -> None:
        begun, _ = self.facts.cases[case_id]
        self.facts.cases[case_id] = (begun, status)

    def letter(self, case_id: str, review_hours: float, *, returned_after: float | None = None) -> None:
        """The harmed side writes; the facilitator returns it once (if asked), then approves it."""
        w, p = self.world, self.p
        message = w.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, I have thought about it.")
        w.do(authoring.submit, p.harmed, message.id)
        sent = self.clock.now
        w.run_jobs()
        if returned_after is not None:
            self.later(returned_after)
            w.do(review.claim, p.facilitator, message.id)
            w.do(review.request_changes, p.facilitator, message.id, note="Please leave out the street name.")
            self.facts.decisions.append((qkey(self.clock.now), "returned", working_hours(sent, self.clock.now)))
            self.later(1)
            w.do(authoring.save_draft, p.harmed, message.id, "Dear Sam, I have thought about it again.")
            w.do(authoring.submit, p.harmed, message.id)
            sent = self.clock.now
            w.run_jobs()
        self.later(review_hours)
        w.do(review.claim, p.facilitator, message.id)
        w.do(review.approve, p.facilitator, message.id)
        self.facts.decisions.append((qkey(self.clock.now), "approved", working_hours(sent, self.clock.now)))
        self.facts.delivered.append((qkey(self.clock.now), "letter"))

    def video(self, case_id: str, review_hours: float) -> None:
        w, p = self.world, self.p
        message_id = w.processed_video(p, case_id, b"\x00\x00\x00\x18ftypmp42")
        sent = self.clock.now
        self.later(review_hours)
        w.do(review.claim, p.facilitator, message_id)
        w.do(review.approve, p.facilitator, message_id)
        self.facts.decisions.append((qkey(self.clock.now), "approved", working_hours(sent, self.clock.now)))
        self.facts.delivered.append((qkey(self.clock.now), "video"))

    def agreement(self, case_id: str, marks: list[str | None]) -> None:
        w, p = self.world, self.p
        items = [agreement_rules.Item(f"Item {n}", "responsible", None, "The facilitator asks")
                 for n in range(len(marks))]
        w.do(agreements.draft_version, p.facilitator, case_id, items)
        w.do(agreements.answer, p.harmed, case_id, version=1, decision="agree")
        w.do(agreements.answer, p.responsible, case_id, version=1, decision="agree")
        with w.svc.db.uow() as uow:
            version = agreements.latest_version(uow.session, agreements.agreement_of(uow.session, case_id))
            assert version is not None
            ids = list(uow.session.scalars(select(AgreementItem.id).where(AgreementItem.version_id == version.id)
                                           .order_by(AgreementItem.number)))
        for item_id, mark in zip(ids, marks, strict=True):
            if mark == "varied":  # varied first, then settled: the latest mark counts
                w.do(agreements.mark_item, p.facilitator, case_id, item_id, status="varied", note="A later date")
            elif mark is not None:
                w.do(agreements.mark_item, p.facilitator, case_id, item_id, status="varied", note="Moved")
                w.do(agreements.mark_item, p.facilitator, case_id, item_id, status=mark, note="")
        self.facts.agreements.append((qkey(self.clock.now), marks))

    def close(self, case_id: str, reason: str, answers: list[tuple[int | None, bool | None] | None], *,
              finish: bool = True) -> None:
        w, p = self.world, self.p
        w.do(agreements.close_case, p.facilitator, case_id, reason=reason)
        closed = qkey(self.clock.now)
        self.facts.closures.append((closed, reason))
        for actor, answer in zip((p.harmed, p.responsible, p.harmed_proxy, p.supporter), answers, strict=False):
            w.do(agreements.give_feedback, actor, case_id,
                 None if answer is None else agreement_rules.Answers(answer[0], answer[1], ""))
            if answer is not None:
                self.facts.feedback.append((closed, *answer))
        if finish:
            w.do(agreements.finish_case, p.facilitator, case_id)
        self.status(case_id, "closed" if finish else "closing")

    def checkins(self, case_ids: list[str]) -> None:
        """Every third check-in recorded on its day, every third two days late, the rest never; the clock
        moves forward to each in turn. Check-ins due after END are left (not counted yet)."""
        w, p = self.world, self.p
        plan = []
        for case_id in case_ids:
            for n, c in enumerate(w.do(aftercare.checkins, p.facilitator, case_id)):  # by due day, then side
                fate = n % 3
                when = None if fate == 2 else datetime.combine(c.due_on, datetime.min.time(), UTC) + timedelta(
                    days=2 * fate, hours=10)
                if when is not None and when > END:
                    when = None
                plan.append((when, case_id, c.id, c.due_on))
        for when, case_id, checkin_id, due_on in sorted(plan, key=lambda x: (x[0] is None, x[0] or END, x[2])):
            if when is not None:
                self.at(max(when, self.clock.now))
                w.do(aftercare.record_checkin, p.facilitator, case_id, checkin_id, wellbeing="Doing well",
                     got_what_wanted="partly")
            self.facts.checkins.append((due_on, self.clock.now if when is not None else None))


def seed(world: World, clock: Clock) -> Seed:
    s = Seed(world, clock)
    # --- 2026Q3 ---
    received = clock.now
    sources = ["police"] * 6 + ["victim_services"] * 5 + ["self_harmed"] * 2
    ids = [s.referral(src) for src in sources]
    s.at(START + timedelta(days=8))  # every referral is past its 48 working hours
    # hours after receipt (Monday 09:00): within 48 working hours or not; some never reached
    contacts = [2, 6, 20, 30, 47, 49, 72, 106, 26, None, None, 3, None]
    for referral_id, after, src in zip(ids, contacts, sources, strict=True):
        s.contact(referral_id, received, after, src)

    s.at(datetime(2026, 7, 20, 9, 0, tzinfo=UTC))  # Monday
    q3 = []
    plans = [  # (review hours, returned after, agreement marks, closure reason, feedback answers, finish)
        (3, None, ["done", "done"], "completed", [(5, True), (4, True), None], True),
        (8, 5, ["done", "missed"], "completed", [(3, False), (5, True), (4, None)], True),
        (27, None, ["varied", "done"], "completed", [(2, False), None, (5, True)], True),
        (50, None, ["done", None], "withdrawn_harmed", [(4, True), (1, False)], True),
        (4, 30, ["missed", "done"], "completed", [(5, True), (None, True)], True),
        (12, None, ["done", "done"], "not_suitable", [(4, False)], False),
    ]
    for review_hours, returned, marks, _, _, _ in plans:
        case_id = s.case()
        q3.append(case_id)
        s.letter(case_id, review_hours, returned_after=returned)
        s.agreement(case_id, marks)
        s.at(s.clock.now + timedelta(days=7 - s.clock.now.weekday(), hours=-s.clock.now.hour + 9))  # next Monday
    for case_id, (_, _, _, reason, answers, finish) in zip(q3, plans, strict=True):  # closed the same day
        s.close(case_id, reason, answers, finish=finish)
        s.later(1)
    paused = s.case()
    s.letter(paused, 2)
    s.video(paused, 6)
    s.world.do(cases.set_status, s.p.facilitator, paused, "paused")
    s.status(paused, "paused")
    s.checkins(q3)

    # --- 2026Q4 ---
    s.at(Q4_START)
    q4 = []
    for review_hours, reason, answers in [(5, "completed", [(5, True), (2, False)]),
                                          (9, "withdrawn_responsible", [(4, True)])]:
        case_id = s.case()
        q4.append(case_id)
        s.letter(case_id, review_hours)
        s.agreement(case_id, ["done"])
        s.close(case_id, reason, answers)
        s.later(24 * 3)
    s.checkins(q4)
    s.at(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    late = s.case()  # closed a few days before END: its later check-ins are not due yet
    s.close(late, "not_contacted", [], finish=False)
    s.at(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # Thursday: two referrals, one reached
    received = s.clock.now
    late_ones = [(s.referral(src), after, src) for src, after in (("probation", 3), ("probation", None))]
    s.at(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))
    for referral_id, after, src in late_ones:  # the second is still within its 48 working hours at END
        s.contact(referral_id, received, after, src)
    s.checkins([late])
    s.at(END)
    return s


# --- counting again, in plain Python ----------------------------------------------------------------

def shown_count(n: int) -> str:
    return str(n) if n >= 5 else "fewer than 5"


def shown_table(counts: dict[str, int]) -> dict[str, str]:
    out = {k: shown_count(v) for k, v in counts.items()}
    hidden = [v for v in counts.values() if v < 5]
    total = sum(counts.values())
    gives_away = len(hidden) == 1 or (len(hidden) > 1 and sum(hidden) in (0, 4 * len(hidden)))
    out["total"] = "not shown" if gives_away and total >= 5 else shown_count(total)
    return out


def shown_share(part: int, base: int) -> str:
    return f"{round(100 * part / base)}%" if base >= 5 else "not enough answers to show"


def shown_median(values: list[float]) -> str:
    return f"{round(statistics.median(values), 1):g} working hours" if len(values) >= 5 else \
        "not enough answers to show"


def expected(facts: Facts, key: str, today: date, now: datetime) -> dict[str, str]:
    def inq(moment: datetime | date) -> bool:
        return key == "all" or qkey(moment) == key

    out: dict[str, str] = {}

    def table(name: str, categories: list[str], values: list[str]) -> None:
        counted = Counter(values)
        for item, text in shown_table({c: counted.get(c, 0) for c in categories}).items():
            out[f"{name}/{item}"] = text

    refs = [r for r in facts.referrals if inq(r[1])]
    table("referrals_by_source", ["self_harmed", "self_responsible", "police", "victim_services",
                                  "youth_offending_team", "probation", "prison", "other_agency"], [r[0] for r in refs])
    hours = [working_hours(r[1], r[2]) for r in refs if r[2] is not None]
    out["first_contact_median_hours"] = shown_median(hours)
    judged = [r for r in refs if r[2] is not None or working_hours(r[1], now) > 48]
    out["first_contact_within_share"] = shown_share(
        sum(1 for r in judged if r[2] is not None and working_hours(r[1], r[2]) <= 48), len(judged))
    table("cases_by_status", ["preparation", "open", "paused", "closing", "closed"],
          [status for begun, status in facts.cases.values() if key in ("all", begun)])
    table("cases_by_closure_reason", ["completed", "withdrawn_harmed", "withdrawn_responsible", "not_suitable",
                                      "not_contacted"], [r for q, r in facts.closures if key in ("all", q)])
    table("messages_by_kind", ["letter", "audio", "video", "image"], [k for q, k in facts.delivered
                                                                      if key in ("all", q)])
    decided = [(k, h) for q, k, h in facts.decisions if key in ("all", q)]
    table("review_decisions", ["approved", "returned"], [k for k, _ in decided])
    out["review_median_hours"] = shown_median([h for _, h in decided])
    made = [marks for q, marks in facts.agreements if key in ("all", q)]
    out["agreements_made"] = shown_count(len(made))
    table("agreement_items", ["done", "missed", "varied", "unmarked"],
          [m or "unmarked" for marks in made for m in marks])
    answers = [(s, r) for q, s, r in facts.feedback if key in ("all", q)]
    out["feedback_answers"] = shown_count(len(answers))
    rated = [s for s, _ in answers if s is not None]
    out["satisfied_share"] = shown_share(sum(1 for s in rated if s >= 4), len(rated))
    said = [r for _, r in answers if r is not None]
    out["recommend_share"] = shown_share(sum(1 for r in said if r), len(said))
    due = [(d, done) for d, done in facts.checkins if d <= today and inq(d)]
    out["checkins_due"] = shown_count(len(due))
    out["checkins_on_time_share"] = shown_share(sum(1 for d, done in due if done is not None and done.date() <= d),
                                                len(due))
    return out


def page_numbers(view: Figures) -> dict[str, str]:
    out = {}
    for section in view.sections:
        for table in section.tables:
            for row in (*table.rows, table.total):
                out[f"{table.key}/{row.key}"] = row.cell.text
        for row in section.stats:
            out[row.key] = row.cell.text
    return out


@pytest.fixture
def seeded(svc: Services) -> Seed:
    clock = Clock(START)
    svc.clock = clock
    return seed(World(svc), clock)


def test_every_figure_matches_an_independent_count(seeded: Seed) -> None:
    s = seeded
    facts, today = s.facts, END.date()
    for key in ("2026Q3", "2026Q4", "all"):
        view = s.world.do(figures, s.p.coordinator, key)
        assert view.period.key == key
        assert page_numbers(view) == expected(facts, key, today, END), key
    # the seed is not trivial: the quarter shows real numbers, hides small ones, and hides a total
    q3 = page_numbers(s.world.do(figures, s.p.coordinator, "2026Q3"))
    assert q3["referrals_by_source/police"] == "6" and q3["referrals_by_source/self_harmed"] == "fewer than 5"
    assert q3["messages_by_kind/letter"] == "7" and q3["messages_by_kind/video"] == "fewer than 5"
    assert q3["review_decisions/returned"] == "fewer than 5" and q3["review_decisions/total"] == "not shown"
    assert q3["satisfied_share"].endswith("%") and q3["checkins_on_time_share"].endswith("%")
    assert q3["first_contact_median_hours"].endswith("working hours")
    q4 = page_numbers(s.world.do(figures, s.p.coordinator, "2026Q4"))
    assert q4["satisfied_share"] == "not enough answers to show"
    # no quarter given: the current one (END is in 2026Q4)
    assert s.world.do(figures, s.p.coordinator).period.key == "2026Q4"


def _statements(svc: Services, key: str, actor: object) -> int:
    seen: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).startswith("SELECT"):  # not the transaction's own BEGIN
            seen.append(str(args[2]))

    with svc.db.uow() as uow:
        event.listen(svc.db.engine, "before_cursor_execute", count)
        try:
            figures(uow.session, svc, actor, key)  # type: ignore[arg-type]
        finally:
            event.remove(svc.db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_figures_are_read_in_the_same_statements_whatever_the_period_holds(seeded: Seed) -> None:
    svc, coordinator = seeded.world.svc, seeded.p.coordinator
    counts = {key: _statements(svc, key, coordinator) for key in ("2026Q3", "2026Q4", "2025Q1", "all")}
    assert set(counts.values()) == {12}, counts


def test_the_csv_has_the_page_numbers(seeded: Seed) -> None:
    s = seeded
    for key in ("2026Q3", "all"):
        view = s.world.do(figures, s.p.coordinator, key)
        rows = list(csv.DictReader(io.StringIO(csv_text(view))))
        assert {r["period"] for r in rows} == {key}
        from_csv = {f"{r['figure']}/{r['item']}" if r["item"] else r["figure"]: r["value"] for r in rows}
        words = {"<5": "fewer than 5"}
        for name, text in page_numbers(view).items():
            value = from_csv.pop(name)
            assert words.get(value, value) == text.removesuffix(" working hours").removesuffix("%"), name
        assert from_csv == {}


def test_only_the_coordinator_sees_the_figures_and_a_bad_quarter_is_said(svc: Services) -> None:
    world = World(svc)
    _, p = world.case()
    for actor in (p.facilitator, p.harmed, p.supporter):
        with pytest.raises(NotFound):
            world.do(figures, actor, None)
    for bad in ("2026Q5", "Q4", "last", "2026-Q4", "1999Q1"):
        with pytest.raises(BadInput):
            world.do(figures, p.coordinator, bad)
    assert world.do(figures, p.coordinator, "2026q4").period.key == "2026Q4"


# --- the suppression rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "text", "csv_value"), [
    (0, "fewer than 5", "<5"), (1, "fewer than 5", "<5"), (4, "fewer than 5", "<5"), (5, "5", "5"), (17, "17", "17")])
def test_counts_under_5_are_not_shown(n: int, text: str, csv_value: str) -> None:
    cell = rules.count_cell(n)
    assert (cell.text, cell.csv, cell.shown) == (text, csv_value, n >= 5)


@pytest.mark.parametrize(("base", "shown"), [(4, False), (5, True)])
def test_a_share_or_median_needs_5(base: int, shown: bool) -> None:
    share = rules.share_cell(base - 1, base)
    median = rules.median_cell([1.0] * base, "hours")
    assert share.shown is shown and median.shown is shown
    assert share.text == (f"{round(100 * (base - 1) / base)}%" if shown else "not enough answers to show")
    assert median.csv == ("1" if shown else "not enough answers to show")


@pytest.mark.parametrize(("counts", "texts", "total"), [
    ([10, 3, 7], ["10", "fewer than 5", "7"], "not shown"),  # one hidden: the total would give it away
    ([10, 3, 2], ["10", "fewer than 5", "fewer than 5"], "15"),  # two hidden: only their sum is known
    ([10, 5, 7], ["10", "5", "7"], "22"),
    ([10, 0, 7], ["10", "fewer than 5", "7"], "not shown"),  # a zero is a count under 5 too
    ([6, 0, 0, 0], ["6", "fewer than 5", "fewer than 5", "fewer than 5"], "not shown"),  # all three would be 0
    ([6, 4, 4], ["6", "fewer than 5", "fewer than 5"], "not shown"),  # both would be 4
    ([6, 4, 3], ["6", "fewer than 5", "fewer than 5"], "13"),
    ([6, 1, 0, 0], ["6", "fewer than 5", "fewer than 5", "fewer than 5"], "7"),  # one is 1: not which
    ([1, 2], ["fewer than 5", "fewer than 5"], "fewer than 5"),
    ([4, 0], ["fewer than 5", "fewer than 5"], "fewer than 5"),
])
def test_complementary_suppression(counts: list[int], texts: list[str], total: str) -> None:
    cells, sum_cell = rules.counts_with_total(counts)
    assert [c.text for c in cells] == texts and sum_cell.text == total
    # whatever is shown, no hidden count can be worked out from the total minus the shown ones: every
    # way of filling the hidden cells with 0..4 that adds up leaves each hidden cell with two possible values
    hidden = [n for n, c in zip(counts, cells, strict=True) if not c.shown]
    if sum_cell.shown and hidden:
        fills = [f for f in itertools.product(range(5), repeat=len(hidden)) if sum(f) == sum(hidden)]
        assert all(len({f[i] for f in fills}) > 1 for i in range(len(hidden)))


def test_quarters() -> None:
    q = rules.quarter("2026Q4")
    assert (q.start, q.end, q.last_day) == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                                            date(2026, 12, 31))
    assert q.holds(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) and not q.holds(datetime(2027, 1, 1, tzinfo=UTC))
    assert rules.quarter("2026Q1").end == datetime(2026, 4, 1, tzinfo=UTC)
    assert rules.period("", today=date(2026, 5, 9)).key == "2026Q2"
    assert rules.period("all", today=date(2026, 5, 9)).start is None
    assert rules.recent_quarters(date(2026, 2, 1), 3) == ["2026Q1", "2025Q4", "2025Q3"]
    assert rules.quarter_key(date(2026, 11, 1)) == agreement_rules.quarter(date(2026, 11, 1))
