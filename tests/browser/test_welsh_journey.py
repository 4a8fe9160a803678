"""The letter journey in Welsh (issue 12), in a real browser: choose Cymraeg on the sign-in page,
sign in, write a letter, check it and send it; every page says `lang="cy"` and speaks Welsh; going
back to English while signed in puts the choice on the person's account."""

from __future__ import annotations

import re
from typing import Any

from browsing import Site
from world import World

from shuttle.accounts.models import Account


def _welsh(page: Any, *sentences: str) -> None:
    assert page.locator("html").get_attribute("lang") == "cy", page.url
    text = page.locator("body").inner_text()
    for sentence in sentences:
        assert sentence in text, f"{sentence!r} not on {page.url}"


def test_a_letter_written_checked_and_sent_in_welsh(browser: Any, site: Site) -> None:
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    page.goto(f"{site.base}/login")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    page.get_by_role("button", name="Cymraeg").click()
    page.get_by_role("heading", name="Mewngofnodi").wait_for()
    _welsh(page, "Neidio i'r prif gynnwys", "Gadael y dudalen hon", "English")

    page.get_by_label("Enw defnyddiwr").fill(site.username("harmed"))
    page.get_by_label("Cyfrinair").fill(World.PASSWORD)
    page.get_by_role("button", name="Mewngofnodi").click()
    page.get_by_role("heading", name=re.compile("^Helo, ")).wait_for()
    _welsh(page, "Yn aros amdanoch chi", "Beth allwch chi ei wneud", "Allgofnodi")

    page.get_by_role("link", name="Ysgrifennu llythyr").click()
    page.get_by_role("heading", name=re.compile("^Ysgrifennu llythyr at ")).wait_for()
    _welsh(page, "Cymerwch eich amser", "Cwestiynau a allai eich helpu i ysgrifennu")
    page.get_by_label("Eich llythyr").fill("Annwyl Sam, rydw i wedi meddwl am beth i'w ddweud.")
    page.get_by_role("button", name="Cadw'r drafft").click()
    page.wait_for_url(re.compile(r"/me/messages/[0-9a-f]{32}"))  # (autosave may have made the draft first)
    page.get_by_role("heading", name=re.compile("^Eich llythyr at ")).wait_for()
    _welsh(page, "Ble mae nawr:", "Drafft", "Dim ond chi all weld y drafft hwn")

    page.get_by_role("button", name="Parhau i wirio ac anfon").click()
    page.get_by_role("heading", name="Gwiriwch eich llythyr cyn ei anfon").wait_for()
    _welsh(page, "Dyma beth fydd eich hwylusydd yn ei gael", "Ei anfon")
    page.get_by_role("button", name="Anfon at fy hwylusydd").click()
    page.get_by_text("Wedi'i anfon at eich hwylusydd. Byddan nhw'n ei ddarllen").wait_for()
    _welsh(page, "Gyda'ch hwylusydd", "Beth sydd wedi digwydd iddo")
    # The day it was written, in Welsh (Babel's CLDR names): "Dydd Mawrth 1 Rhagfyr 2026".
    assert re.search(r"Dydd \w+ \d{1,2} \w+ \d{4}", page.locator("dl.history").inner_text())

    # Chosen before signing in: the cookie's choice (reading pages never writes it to the account).
    assert _account_language(site) is None

    # Back to English from any page, signed in: the same page in English, and the account keeps it.
    page.get_by_role("button", name="English").click()
    page.get_by_text("Where it is now:").wait_for()
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert _account_language(site) == "en"


def _account_language(site: Site) -> str | None:
    with site.world.svc.db.uow() as uow:
        account = uow.session.get(Account, site.people.harmed.account_id)
        assert account is not None
        return account.language
