"""Every time shown to staff is in the site's own zone with the zone's name: no UTC clock leaks.

The clinic is in Honolulu (UTC-10, no daylight saving), so a time's local and UTC clock readings
always differ by ten hours; each page must show the local reading with "HST" and not the UTC one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.dates import format_local
from openiop.episodes.models import Alert
from openiop.measures.models import SafetyAlert, SafetyPlan
from openiop.notes.models import NoteSection, ProgressNote
from openiop.testing import make_episode, make_org, make_patient, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

HST = ZoneInfo("Pacific/Honolulu")


def _clock(instant: dt.datetime, tz: dt.tzinfo) -> str:
    """'1:47 PM': the clock reading alone, as the pages would print it in `tz`."""
    return format_local(instant, tz, with_date=False).rsplit(" ", 1)[0]


def assert_local(body: str, instant: dt.datetime) -> None:
    local = format_local(instant, HST)
    assert local.endswith(" HST")
    assert local in body, f"{local} not shown"
    utc = _clock(instant, dt.UTC)
    assert utc not in body, f"the UTC reading {utc} of {local} leaks"


@pytest.fixture
def clinic(mfa_passed: Any) -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Kona Coast (fictional)", timezone="Pacific/Honolulu")
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    patient = make_patient(site, legal_first_name="Maile", legal_last_name="Starfernwood")
    episode = make_episode(patient, primary_clinician=director)
    # Distinct minutes, so that no two instants share a clock reading.
    base = (timezone.now() - dt.timedelta(days=5)).replace(second=0, microsecond=0)
    at = {name: base.replace(minute=m) for name, m in (("note", 7), ("alert", 13), ("safety", 23))}
    at["plan"] = base.replace(minute=31) - dt.timedelta(days=1)
    note = ProgressNote.objects.create(
        kind="individual",
        note_format="soap",
        site=site,
        starts_at=at["note"],
        ends_at=at["note"] + dt.timedelta(minutes=50),
        author=director,
    )
    section = NoteSection.objects.create(note=note, episode=episode, patient=patient)
    alert = Alert.objects.create(
        patient=patient, episode=episode, kind="consecutive_absences", message="2 absences"
    )
    Alert.objects.filter(pk=alert.pk).update(created_at=at["alert"])
    safety = SafetyAlert.objects.create(
        patient=patient,
        episode=episode,
        reason="item9",
        risk_level="unassessed",
        message="PHQ-9 item 9 at 1",
        owner=director,
    )
    SafetyAlert.objects.filter(pk=safety.pk).update(created_at=at["safety"])
    plan = SafetyPlan.objects.create(
        patient=patient,
        episode=episode,
        number=1,
        created_by=director,
        status="signed",
        signed_by=director,
        signed_at=at["plan"],
    )
    return {
        "site": site,
        "director": director,
        "patient": patient,
        "episode": episode,
        "section": section,
        "plan": plan,
        "note": note,
        "at": at,
    }


def _get(client: Any, user: Any, url: str, **params: Any) -> str:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, url
    body: bytes = response.content
    return body.decode()


def test_late_notes_show_the_sites_local_time(client: Client, clinic: dict[str, Any]) -> None:
    body = _get(client, clinic["director"], reverse("notes:late"))
    ends = clinic["note"].ends_at
    assert_local(body, ends)
    assert_local(body, ends + dt.timedelta(hours=24))  # late since


def test_the_chart_and_the_alerts_lists_show_the_sites_local_time(
    client: Client, clinic: dict[str, Any]
) -> None:
    chart = _get(client, clinic["director"], reverse("patients:chart", args=[clinic["patient"].pk]))
    assert_local(chart, clinic["at"]["alert"])
    alerts = _get(client, clinic["director"], reverse("measures:alerts"))
    assert_local(alerts, clinic["at"]["safety"])


def test_today_shows_the_sites_local_time(client: Client, clinic: dict[str, Any]) -> None:
    body = _get(client, clinic["director"], reverse("web:today"), site=clinic["site"].pk)
    assert_local(body, clinic["at"]["safety"])


def test_the_audit_log_shows_each_entry_in_local_time_and_names_the_patient(
    client: Client, clinic: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openiop.audit import services

    about = clinic["at"]["note"] - dt.timedelta(minutes=18)  # minute 49
    nobody = about + dt.timedelta(minutes=4)  # minute 53: an entry naming no patient
    actor = Actor(user=clinic["director"])
    real_now = clock.now
    monkeypatch.setattr(services, "now", lambda: about)
    audit_record(actor, action="view", patient_id=clinic["patient"].pk, object_type="chart")
    monkeypatch.setattr(services, "now", lambda: nobody)
    audit_record(actor, action="login", object_type="session")
    monkeypatch.setattr(services, "now", real_now)
    body = _get(client, clinic["director"], reverse("audit:log"))
    assert_local(body, about)
    assert_local(body, nobody)  # the director's home zone: their site's
    patient = clinic["patient"]
    assert f"<td>{patient.mrn} · Maile Starfernwood</td>" in body


def test_printed_pages_show_the_sites_local_time(
    client: Client, clinic: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openiop.ui import pdf

    # The PDF's HTML, as WeasyPrint would receive it.
    monkeypatch.setattr(
        pdf, "render_pdf", lambda t, c, request=None: pdf.render_pdf_html(t, c, request).encode()
    )
    section = _get(
        client, clinic["director"], reverse("notes:section_pdf", args=[clinic["section"].pk])
    )
    assert_local(section, clinic["note"].starts_at)
    plan = _get(client, clinic["director"], reverse("measures:plan_pdf", args=[clinic["plan"].pk]))
    assert_local(plan, clinic["at"]["plan"])


def test_format_local_names_the_zone_and_follows_daylight_saving() -> None:
    la = ZoneInfo("America/Los_Angeles")
    winter = dt.datetime(2026, 1, 15, 17, 5, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 16, 5, tzinfo=dt.UTC)
    assert format_local(winter, la) == "Jan 15, 2026 9:05 AM PST"
    assert format_local(summer, la) == "Jul 15, 2026 9:05 AM PDT"
    assert format_local(winter, HST, with_date=False) == "7:05 AM HST"


def test_the_set_up_pages_show_times_in_the_users_home_zone(
    client: Client, clinic: dict[str, Any]
) -> None:
    """Django admin's templates render after the view returns: the zone is the request's own
    (accounts.middleware), not only the staff view's."""
    from openiop.accounts.models import User

    admin = make_user(Role.ADMIN, sites=[clinic["site"]], org=clinic["site"].organization)
    joined = (timezone.now() - dt.timedelta(days=3)).replace(hour=20, minute=41, second=0)
    User.objects.filter(pk=admin.pk).update(date_joined=joined)
    client.force_login(admin)
    body = client.get(reverse("admin:accounts_user_change", args=[admin.pk])).content.decode()
    assert "10:41 a.m." in body  # 20:41 UTC is 10:41 in Honolulu
    assert "8:41 p.m." not in body
