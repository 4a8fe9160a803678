"""The figures page's view (frozen dataclasses), its CSV, and the use case that builds them.

Every number the page shows comes from one `Figures` value; the CSV is written from the same
value, so the two cannot differ. Only the coordinator sees the figures (DESIGN.md section 8).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shuttle import permissions
from shuttle.cases.states import CLOSURE_WORDS, ClosureReason, Status, describe
from shuttle.errors import BadInput, NotFound
from shuttle.figures import counting, queries, rules
from shuttle.figures.rules import Shown
from shuttle.i18n import N_, Sentence
from shuttle.referrals.models import SOURCES
from shuttle.referrals.views import SOURCE_WORDS
from shuttle.services import Actor, Services

KINDS = ("letter", "audio", "video", "image")
#: The page's words are marked for staff.po (babel-staff.cfg) and translated where the page shows them
#: (titles, labels, sentences: Sentences keep their numbers); the CSV keeps the English.
KIND_WORDS = {"letter": N_("Letters"), "audio": N_("Audio recordings"), "video": N_("Video recordings"),
              "image": N_("Photographed letters")}
#: A case's status and closure reason as a table's row (cases.states' words, capitalised).
STATUS_LABELS = {"preparation": N_("In preparation"), "open": N_("Open"), "paused": N_("Paused"),
                 "closing": N_("Closing"), "closed": N_("Closed")}
CLOSURE_LABELS = {"completed": N_("Completed"), "withdrawn_harmed": N_("Withdrawn by the person harmed's side"),
                  "withdrawn_responsible": N_("Withdrawn by the person responsible's side"),
                  "not_suitable": N_("Not suitable"), "not_contacted": N_("Could not be contacted")}
ITEM_KEYS = ("done", "missed", "varied", "unmarked")
ITEM_WORDS = {"done": N_("Done"), "missed": N_("Not done (missed)"), "varied": N_("Changed by agreement (varied)"),
              "unmarked": N_("Not marked yet")}


@dataclass(frozen=True)
class Row:
    key: str  # stable, for the CSV and tests
    label: str
    cell: Shown


@dataclass(frozen=True)
class Table:
    """Counts by category (a bar chart and a table of the same numbers), with their total."""

    key: str
    title: str
    desc: str  # the chart's description, read by a screen reader
    rows: tuple[Row, ...]
    total: Row

    @property
    def largest(self) -> float:
        return max((r.cell.value or 0 for r in self.rows), default=0) or 1


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    about: str  # what is counted, in a sentence or two
    tables: tuple[Table, ...]
    stats: tuple[Row, ...]  # shares, medians and single counts


@dataclass(frozen=True)
class Figures:
    period: rules.Period
    choices: tuple[tuple[str, str], ...]  # (key, label), the current quarter first, then all time
    made_at: datetime
    promise_hours: int
    sections: tuple[Section, ...]

    def csv_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(section, figure, item, label, value): the page's numbers, as the page shows them."""
        out = []
        for section in self.sections:
            for table in section.tables:
                for row in (*table.rows, table.total):
                    out.append((section.key, table.key, row.key, row.label, row.cell.csv))
            for row in section.stats:
                out.append((section.key, row.key, "", row.label, row.cell.csv))
        return out


def _table(key: str, title: str, keys: Sequence[str], labels: Sequence[str], counts: Sequence[int]) -> Table:
    cells, total = rules.counts_with_total(counts)
    rows = tuple(Row(k, label, cell) for k, label, cell in zip(keys, labels, cells, strict=True))
    shown = [Sentence(N_("%(label)s: %(count)s"), label=_word(r.label), count=_word(r.cell.text)) for r in rows]
    return Table(key, title, Sentence(N_("%(title)s. %(shown)s. Total: %(total)s."), title=_word(title), shown=shown,
                                      total=_word(total.text)), rows, Row("total", N_("Total"), total))


def _word(text: str) -> str:
    """Text kept translatable inside a Sentence: a Sentence as it is, marked words as a Sentence of their own."""
    return text if isinstance(text, Sentence) else Sentence(text)


