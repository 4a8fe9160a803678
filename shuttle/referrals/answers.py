"""The referral form's questions and their rules: one place for the pages and the API.

Pure. A referral's answers are a dict of strings; `clean` keeps only the questions that were
asked of this referrer (a self-referral is never asked about a referring organisation), so
nothing is stored that the form did not ask for. `errors` names each problem's field, in
the order of the questions, in the words of GOV.UK's error messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shuttle.i18n import N_, Sentence
from shuttle.referrals.models import SELF_SOURCES, SOURCES

#: The form's pages, in order ("referrer" only for organisations), then checking the answers.
STEPS = ("who", "referrer", "person", "what", "contact", "check")
#: The questions of each page.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "who": ("source",),
    "referrer": ("referrer_name", "referrer_organisation", "referrer_contact"),
    "person": ("person_name", "side", "person_knows"),
    "what": ("offence", "court", "more"),
    "contact": ("contact_phone", "contact_email", "contact_address", "contact_via_referrer", "safe_message",
                "best_time"),
    "check": (),
}
FIELDS = tuple(f for fields in STEP_FIELDS.values() for f in fields)
#: The most characters each answer may have (size limits, besides the request's own).
MAX_CHARS = {"referrer_name": 120, "referrer_organisation": 160, "referrer_contact": 300, "person_name": 120,
             "offence": 300, "more": 4000, "contact_phone": 40, "contact_email": 200, "contact_address": 500,
             "best_time": 200}
CHOICES = {"source": SOURCES, "side": ("harmed", "responsible"), "person_knows": ("yes", "no"),
           "court": ("yes", "no", "not_sure"), "contact_via_referrer": ("yes", ""), "safe_message": ("yes", "no")}
#: Only an organisation is asked these.
ORGANISATION_ONLY = frozenset({"referrer_name", "referrer_organisation", "referrer_contact", "side", "person_knows",
                               "contact_via_referrer"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,40}$")
SOURCE_WORDS = {
    "self_harmed": N_("Myself: I was harmed by a crime"),
    "self_responsible": N_("Myself: I caused harm (I was responsible for a crime)"),
    "police": N_("Police"), "victim_services": N_("Victim services"),
    "youth_offending_team": N_("Youth offending team"),
    "probation": N_("Probation"), "prison": N_("Prison"), "other_agency": N_("Another organisation"),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def is_self(answers: dict[str, str]) -> bool:
    return answers.get("source") in SELF_SOURCES


def side_of(answers: dict[str, str]) -> str:
    """The person referred: the referrer themself for a self-referral, else as the referrer said."""
    source = answers.get("source")
    if source == "self_harmed":
        return "harmed"
    if source == "self_responsible":
        return "responsible"
    return answers.get("side", "")


def steps_for(answers: dict[str, str]) -> tuple[str, ...]:
    return tuple(s for s in STEPS if s != "referrer" or not is_self(answers))


def clean(raw: Mapping[str, object]) -> dict[str, str]:
    """The known answers as stripped strings; questions this referrer was not asked are dropped."""
    answers = {name: str(raw[name]).replace("\r\n", "\n").strip() for name in FIELDS
               if isinstance(raw.get(name), (str, int)) and not isinstance(raw.get(name), bool)}
    if is_self(answers):
        answers = {k: v for k, v in answers.items() if k not in ORGANISATION_ONLY}
    return {k: v for k, v in answers.items() if v != ""}


def _required(answers: dict[str, str], name: str, message: str) -> list[FieldError]:
    return [] if answers.get(name) else [FieldError(name, message)]


def _step_errors(step: str, a: dict[str, str]) -> list[FieldError]:
    me = is_self(a)
    if step == "who":
        return _required(a, "source", N_("Select who is making this referral"))
    if step == "referrer" and not me:
        return (_required(a, "referrer_name", N_("Enter your name"))
                + _required(a, "referrer_organisation", N_("Enter the name of your organisation"))
                + _required(a, "referrer_contact", N_("Enter a phone number or e-mail address we can reach you on")))
    if step == "person":
        found = _required(a, "person_name",
                          N_("Enter your name") if me else N_("Enter the name of the person you are referring"))
        if not me:
            found += _required(a, "side", N_("Select whether the person was harmed or caused harm"))
            found += _required(a, "person_knows", N_("Select yes if the person knows about this referral"))
        return found
    if step == "what":
        return (_required(a, "offence", N_("Enter what happened, in a few words"))
                + _required(a, "court", N_("Select whether anything is still going through the courts")))
    if step == "contact":
        return _contact_errors(a, me)
    return []


def _contact_errors(a: dict[str, str], me: bool) -> list[FieldError]:
    found = []
    if not any(a.get(f) for f in ("contact_phone", "contact_email", "contact_address", "contact_via_referrer")):
        found.append(FieldError("contact_phone", N_("Enter a phone number, an e-mail address or a postal address") if me
                                else N_("Enter a way to contact the person, or choose to contact them through you")))
    if a.get("contact_phone") and not PHONE.match(a["contact_phone"]):
        found.append(FieldError("contact_phone", N_("Enter a phone number, like 01632 960 001 or 07700 900 982")))
    if a.get("contact_email") and not EMAIL.match(a["contact_email"]):
        found.append(FieldError("contact_email",
                                N_("Enter an e-mail address in the right format, like name@example.com")))
    if a.get("contact_phone") and not a.get("safe_message"):
        found.append(FieldError("safe_message", N_("Select yes if it is safe to leave a message on that phone")))
    return found


def _shape_errors(a: dict[str, str], fields: tuple[str, ...]) -> list[FieldError]:
    found = []
    for name in fields:
        value = a.get(name)
        if value is None:
            continue
        if name in CHOICES and value not in CHOICES[name]:
            found.append(FieldError(name, N_("Select one of the options")))
        elif name in MAX_CHARS and len(value) > MAX_CHARS[name]:
            found.append(FieldError(name, Sentence(N_("This answer must be %(max)s characters or fewer: it has "
                                                      "%(count)s"), max=f"{MAX_CHARS[name]:,}",
                                                   count=f"{len(value):,}")))
    return found


def errors(step: str, answers: dict[str, str]) -> list[FieldError]:
    """The problems with one page's answers (shape first: a wrong size or choice is named as such)."""
    fields = tuple(f for f in STEP_FIELDS[step] if not (is_self(answers) and f in ORGANISATION_ONLY))
    shape = _shape_errors(answers, fields)
    bad = {e.field for e in shape}
    return shape + [e for e in _step_errors(step, answers) if e.field not in bad]


def first_problem(answers: dict[str, str], *, through: str = "check") -> tuple[str, list[FieldError]] | None:
    """The first page (up to `through`) whose answers have problems, with them; None when all are fine."""
    for step in steps_for(answers):
        found = errors(step, answers)
        if found:
            return step, found
        if step == through:
            break
    return None
