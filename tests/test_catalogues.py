"""English and Welsh (issue 12): every string a template or marked Python source uses is in the Welsh
catalogue, translated; the language choice is a POST remembered in a cookie (anyone) and on the
account (signed in); the page's `lang` and its dates follow it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from forms import csrf_of
from forms import sign_in_page as _sign_in
from world import World, web_client

from shuttle import i18n
from shuttle.accounts.models import Account
from shuttle.dates import on_day
from shuttle.messages import authoring
from shuttle.messages.states import AUTHOR_WORDS, AUTHOR_WORDS_RECALLED
from shuttle.services import Services
from shuttle.web.app import build_app
from shuttle.web.pages.common import about_words, too_long

ROOT = Path(__file__).resolve().parent.parent
LANG = re.compile(r'<html lang="([^"]+)"')


#: The extraction configs, one per catalogue (babel.cfg: messages.po; babel-staff.cfg: staff.po).
CONFIGS = ("babel.cfg", "babel-staff.cfg")


def _used_messages() -> dict[str, str]:
    """Every msgid the templates and marked Python use, found with Babel's extractors and both configs."""
    found: dict[str, str] = {}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
    for config in CONFIGS:
        with (ROOT / config).open() as handle:
            method_map, options_map = parse_mapping_cfg(handle)
        for filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map,
                                                                                keywords=keywords):
            msgid = message[0] if isinstance(message, tuple) else message  # a plural is kept under its singular
            if msgid:
                found.setdefault(msgid, filename)
    return found


def _catalogue(locale: str, domain: str = "messages") -> Any:
    with i18n.catalogue_path(locale, domain).open("rb") as handle:
        return read_po(handle, locale=locale)


def _catalogues(locale: str) -> list[Any]:
    """Every catalogue of `locale` (messages.po and staff.po): a used string is translated in one of them."""
    return [_catalogue(locale, domain) for domain in i18n.DOMAINS]


def _translated(catalogue: Any, msgid: str) -> bool:
    found = catalogue.get(msgid)
    if found is None:
        return False
    strings = found.string if isinstance(found.string, tuple) else (found.string,)
    return all(strings)  # every plural form of a plural


def test_every_string_used_is_translated_into_welsh() -> None:
    used = _used_messages()
    assert "Sign out" in used and "Draft" in used  # a template's string and a state's words are extracted
    assert "Review queue" in used  # and a staff page's, through babel-staff.cfg
    welsh = _catalogues("cy")
    untranslated = sorted(f"{where}: {msgid!r}" for msgid, where in used.items()
                          if not any(_translated(catalogue, msgid) for catalogue in welsh))
    assert not untranslated, ("missing from shuttle/locale/cy/LC_MESSAGES/messages.po and staff.po:\n"
                              + "\n".join(untranslated))


def test_the_welsh_catalogue_keeps_every_placeholder() -> None:
    placeholder = re.compile(r"%\(\w+\)s|<[^>]+>")
    for message in (message for catalogue in _catalogues("cy") for message in catalogue):
        if not message.id:
            continue
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        for translated in message.string if isinstance(message.string, tuple) else (message.string,):
            assert sorted(placeholder.findall(source)) == sorted(placeholder.findall(translated)), message.id


def test_the_state_words_are_all_in_the_catalogue() -> None:
    """The author's words for each state are plain strings in states.py, translated when a page shows them."""
    welsh = i18n.translations("cy")
    for words in [*AUTHOR_WORDS.values(), AUTHOR_WORDS_RECALLED]:
        for message in words:
            assert welsh.gettext(message) != message, message


def test_the_staff_catalogue_is_read_with_the_participants_one() -> None:
    """staff.po (babel-staff.cfg) is loaded beside messages.po: either answers for its own strings."""
    assert [path.name for path in i18n.catalogue_paths("cy")] == ["messages.po", "staff.po"]
    assert i18n.catalogue_path("cy").name == "messages.po" and all(path.exists() for path in i18n.catalogue_paths("cy"))
    welsh = i18n.translations("cy")
    assert welsh.gettext("Review queue") == "Ciw adolygu"  # only in staff.po
    assert welsh.gettext("Sign out") == "Allgofnodi"  # messages.po


