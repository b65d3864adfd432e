"""A case manager books the van for a patient's Tuesday group; the facilitator's roster shows it
(issue 18.1): the case file's form, the booking, then the roster row's label, in the browser."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import ARTIFACTS
from openiop.accounts.domain import Role
from openiop.casemgmt.models import SupportRequest
from openiop.core.clock import local_today
from openiop.programs.models import Enrollment
from openiop.testing import (
    PASSWORD,
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_session,
    make_site,
    make_track,
    make_user,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def _clinic() -> tuple[Any, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend Clinic", timezone="America/Chicago")
    room = make_room(site, name="Willow Room")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org, username="juniper",
                          first_name="Juniper", last_name="Groveheart")  # fmt: skip
    make_user(Role.CASE_MANAGER, sites=[site], org=org, username="odalys",
              first_name="Odalys", last_name="Pathfinder")  # fmt: skip
    track = make_track(site, name="Evening IOP")
    today = local_today(site.tz)
    tuesday = today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)  # the next Tuesday
    session = make_session(site, clinician, tuesday, at=dt.time(18, 0), track=track, room=room,
                           title="Relapse prevention group")  # fmt: skip
    patient = make_patient(site, legal_first_name="Calliope", legal_last_name="Wayfarer")
    episode = make_episode(patient, admission_date=today - dt.timedelta(days=10))
    Enrollment.objects.create(episode=episode, track=track, start_date=episode.admission_date)
    # Another patient on the roster, who comes on their own.
    walker = make_episode(
        make_patient(site, legal_first_name="Dashiell", legal_last_name="Footloose"),
        admission_date=today - dt.timedelta(days=10),
    )
    Enrollment.objects.create(episode=walker, track=track, start_date=walker.admission_date)
    return session, episode


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_case_manager_books_the_van_and_the_roster_shows_it(live_server: Any, page: Page):
    session, episode = _clinic()
    base = live_server.url
    _login(page, base, "odalys")
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Wayfarer, Calliope").click()
    page.get_by_role("link", name="Case management").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calliope Wayfarer")

    page.get_by_label("Session").select_option(index=1)
    expect(page.get_by_label("Session")).to_contain_text("Tue")
    page.get_by_label("Need").select_option(label="Ride (van)")
    page.get_by_label("Pickup address (rides)").fill("12 Pretend Street")
    page.get_by_label("Pickup time (rides, clinic time)").fill("17:15")
    page.get_by_role("button", name="Request").click()
    expect(page.get_by_role("status")).to_contain_text("Requested for Tue")
    page.get_by_role("button", name="Mark booked").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Booked")
    ride = SupportRequest.objects.get(episode=episode)
    assert ride.session_id == session.pk and ride.status == "booked"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "casemgmt_case_file.png"), full_page=True)
    # The facilitator opens the session's roster.
    page.get_by_role("button", name="Log out").click()
    _login(page, base, "juniper")
    page.goto(f"{base}/attendance/sessions/{session.pk}/")
    row = page.get_by_role("row").filter(has_text="Calliope Wayfarer")
    expect(row.get_by_test_id("roster-support")).to_contain_text("Van (booked) · pickup 5:15 PM")
    walker = page.get_by_role("row").filter(has_text="Dashiell Footloose")
    expect(walker.get_by_test_id("roster-support")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "casemgmt_roster.png"), full_page=True)
