"""A coordinator adds a facilitator in Chromium; the new facilitator opens the one-time enrolment link,
chooses a password, "scans" the QR code (the secret is read from the page, the code computed with pyotp,
as an authenticator app would), is signed in, then signs in again with both factors. At 1280 and 360 px,
with screenshots of the staff page and the enrolment page."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from browsing import Site, keep_in_docs, screenshot
from world import World

PASSWORD = "a lantern by the quay"
VIEWPORTS = {"1280": {"width": 1280, "height": 900}, "360": {"width": 360, "height": 740}}


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_new_facilitator_enrols_and_signs_in(browser: Any, site: Site, width: str) -> None:
    viewport = VIEWPORTS[width]
    coordinator = browser.new_context(viewport=viewport).new_page()
    coordinator.goto(f"{site.base}/login")
    coordinator.get_by_label("Username").fill(site.username("coordinator"))
    coordinator.get_by_label("Password").fill(World.PASSWORD)
    coordinator.get_by_role("button", name="Sign in").click()
    coordinator.get_by_role("link", name="Staff", exact=True).click()
    coordinator.get_by_label("Name", exact=True).fill("Nina Reyes")
    coordinator.get_by_label("Username", exact=True).fill("nina")
    coordinator.get_by_label("Facilitator").check()
    coordinator.get_by_role("button", name="Add and make an enrolment link").click()
    link = coordinator.get_by_role("textbox", name="Enrolment link").input_value()
    assert "/enrol/" in link
    keep_in_docs(screenshot(coordinator, f"coordinator-staff-link-{width}"), f"coordinator-staff-link-{width}")

    person = browser.new_context(viewport=viewport).new_page()
    person.goto(site.base + "/enrol/" + link.rsplit("/", 1)[1])
    assert person.locator("figure.qr svg").is_visible()
    secret = person.locator("#secret").get_attribute("data-secret")
    assert secret and person.locator("#secret").inner_text().replace(" ", "") == secret
    keep_in_docs(screenshot(person, f"staff-enrol-{width}"), f"staff-enrol-{width}")
    totp = pyotp.TOTP(secret)
    person.get_by_label("Password", exact=True).fill(PASSWORD)
    person.get_by_label("The same password again").fill(PASSWORD)
    person.get_by_label("The 6-digit code your app now shows for shuttle").fill(totp.now())
    person.get_by_role("button", name="Finish and sign in").click()
    person.get_by_role("heading", name="Your work").wait_for()

    person.get_by_role("button", name="Sign out").click()
    person.get_by_label("Username").fill("nina")
    person.get_by_label("Password").fill(PASSWORD)
    person.get_by_role("button", name="Sign in").click()
    # The code used to enrol cannot be used again: the app's next one (accepted a step early).
    person.get_by_label("The 6-digit code from your authenticator app").fill(totp.at(time.time() + 30))
    person.get_by_role("button", name="Continue").click()
    person.get_by_role("heading", name="Your work").wait_for()

    coordinator.goto(f"{site.base}/coordinator/staff")
    row = coordinator.locator("#staff-nina")
    assert "Active" in row.inner_text() and "Never" not in row.inner_text()
