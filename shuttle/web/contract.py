"""The API's bodies as typed models (pydantic v2): what each request sends and each answer carries.

Requests are checked here before any use case runs: strict JSON types (a string is never taken for
a number or a flag), the domain's length limits, no unknown fields; any failure answers one 400
(`bad_input`) that names every field at fault, in `fields`. `null` counts as "not sent", as it
always has here. Answers are built through their models (`answer`), so the OpenAPI document made
from the same models (shuttle/web/openapi.py) cannot drift from what the API sends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request
from starlette.responses import JSONResponse

from shuttle.cases import notes, preparation
from shuttle.cases import service as cases
from shuttle.errors import BadInput
from shuttle.i18n import N_, Sentence
from shuttle.messages import requests, supported_opening
from shuttle.notifications.service import MAX_ADDRESS_CHARS
from shuttle.organisations.service import NAME_MAX
from shuttle.referrals import service as referrals
from shuttle.retention_policy import MAX_REASON_CHARS as MAX_HOLD_REASON_CHARS
from shuttle.web.http import read_json

B = TypeVar("B", bound="Body")
#: A version number as the API takes it: a whole number of at most 18 digits (shuttle.web.http.MAX_DIGITS).
Version = Annotated[int, Field(ge=0, le=10**18 - 1, description="The row version you read (409 if it moved on)")]
#: A date as the API takes it, e.g. 2026-03-14 (checked by the handler, which names the field).
Day = Annotated[str, Field(description="A date like 2026-03-14", examples=["2026-03-14"])]
#: A time with its zone, e.g. 2026-11-17T14:30:00+00:00 (checked by the handler).
Moment = Annotated[str, Field(description="ISO 8601 date and time with a time zone",
                              examples=["2026-11-17T14:30:00+00:00"])]
#: An account, participant or message id: 32 lowercase hex digits.
Id = Annotated[str, Field(description="An id: 32 lowercase hex digits", examples=["0" * 32])]


# --- requests -------------------------------------------------------------------------------------


class Body(BaseModel):
    """A JSON request body: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def parse(model: type[B], data: Mapping[str, Any]) -> B:
    """`data` (a JSON object) as `model`, or one BadInput naming every field at fault.
    A field sent as null is a field not sent (then its default applies, or it is required)."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        said = [_refusal(_where(error), error) for error in exc.errors(include_url=False)]
        message = Sentence(" ".join(f"%(p{n})s" for n in range(len(said))),  # each said in the asker's language
                           **{f"p{n}": sentence for n, sentence in enumerate(said)})
        raise BadInput(message, code="bad_input", details={"fields": [
            {"field": sentence.values["field"], "problem": str(sentence)[len(f"'{sentence.values['field']}' "):-1]}
            for sentence in said]}) from None


def required_day(raw: str, name: str) -> date:
    """A date field like 2026-03-14 (`name`: the field, for the sentence)."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(Sentence(N_("'%(name)s' is a date like 2026-03-14."), name=name)) from None


def day(raw: str | None, name: str) -> date | None:
    """An optional date field (`required_day`); None when not given."""
    return required_day(raw, name) if raw else None


