"""The facilitator's dashboard: the review queue in parts, their cases with what waits in each,
recipients' requests and assessments past their review date, in a bounded number of queries
whatever the number of messages and cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import i18n
from shuttle.access import facilitator_cases
from shuttle.accounts.models import Account
from shuttle.cases.models import Assessment, Case, Participant
from shuttle.cases.participation import ExpiredAssessment
from shuttle.errors import BadInput
from shuttle.i18n import N_, Sentence
from shuttle.messages import supported_opening
from shuttle.messages.numbering import KIND_NAMES
from shuttle.messages.queries import QUEUE_STATES, QueueItem, queue_items
from shuttle.messages.request_view import OpenRequest, open_requests
from shuttle.messages.staff_view import PeopleRecords
from shuttle.messages.states import IN_REVIEW_STATES, PREPARING, WAITING_ON_STAFF, State, describe
from shuttle.messages.supported_opening import SupportedView
from shuttle.services import Actor, Services


@dataclass(frozen=True)
class QueueGroup:
    """One part of the dashboard queue; its heading's count is len(items), exactly what is listed."""

    key: str
    heading: str
    items: tuple[QueueItem, ...]


#: The dashboard queue in parts: what needs a decision first, then what is on its way.
#: Words marked N_ here are translated where a page shows them (`| translated`).
QUEUE_GROUPS = (
    ("waiting", N_("Waiting for your review"), WAITING_ON_STAFF),
    ("preparing", N_("Being prepared"), PREPARING),
    ("approved", N_("Approved, not yet delivered"), frozenset({State.APPROVED.value})),
)


#: The queue's orders: (key, words). The first is the default.
SORTS = (("oldest", N_("Oldest first")), ("newest", N_("Newest first")), ("case", N_("By case")),
         ("due", N_("By review deadline")))
#: The kinds a filter may ask for, in words.
KINDS = tuple((kind, KIND_NAMES[kind]) for kind in ("letter", "audio", "video", "image"))
#: The states a filter may ask for, in words (the queue's states).
STATES = tuple((state.value, describe(state)) for state in QUEUE_STATES)


@dataclass(frozen=True)
class QueueFilter:
    """What the facilitator asked the queue to show (GET query parameters; a GET never writes).
    Applied to the rows the dashboard loaded anyway, so the page runs the same statements."""

    case: str = ""
    kind: str = ""
    state: str = ""
    overdue: bool = False
    flagged: bool = False
    mine: bool = False
    sort: str = SORTS[0][0]

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> QueueFilter:
        """The filter of a page's query; a value it does not know is a 400 with a sentence."""
        kind, state, sort = query.get("kind", ""), query.get("state", ""), query.get("sort", "") or SORTS[0][0]
        if kind and kind not in dict(KINDS):
            raise BadInput(N_("Choose a kind of message from the list: letter, recording, video or photographed "
                              "letter."))
        if state and state not in dict(STATES):
            raise BadInput(N_("Choose a state from the list."))
        if sort not in dict(SORTS):
            raise BadInput(N_("Choose an order from the list."))
        case = query.get("case", "")
        if len(case) > 64:
            raise BadInput(N_("Choose a case from the list."))
        return cls(case=case, kind=kind, state=state, overdue=query.get("overdue") == "yes",
                   flagged=query.get("flagged") == "yes", mine=query.get("mine") == "yes", sort=sort)

    @property
    def active(self) -> bool:
        return bool(self.case or self.kind or self.state or self.overdue or self.flagged or self.mine)

    @property
    def query(self) -> str:
        """The filter as a query string (without '?'), only what differs from the default."""
        pairs = [("case", self.case), ("kind", self.kind), ("state", self.state),
                 ("overdue", "yes" if self.overdue else ""), ("flagged", "yes" if self.flagged else ""),
                 ("mine", "yes" if self.mine else ""), ("sort", "" if self.sort == SORTS[0][0] else self.sort)]
        return urlencode([(k, v) for k, v in pairs if v])

    def keeps(self, item: QueueItem, account_id: str | None) -> bool:
        current = next((v for v in item.versions if v.id == item.current_version_id), None)
        return ((not self.case or item.case_id == self.case) and (not self.kind or item.kind == self.kind)
                and (not self.state or item.state == self.state) and (not self.overdue or _overdue(item))
                and (not self.flagged or bool(current and current.flag_count))
                and (not self.mine or item.claimed_by_id == account_id))

    def apply(self, items: Sequence[QueueItem], account_id: str | None) -> list[QueueItem]:
        """The items the filter keeps, in its order (`items` comes oldest first, escalated first)."""
        kept = [item for item in items if self.keeps(item, account_id)]
        if self.sort == "newest":
            kept.sort(key=lambda i: i.waiting_since, reverse=True)
        elif self.sort == "case":
            kept.sort(key=lambda i: (i.case_reference, i.waiting_since))
        elif self.sort == "due":
            kept.sort(key=lambda i: (i.sla is None, i.sla.due if i.sla else "", i.waiting_since))
        return kept

    def words(self) -> str:
        """What the filter keeps, in words (for the count above the list), in the language of the page
        being rendered (the page calls this while it renders)."""
        said = [i18n.gettext(dict(KINDS)[self.kind]).lower() if self.kind else "",
                f"'{i18n.gettext(dict(STATES)[self.state])}'" if self.state else "",
                i18n.gettext(N_("overdue")) if self.overdue else "",
                i18n.gettext(N_("flagged")) if self.flagged else "",
                i18n.gettext(N_("claimed by you")) if self.mine else ""]
        return ", ".join(w for w in said if w)


@dataclass(frozen=True)
class CaseLine:
    """One of the facilitator's cases, with what waits on them in it."""

    id: str
    reference: str
    status: str
    role: str
    between: str
    waiting: int
    overdue: int
    requests: int


