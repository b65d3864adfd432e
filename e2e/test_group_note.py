"""The group note in the real browser: a facilitator documents a 6-member group on one screen, the
individualization guard catches a copied section, one signature signs all, and each member's chart
shows only that member's section. A 10-member group takes at most 3 full page loads."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.notes.models import NoteSection, NoteStatus, ProgressNote
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

MEMBERS = [
    ("Aurelio", "Applebough"),
    ("Bexley", "Bramblethorn"),
    ("Calliope", "Candlewick"),
    ("Dorian", "Dewberry"),
    ("Esmerelda", "Elderflower"),
    ("Fennimore", "Foxglove"),
    ("Gwendolyn", "Gooseberry"),
    ("Horatio", "Hollyhock"),
    ("Isadora", "Inkwell"),
    ("Jasper", "Juniperberry"),
]
TEXTS = [
    "Described cravings after payday and practiced urge surfing with the breathing count.",
    "Quiet at first; later named weekend loneliness as a trigger and listed two calls to make.",
    "Reported six days abstinent, proud of refusing a drink at a cousin's birthday party.",
    "Challenged a catastrophic thought about work using the evidence column of the worksheet.",
    "Arrived tense after a court date; grounding exercise helped and mood lifted by the end.",
    "Shared a lapse on Saturday honestly and rebuilt the evening routine with peer feedback.",
    "Practiced assertive refusal in a role play about a roommate offering pills after a shift.",
    "Identified poor sleep feeding irritability and agreed to a wind-down plan before bed.",
    "Discussed the custody hearing, tearful, used the distress tolerance skill with coaching.",
    "Set a goal of two evening meetings and asked how to find a sponsor near the bus line.",
]
RESPONSES = [
    "Receptive; could name the peak of the craving curve.",
    "Needed prompting, then engaged with the worksheet.",
    "Took the lead in the feedback round.",
    "Skeptical at first, then tried the reframe on a real example.",
    "Calmer after grounding; asked for the handout.",
    "Accepted peer suggestions without defensiveness.",
    "Rehearsed twice, voice steadier the second time.",
    "Wrote the plan on a card to keep by the bed.",
    "Settled after coaching; thanked the group.",
    "Motivated; wrote down meeting times.",
]
PLANS = [
    "Log cravings daily until next group.",
    "Make the two calls before Saturday.",
    "Plan a sober activity for the next family event.",
    "Use the evidence column twice this week.",
    "Bring the court paperwork to case management.",
    "Share the new routine with the sponsor.",
    "Practice refusal lines with the counselor.",
    "Track sleep hours in the diary.",
    "Schedule an individual session about the hearing.",
    "Attend two meetings and report back.",
]


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.wait_for_load_state("load")  # the page after login is loaded before loads are counted


def make_group(size: int) -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend Clinic", timezone="UTC")
    room = make_room(site, name="Willow Room", capacity=12)
    clinician = make_user(
        Role.CLINICIAN, sites=[site], org=org, username="juniper",
        first_name="Juniper", last_name="Groveheart",
    )  # fmt: skip
    track = make_track(site, name="Adult Day IOP", weekly_minimum_minutes=540)
    today = timezone.localdate()
    block = make_block(
        track, clinician, room, weekday=today.weekday(), title="Process group",
        valid_from=today - dt.timedelta(days=7),
    )  # fmt: skip
    starts = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
    session = GroupSession.objects.create(
        site=site, track=track, block=block, kind="group_therapy", title="Process group",
        date=today, starts_at=starts, ends_at=starts + dt.timedelta(minutes=180),
        facilitator=clinician, room=room,
    )  # fmt: skip
    episodes = []
    for i, (first, last) in enumerate([*MEMBERS[:size], ("Ottoline", "Absentworth")]):
        patient = make_patient(site, legal_first_name=first, legal_last_name=last)
        episode = make_episode(patient, admission_date=today - dt.timedelta(days=14))
        Enrollment.objects.create(episode=episode, track=track, start_date=episode.admission_date)
        absent = i == size
        Attendance.objects.create(
            session=session, episode=episode, patient=patient,
            status="absent_unexcused" if absent else ("late" if i == 1 else "present"),
            minutes_attended=0 if absent else (150 if i == 1 else 180), recorded_by=clinician,
        )  # fmt: skip
        episodes.append(episode)
    return {"session": session, "episodes": episodes[:size], "absent": episodes[size]}


def count_loads(page: Page) -> list[str]:
    """Full page loads of the main frame (htmx requests do not fire 'load')."""
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    return loads


def fill_shared(page: Page) -> None:
    page.get_by_label("Curriculum module", exact=True).fill("Week 3: urge surfing")
    page.get_by_label("Modality", exact=True).fill("CBT")
    page.get_by_label("Interventions", exact=True).fill(
        "Psychoeducation on the craving curve; urge surfing practice; feedback round."
    )


def fill_member(page: Page, name: str, i: int, text: str | None = None) -> None:
    page.get_by_label(f"Data: participation — {name}").fill(text or TEXTS[i])
    page.get_by_label(f"Assessment: response to the interventions — {name}").fill(RESPONSES[i])
    page.get_by_label(f"Plan — {name}", exact=True).fill(PLANS[i])


def test_facilitator_signs_a_six_member_group_note_the_guard_catches_a_copy_and_charts_stay_private(
    live_server: Any, page: Page, after_the_morning_group: None
):
    group = make_group(6)
    base = live_server.url
    log_in(page, base, "juniper")
    page.goto(f"{base}/attendance/sessions/{group['session'].pk}/")
    loads = count_loads(page)
    page.get_by_role("link", name="Group note").click()
    expect(page.get_by_role("heading", name=re.compile("Group note"))).to_be_visible()
    expect(page.get_by_text("6 attended, 1 absent: no section")).to_be_visible()
    expect(page.get_by_text("Ottoline Absentworth")).to_have_count(0)
    expect(page.get_by_text("Late · 150 of 180 min")).to_be_visible()

    fill_shared(page)
    names = [f"{f} {last}" for f, last in MEMBERS[:6]]
    for i, name in enumerate(names):
        # The sixth member's section is pasted from the first member's.
        fill_member(page, name, 0 if i == 5 else i)
        if i == 5:
            page.get_by_label(f"Assessment: response to the interventions — {name}").fill(
                RESPONSES[0]
            )
            page.get_by_label(f"Plan — {name}", exact=True).fill(PLANS[0])
    page.get_by_role("button", name="Sign every section").click()

    expect(page.get_by_role("alert").first).to_contain_text(
        re.compile("individualize it, or give a reason", re.I)
    )
    copied = page.locator(f"fieldset[data-member='{group['episodes'][5].pk}']")
    expect(copied.get_by_text("Too similar")).to_be_visible()
    expect(copied.locator("mark").first).to_be_visible()
    expect(page.locator(f"fieldset[data-member='{group['episodes'][2].pk}'] mark")).to_have_count(0)
    assert ProgressNote.objects.get(session=group["session"]).status == NoteStatus.DRAFT

    # The facilitator individualizes the copied section (and the original), then signs.
    fill_member(page, names[5], 5)
    page.get_by_role("button", name="Save draft and check").click()
    expect(page.get_by_test_id("guard-status")).to_have_text(
        re.compile("every section is individual")
    )
    page.get_by_role("button", name="Sign every section").click()
    expect(page.get_by_role("heading", name=re.compile("Group note: "))).to_be_visible()
    expect(page.get_by_text("Signed", exact=True)).to_be_visible()
    assert len(loads) <= 3, loads

    note = ProgressNote.objects.get(session=group["session"])
    assert note.status == NoteStatus.SIGNED
    assert NoteSection.objects.filter(note=note).count() == 6

    # Each member's chart shows only that member's section.
    for i, episode in enumerate(group["episodes"]):
        page.goto(f"{base}/notes/patients/{episode.patient_id}/")
        page.get_by_role("table", name="Notes").get_by_role("link").first.click()
        body = page.locator("main")
        expect(body).to_contain_text(TEXTS[i])
        expect(body).to_contain_text("urge surfing practice")  # the shared part
        for j, other in enumerate(names):
            if j != i:
                expect(body).not_to_contain_text(other.split()[1])
                expect(body).not_to_contain_text(TEXTS[j])


def test_a_ten_member_group_is_documented_in_at_most_three_page_loads(
    live_server: Any, page: Page, after_the_morning_group: None
):
    group = make_group(10)
    base = live_server.url
    log_in(page, base, "juniper")
    loads = count_loads(page)
    page.goto(f"{base}/notes/group/{group['session'].pk}/")
    fill_shared(page)
    for i, (first, last) in enumerate(MEMBERS):
        fill_member(page, f"{first} {last}", i)
    page.get_by_role("button", name="Sign every section").click()
    expect(page.get_by_text("Signed", exact=True)).to_be_visible()
    note = ProgressNote.objects.get(session=group["session"])
    assert note.status == NoteStatus.SIGNED and note.sections.count() == 10
    assert len(loads) <= 3, loads
    # The counter sees full loads: the screen itself and the signed note after HX-Redirect.
    assert loads[0].endswith(f"/notes/group/{group['session'].pk}/")
    assert loads[-1].endswith(f"/notes/{note.pk}/")
