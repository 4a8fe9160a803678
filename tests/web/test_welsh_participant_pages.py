"""Welsh (issue 12) on the participants' and the public pages: a page asked for in Welsh has lang="cy",
its sentences in Welsh and none of its English ones left; the errors a participant meets (a form's,
the API's "message" the page's scripts show) and the words the scripts say are in Welsh too."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from forms import csrf_of
from forms import sign_in_page as _sign_in
from starlette.testclient import TestClient
from world import People, World, web_client

from shuttle import i18n
from shuttle.services import Services
from shuttle.web.app import build_app

LANG = re.compile(r'<html lang="([^"]+)"')
API = "/api/v1"


@pytest.fixture
def setup(sqlite_svc: Services) -> tuple[Any, World, str, People]:
    world = World(sqlite_svc)
    case_id, people = world.case(read_receipts_allowed=True)
    return build_app(sqlite_svc, check_schema=False), world, case_id, people


def _welsh(app: Any, world: World, person: Any) -> TestClient:
    client, _home = _sign_in(app, world, person)
    client.cookies.set(i18n.COOKIE, "cy")
    return client


def _reads(page: Any) -> str:
    """What a person reads: the page without its tags and scripts, spaces collapsed."""
    text = re.sub(r"<script\b.*?</script>", " ", page.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _in_welsh(page: Any, welsh: tuple[str, ...], english: tuple[str, ...]) -> None:
    assert LANG.search(page.text).group(1) == "cy"  # type: ignore[union-attr]
    words = _reads(page)
    for sentence in welsh:
        assert sentence in words, sentence
    for sentence in english:
        assert sentence not in words, sentence


def test_a_waiting_message_and_opening_it_in_welsh(setup: Any) -> None:
    app, world, case_id, p = setup
    letter = world.approved_letter(p, case_id, "Dear Sam, I have thought about it.")
    sam = _welsh(app, world, p.responsible)
    waiting = sam.get(f"/me/inbox/{letter}")
    assert waiting.status_code == 200
    _in_welsh(waiting, ("Mae neges gan", "yn aros", "Mae'n llythyr. Hoffech chi ei hagor nawr?", "Ei hagor nawr",
                        "Ddim eto", "Ei hagor gyda'ch hwylusydd", "Gofyn i'ch hwylusydd ei dal, ei dychwelyd neu"),
              ("is waiting", "Would you like to open it now?", "Open it now", "Not yet",
               "Open it with your facilitator", "will not be told", "Ask your facilitator", "somewhere you feel safe"))
    opened = sam.post(f"/me/inbox/{letter}", data={"csrf_token": csrf_of(waiting), "choice": "open"})
    assert opened.status_code == 200 and "Dear Sam, I have thought about it." in opened.text
    _in_welsh(opened, ("Neges gan", "Mae hwn yn llythyr, wedi'i ddanfon Dydd",
                       "Os yw hyn wedi codi teimladau anodd, mae eich hwylusydd yno i siarad amdano gyda chi."),
              ("Message from", "A letter, delivered", "difficult feelings", "Reply to it"))


def test_choosing_what_to_send_and_its_error_in_welsh(setup: Any) -> None:
    app, world, case_id, p = setup
    jessica = _welsh(app, world, p.harmed)
    page = jessica.get(f"/me/cases/{case_id}/record")
    _in_welsh(page, ("Beth hoffech chi ei anfon at", "Fideo", "Recordiad sain", "Llun o lythyr mewn llawysgrifen",
                     "Gallwch chi recordio yn y porwr hwn"),
              ("What would you like to send", "A sound recording", "A photo of a handwritten letter", "Continue"))
    refused = jessica.post(f"/me/cases/{case_id}/record", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 400
    _in_welsh(refused, ("Mae problem", "Gwall: Dewiswch beth hoffech chi ei anfon."),
              ("There is a problem", "Choose what you would like to send.", "Error:"))


def test_consents_and_stopping_in_welsh(setup: Any) -> None:
    app, world, case_id, p = setup
    jessica = _welsh(app, world, p.harmed)
    consents = jessica.get("/me/consents")
    _in_welsh(consents, ("Beth rydych chi wedi cytuno iddo", "Fe wnaethoch chi gytuno i gymryd rhan yn y broses",
                         "Tynnu'n ôl fy nghaniatâd i gymryd rhan yn y broses"),
              ("What you have agreed to", "You agreed", "to take part in the process", "Withdraw my consent"))
    leave = jessica.get(f"/me/cases/{case_id}/leave")
    _in_welsh(leave, ("Ydych chi am roi'r gorau i gymryd rhan?", "Ydw, rhoi'r gorau i gymryd rhan",
                      "Nac ydw, mynd yn ôl"),
              ("Do you want to stop taking part?", "Yes, stop taking part", "No, go back", "If you stop"))


def test_the_digest_page_shows_the_welsh_e_mail(setup: Any) -> None:
    app, world, _case_id, p = setup
    page = _welsh(app, world, p.harmed).get("/me/notifications")
    _in_welsh(page, ("E-byst pan fydd angen chi ar rywbeth", "Y pwnc yw “Rhywbeth newydd ar shuttle”",
                     "Mae rhywbeth newydd i chi ar shuttle.", "Eich cyfeiriad e-bost"),
              ("Something new on shuttle", "There is something new", "What the e-mail says", "Your e-mail address"))


def test_the_referral_form_and_its_errors_in_welsh(setup: Any) -> None:
    app, _world, _case_id, _p = setup
    client = web_client(app)
    client.cookies.set(i18n.COOKIE, "cy")
    start = client.get("/refer")
    _in_welsh(start, ("Gofyn am gyfiawnder adferol", "Dechrau nawr", "Os ydych chi mewn perygl nawr, ffoniwch 999."),
              ("Ask for restorative justice", "Start now", "What happens next", "not counting weekends"))
    who = client.get("/refer/who")
    _in_welsh(who, ("Pwy sy'n gwneud yr atgyfeiriad hwn?", "Fi fy hun: cefais i fy niweidio gan drosedd",
                    "Gofyn am gyfiawnder adferol: cwestiwn 1 o"),
              ("Who is making this referral?", "Myself", "Youth offending team", "question 1 of"))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', who.text))
    refused = client.post("/refer", data={**fields, "action": "continue"})
    assert refused.status_code == 400
    _in_welsh(refused, ("Mae problem", "Dewiswch pwy sy'n gwneud yr atgyfeiriad hwn"),
              ("There is a problem", "Select who is making this referral"))


def test_the_apis_sentences_and_the_scripts_words_in_welsh(setup: Any) -> None:
    app, world, case_id, p = setup
    sam = world.sign_in(app, p.responsible)
    refused = sam.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Jessica,"})
    assert refused.status_code == 409 and refused.json()["message"].startswith("You cannot write to the other side")
    sam.cookies.set(i18n.COOKIE, "cy")
    refused = sam.post(f"{API}/cases/{case_id}/messages", json={"text": "Dear Jessica,"})
    assert refused.status_code == 409 and refused.json()["error"] == "not_your_turn"
    assert refused.json()["message"] == ("Allwch chi ddim ysgrifennu at yr ochr arall yn yr achos hwn eto. "
                                         "Gall eich hwylusydd ddweud mwy wrthych chi.")

    # The recorder's, the upload's and the draft's words: a table of the page, keyed by the English.
    page = _welsh(app, world, p.harmed).get(f"/me/cases/{case_id}/write")
    found = re.search(r'<script type="application/json" id="script-words">(.*?)</script>', page.text, re.S)
    assert found is not None
    words = json.loads(found.group(1))
    assert words["Recording {time}"] == "Yn recordio {time}" and words["Saved at {time}"] == "Wedi'i gadw am {time}"
    assert words["Shift, press 2 more times to exit."] == "Shift, pwyswch 2 waith eto i adael."
    assert words["Line {n} starts at {time}."] == "Mae llinell {n} yn dechrau am {time}."
    assert all(value for value in words.values())
    english = web_client(app).get("/login")
    table = re.search(r'id="script-words">(.*?)</script>', english.text, re.S)
    assert table is not None and json.loads(table.group(1)) == {  # anyone's pages: only the quick exit's words
        "Shift, press 2 more times to exit.": "Shift, press 2 more times to exit.",
        "Shift, press 1 more time to exit.": "Shift, press 1 more time to exit."}


def test_a_missing_page_and_an_arranged_time_in_welsh(setup: Any) -> None:
    """Sentences made in Python when the page renders: a 404's, and a time in words ("... am 14:30 (UTC)")."""
    from datetime import UTC, datetime

    from shuttle.dates import on_day
    from shuttle.messages.supported_opening import at_in_words

    app, world, _case_id, p = setup
    missing = _welsh(app, world, p.harmed).get("/me/inbox/nothing-here")
    assert missing.status_code == 404
    _in_welsh(missing, ("Heb ddod o hyd i'r dudalen", "Heb ddod o hyd iddo."), ("Not found.", "Page not found"))
    at = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    with i18n.using("cy"):
        assert at_in_words(at) == f"{on_day(at)} am 14:30 (UTC)" == "Dydd Mawrth 1 Rhagfyr 2026 am 14:30 (UTC)"
    assert at_in_words(at) == "Tuesday 1 December 2026 at 14:30 (UTC)"


