"""From the first call to the first group, through the real browser (Playwright + Chromium).

The front desk records a phone inquiry; a clinician does the pre-screen and the level-of-care
assessment; billing verifies benefits; intake admits; on the start date the patient is on the
roster of their first group.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.test_journeys import log_in
from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.attendance.selectors import roster_episode_ids
from openiop.programs.models import GroupSession
from openiop.testing import make_block, make_org, make_room, make_site, make_track, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def clinic() -> dict[str, Any]:
    org = make_org(crisis_line="555-0199")
    site = make_site(org, name="Riverbend Clinic", timezone="UTC")
    room = make_room(site, name="Willow Room", capacity=12)
    people = {
        "juniper": Role.CLINICIAN,
        "clementine": Role.INTAKE,
        "barnaby": Role.BILLING,
    }
    users = {
        name: make_user(role, sites=[site], org=org, username=name, first_name=name.title())
        for name, role in people.items()
    }
    track = make_track(site, name="Adult Day IOP", weekly_minimum_minutes=540)
    start = timezone.localdate() + dt.timedelta(days=1)
    block = make_block(
        track,
        users["juniper"],
        room,
        weekday=start.weekday(),
        title="Process group",
        valid_from=start,
    )
    starts = dt.datetime.combine(start, dt.time(9, 0), tzinfo=dt.UTC)
    session = GroupSession.objects.create(
        site=site,
        track=track,
        block=block,
        kind="group_therapy",
        title="Process group",
        date=start,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=180),
        facilitator=users["juniper"],
        room=room,
    )
    return {"site": site, "session": session, "track": track}


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()


def test_from_the_first_call_to_the_first_group(
    live_server: Any, page: Page, clinic: dict[str, Any]
):
    base = live_server.url

    # The front desk records a phone inquiry.
    log_in(page, base, "clementine")
    page.get_by_role("link", name="Admissions").click()
    page.get_by_role("link", name="Record an inquiry").click()
    page.get_by_label("Channel").select_option("call")
    page.get_by_label("Referral source").select_option("therapist")
    page.get_by_label("Who is it for").select_option("self")
    page.get_by_label(re.compile("^First name")).fill("Isolde")
    page.get_by_label("Last name").fill("Fennimorrow")
    page.get_by_label("Date of birth").fill("1990-05-17")
    page.get_by_label("Phone").fill("555-010-3131")
    page.get_by_label("Concerns").select_option("co_occurring")
    page.get_by_label("Urgency").select_option("soon")
    page.get_by_role("button", name="Save inquiry").click()
    expect(page.get_by_role("heading", name=re.compile("Isolde Fennimorrow"))).to_be_visible()
    inquiry = Inquiry.objects.get(last_name="Fennimorrow")
    log_out(page)

    # A clinician does the pre-screen (with the C-SSRS screener) ...
    log_in(page, base, "juniper")
    page.goto(f"{base}/admissions/inquiries/{inquiry.pk}/")
    page.get_by_role("link", name="Pre-screen").click()
    for name, value in [
        ("needs_24h_supervision", "no"),
        ("needs_medical_withdrawal", "no"),
        ("safe_home", "yes"),
        ("substance_free_home", "yes"),
        ("outpatient_not_enough", "yes"),
        ("can_attend", "yes"),
        ("motivation", "ready"),
    ]:
        page.locator(f'input[name="{name}"][value="{value}"]').check()
    page.get_by_role("button", name="Save pre-screen").click()
    expect(page.get_by_text("IOP fits")).to_be_visible()
    expect(page.get_by_role("alert", name="Higher level of care now")).to_have_count(0)

    # ... and the level-of-care assessment, accepting the recommendation.
    page.get_by_role("link", name="Level-of-care assessment").click()
    for d, rating in [(1, "1"), (2, "0"), (3, "2"), (4, "1"), (5, "2"), (6, "1")]:
        page.get_by_label(re.compile(f"^Dimension {d}:")).select_option(rating)
    page.get_by_label("Dimension 3 notes").fill("Moderate depression, stable")
    page.get_by_role("button", name="Rate and recommend").click()
    expect(
        page.get_by_role("heading", name=re.compile("Recommendation: Level 2.1"))
    ).to_be_visible()
    expect(page.get_by_text("Why not a higher level")).to_be_visible()
    page.get_by_role("button", name="Record decision").click()
    expect(
        page.get_by_role(
            "heading", name=re.compile(r"Decision: Level 2.1 · Intensive outpatient \(accepted\)")
        )
    ).to_be_visible()
    log_out(page)

    # Billing adds the payer and the coverage, and verifies benefits.
    log_in(page, base, "barnaby")
    page.get_by_role("link", name="Admissions").click()
    page.get_by_role("link", name="Payers").click()
    page.get_by_label("Name").fill("Bluebell Mutual (fictional)")
    page.get_by_label("Payer ID").fill("BBM01")
    page.get_by_label("Type").select_option("commercial")
    page.get_by_role("button", name="Add payer").click()
    page.goto(f"{base}/admissions/")
    page.get_by_role("link", name="Isolde Fennimorrow").click()
    # The next steps are a row of links: no list bullet drawn over "Add coverage".
    steps = page.locator('section[aria-label="Next steps"] ul.toolbar > li')
    assert (
        steps.evaluate_all("els => els.map(e => getComputedStyle(e).listStyleType)")
        == ["none"] * steps.count()
    )
    page.get_by_role("link", name="Add coverage").click()
    page.get_by_label("Payer").select_option(label="Bluebell Mutual (fictional)")
    page.get_by_label("Rank").select_option("primary")
    page.get_by_label("Member ID").fill("BBM-7788")
    page.get_by_role("button", name="Save coverage").click()
    page.get_by_role("link", name="Verify benefits").click()
    page.get_by_label("In network?").select_option("yes")
    page.get_by_label("IOP covered?").select_option("yes")
    page.get_by_label("Deductible amount").fill("1000")
    page.get_by_label("Deductible met so far").fill("250")
    page.get_by_label("Copay per day").fill("30")
    page.get_by_label("Prior authorization required?").select_option("no")
    page.get_by_label("Days allowed").fill("30")
    page.get_by_label("Call reference number").fill("REF-2026-001")
    page.get_by_role("button", name="Save verification").click()
    expect(page.get_by_text("Benefits verification recorded.")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Benefits verified")
    log_out(page)

    # Intake admits: patient, episode, track from its next session, intake packet.
    log_in(page, base, "clementine")
    page.goto(f"{base}/admissions/inquiries/{inquiry.pk}/")
    page.get_by_role("link", name="Admit").click()
    page.get_by_label("Track").select_option(label="Adult Day IOP")
    page.get_by_label("Sex assigned at birth").select_option("female")
    page.get_by_role("button", name="Admit").click()
    expect(page.get_by_role("heading", name="Intake packet")).to_be_visible()
    expect(
        page.get_by_text(re.compile("Admitted Isolde Fennimorrow; first group on"))
    ).to_be_visible()
    page.get_by_role("link", name="Consent to treatment").click()
    page.get_by_label("Typed full name of the signer").fill("Isolde Fennimorrow")
    canvas = page.locator("#signature-pad")
    # The pad's script is deferred: draw only once it listens, or the strokes go nowhere.
    expect(canvas).to_have_attribute("data-ready", "1")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 30, steps=8)
    page.mouse.up()
    # The drawing is kept once the pointer is released; sign only after the page has stored it.
    expect(page.locator("#id_signature_png")).not_to_have_value("")
    page.get_by_role("button", name="Sign").click()
    expect(page.locator('tr[data-kind="consent_to_treatment"]')).to_contain_text("Signed")
    log_out(page)

    inquiry.refresh_from_db()
    episode = inquiry.episode
    assert episode is not None and episode.status == "active"
    consent = episode.intake_documents.get(kind="consent_to_treatment")
    assert consent.signature_png.startswith("data:image/png;base64,")
    session = clinic["session"]
    assert episode.enrollments.get().start_date == session.date  # start date = next session

    # On the start date the patient is on the roster of their first group.
    assert episode.pk in roster_episode_ids(session)
    log_in(page, base, "juniper")
    page.goto(f"{base}/attendance/sessions/{session.pk}/")
    expect(page.locator("tr", has_text="Isolde Fennimorrow")).to_be_visible()