def build(rows: queries.Rows, period: rules.Period, *, now: datetime, promise_hours: int) -> Figures:
    """The figures of `rows` (already limited to `period`)."""
    hours = promise_hours or 48
    sources = _table("referrals_by_source", N_("Referrals by source"), SOURCES,
                     [SOURCE_WORDS.get(s, s) for s in SOURCES],
                     counting.tally((r.source for r in rows.referrals), SOURCES))
    contact = counting.first_contact(rows.referrals, promise_hours=hours, now=now)
    referrals = Section(
        "referrals", N_("Referrals and first contact"),
        Sentence(N_("Referrals received in the period. Time to first contact counts working hours (Monday to Friday) "
                    "from receipt to the first attempt that reached the person; the share within %(hours)s hours is "
                    "of the referrals contacted, and of those still not contacted after %(hours)s working hours "
                    "(those still within their time are not counted yet)."), hours=hours),
        (sources,),
        (Row("first_contact_median_hours", N_("Median time to first contact"),
             rules.median_cell(contact.hours, N_("working hours"))),
         Row("first_contact_within_share", Sentence(N_("Share contacted within %(hours)s working hours"), hours=hours),
             rules.share_cell(contact.in_time, contact.judged))))

    statuses = [s.value for s in Status]
    reasons = [r.value for r in ClosureReason]
    cases = Section(
        "cases", N_("Cases"),
        N_("Cases begun in the period, by where they stand today; and the cases whose closure (with its reason) was "
           "recorded in the period."),
        (_table("cases_by_status", N_("Cases by status today"), statuses,
                [STATUS_LABELS.get(s) or describe(Status(s)).capitalize() for s in statuses],
                counting.tally(rows.case_statuses, statuses)),
         _table("cases_by_closure_reason", N_("Cases closed, by reason"), reasons,
                [CLOSURE_LABELS.get(r) or CLOSURE_WORDS[ClosureReason(r)].capitalize() for r in reasons],
                counting.tally(rows.closure_reasons, reasons))),
        ())

    messages = Section(
        "messages", N_("Messages delivered"),
        N_("Messages released to the other side in the period (a message called back before it was opened is not "
           "counted), by kind."),
        (_table("messages_by_kind", N_("Messages delivered, by kind"), KINDS, [KIND_WORDS[k] for k in KINDS],
                counting.tally(rows.delivered_kinds, KINDS)),),
        ())

    decided = counting.review_turnaround(rows.submissions, rows.decisions, within=(period.start, period.end))
    review = Section(
        "review", N_("Review turnaround"),
        N_("Review decisions made in the period: a message approved, or returned to its author with changes asked. "
           "Turnaround is counted in working hours (Monday to Friday) from the author sending that version to the "
           "decision."),
        (_table("review_decisions", N_("Review decisions"), ("approved", "returned"),
                (N_("Approved"), N_("Returned for changes")),
                counting.tally((k for k, _ in decided), ("approved", "returned"))),),
        (Row("review_median_hours", N_("Median turnaround"), rules.median_cell(sorted(h for _, h in decided),
                                                                               N_("working hours"))),))

    items = counting.tally((s or "unmarked" for s in rows.item_statuses), ITEM_KEYS)
    agreements = Section(
        "agreements", N_("Outcome agreements"),
        N_("Agreements both sides agreed to in the period, and their items by their latest mark today."),
        (_table("agreement_items", N_("Agreement items, by how they were kept"), ITEM_KEYS,
                [ITEM_WORDS[k] for k in ITEM_KEYS], items),),
        (Row("agreements_made", N_("Agreements made (agreed by both sides)"), rules.count_cell(rows.agreements)),))

    said = counting.satisfaction(rows.feedback)
    feedback = Section(
        "feedback", N_("Satisfaction"),
        N_("Questionnaire answers given when cases closed in the period (the answers are kept apart from who gave "
           "them, with only the quarter the case closed in). Satisfied means 4 or 5 on a scale of 1 to 5."),
        (),
        (Row("feedback_answers", N_("Questionnaires answered"), rules.count_cell(said.answers)),
         Row("satisfied_share", N_("Share satisfied (4 or 5 out of 5)"), rules.share_cell(said.satisfied, said.rated)),
         Row("recommend_share", N_("Share who would recommend the service"),
             rules.share_cell(said.recommend, said.answered_recommend))))

    on_time, due = counting.checkins_on_time(rows.checkins, today=now.date())
    aftercare = Section(
        "aftercare", N_("Aftercare check-ins"),
        N_("Check-ins due in the period, up to today. On time means recorded on or before the day it was due "
           "(no days' grace); one recorded later, or not recorded yet, is not on time."),
        (),
        (Row("checkins_due", N_("Check-ins due"), rules.count_cell(due)),
         Row("checkins_on_time_share", N_("Share done on time"), rules.share_cell(on_time, due))))

    choices = tuple((k, rules.quarter(k).label) for k in rules.recent_quarters(now.date())) + (
        (rules.ALL_TIME, N_("All time")),)
    return Figures(period, choices, now, hours, (referrals, cases, messages, review, agreements, feedback, aftercare))


def figures(session: Session, svc: Services, actor: Actor, quarter: str | None = None) -> Figures:
    """The coordinator's figures for a quarter ('2026Q4'), all time ('all'), or the current quarter."""
    if not permissions.may_see_figures(actor.role):
        raise NotFound()
    now = svc.now()
    try:
        period = rules.period(quarter, today=now.date())
    except rules.BadPeriod:
        raise BadInput(N_("Choose a quarter like 2026Q4, or all time."), details={"field": "quarter"}) from None
    rows = queries.load(session, period, today=now.date())
    return build(rows, period, now=now, promise_hours=svc.settings.first_contact_working_hours)


def csv_text(view: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("period", "section", "figure", "item", "label", "value"))
    for row in view.csv_rows():
        writer.writerow((view.period.key, *row))
    return out.getvalue()

