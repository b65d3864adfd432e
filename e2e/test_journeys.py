"""Two journeys through the real browser (Playwright + Debian's Chromium)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from openiop.accounts.domain import Role
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import (
    PASSWORD,
    make_block,
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_site,
    make_track,
    make_user,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def clinic(after_the_morning_group: None) -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend Clinic", timezone="UTC")
    room = make_room(site, name="Willow Room", capacity=12)
    clinician = make_user(
        Role.CLINICIAN,
        sites=[site],
        org=org,
        username="juniper",
        first_name="Juniper",
        last_name="Groveheart",
    )
    intake = make_user(
        Role.INTAKE,
        sites=[site],
        org=org,
        username="clementine",
        first_name="Clementine",
        last_name="Doorwright",
    )
    director = make_user(
        Role.DIRECTOR,
        sites=[site],
        org=org,
        username="perpetua",
        first_name="Perpetua",
        last_name="Wintergreen",
    )
    track = make_track(site, name="Adult Day IOP", weekly_minimum_minutes=540)
    today = timezone.localdate()
    block = make_block(
        track,
        clinician,
        room,
        weekday=today.weekday(),
        title="Process group",
        valid_from=today - dt.timedelta(days=7),
    )
    starts = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
    session = GroupSession.objects.create(
        site=site,
        track=track,
        block=block,
        kind="group_therapy",
        title="Process group",
        date=today,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=180),
        facilitator=clinician,
        room=room,
    )
    patients = []
    for first, last in [
        ("Aurelio", "Applebough"),
        ("Bexley", "Bramblethorn"),
        ("Calliope", "Candlewick"),
    ]:
        patient = make_patient(site, legal_first_name=first, legal_last_name=last)
        episode = make_episode(patient, admission_date=today - dt.timedelta(days=14))
        Enrollment.objects.create(
            episode=episode, track=track, start_date=today - dt.timedelta(days=14)
        )
        patients.append(patient)
    return {
        "site": site,
        "session": session,
        "patients": patients,
        "clinician": clinician,
        "intake": intake,
        "director": director,
    }


def test_clinician_takes_attendance_with_one_late_arrival_and_sees_weekly_hours_change(
    live_server: Any, page: Page, clinic: dict[str, Any]
):
    base = live_server.url
    log_in(page, base, "juniper")
    expect(page.get_by_role("heading", name=re.compile("Today"))).to_be_visible()
    page.get_by_role("link", name=re.compile("Process group")).first.click()
    late_row = page.locator("tr", has_text="Bexley Bramblethorn")
    expect(late_row.get_by_test_id("week-hours")).to_have_text(re.compile(r"^0\.0 h"))

    page.get_by_role("button", name=re.compile("All present")).click()
    late_row = page.locator("tr", has_text="Bexley Bramblethorn")
    expect(late_row.get_by_test_id("week-hours")).to_have_text(re.compile(r"^3\.0 h"))

    late_row.get_by_label("Status").select_option("late")
    late_row.get_by_label("Minutes").fill("150")
    late_row.get_by_role("button", name="Save").click()
    late_row = page.locator("tr", has_text="Bexley Bramblethorn")
    expect(late_row.get_by_test_id("week-hours")).to_have_text(re.compile(r"^2\.5 h"))
    expect(
        page.locator("tr", has_text="Aurelio Applebough").get_by_test_id("week-hours")
    ).to_have_text(re.compile(r"^3\.0 h"))


def test_intake_is_refused_a_clinical_page_and_the_director_finds_it_in_the_audit_log(
    live_server: Any, page: Page, clinic: dict[str, Any]
):
    base = live_server.url
    patient = clinic["patients"][0]
    log_in(page, base, "clementine")
    page.goto(f"{base}/attendance/sessions/{clinic['session'].pk}/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    device = TOTPDevice.objects.create(user=clinic["director"], name="phone", confirmed=True)
    log_in(page, base, "perpetua")
    page.get_by_label(re.compile("6-digit code")).fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Username").fill("clementine")
    page.get_by_label("Outcome").select_option("denied")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("clementine")
    expect(row).to_contain_text("Denied")
    expect(row).to_contain_text(f"/attendance/sessions/{clinic['session'].pk}/")
    assert patient  # the refused page was the roster of this patient's group
