"""On a 360 px phone the crisis box appears beside the answer that warrants it, inside the
viewport: a patient answering PHQ-9 item 9 (the last question, far below the top of the page) or a
C-SSRS question with yes sees 988 and the crisis line where they are looking."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.measures import services
from openiop.testing import make_episode, make_org, make_patient, make_site, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

PHONE = {"width": 360, "height": 740}
SHOTS = os.environ.get("OPENIOP_E2E_SHOTS", "")  # a folder to keep screenshots in, for a look


def _link(instrument: str, base: str) -> str:
    org = make_org(crisis_line="555-0199")
    site = make_site(org, name="Thornbury Clinic (fictional)")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    patient = make_patient(site, legal_first_name="Wrenna", legal_last_name="Mossgrove")
    episode = make_episode(patient, primary_clinician=clinician)
    issued = services.patient_link_create(
        episode=episode, purpose="questionnaire", instrument=instrument, by=Actor(user=clinician)
    )
    return f"{base}/measures/p/{issued.token}/"


def _phone(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(10_000)
    return context.new_page()


def _assert_in_viewport_after(page: Page, item_number: int) -> None:
    crisis = page.locator("#crisis")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text("988")
    expect(crisis).to_contain_text("555-0199")
    box = crisis.bounding_box()  # relative to the viewport's top left corner
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    # Next to the item: the element right after its fieldset, starting where the item ends.
    item = page.get_by_role("group", name=re.compile(rf"^{item_number}\. "))
    assert item.evaluate("el => el.nextElementSibling && el.nextElementSibling.id") == "crisis"
    item_box = item.bounding_box()
    assert item_box is not None
    assert 0 <= box["y"] - (item_box["y"] + item_box["height"]) <= 40, (item_box, box)


def test_phq9_item9_shows_the_crisis_box_inside_the_viewport_of_a_360px_phone(
    live_server: Any, browser: Browser
):
    page = _phone(browser)
    page.goto(_link("phq9", live_server.url))
    expect(page.locator("#crisis")).to_be_hidden()
    for n in range(1, 9):
        page.get_by_role("group", name=re.compile(rf"^{n}\. ")).get_by_label("Not at all").check()
    expect(page.locator("#crisis")).to_be_hidden()
    page.get_by_role("group", name=re.compile(r"^9\. ")).get_by_label("Several days").check()
    _assert_in_viewport_after(page, 9)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "phq9-item9-360.png"))
    page.context.close()


def test_a_cssrs_yes_shows_the_crisis_box_beside_that_question_on_a_360px_phone(
    live_server: Any, browser: Browser
):
    page = _phone(browser)
    page.goto(_link("cssrs", live_server.url))
    page.get_by_role("group", name=re.compile(r"^2\. ")).get_by_label("0").check()
    expect(page.locator("#crisis")).to_be_hidden()
    page.get_by_role("group", name=re.compile(r"^6\. ")).get_by_label("1").check()
    _assert_in_viewport_after(page, 6)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "cssrs-item6-360.png"))
    page.context.close()
