"""The patient header in the browser (issue 18.5): the prescriber sees the risk level, the current
MAT and the last drug test's day on the chart; the screenshot is kept in e2e/artifacts/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.conftest import ARTIFACTS
from openiop.accounts.domain import Role
from openiop.core.clock import local_today
from openiop.drugtests.models import DrugTestOrder
from openiop.episodes.choices import TreatmentFocus
from openiop.medications.models import MatEpisode
from openiop.testing import PASSWORD, make_episode, make_org, make_patient, make_site, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_chart_header_shows_the_mat_and_the_last_test(live_server: Any, page: Page) -> None:
    org = make_org()
    site = make_site(org, name="Riverbend Clinic", timezone="America/Chicago")
    nurse = make_user(Role.PRESCRIBER, sites=[site], org=org, username="marisol",
                      first_name="Marisol", last_name="Quillfeather")  # fmt: skip
    today = local_today(site.tz)
    patient = make_patient(site, legal_first_name="Bartholomew", legal_last_name="Fernsby")
    episode = make_episode(
        patient, focus=TreatmentFocus.SUBSTANCE_USE, admission_date=today - dt.timedelta(days=20)
    )
    MatEpisode.objects.create(
        patient=patient,
        episode=episode,
        kind="buprenorphine",
        started_on=today - dt.timedelta(days=18),
        started_by=nurse,
        part2=episode.part2_protected,
    )
    collected = timezone.now() - dt.timedelta(days=2)
    DrugTestOrder.objects.create(
        patient=patient,
        episode=episode,
        kind="poc_cup",
        reason="scheduled",
        status="resulted",
        ordered_by=nurse,
        ordered_at=collected,
        collected_at=collected,
        validity="valid",
        resulted_at=collected,
        part2=episode.part2_protected,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("marisol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Fernsby, Bartholomew").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Suicide risk")
    expect(heading).to_contain_text("MAT: buprenorphine since")
    expect(heading).to_contain_text("Last drug test:")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "care_header_chart.png"))