def test_the_authors_notice_of_a_returned_message_is_said_when_shown() -> None:
    """The author's page says their message was returned at the recipient's request in the page's language."""
    from datetime import UTC, datetime

    from shuttle.messages.requests import AuthorNotice

    notice = AuthorNotice("return", "the person harmed", "letter", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert notice.sentence == ("The person harmed asked for this letter to be returned to you. Your facilitator did "
                               "that on Tuesday 1 December 2026: the person harmed can no longer open it.")
    with i18n.using("cy"):
        assert notice.sentence == ("Gofynnodd The person harmed i'r llythyr hwn gael ei ddychwelyd atoch chi. Gwnaeth "
                                   "eich hwylusydd hynny Dydd Mawrth 1 Rhagfyr 2026: ni all the person harmed ei agor "
                                   "bellach.")


def test_the_agreement_page_and_its_error_in_welsh(setup: Any) -> None:
    from shuttle.agreements import rules
    from shuttle.agreements import service as agreements

    app, world, case_id, p = setup
    world.do(agreements.draft_version, p.facilitator, case_id,
             [rules.Item("Sam repairs the fence", "responsible", None, "Fiona looks")])
    jessica = _welsh(app, world, p.harmed)
    page = jessica.get(f"/me/cases/{case_id}/agreement")
    _in_welsh(page, ("Eich cytundeb gyda", "Y cytundeb", "Gan: ", "Sut mae'n cael ei wirio: Fiona looks",
                     "Ydych chi'n cytuno i hyn?", "Ydw, rwy'n cytuno", "Anfon fy ateb"),
              ("Your agreement with", "By: ", "How it is checked", "Do you agree to this?", "Send my answer"))
    refused = jessica.post(f"/me/cases/{case_id}/agreement", data={
        "csrf_token": csrf_of(page), "action": "answer", "version": "1", "decision": "change", "note": " "})
    assert refused.status_code == 400
    _in_welsh(refused, ("Mae problem", "Dywedwch beth hoffech chi ei newid."),
              ("There is a problem", "Say what you would like changed."))


def test_an_expired_form_is_refused_in_welsh(setup: Any) -> None:
    app, world, case_id, p = setup
    jessica = _welsh(app, world, p.harmed)
    refused = jessica.post(f"/me/cases/{case_id}/leave", data={"csrf_token": "stale", "confirm": "yes"})
    assert refused.status_code == 403
    _in_welsh(refused, ("Mae'r ffurflen wedi dod i ben neu ni ddaeth o'r wefan hon.",),
              ("The form has expired", "Reload the page"))


def test_the_default_side_labels_are_said_in_welsh_and_a_typed_one_as_typed(sqlite_svc: Services) -> None:
    """A side not named by the facilitator is "the person harmed" (stored so, in English): a Welsh page
    says it in Welsh, in its sentences; a label the facilitator typed is shown as typed; English unchanged."""
    world = World(sqlite_svc)
    app = build_app(sqlite_svc, check_schema=False)
    case_id, p = world.case(label_responsible="Sam's family")
    letter = world.approved_letter(p, case_id, "Dear Sam, I have thought about it.")
    jessica = _welsh(app, world, p.harmed)
    home = jessica.get("/me")
    assert home.status_code == 200
    _in_welsh(home, ("Sam's family",), ("the person harmed", "Sam&#39;s family"))
    sam = _welsh(app, world, p.responsible)
    _in_welsh(sam.get("/me"), ("Eich cyfnewid gyda'r unigolyn a niweidiwyd",),
              ("Your exchange with", "with the person harmed"))
    _in_welsh(sam.get(f"/me/inbox/{letter}"), ("Mae neges gan yr unigolyn a niweidiwyd yn aros",),
              ("the person harmed",))
    opened = sam.get(f"/me/inbox/{letter}")
    sam.post(f"/me/inbox/{letter}", data={"csrf_token": csrf_of(opened), "choice": "open"})
    _in_welsh(sam.get("/me"), ("Llythyr gan yr unigolyn a niweidiwyd", "Wedi'i agor"),  # the conversation
              ("Letter from", "Opened", "Reply"))
    sam.cookies.set(i18n.COOKIE, "en")
    english = _reads(sam.get(f"/me/inbox/{letter}"))
    assert "Message from the person harmed" in english and "yr unigolyn" not in english
    home = _reads(sam.get("/me"))
    assert "Letter from the person harmed , delivered" in home and "Opened" in home


def test_a_stale_message_and_a_request_refusal_are_said_in_welsh() -> None:
    """The refusals a participant's page or script shows from shared modules (lifecycle, requests) are
    marked: translated where shown, the English as before."""
    from types import SimpleNamespace

    from shuttle.errors import BadInput, Conflict
    from shuttle.messages import lifecycle, requests

    with pytest.raises(Conflict) as stale:
        lifecycle.check_fresh(SimpleNamespace(row_version=2), 1)  # type: ignore[arg-type]
    assert stale.value.message.startswith("This message has changed since you opened it")
    with pytest.raises(BadInput) as long_note:
        requests._check_note("x" * (requests.MAX_NOTE_CHARS + 1))
    assert long_note.value.message == f"A note can be at most {requests.MAX_NOTE_CHARS} characters."
    with i18n.using("cy"):
        assert i18n.translate(stale.value.message).startswith("Mae'r neges hon wedi newid ers i chi ei hagor")
        assert i18n.translate(long_note.value.message) == f"Gall nodyn fod hyd at {requests.MAX_NOTE_CHARS} nod."


def test_an_upload_refusal_and_a_referral_refusal_are_said_in_welsh(setup: Any) -> None:
    """The tus endpoint's and the referral API's refusals: in Welsh to a Welsh reader, as before to others."""
    app, world, _case_id, p = setup
    bad_length = {"Tus-Resumable": "1.0.0", "Upload-Length": "five"}
    english = world.sign_in(app, p.harmed).post(f"{API}/uploads", headers=bad_length)
    assert english.status_code == 400 and english.json()["message"] == (
        "The Upload-Length header must be a whole number of bytes, in at most 18 digits 0-9.")
    welsh = world.sign_in(app, p.harmed)
    welsh.cookies.set(i18n.COOKIE, "cy")
    refused = welsh.post(f"{API}/uploads", headers=bad_length)
    assert refused.status_code == 400 and refused.json()["message"] == (
        "Rhaid i'r pennawd Upload-Length fod yn nifer cyfan o feitiau, mewn 18 digid 0-9 ar y mwyaf.")
    both = welsh.post(f"{API}/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5",
                                                   "Upload-Defer-Length": "1"})
    assert both.json()["message"] == "Anfonwch Upload-Length neu Upload-Defer-Length, nid y ddau."

    half = {"source": "police", "person_name": "Sam"}
    assert web_client(app).post(f"{API}/referrals", json=half).json()["message"] == "Enter your name."
    anonymous = web_client(app)
    anonymous.cookies.set(i18n.COOKIE, "cy")
    refused = anonymous.post(f"{API}/referrals", json=half)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_referral"
    assert refused.json()["message"] == "Rhowch eich enw."
    long = anonymous.post(f"{API}/referrals", json={"source": "self_responsible", "person_name": "Sam",
                                                    "offence": "x" * 301, "court": "no"})
    assert long.json()["message"] == "Rhaid i'r ateb hwn fod yn 300 nod neu lai: mae ganddo 301."


