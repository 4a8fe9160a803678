"""The recorder in Welsh (issue 12), in a real browser with Chromium's fake camera and microphone: a
Welsh page's buttons, and what the recorder and the upload say as they go (their words come from
the page's translated table, _script_words.html), are Welsh; what is recorded is still kept."""

from __future__ import annotations

import re
from typing import Any

from browsing import Site
from participant_helpers import PHONE, signed_in


def _status(page: Any) -> str:
    return str(page.locator("#rec-status").inner_text())


def test_the_recorder_speaks_welsh_on_a_welsh_page(browser: Any, site: Site) -> None:
    jessica = signed_in(browser, site, "harmed", viewport=PHONE)
    jessica.get_by_role("button", name="Cymraeg").click()
    jessica.get_by_role("link", name="Anfon recordiad neu lun").click()
    jessica.get_by_label("Fideo").check()
    jessica.get_by_role("button", name="Parhau").click()
    assert jessica.locator("html").get_attribute("lang") == "cy"
    jessica.get_by_role("heading", name="Recordio yn y porwr hwn").wait_for()

    jessica.get_by_role("button", name="Troi'r camera ymlaen").click()
    jessica.get_by_role("button", name="Dechrau recordio").wait_for()
    assert _status(jessica) == "Mae eich camera ymlaen. Pwyswch Dechrau recordio pan fyddwch chi'n barod."
    jessica.get_by_role("button", name="Dechrau recordio").click()
    jessica.get_by_role("button", name="Stopio recordio").wait_for()
    jessica.get_by_text(re.compile(r"^Yn recordio \d:\d\d$")).wait_for()
    assert _status(jessica).startswith("Yn recordio. Pwyswch Stopio recordio")
    jessica.wait_for_timeout(1500)
    jessica.get_by_role("button", name="Stopio recordio").click()
    jessica.get_by_role("button", name="Defnyddio'r recordiad hwn").wait_for()
    assert re.match(r"^Wedi recordio \d:\d\d\. Chwaraewch ef yn ôl", _status(jessica)), _status(jessica)
    assert jessica.locator("#rec-timer").inner_text().startswith("Eich recordiad: ")
    for english in ("Recording", "Recorded", "Your camera", "Press"):
        assert english not in _status(jessica) + jessica.locator("#rec-timer").inner_text(), english

    # Used: the upload's last words, then the page again with the recording kept, in Welsh.
    jessica.get_by_role("button", name="Defnyddio'r recordiad hwn").click()
    jessica.wait_for_url(re.compile(r"done=uploaded"))
    jessica.get_by_text("Mae wedi'i lwytho i fyny.", exact=False).first.wait_for()
    assert jessica.locator("html").get_attribute("lang") == "cy"
