"""Welsh (issue 12): the words staff pages take from Python (queue headings and orders, message states,
release blockers, flag words, rejection reasons, a message's life, message names) are in the page's
language; the English of the same words stays as it was (i18n.Sentence is the English str)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from forms import csrf_of
from world import World

from shuttle import i18n
from shuttle.messages import authoring, gates, review
from shuttle.messages.gates import PersonGate


def _welsh_letter_waiting(world: World) -> tuple[str, str, Any]:
    case_id, people = world.case()
    world.approved_letter(people, case_id)
    message = world.do(authoring.start_draft, people.harmed, case_id, "Ring me on 07700 900982 please.")
    world.do(authoring.submit, people.harmed, message.id)
    world.run_jobs()
    world.wait_for_review(message.id)
    return case_id, str(message.id), people


def _text(page: Any) -> str:
    assert page.status_code == 200, page.text
    return html.unescape(page.text)


def test_the_review_queue_in_welsh(world: World, app: Any) -> None:
    _case_id, _message_id, people = _welsh_letter_waiting(world)
    client = world.sign_in(app, people.facilitator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get("/staff?kind=letter&state=awaiting_review"))
    for welsh in ("Yn aros i chi eu hadolygu", "Yr hynaf yn gyntaf", "Fesul achos", "yn aros am hwylusydd",
                  "'yn aros am hwylusydd'", "Llythyr", "ar agor"):
        assert welsh in page, welsh
    for english in ("Waiting for your review", "Oldest first", "By case", "waiting for a facilitator",
                    "Approved, not yet delivered", ">Letter<"):
        assert english not in page, english


def test_the_review_page_and_the_case_page_in_welsh(world: World, app: Any) -> None:
    case_id, message_id, people = _welsh_letter_waiting(world)
    world.do(review.claim, people.facilitator, message_id)
    client = world.sign_in(app, people.facilitator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get(f"/staff/messages/{message_id}"))
    for welsh in ("gyda hwylusydd", "Dechreuwyd y drafft gan", "Anfonwyd i'w hadolygu", "Hawliwyd gan",
                  "rhif ffôn", "Gallai achosi niwed i'r unigolyn arall.", "<dd>prif unigolyn</dd>"):
        assert welsh in page, welsh
    for english in ("with a facilitator", "Draft started by", "Sent for review", "Claimed by", "phone number",
                    "It could cause harm to the other person.", "<dd>principal</dd>"):
        assert english not in page, english
    page = _text(client.get(f"/staff/cases/{case_id}"))
    for welsh in ("Llythyr 1", "Llythyr 2", "wedi'i danfon, heb ei hagor eto", "gyda hwylusydd",
                  "Crëwyd yr achos gan", "Agorwyd y cyfnewid gan", "Anfonwyd llythyr gan", "Cymeradwywyd hi gan"):
        assert welsh in page, welsh
    for english in ("Letter 1", "Letter 2", "delivered, not yet opened", "with a facilitator", "created the case",
                    "opened the exchange", "sent a letter", "approved it"):
        assert english not in page, english


def test_a_confirmation_is_in_the_readers_language(world: World, app: Any) -> None:
    """A staff form's confirmation (flash) is said in the language of whoever sent the form."""
    _case_id, message_id, people = _welsh_letter_waiting(world)
    client = world.sign_in(app, people.facilitator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = client.get(f"/staff/messages/{message_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version is not None
    answer = client.post(f"/staff/messages/{message_id}", data={
        "action": "claim", "version": version.group(1), "csrf_token": csrf_of(page)}, follow_redirects=True)
    text = _text(answer)
    assert "Wedi'i hawlio." in text and "Claimed." not in text


def test_a_blocker_is_english_as_text_and_welsh_where_shown() -> None:
    """A release blocker is the same English sentence as before; a page translates it with its name."""
    held = PersonGate("Jessica", takes_part=False, receives=True, suitable=True)
    reasons = gates.hold_reasons("paused", held, ())
    assert reasons == ["the case is paused", "Jessica withdrew consent to take part"]
    with i18n.using("cy"):
        assert [i18n.translate(r) for r in reasons] == ["mae'r achos wedi'i oedi",
                                                          "tynnodd Jessica ei ganiatâd i gymryd rhan yn ôl"]
    with i18n.using("en"):
        assert [i18n.translate(r) for r in reasons] == reasons


def test_the_figures_page_in_welsh(world: World, app: Any) -> None:
    """Titles, sentences, row labels, suppressed counts, periods and dates of the figures in Welsh; the CSV
    keeps its English labels."""
    case_id, people = world.case()
    world.approved_letter(people, case_id)
    client = world.sign_in(app, people.coordinator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get("/coordinator/figures?quarter=2026Q4"))
    for welsh in ("Hydref i Ragfyr 2026 (chwarter 4)", "Atgyfeiriadau yn ôl ffynhonnell", "Yr heddlu", "Llythyrau",
                  "llai na 5", "dim digon o atebion i'w dangos", "Achosion yn ôl eu statws heddiw", "Ar agor",
                  "Cyfanswm:", "Pob cyfnod", "Dydd Iau 1 Hydref 2026"):
        assert welsh in page, welsh
    for english in ("October to December", "Referrals by source", ">Police<", "fewer than 5",
                    "not enough answers to show", "Cases by status today", "All time", "1 October 2026"):
        assert english not in page, english
    download = client.get("/coordinator/figures.csv?quarter=2026Q4")
    assert "Referrals by source" not in download.text and ",police,Police," in download.text


def test_the_coordinators_case_page_in_welsh(world: World, app: Any) -> None:
    """Why a facilitator is replaced, and the case's status, in the coordinator's language."""
    case_id, people = world.case()
    client = world.sign_in(app, people.coordinator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get(f"/coordinator/cases/{case_id}"))
    for welsh in ("Absenoldeb", "Salwch", "Gwrthdaro buddiannau", "Rheswm arall", "Ar agor"):
        assert welsh in page, welsh
    for english in (">Leave<", ">Sickness<", ">A conflict of interest<", ">Another reason<", ">Open<"):
        assert english not in page, english


def test_an_unresolved_flag_is_said_in_english_as_before_and_in_welsh_where_shown() -> None:
    from shuttle.messages import flags

    phone = flags.FlagItem("phone-0-5", "phone", "07700")
    with pytest.raises(flags.ResolutionError) as refused:
        flags.resolve([phone], {})
    said = refused.value.message
    assert said == ("Resolve every flag before approving: redact it with an edit, or say why it can stay (at least 5 "
                    "characters). Still open: phone number \u201c07700\u201d.")
    with i18n.using("cy"):
        assert i18n.translate(said) == ("Datryswch bob fflag cyn cymeradwyo: golygwch hi allan, neu dywedwch pam y "
                                        "gall aros (o leiaf 5 nod). Yn dal ar agor: rhif ffôn \u201c07700\u201d.")


def test_the_referrals_in_welsh(world: World, app: Any) -> None:
    """A referral's source, status and first-contact clock in the coordinator's language."""
    from shuttle.referrals import service as referrals

    _case_id, people = world.case()
    world.do(referrals.submit, {"source": "police", "referrer_name": "PC Dawn Price",
                                "referrer_organisation": "Northshire Police", "referrer_contact": "dawn@example.org",
                                "person_name": "Sam Hill", "side": "responsible", "person_knows": "yes",
                                "offence": "Criminal damage", "court": "not_sure", "contact_via_referrer": "yes"},
             client="10.1.0.1")
    client = world.sign_in(app, people.coordinator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get("/coordinator/referrals"))
    for welsh in ("Yr heddlu", "Newydd"):
        assert welsh in page, welsh
    for english in (">Police<", ">New<", " left<"):
        assert english not in page, english
    referral = re.search(r'href="/coordinator/referrals/([^"]+)"', page)
    assert referral is not None
    page = _text(client.get(f"/coordinator/referrals/{referral.group(1)}"))
    for welsh in ("Ddim yn siŵr", "Wedi cysylltu â'r unigolyn", "Drwy asiantaeth", "Achos llys yn parhau"):
        assert welsh in page, welsh
    for english in (">Not sure<", "Reached the person", "Through an agency", "Court proceedings ongoing"):
        assert english not in page, english


def test_a_hold_in_the_timeline_is_said_again_in_welsh(world: World, app: Any) -> None:
    """A hold's reasons are stored as English text in its audit event; the case page says them in Welsh."""
    from shuttle.cases import service as cases

    case_id, message_id, people = _welsh_letter_waiting(world)
    world.do(cases.set_status, people.facilitator, case_id, "paused")
    client = world.sign_in(app, people.facilitator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get(f"/staff/cases/{case_id}"))
    assert "Wedi'i dal yn ôl: mae'r achos wedi'i oedi" in page and "the case is paused" not in page
    page = _text(client.get(f"/staff/messages/{message_id}"))
    assert "(cyn hynny: yn aros i gael ei hadolygu)" in page and "(was " not in page


def test_the_case_page_says_a_default_side_label_in_welsh_and_keeps_it_stored(world: World, app: Any) -> None:
    """The lede names the sides in the reader's language (a default label), the settings form keeps the
    stored English label (saving it does not store Welsh), and a typed label is shown as typed."""
    case_id, people = world.case(label_responsible="Sam's family")
    client = world.sign_in(app, people.facilitator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = _text(client.get(f"/staff/cases/{case_id}"))
    assert "Rhwng yr unigolyn a niweidiwyd a Sam's family." in page
    assert 'value="the person harmed"' in page and "Between the person harmed" not in page
    client.cookies.set(i18n.COOKIE, "en")
    assert "Between the person harmed and Sam's family." in _text(client.get(f"/staff/cases/{case_id}"))


def test_the_staff_forms_refusals_are_in_welsh(world: World, app: Any) -> None:
    """The coordinator's add-staff refusals (accounts.service) and a case's (cases.service, a Sentence
    with its values) are said in the reader's language; the English is unchanged."""
    from shuttle.cases import service as cases
    from shuttle.errors import BadInput

    _case_id, people = world.case()
    client = world.sign_in(app, people.coordinator)
    client.cookies.set(i18n.COOKIE, "cy")
    form = client.get("/coordinator/staff")
    taken = client.post("/coordinator/staff", data={"csrf_token": csrf_of(form), "display_name": "Again",
                                                    "username": world.username(people.facilitator),
                                                    "role": "facilitator"})
    assert taken.status_code == 409
    assert "Mae rhywun eisoes yn defnyddio'r enw defnyddiwr hwnnw." in html.unescape(taken.text)
    assert "That username is taken." not in taken.text
    with pytest.raises(BadInput) as refused:
        world.do(cases.set_status, people.facilitator, _case_id, "paused", reason="x" * (cases.MAX_REASON_CHARS + 1))
    assert refused.value.message == f"The reason is up to {cases.MAX_REASON_CHARS} characters."
    with i18n.using("cy"):
        assert i18n.translate(refused.value.message) == f"Gall y rheswm fod hyd at {cases.MAX_REASON_CHARS} nod."
    from shuttle.cases import participation

    with pytest.raises(BadInput) as not_a_scan:
        participation.check_scan(b"not a scan")
    assert not_a_scan.value.message == "The scanned form must be a PDF, JPEG or PNG file."
    with i18n.using("cy"):
        said = i18n.translate(not_a_scan.value.message)
    assert said == "Rhaid i'r ffurflen wedi'i sganio fod yn ffeil PDF, JPEG neu PNG."


def test_the_coordinators_staff_refusals_and_an_agreement_date_are_said_in_welsh(world: World) -> None:
    """enrolment's refusals (a whole sentence per action, a Sentence with the person's name) and the
    agreement form's date: the English as before, Welsh where shown to a Welsh reader."""
    from shuttle.accounts import enrolment
    from shuttle.errors import BadInput, Conflict
    from shuttle.web.pages import agreements

    _case_id, p = world.case()
    with pytest.raises(BadInput) as own:
        world.do(enrolment.deactivate_staff, p.coordinator, p.coordinator.account_id)
    assert own.value.message == "You cannot deactivate your own account: ask another coordinator."
    with pytest.raises(Conflict) as active:
        world.do(enrolment.reactivate_staff, p.coordinator, p.facilitator.account_id)
    name = active.value.message.removesuffix("'s account is active already.")
    assert name and name != active.value.message
    with pytest.raises(BadInput) as date:
        agreements.items_from([{"what": "Write a letter", "owner": "responsible", "due": "soon", "check": ""}])
    assert date.value.message == "Item 1: the date it is due by is a date like 2027-03-14."
    with i18n.using("cy"):
        assert i18n.translate(own.value.message) == ("Allwch chi ddim dadactifadu eich cyfrif eich hun: "
                                                     "gofynnwch i gydlynydd arall.")
        assert i18n.translate(active.value.message) == f"Mae cyfrif {name} yn weithredol yn barod."
        assert i18n.translate(date.value.message) == ("Eitem 1: mae'r dyddiad y mae'n ddyledus erbyn yn ddyddiad "
                                                      "fel 2027-03-14.")


def test_a_preparation_refusal_is_one_whole_sentence_said_in_welsh() -> None:
    """preparation's text checks take whole marked sentences (no "%(what)s is text" joined in English)."""
    from shuttle.cases import preparation
    from shuttle.errors import BadInput

    with pytest.raises(BadInput) as long:
        preparation._check_text("x" * 11, 10, "A question is text.", "A question can be at most %(max)s characters.")
    assert long.value.message == "A question can be at most 10 characters."
    with pytest.raises(BadInput) as not_text:
        preparation._check_text(3, 10, "The notes is text.", "The notes can be at most %(max)s characters.")  # type: ignore[arg-type]
    assert not_text.value.message == "The notes is text."
    with i18n.using("cy"):
        assert i18n.translate(long.value.message) == "Gall cwestiwn fod hyd at 10 nod."
        assert i18n.translate(not_text.value.message) == "Rhaid i'r nodiadau fod yn destun."


def test_a_missing_case_for_a_legal_hold_is_said_in_welsh(world: World) -> None:
    """retention_policy's refusals are Sentences with the reference: the English as before, Welsh where shown."""
    from shuttle import retention_policy
    from shuttle.errors import NotFound

    _case_id, p = world.case()
    with pytest.raises(NotFound) as missing:
        world.do(retention_policy.lift_hold, p.coordinator, " RJ-2099-9999 ")
    assert missing.value.message == "No case RJ-2099-9999."
    with i18n.using("cy"):
        assert i18n.translate(missing.value.message) == "Does dim achos RJ-2099-9999."


def test_a_preparation_forms_date_refusal_is_a_whole_sentence_said_in_welsh() -> None:
    from shuttle.errors import BadInput
    from shuttle.web.pages import preparing

    with pytest.raises(BadInput) as refused:
        preparing._day({"review_by": "soon"}, "review_by", "The review-by date is a date like 2026-03-14.")
    assert refused.value.message == "The review-by date is a date like 2026-03-14."
    with i18n.using("cy"):
        said = i18n.translate(refused.value.message)
    assert said == "Rhaid i'r dyddiad adolygu erbyn fod yn ddyddiad fel 2026-03-14."
