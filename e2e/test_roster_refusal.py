"""A refused roster row in the real browser: an absence marked with minutes comes back beside its
row with the server's message, the choice kept, and the row not shown as saved (issue 14.2)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import (
    PASSWORD,
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_site,
    make_track,
    make_user,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def make_roster() -> tuple[GroupSession, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend Clinic", timezone="UTC")
    room = make_room(site, name="Willow Room", capacity=12)
    clinician = make_user(
        Role.CLINICIAN, sites=[site], org=org, username="juniper",
        first_name="Juniper", last_name="Groveheart",
    )  # fmt: skip
    track = make_track(site, name="Adult Day IOP", weekly_minimum_minutes=540)
    day = timezone.localdate() - dt.timedelta(days=1)  # a session that is over
    starts = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)
    session = GroupSession.objects.create(
        site=site, track=track, kind="group_therapy", title="Process group", date=day,
        starts_at=starts, ends_at=starts + dt.timedelta(minutes=180), facilitator=clinician,
        room=room,
    )  # fmt: skip
    patient = make_patient(site, legal_first_name="Quintessa", legal_last_name="Bramblethorn")
    episode = make_episode(patient, admission_date=day - dt.timedelta(days=7))
    Enrollment.objects.create(episode=episode, track=track, start_date=episode.admission_date)
    return session, episode


def test_an_absence_with_minutes_is_refused_beside_its_row_and_not_shown_as_saved(
    live_server: Any, page: Page
):
    session, episode = make_roster()
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("juniper")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(f"{base}/attendance/sessions/{session.pk}/")
    page.wait_for_load_state("load")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))

    row = page.get_by_role("row").filter(has_text="Quintessa Bramblethorn")
    row.get_by_label("Status").select_option(label="Absent (unexcused)")
    row.get_by_label("Minutes").fill("60")
    row.get_by_role("button", name="Save").click()

    row = page.get_by_role("row").filter(has_text="Quintessa Bramblethorn")
    expect(row.get_by_role("alert")).to_contain_text("An absence has 0 minutes attended.")
    expect(row.get_by_role("alert")).to_contain_text("Not saved")
    expect(row.get_by_test_id("recorded")).to_have_text("Not recorded")
    expect(row.get_by_label("Status")).to_have_value("absent_unexcused")  # the choice is kept
    expect(row.get_by_label("Minutes")).to_have_value("60")
    expect(row).to_have_class(re.compile("row-refused"))
    assert loads == [], "the row was answered in place (htmx), not by a page load"
    assert not Attendance.objects.filter(episode=episode).exists()