def test_a_body_the_api_cannot_read_is_refused_in_welsh(setup: Any) -> None:
    """shuttle.web.http's refusals of a body (not JSON, not an object): the reader's language, English otherwise."""
    app, world, case_id, p = setup
    url = f"{API}/cases/{case_id}/messages"
    english = world.sign_in(app, p.harmed)
    assert english.post(url, json=[1]).json()["message"] == "The body must be a JSON object."
    welsh = world.sign_in(app, p.harmed)
    welsh.cookies.set(i18n.COOKIE, "cy")
    listed = welsh.post(url, json=[1])
    assert listed.status_code == 400 and listed.json()["message"] == "Rhaid i'r corff fod yn wrthrych JSON."
    broken = welsh.post(url, content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["message"] == "Nid yw'r corff yn JSON dilys."


def test_a_short_password_and_a_closed_message_are_refused_in_welsh_where_shown() -> None:
    """passwords' length refusals (Sentences) and delivery's returned/destroyed refusal (a whole sentence
    each, not a verb joined in English): the English as before, Welsh where shown."""
    from shuttle.accounts.passwords import PasswordPolicy
    from shuttle.errors import BadInput
    from shuttle.messages import delivery

    policy = PasswordPolicy()
    with pytest.raises(BadInput) as short:
        policy.check("x")
    assert short.value.message == f"Choose a password of at least {policy.min_length} characters."
    assert delivery._closed_words("return") == "At your request, your facilitator has returned this message."
    with i18n.using("cy"):
        assert i18n.translate(short.value.message) == f"Dewiswch gyfrinair o {policy.min_length} nod o leiaf."
        assert i18n.translate(delivery._closed_words("destroy")) == (
            "Ar eich cais chi, mae eich hwylusydd wedi dinistrio'r neges hon.")


def test_the_apis_time_refusal_is_marked_and_said_in_welsh() -> None:
    from shuttle.errors import BadInput
    from shuttle.web import contract

    with pytest.raises(BadInput) as naive:
        contract.moment("2026-12-01T10:00:00")
    assert naive.value.message == "'at' needs a time zone, e.g. 2026-12-01T10:00:00+00:00."
    with i18n.using("cy"):
        assert i18n.translate(naive.value.message) == "Mae angen cylchfa amser ar 'at', e.e. 2026-12-01T10:00:00+00:00."


def test_a_welsh_article_before_a_said_value_is_elided_only_at_the_join() -> None:
    """Welsh writes "gyda'r", "a'r" (not "gyda yr", "a yr") before a default side label; a label typed
    as "yr ysgol" (a name, not a Sentence), the label's own words and English are left as they are."""
    from shuttle.cases.models import shown_label
    from shuttle.web.pages.common import TEMPLATES

    page = TEMPLATES.env.from_string(
        "{% trans harmed=h, responsible=r %}Between {{ harmed }} and {{ responsible }}.{% endtrans %} "
        "{% trans other=h %}Your exchange with {{ other }}{% endtrans %}")
    harmed, responsible = shown_label("the person harmed"), shown_label("the person responsible")
    with i18n.using("cy"):
        assert page.render(h=harmed, r=responsible) == (
            "Rhwng yr unigolyn a niweidiwyd a'r unigolyn cyfrifol. Eich cyfnewid gyda'r unigolyn a niweidiwyd")
        assert page.render(h="Jessica", r="yr ysgol") == "Rhwng Jessica a yr ysgol. Eich cyfnewid gyda Jessica"
        both = i18n.Sentence(i18n.N_("%(harmed)s and %(responsible)s"), harmed=harmed, responsible=responsible)
        assert i18n.translate(both) == "yr unigolyn a niweidiwyd a'r unigolyn cyfrifol"
    with i18n.using("en"):
        assert page.render(h=harmed, r=responsible) == (
            "Between the person harmed and the person responsible. Your exchange with the person harmed")


def test_an_unknown_address_answers_like_a_missing_id_in_welsh_too(setup: Any) -> None:
    """Invariant 7 in the reader's language: an address that does not exist and an id that does not
    (or is not theirs) answer the same body, in Welsh for a Welsh reader; a method the address does not
    answer is said in Welsh too (with the methods it answers)."""
    app, world, case_id, p = setup
    welsh = world.sign_in(app, p.harmed)
    welsh.cookies.set(i18n.COOKIE, "cy")
    unknown = welsh.get(f"{API}/no-such-place")
    missing = welsh.get(f"{API}/messages/{'0' * 32}")
    assert unknown.status_code == missing.status_code == 404
    assert unknown.json() == missing.json() and unknown.json()["message"] != "Not found."
    wrong = welsh.delete(f"{API}/cases/{case_id}/messages")
    assert wrong.status_code == 405 and wrong.json()["message"].startswith("Nid yw'r cyfeiriad hwn yn ateb DELETE")
    english = world.sign_in(app, p.harmed)
    assert english.get(f"{API}/no-such-place").json()["message"] == "Not found."
    assert english.delete(f"{API}/cases/{case_id}/messages").json()["message"].startswith(
        "This address does not answer DELETE; it answers ")


def test_a_request_bodys_fields_are_refused_in_the_readers_language(setup: Any) -> None:
    """contract.parse: each field at fault is one sentence, said in the asker's language; the
    machine-readable `fields` (field, problem) stay the same whatever the language."""
    app, world, case_id, p = setup
    url = f"{API}/cases/{case_id}/messages"
    body = {"kind": 7, "colour": "blue"}
    english = world.sign_in(app, p.harmed).post(url, json=body)
    assert english.status_code == 400
    assert english.json()["message"] == "'kind' must be str. 'colour' is not a field of this request."
    welsh_client = world.sign_in(app, p.harmed)
    welsh_client.cookies.set(i18n.COOKIE, "cy")
    welsh = welsh_client.post(url, json=body)
    assert welsh.status_code == 400
    assert welsh.json()["message"] == "Rhaid i 'kind' fod yn str. Nid yw 'colour' yn un o feysydd y cais hwn."
    assert welsh.json()["fields"] == english.json()["fields"] == [
        {"field": "kind", "problem": "must be str"}, {"field": "colour", "problem": "is not a field of this request"}]