def test_a_facilitators_dashboard_in_welsh(app: Any, sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    _case_id, people = world.case()
    client = world.sign_in(app, people.facilitator)
    client.cookies.set(i18n.COOKIE, "cy")
    page = client.get("/staff")
    assert page.status_code == 200 and LANG.search(page.text).group(1) == "cy"  # type: ignore[union-attr]
    for welsh in ("<h1>Eich gwaith</h1>", "Ciw adolygu", "Eich achosion", "Allgofnodi", ">English</button>"):
        assert welsh in page.text, welsh
    for english in ("Your work", "Review queue", "Your cases"):
        assert english not in page.text, english


def test_the_staff_and_coordinator_pages_render_in_welsh(app: Any, sqlite_svc: Services) -> None:
    """Every sentence of these pages comes from staff.po in Welsh: each renders, with no English heading left."""
    world = World(sqlite_svc)
    case_id, people = world.case()
    message_id = world.approved_letter(people, case_id)
    facilitator = world.sign_in(app, people.facilitator)
    facilitator.cookies.set(i18n.COOKIE, "cy")
    pages = {f"/staff/cases/{case_id}": ("Cyfranogwyr", "Llinell amser", "Rhestr wylio"),
             f"/staff/messages/{message_id}": ("Ei hanes hyd yma", "Fersiynau"),
             f"/staff/cases/{case_id}/agreement": ("Cytundeb canlyniad a chau", "Ôl-ofal"),
             f"/staff/cases/{case_id}/notes": ("Nodiadau preifat",)}
    for url, welsh_words in pages.items():
        page = facilitator.get(url)
        assert page.status_code == 200 and LANG.search(page.text).group(1) == "cy", url  # type: ignore[union-attr]
        for welsh in welsh_words:
            assert welsh in page.text, (url, welsh)
    coordinator = world.sign_in(app, people.coordinator)
    coordinator.cookies.set(i18n.COOKIE, "cy")
    for url, welsh in (("/coordinator", "Y gwasanaeth"), ("/coordinator/referrals", "Atgyfeiriadau"),
                       ("/coordinator/cases", "Achosion"), (f"/coordinator/cases/{case_id}", "Gwrthdaro buddiannau"),
                       ("/coordinator/staff", "Ychwanegu aelod o staff"), ("/coordinator/retention", "Cadw a daliadau"),
                       ("/coordinator/figures", "Ffigurau'r gwasanaeth"), ("/coordinator/organisations", "Sefydliadau"),
                       ("/coordinator/support-services", "Gwasanaethau cymorth"),
                       ("/coordinator/export-key", "Allwedd")):
        page = coordinator.get(url)
        assert page.status_code == 200 and welsh in page.text.replace("&#39;", "'"), url


def test_dates_are_in_the_readers_language() -> None:
    assert on_day(date(2026, 12, 1), "en") == "Tuesday 1 December 2026"
    assert on_day(date(2026, 12, 1), "cy") == "Dydd Mawrth 1 Rhagfyr 2026"
    with i18n.using("cy"):
        assert on_day(date(2026, 6, 6)) == "Dydd Sadwrn 6 Mehefin 2026"
    assert on_day(date(2026, 6, 6)) == "Saturday 6 June 2026"


def test_sizes_in_words_are_in_the_readers_language() -> None:
    assert about_words(65_000) == "about 10,000 words" and about_words(6) == "about 1 word"
    with i18n.using("cy"):
        assert about_words(65_000) == "tua 10,000 o eiriau" and about_words(6) == "tua 1 gair"
        assert too_long(65_000, 65_013).startswith("Mae hwn yn rhy hir i'w gadw. Gall fod hyd at tua 10,000 o eiriau")


@pytest.fixture
def app(sqlite_svc: Services) -> Any:
    return build_app(sqlite_svc, check_schema=False)


def test_anyone_chooses_welsh_and_it_is_remembered_in_a_cookie(app: Any) -> None:
    client = web_client(app)
    english = client.get("/login")
    assert LANG.search(english.text).group(1) == "en-GB"  # type: ignore[union-attr]
    assert ">Cymraeg</button>" in english.text and "Sign in" in english.text
    assert client.get("/language").status_code == 405  # a GET never chooses
    chosen = client.post("/language", data={"language": "cy", "next": "/login"}, follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
    assert client.cookies.get(i18n.COOKIE) == "cy"
    welsh = client.get("/login")
    assert LANG.search(welsh.text).group(1) == "cy"  # type: ignore[union-attr]
    assert "<h1>Mewngofnodi</h1>" in welsh.text and ">English</button>" in welsh.text
    assert "Neidio i&#39;r prif gynnwys" in welsh.text or "Neidio i'r prif gynnwys" in welsh.text
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Heb ddod o hyd i" in missing.text and 'lang="cy"' in missing.text
    # Only a path on this site to go back to, and only the service's languages.
    away = client.post("/language", data={"language": "en", "next": "//evil.example/"}, follow_redirects=False)
    assert away.headers["location"] == "/" and client.cookies.get(i18n.COOKIE) == "en"
    assert client.post("/language", data={"language": "fr"}, follow_redirects=False).status_code == 400


def _language(world: World, account_id: str | None) -> str | None:
    with world.svc.db.uow() as uow:
        account = uow.session.get(Account, account_id)
        assert account is not None
        return account.language


def test_a_signed_in_persons_choice_is_kept_on_their_account(app: Any, sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    _case_id, people = world.case()
    client, home = _sign_in(app, world, people.harmed)
    assert LANG.search(home.text).group(1) == "en-GB" and "Sign out" in home.text  # type: ignore[union-attr]
    assert _language(world, people.harmed.account_id) is None
    refused = client.post("/language", data={"language": "cy", "next": "/me"}, follow_redirects=False)
    assert refused.status_code == 403 and _language(world, people.harmed.account_id) is None  # no CSRF token
    client.post("/language", data={"language": "cy", "next": "/me", "csrf_token": csrf_of(home)})
    assert _language(world, people.harmed.account_id) == "cy"
    # Another device, no cookie: the account's choice, and the cookie set from it.
    other, landed = _sign_in(app, world, people.harmed)
    assert LANG.search(landed.text).group(1) == "cy"  # type: ignore[union-attr]
    assert "Allgofnodi" in landed.text and other.cookies.get(i18n.COOKIE) == "cy"


def test_the_participants_home_in_welsh(app: Any, sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    case_id, people = world.case()
    world.do(authoring.start_draft, people.harmed, case_id, "Annwyl Sam,")
    client, _home = _sign_in(app, world, people.harmed)
    client.cookies.set(i18n.COOKIE, "cy")
    page = client.get("/me")
    assert page.status_code == 200 and LANG.search(page.text).group(1) == "cy"  # type: ignore[union-attr]
    for welsh in ("Yn aros amdanoch chi", "Beth allwch chi ei wneud", "Ysgrifennu llythyr", ">Drafft<",
                  "Oedi danfon ataf fi", "Allgofnodi", ">English</button>"):
        assert welsh in page.text, welsh
    # The day the draft was written, in Welsh, in a sentence made in Python.
    assert re.search(r"wedi&#39;i ysgrifennu Dydd \w+ \d{1,2} \w+ \d{4}|wedi'i ysgrifennu Dydd \w+ \d{1,2} \w+ \d{4}",
                     page.text)
    for english in ("Waiting for you", "Sign out", "Write a letter", "written "):
        assert english not in page.text, english
    holding = client.get(f"/me/cases/{case_id}/holding")
    assert "Oedi danfon atoch chi?" in holding.text and "Canslo a mynd yn ôl" in holding.text
