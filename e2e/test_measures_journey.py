"""Measures journey in the real browser: a patient answers a PHQ-9 through their link with item 9 at
1 and sees crisis resources at once; the clinician sees the alert on Today, acknowledges it with the
action taken, and opens the patient's safety plan."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.measures import services
from openiop.measures.models import SafetyAlert, SiteSafetySettings
from openiop.testing import PASSWORD, make_episode, make_org, make_patient, make_site, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def clinic() -> dict[str, Any]:
    org = make_org(crisis_line="555-0142")
    site = make_site(org, name="Riverbend Clinic", timezone="UTC")
    # Staffed around the clock in this test, so the primary clinician owns the alert whenever it runs.
    SiteSafetySettings.objects.create(
        site=site,
        opens_at=dt.time(0, 0),
        closes_at=dt.time(23, 59, 59),
        open_weekdays="0,1,2,3,4,5,6",
    )
    clinician = make_user(
        Role.CLINICIAN,
        sites=[site],
        org=org,
        username="juniper",
        first_name="Juniper",
        last_name="Groveheart",
    )
    patient = make_patient(site, legal_first_name="Bexley", legal_last_name="Bramblethorn")
    episode = make_episode(
        patient,
        primary_clinician=clinician,
        admission_date=timezone.localdate() - dt.timedelta(days=10),
    )
    by = Actor(user=clinician)
    plan = services.safety_plan_start(episode=episode, by=by)
    services.safety_plan_update(
        plan=plan,
        values={f: f"Bexley's words for {f.replace('_', ' ')}" for f in services.PLAN_FIELDS},
        expected_version=plan.version,
        by=by,
    )
    plan.refresh_from_db()
    services.safety_plan_sign(plan=plan, patient_agreed=True, expected_version=plan.version, by=by)
    return {"episode": episode, "patient": patient, "plan": plan}


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_patient_item9_shows_crisis_resources_and_the_clinician_acknowledges_and_opens_the_plan(
    live_server: Any, page: Page, browser: Browser, clinic: dict[str, Any]
):
    base = live_server.url
    episode = clinic["episode"]

    # The clinician makes a PHQ-9 link for the patient's phone.
    log_in(page, base, "juniper")
    page.goto(f"{base}/measures/episodes/{episode.pk}/")
    page.get_by_label("Questionnaire", exact=True).select_option("phq9")
    page.get_by_role("button", name="Make a link for the patient").click()
    link = page.get_by_label("Link").input_value()
    assert "/measures/p/" in link

    # The patient, on their own phone with no account, answers; item 9 at 1 shows help at once.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    patient_page = phone.new_page()
    patient_page.goto(link)
    expect(patient_page.get_by_text("Bramblethorn")).to_have_count(0)
    crisis = patient_page.locator("#crisis")
    expect(crisis).to_be_hidden()
    for n in range(1, 9):
        patient_page.get_by_role("group", name=re.compile(rf"^{n}\. ")).get_by_label(
            "Not at all"
        ).check()
    patient_page.get_by_role("group", name=re.compile(r"^9\. ")).get_by_label(
        "Several days"
    ).check()
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text("988")
    expect(crisis).to_contain_text("555-0142")
    patient_page.get_by_role("button", name="Send my answers").click()
    expect(
        patient_page.get_by_role("heading", name=re.compile("answers were sent"))
    ).to_be_visible()
    expect(patient_page.locator("#crisis")).to_be_visible()
    expect(patient_page.locator("#crisis")).to_contain_text("988")
    phone.close()

    # The clinician sees the alert on Today and in the patient header, and acknowledges it.
    page.get_by_role("link", name="Today").click()
    alerts = page.locator("section", has=page.get_by_role("heading", name="Safety alerts"))
    expect(alerts).to_contain_text("Bexley Bramblethorn")
    expect(alerts).to_contain_text("item 9")
    alerts.get_by_role("link", name="Acknowledge").click()
    expect(page.locator("[data-risk]")).to_contain_text("not yet assessed")
    # No C-SSRS was recorded since the alert opened, so "C-SSRS done" is not offered.
    expect(page.get_by_label("C-SSRS done")).to_have_count(0)
    page.get_by_label("Safety plan written or reviewed").check()
    page.get_by_label("Note (optional)").fill("Called the same day; plan reviewed.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    alert = SafetyAlert.objects.get()
    assert (alert.status, alert.action_taken) == ("acknowledged", "safety_plan_reviewed")

    # And opens the safety plan from the patient's page.
    page.get_by_role("link", name=re.compile(r"^Safety plan 1")).click()
    expect(page.get_by_role("heading", name=re.compile("Safety plan 1"))).to_be_visible()
    expect(page.get_by_text("Bexley's words for reasons for living")).to_be_visible()
    expect(page.get_by_text("988").first).to_be_visible()