def instant(raw: str) -> datetime:
    """An 'at' field: an ISO 8601 date and time with its time zone, in UTC."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput(N_("'at' must be an ISO 8601 date and time with a time zone.")) from None
    if value.tzinfo is None:
        raise BadInput(N_("'at' needs a time zone, e.g. 2026-12-01T10:00:00+00:00."))
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before the first representable UTC time
        raise BadInput(N_("'at' is out of range.")) from None


def moment(raw: str | None) -> datetime | None:
    """An optional 'at' field (`instant`); None when not given."""
    return instant(raw) if raw else None


def _where(error: ErrorDetails) -> str:
    name = ""
    for part in error["loc"]:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


TYPE_NAMES = {"string_type": "str", "int_type": "int", "bool_type": "bool", "dict_type": "dict", "list_type": "list",
              "int_from_float": "int", "float_type": "number"}


def _refusal(name: str, error: ErrorDetails) -> Sentence:
    """What is wrong with one field, as a sentence that starts with the field's name in quotes and
    ends with a full stop (the API's `fields[].problem` is what lies between); translated where said.
    An error pydantic names that is not listed here keeps pydantic's English words."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return Sentence(N_("'%(field)s' is required."), field=name)
    if kind in TYPE_NAMES:
        return Sentence(N_("'%(field)s' must be %(type)s."), field=name, type=TYPE_NAMES[kind])
    if kind == "string_too_long":
        return Sentence(N_("'%(field)s' is at most %(n)s characters."), field=name, n=ctx.get("max_length"))
    if kind == "too_long":
        return Sentence(N_("'%(field)s' holds at most %(n)s items."), field=name, n=ctx.get("max_length"))
    if kind == "extra_forbidden":
        return Sentence(N_("'%(field)s' is not a field of this request."), field=name)
    if kind == "greater_than_equal":
        return Sentence(N_("'%(field)s' must be at least %(n)s."), field=name, n=ctx.get("ge"))
    if kind == "less_than_equal":
        return Sentence(N_("'%(field)s' must be at most %(n)s."), field=name, n=ctx.get("le"))
    if kind == "literal_error":
        return Sentence(N_("'%(field)s' must be %(expected)s."), field=name, expected=ctx.get("expected"))
    return Sentence("'%(field)s' %(problem)s.", field=name, problem=str(error["msg"]).lower())


class Login(Body):
    username: str
    password: str


class TotpCode(Body):
    code: str


class InvitationCode(Body):
    code: str


class NewPassword(Body):
    password: str


class CaseSettings(Body):
    """Only the settings sent change."""

    version: Version | None = None
    label_harmed: str | None = None
    label_responsible: str | None = None
    initiator: str | None = Field(None, description="harmed or either")
    responsible_may_reply: bool | None = None
    approvals_required: int | None = Field(None, description="1 or 2")
    author_must_accept_edits: bool | None = None
    read_receipts_allowed: bool | None = None
    watchlist: list[str] | None = None


class CaseStatus(Body):
    status: str = Field(description="open, paused, closing or closed")
    version: Version | None = None
    reason: str = Field("", max_length=cases.MAX_REASON_CHARS,
                        description="Why, kept in the case's record. Required to close a case (status closing): "
                                    "one of completed, withdrawn_harmed, withdrawn_responsible, not_suitable or "
                                    "not_contacted (the same close step as POST /cases/{case_id}/closure).")


class Consent(Body):
    kind: str = Field(description="take_part, share_information or receive_messages")
    granted: bool
    note: str = ""
    method: str = Field("in_person", description="in_person, phone or signed_form")
    given_on: Day | None = None
    organisation_id: Id | None = None


class Assessment(Body):
    outcome: str
    kind: str | None = Field(None, description="eligibility, suitability or risk")
    reasons: str = ""
    review_by: Day | None = None


class Holding(Body):
    holding: bool


class StartMessage(Body):
    kind: str = Field("letter", description="letter, audio, video or image")
    text: str | None = Field(None, description="The letter's first words (required for a letter)")
    in_reply_to: Id | None = Field(None, description="A reply: the id of the message it answers, one delivered "
                                   "to me and opened (404 otherwise)")


class Draft(Body):
    text: str
    version: Version | None = None


class OpenMessage(Body):
    share_receipt: bool = False


class Action(Body):
    """Every action takes `version` (409 if the message moved on)."""

    version: Version | None = None


class Claim(Action):
    take_over: bool = False


class Note(Action):
    note: str


class Edit(Action):
    text: str
    note: str = ""


class MediaEdit(Action):
    edits: dict[str, Any]
    note: str = ""


class Reject(Action):
    code: str
    note: str = ""


class Approve(Action):
    resolutions: dict[str, str] = Field(default_factory=dict, description="flag id -> reason for keeping it")


class Recall(Action):
    reason: str


class Schedule(Action):
    at: Moment | None = None


#: The body each message action takes (the same route for all: /messages/{id}/actions/{action}).
ACTION_BODIES: dict[str, type[Action]] = {
    "submit": Action, "withdraw": Action, "accept-edit": Action, "decline-edit": Action, "claim": Claim,
    "unclaim": Action, "request-changes": Note, "edit": Edit, "edit-media": MediaEdit, "reject": Reject,
    "approve": Approve, "recall": Recall, "incident": Note, "schedule": Schedule, "retry": Action,
}


class AnyAction(Body):
    """The fields of every action together (the document's view; each action takes its own)."""

    version: Version | None = None
    take_over: bool | None = None
    note: str | None = None
    text: str | None = None
    edits: dict[str, Any] | None = None
    code: str | None = None
    resolutions: dict[str, str] | None = None
    reason: str | None = None
    at: Moment | None = None


class AskFacilitator(Body):
    kind: str = Field(description="hold, return or destroy")
    note: str = Field("", max_length=requests.MAX_NOTE_CHARS)


class HandleRequest(Body):
    outcome: str = Field(description="done or declined")
    note: str = Field("", max_length=requests.MAX_NOTE_CHARS)


class LegalHoldReason(Body):
    reason: str = Field(max_length=MAX_HOLD_REASON_CHARS,
                        description="Why the case is on legal hold, e.g. the court order (kept in the audit log)")


class AskSupportedOpening(Body):
    note: str = Field("", max_length=supported_opening.MAX_NOTE_CHARS)


class ArrangeSupportedOpening(Body):
    at: Moment


class Referral(Body):
    """The public form's questions; the service checks each and lists every problem (invalid_referral)."""

    source: str | None = None
    person_name: str | None = None
    offence: str | None = None
    court: str | None = None
    more: str | None = None
    side: str | None = None
    person_knows: str | None = None
    referrer_name: str | None = None
    referrer_organisation: str | None = None
    referrer_contact: str | None = None
    contact_phone: str | None = None
    safe_message: str | None = None
    contact_email: str | None = None
    contact_address: str | None = None
    contact_via_referrer: str | None = None
    best_time: str | None = None


class ContactAttempt(Body):
    method: str = Field(description="phone, letter, email, in_person or via_agency")
    outcome: str = Field(description="reached, no_answer, left_message or wrong_details")
    at: Moment | None = None
    note: str = Field("", max_length=referrals.MAX_NOTE_CHARS)


class DeclineReferral(Body):
    reason: str
    note: str = Field("", max_length=referrals.MAX_NOTE_CHARS)
    version: Version | None = None


class AcceptReferral(Body):
    facilitators: list[Id]
    version: Version | None = None


class Meeting(Body):
    held_on: Day
    how: str = Field(description="phone, video_call, in_person or prison_visit")
    attended: str = Field(max_length=preparation.MAX_ATTENDED_CHARS)
    notes: str = Field("", max_length=preparation.MAX_NOTE_CHARS)


class Wishes(Body):
    questions: list[Annotated[str, Field(max_length=preparation.MAX_QUESTION_CHARS)]] = Field(
        default_factory=list, max_length=preparation.MAX_QUESTIONS)
    wants_reply: bool | None = Field(None, description="true, false or null: not asked yet")
    wants_outcome_news: bool | None = Field(None, description="true, false or null: not asked yet")


class Letter(Body):
    text: str


class CaseNote(Body):
    text: str = Field(max_length=notes.MAX_NOTE_CHARS)
    message_id: Id | None = None


class Share(Body):
    shared: bool


class CreateStaff(Body):
    username: str
    display_name: str
    role: str = Field(description="facilitator or coordinator")


class Reassign(Body):
    leaving: Id
    joining: Id
    reason: str = Field(description="leave, sickness, conflict_of_interest, workload or other")


class AccountRef(Body):
    account_id: Id


class NewOrganisation(Body):
    name: str = Field(max_length=NAME_MAX)
    kind: str = "other"


class OrganisationName(Body):
    name: str = Field(max_length=NAME_MAX)


class EnrolmentToken(Body):
    token: str


class CompleteEnrolment(Body):
    token: str
    password: str
    code: str


class AddPerson(Body):
    name: str
    side: str = Field(description="harmed or responsible")
    role: str = Field("principal", description="principal, proxy or supporter")
    acting_for: str = ""
    username: str = ""


class Deactivate(Body):
    reason: str = ""


class WithdrawConsent(Body):
    kind: str = Field(description="take_part, share_information or receive_messages")
    organisation_id: Id | None = None


class Proceedings(Body):
    ongoing: bool
    reason: str = Field("", max_length=cases.MAX_REASON_CHARS)


class NotificationChoice(Body):
    address: str = Field(max_length=MAX_ADDRESS_CHARS)
    wants: bool


# --- answers ----------------------------------------------------------------------------------------


class Answer(BaseModel):
    """A JSON answer: the fields named are always there; views may carry more (`extra` allowed)."""

    model_config = ConfigDict(extra="allow")


class FieldProblem(Answer):
    field: str = Field(description="The field at fault, e.g. 'status' or 'questions[2]'")
    problem: str = Field(description="What is wrong with it, e.g. 'is required'")


class Error(Answer):
    """Every refusal: a code and a sentence fit to show; some carry more (e.g. `flags`)."""

    error: str
    message: str
    fields: list[FieldProblem] | None = Field(None, description="A body that broke its model: each field at fault")


class SessionStage(Answer):
    stage: str = Field(description="totp (a second factor is due), password (choose one) or full")
    csrf_token: str


class SignedOut(Answer):
    signed_out: bool


class CaseSummary(Answer):
    id: str
    reference: str
    role: str
    status: str


class Me(Answer):
    account_id: str
    role: str
    cases: list[CaseSummary]


class ParticipantView(Answer):
    id: str
    name: str
    side: str
    role: str
    active: bool


class StaffCase(Answer):
    """A case as its facilitators see it: settings, watch list and everyone in it."""

    id: str
    reference: str
    status: str
    version: int
    settings: dict[str, Any]
    watchlist: list[str]
    facilitators: list[dict[str, Any]]
    participants: list[ParticipantView]


class ParticipantCase(Answer):
    """A case as a participant sees it: their side and the words for each side, nobody's name."""

    id: str
    reference: str
    status: str
    side: str | None
    participant_role: str | None
    my_label: str
    other_label: str
    read_receipts_allowed: bool


#: A case as the caller may see it.
CaseView = StaffCase | ParticipantCase


class Invitation(Answer):
    participant_id: str
    username: str
    code: str
    expires_at: str


class HoldingNow(Answer):
    holding: bool


class Withdrawn(Answer):
    withdrawn: bool


class MessageBase(Answer):
    id: str
    case_id: str
    kind: str = Field(description="letter, audio, video or image")
    in_reply_to: str | None = Field(None, description="The id of the message this one answers, or null")


class AuthorMessage(MessageBase):
    """A message as its author's side sees it."""

    to: str
    state: str
    status: str
    version: int
    actions: list[str]


class StaffMessage(MessageBase):
    """A message as the case's facilitators see it."""

    case_reference: str
    author_side: str
    state: str
    status: str
    version: int
    versions: list[dict[str, Any]]
    actions: list[str]


class RecipientMessage(MessageBase):
    """A message delivered to the caller's side: who it is from, in the facilitator's words, never a name."""

    from_: str = Field(alias="from")
    by_proxy: bool
    delivered_at: str | None
    opened: bool


#: A message as the caller may see it: an author, a recipient and staff each see their own fields.
MessageView = AuthorMessage | StaffMessage | RecipientMessage


class Text(Answer):
    text: str | None


class VersionView(Answer):
    version_id: str
    number: int
    origin: str
    processed: bool
    text: str | None
    flags: list[dict[str, Any]]


class Opened(Answer):
    """A letter's words, or where a recording's media and poster are."""

    text: str | None = None
    media: str | None = None
    poster: str | None = None


class Notifications(Answer):
    address: str | None
    wants: bool
    configured: bool
    digest_at: str
    staff: bool


class DraftFlags(Answer):
    flags: list[dict[str, Any]]
    key: str


class RequestRow(Answer):
    id: str
    kind: str


class HandledRequest(Answer):
    id: str
    outcome: str | None
    handled_at: str | None


class RetentionCase(Answer):
    """A case as retention sees it: its reference and dates, never its content."""

    case_id: str
    reference: str
    status: str
    closed_at: str | None
    destroy_after: str | None = Field(description="When the periodic tick destroys its content (null: not "
                                                   "scheduled, or destroyed already)")
    held_since: str | None = Field(description="When the legal hold was placed (null: not on hold)")
    hold_reason: str = Field(description="Why it is on legal hold ('' when it is not)")


class Retention(Answer):
    days: int = Field(description="How many days ahead 'due' looks")
    closed_case_days: int = Field(description="How long a closed case is kept (SHUTTLE_RETENTION_CLOSED_CASES)")
    unsent_draft_days: int = Field(description="How long an unsent draft is kept unchanged "
                                               "(SHUTTLE_RETENTION_UNSENT_DRAFTS)")
    due: list[RetentionCase] = Field(description="To be destroyed within 'days', soonest first (held ones too: "
                                                 "kept while held)")
    held: list[RetentionCase] = Field(description="Every case on legal hold, oldest hold first")


class SupportedOpeningRow(Answer):
    """A request to open a message with the facilitator; `active`: the session lets it open now."""

    id: str
    message_id: str
    arranged_for: str | None
    session_until: str | None
    active: bool


class ReferralSent(Answer):
    reference: str
    received_at: str


class ReferralRow(Answer):
    id: str
    reference: str
    status: str
    version: int


class NoteAdded(Answer):
    id: str
    message_id: str | None
    at: str


class NoteRow(Answer):
    id: str
    message_id: str | None
    written_by: str
    at: str
    text: str


class AccountActive(Answer):
    account_id: str
    active: bool


class OwnConflict(Answer):
    recorded: bool
    new: bool


class EnrolmentDetails(Answer):
    username: str
    display_name: str
    role: str
    purpose: str
    secret: str
    otpauth_uri: str
    expires_at: str


class PersonAdded(Answer):
    participant_id: str
    case: StaffCase


class ConsentWords(Answer):
    participant_id: str
    kind: str
    granted: bool
    words: str
    how: str


class MyCaseConsents(Answer):
    case_id: str
    reference: str
    consents: list[ConsentWords]


class AssessmentRow(Answer):
    kind: str
    outcome: str
    reasons: str


class Uploaded(Answer):
    upload_id: str
    size: int


class Document(Answer):
    openapi: str
    paths: dict[str, Any]


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(shape: Any) -> TypeAdapter[Any]:
    """One TypeAdapter per shape: a model, a view the domain types (a frozen dataclass), or list[...]."""
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return _ADAPTERS[shape]


def jsonable(value: Any) -> Any:
    """A view (dataclasses, tuples, dates and times) as JSON values; times in ISO 8601 as Python writes them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def answer(shape: Any, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """`data` as JSON, checked against `shape` first: an answer that left its declared shape is a
    bug, refused here (and by the contract test), never sent as something the document denies."""
    body = jsonable(data)
    adapter(shape).validate_python(body)
    return JSONResponse(body, status_code=status, headers=headers)


def schema_of(shape: Any, mode: Literal["validation", "serialization"] = "validation") -> dict[str, Any]:
    """The JSON Schema of a body or an answer, its definitions referred to in #/components/schemas."""
    return adapter(shape).json_schema(mode=mode, ref_template="#/components/schemas/{model}")


async def read(request: Request, model: type[B]) -> B:
    """The request's JSON body (an empty body is {}) as `model`."""
    return parse(model, await read_json(request))