@dataclass(frozen=True)
class Dashboard:
    queue: tuple[QueueItem, ...]
    groups: tuple[QueueGroup, ...]
    cases: tuple[CaseLine, ...]
    requests: tuple[OpenRequest, ...]
    sla_days: int
    waiting: int
    overdue: int
    processing: bool
    expired_assessments: tuple[ExpiredAssessment, ...]
    filters: QueueFilter
    listed: int  # how many messages the filtered queue lists (the sum of its groups' counts)
    unfiltered: int  # how many the queue holds without the filter
    sorts: tuple[tuple[str, str], ...] = SORTS
    kinds: tuple[tuple[str, str], ...] = KINDS
    states: tuple[tuple[str, str], ...] = STATES
    #: issue 12: recipients waiting to open a message with their facilitator (`supported_opening`)
    supported: tuple[SupportedView, ...] = ()


def _overdue(item: QueueItem) -> bool:
    return item.sla is not None and item.sla.state == "overdue"


def expired_from(cases: Sequence[Case], people: Sequence[tuple[Participant, Account | None]],
                 assessments: Mapping[tuple[str, str], Assessment], today: date) -> list[ExpiredAssessment]:
    """`participation.expired_assessments` from rows already read: current judgements of active
    participants past their review date, case by case."""
    found = []
    for case in cases:
        for participant, account in people:
            if participant.case_id != case.id or not participant.active:
                continue
            for kind in ("eligibility", "suitability"):
                judged = assessments.get((participant.id, kind))
                if judged is not None and judged.review_by is not None and judged.review_by < today:
                    found.append(ExpiredAssessment(case.id, case.reference, account.display_name if account else "",
                                                   kind, judged.review_by))
    return found


def dashboard(session: Session, svc: Services, actor: Actor, filters: QueueFilter | None = None) -> Dashboard:
    """The dashboard of a facilitator: the people of all their cases (with their consents and
    assessments) are read once and serve both the queue's release gates and the expired list.
    `filters` choose what the queue lists and in which order (the rest of the page is unfiltered)."""
    filters = filters or QueueFilter()
    mine = facilitator_cases(session, actor)
    people = session.execute(select(Participant, Account).outerjoin(Account, Account.id == Participant.account_id)
                             .where(Participant.case_id.in_([c.id for c in mine]))).all() if mine else []
    records = PeopleRecords.load(session, [p.id for p, _ in people])
    queue = queue_items(session, svc, actor, participants={p.id: p for p, _ in people}, people=records.facts(),
                        names={a.id: a.display_name for _, a in people if a is not None})
    asked = open_requests(session, svc, mine)
    lines = []
    for case in mine:
        waiting = [m for m in queue if m.case_id == case.id and m.state in WAITING_ON_STAFF]
        lines.append(CaseLine(id=case.id, reference=case.reference, status=case.status, role="facilitator",
                              between=Sentence(N_("%(harmed)s and %(responsible)s"), harmed=case.label_of("harmed"),
                                               responsible=case.label_of("responsible")),
                              waiting=len(waiting), overdue=sum(1 for m in waiting if _overdue(m)),
                              requests=sum(1 for r in asked if r.case_id == case.id)))
    everything = {key: [m for m in queue if m.state in states] for key, _, states in QUEUE_GROUPS}
    listed = filters.apply(queue, actor.account_id)
    groups = tuple(QueueGroup(key, heading, tuple(m for m in listed if m.state in states))
                   for key, heading, states in QUEUE_GROUPS)
    return Dashboard(queue=tuple(listed), groups=groups, cases=tuple(lines), requests=tuple(asked),
                     filters=filters, listed=sum(len(g.items) for g in groups), unfiltered=len(queue),
                     sla_days=svc.settings.review_sla_working_days, waiting=len(everything["waiting"]),
                     overdue=sum(1 for m in queue if _overdue(m)),
                     processing=any(m.state in PREPARING for m in queue),
                     expired_assessments=tuple(expired_from(mine, people, records.assessments, svc.now().date())),
                     supported=tuple(supported_opening.waiting_in(session, svc, mine, with_notes=False)))


@dataclass(frozen=True)
class Neighbour:
    """A message of the filtered queue next to another one, and its name in words."""

    message_id: str
    words: str  # "Letter from Jessica, case RJ-2026-0001" (a Sentence: translated where shown)


def _words(item: QueueItem) -> str:
    return Sentence(N_("%(kind)s from %(author)s, case %(reference)s"),
                    kind=Sentence(KIND_NAMES.get(item.kind, N_("Message"))), author=item.author_label,
                    reference=item.case_reference)


def _reviewable(item: QueueItem, account_id: str | None) -> bool:
    """A message this facilitator can decide on now: waiting for review, not held by another
    reviewer, not approved by them already."""
    return (item.state in IN_REVIEW_STATES and item.claimed_by_id in (None, account_id)
            and not item.approved_by_me)


def neighbour(session: Session, svc: Services, actor: Actor, filters: QueueFilter, current: str,
              step: int = 1) -> Neighbour | None:
    """The message after (`step` 1) or before (-1) `current` in the filtered queue, among those the
    facilitator can decide on now; from the start of the queue when `current` is not in it (it
    was just approved or sent back). A GET: reads only."""
    listed = [i for i in filters.apply(queue_items(session, svc, actor), actor.account_id)
              if i.id == current or _reviewable(i, actor.account_id)]
    ids = [i.id for i in listed]
    if current in ids:
        at = ids.index(current) + step
        chosen = listed[at] if 0 <= at < len(listed) else None
    else:
        chosen = next(iter(listed if step > 0 else reversed(listed)), None)
    return Neighbour(chosen.id, _words(chosen)) if chosen is not None else None
