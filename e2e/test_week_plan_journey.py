"""The week's plan in the real browser (issue 19 point 6): the director plans next week from the
schedule, moves one patient to another session, accepts, and the session's roster shows them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from openiop.accounts.domain import Role
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.core.jobs import run_queued
from openiop.planning.builder import episode_key
from openiop.planning.domain.jsonio import instance_from_dict, solution_from_dict
from openiop.planning.models import PlanProposal
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

ARTIFACTS = Path(__file__).parent / "artifacts"


def make_week() -> dict[str, Any]:
    """Next week at a fictional clinic: the day track meets twice (6 h of its 9 h minimum); the
    evening track meets Tuesday and Thursday."""
    org = make_org()
    site = make_site(org, name="Riverbend Clinic (fictional)", timezone="America/Chicago")
    willow = make_room(site, name="Willow Room", capacity=12)
    fern = make_room(site, name="Fern Room", capacity=6)
    director = make_user(
        Role.DIRECTOR, sites=[site], org=org, username="wren",
        first_name="Wren", last_name="Oakhollow",
    )  # fmt: skip
    juniper = make_user(Role.CLINICIAN, sites=[site], org=org, first_name="Juniper")
    basil = make_user(Role.CLINICIAN, sites=[site], org=org, first_name="Basil")
    day = make_track(site, name="Adult Day IOP", weekly_minimum_minutes=540)
    evening = make_track(site, name="Adult Evening IOP", weekly_minimum_minutes=540)
    monday = IsoWeek.of(local_today(site.tz)).next().monday
    for offset, title in ((0, "Morning process"), (2, "Skills group")):
        make_session(
            site, juniper, monday + dt.timedelta(days=offset), track=day, room=willow, title=title
        )
    tue = make_session(
        site, basil, monday + dt.timedelta(days=1), track=evening, room=fern,
        at=dt.time(17, 0), title="Evening process",
    )  # fmt: skip
    thu = make_session(
        site, basil, monday + dt.timedelta(days=3), track=evening, room=willow,
        at=dt.time(17, 0), title="Evening skills",
    )  # fmt: skip
    make_session(
        site, basil, monday + dt.timedelta(days=4), track=evening, room=willow,
        at=dt.time(17, 0), title="Evening relapse prevention",
    )  # fmt: skip
    episodes = {}
    for first, last, track in (
        ("Quintessa", "Bramblethorn", day),
        ("Orlando", "Fenwick-Tumble", day),
        ("Marisol", "Quillfeather", evening),
    ):
        patient = make_patient(site, legal_first_name=first, legal_last_name=last)
        episode = make_episode(patient, admission_date=monday - dt.timedelta(days=14))
        Enrollment.objects.create(episode=episode, track=track, start_date=episode.admission_date)
        episodes[first] = episode
    return {"site": site, "director": director, "tue": tue, "thu": thu, "episodes": episodes}


def test_director_plans_next_week_moves_a_patient_accepts_and_the_roster_shows_them(
    live_server: Any, page: Page, settings: Any
):
    settings.OPENIOP_PLANNING_SECONDS = 2
    week = make_week()
    quintessa = week["episodes"]["Quintessa"]
    base = live_server.url
    device = TOTPDevice.objects.create(user=week["director"], name="phone", confirmed=True)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("wren")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label(re.compile("6-digit code")).fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # From the schedule: plan next week (the form's default week)
    page.goto(f"{base}/programs/schedule/")
    page.get_by_role("link", name="Plan a week").click()
    expect(page.get_by_role("heading", name=re.compile("Week plans"))).to_be_visible()
    page.get_by_role("button", name="Plan the week").click()
    expect(page.get_by_role("status")).to_contain_text("Planning")

    run_queued()  # the worker beside the server
    # the page polls and shows the plan once planned
    expect(page.get_by_role("heading", name="Who the plan adds")).to_be_visible(timeout=15_000)
    adds = page.get_by_role("region", name="Who the plan adds")
    expect(adds).to_contain_text("Quintessa Bramblethorn joins")
    expect(
        page.get_by_text("Everyone reaches their weekly minimum with this plan.")
    ).to_be_visible()

    # Move Quintessa from the evening session the plan chose to the other one
    proposal = PlanProposal.objects.get()
    inst = instance_from_dict(proposal.instance)
    sol = solution_from_dict(proposal.solution)
    added = set(sol.patient_sessions) - set(inst.fixed.patient_sessions)
    chosen = next(s for p, s in sorted(added) if p == episode_key(quintessa.pk))
    evening = {f"s{week['tue'].pk}": week["tue"], f"s{week['thu'].pk}": week["thu"]}
    others = [k for k in evening if k != chosen and (episode_key(quintessa.pk), k) not in added]
    target_key = others[0] if others else f"s{week['tue'].pk}"
    target = evening[target_key]
    form = page.get_by_role("region", name="Change the plan")
    form.get_by_label("Change").select_option("move")
    form.get_by_label("Patient").select_option(episode_key(quintessa.pk))
    form.get_by_label("From session").select_option(chosen)
    form.get_by_label("To session").select_option(target_key)
    form.get_by_role("button", name="Apply the change").click()
    expect(page.get_by_text("The plan was changed.")).to_be_visible()
    expect(adds).to_contain_text(f"Quintessa Bramblethorn joins {target.title}")

    page.get_by_role("button", name="Accept into the rosters").click()
    expect(page.get_by_text(re.compile(r"Plan accepted: \d+ added"))).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "week_plan_accepted.png"), full_page=True)

    # The session's roster now lists her
    page.goto(f"{base}/attendance/sessions/{target.pk}/")
    expect(page.get_by_role("row").filter(has_text="Quintessa Bramblethorn")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "week_plan_roster.png"), full_page=True)
