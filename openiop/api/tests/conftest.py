"""A small fictional clinic for the REST API: two sites of one organization and a site of
another, a track with a past group session whose roster holds a substance-use (42 CFR Part 2)
episode and a mental-health one, an attendance record, a payer authorization, and tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.admissions.models import Inquiry
from openiop.attendance.models import Attendance
from openiop.billing.models import Authorization, Coverage, Payer
from openiop.episodes.choices import TreatmentFocus
from openiop.episodes.models import Episode
from openiop.fhir.tests.conftest import token_for
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment, GroupSession, Site, Track
from openiop.testing import (
    make_block,
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_session,
    make_site,
    make_track,
    make_user,
)

READ = "api/*.read"
ALL = "api/*.read api/*.write"
DAY = dt.date(2026, 1, 6)


@dataclass
class Clinic:
    site: Site
    other_site: Site
    foreign_site: Site  # another organization's
    director: User
    clinician: User
    other_clinician: User  # works at other_site only
    billing: User
    intake: User  # no attendance, no revenue cycle
    network_user: User  # no organization: every site, but Part 2 records are not released to it
    track: Track
    other_track: Track
    session: GroupSession
    later_session: GroupSession
    other_session: GroupSession  # at other_site
    appointment: GroupSession  # an individual session: not on the schedule
    sud_patient: Patient
    mh_patient: Patient
    sud_episode: Episode
    mh_episode: Episode
    attendance: Attendance
    authorization: Authorization


def api_get(client: Client, path: str, token: str | None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1/{path}", params, headers=headers)


def api_post(client: Client, path: str, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/{path}", body, content_type="application/json", headers=headers)


def make_clinic() -> Clinic:
    org = make_org()
    site = make_site(org, name="Lantern Hill North")
    other_site = make_site(org, name="Lantern Hill South")
    foreign_site = make_site(make_org(name="Birchwood (fictional)", mrn_prefix="BW"))
    director = make_user(Role.DIRECTOR, org=org, sites=[site])
    clinician = make_user(Role.CLINICIAN, org=org, sites=[site])
    other_clinician = make_user(Role.CLINICIAN, org=org, sites=[other_site])
    billing = make_user(Role.BILLING, org=org, sites=[site])
    intake = make_user(Role.INTAKE, org=org, sites=[site])
    network_user = make_user(Role.DIRECTOR, org=None)
    track = make_track(site, name="Adult Day IOP (fictional)")
    other_track = make_track(other_site, name="Evening IOP South (fictional)")
    make_block(track, clinician, make_room(site))
    sud_patient = make_patient(site, legal_first_name="Quillon", legal_last_name="Fakerly")
    mh_patient = make_patient(site, legal_first_name="Marigold", legal_last_name="Testwood")
    sud_episode = make_episode(
        sud_patient, focus=TreatmentFocus.SUBSTANCE_USE, primary_clinician=clinician
    )
    mh_episode = make_episode(mh_patient, focus=TreatmentFocus.MENTAL_HEALTH)
    for episode in (sud_episode, mh_episode):
        Enrollment.objects.create(episode=episode, track=track, start_date=dt.date(2026, 1, 5))
    session = make_session(site, clinician, DAY, track=track)
    later_session = make_session(site, clinician, DAY + dt.timedelta(days=1), track=track)
    other_session = make_session(other_site, other_clinician, DAY, track=other_track)
    appointment = make_session(
        site,
        clinician,
        DAY,
        kind="individual",
        title="Individual therapy",
        episode=mh_episode,
        at=dt.time(14, 0),
        minutes=50,
    )
    attendance = Attendance.objects.create(
        session=session,
        episode=mh_episode,
        patient=mh_patient,
        status="present",
        minutes_attended=180,
        recorded_by=clinician,
    )
    inquiry = Inquiry.objects.create(
        organization=org,
        site=site,
        received_at=timezone.now(),
        channel="call",
        referral_source="therapist",
        first_name="Marigold",
        last_name="Testwood",
        phone="555-010-9999",
        concerns="mental_health",
        stage="admitted",
        stage_entered_on=dt.date(2026, 1, 2),
        patient=mh_patient,
        episode=mh_episode,
    )
    payer = Payer.objects.create(organization=org, name="Fictional Mutual", payer_type="commercial")
    coverage = Coverage.objects.create(
        inquiry=inquiry, patient=mh_patient, payer=payer, rank="primary", member_id="ZZ123"
    )
    authorization = Authorization.objects.create(
        coverage=coverage,
        reference_number="AUTH-FAKE-1",
        unit_kind="days",
        quantity=20,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 3, 31),
        service_codes=["S9480"],
        created_by=billing,
    )
    return Clinic(
        site=site,
        other_site=other_site,
        foreign_site=foreign_site,
        director=director,
        clinician=clinician,
        other_clinician=other_clinician,
        billing=billing,
        intake=intake,
        network_user=network_user,
        track=track,
        other_track=other_track,
        session=session,
        later_session=later_session,
        other_session=other_session,
        appointment=appointment,
        sud_patient=sud_patient,
        mh_patient=mh_patient,
        sud_episode=sud_episode,
        mh_episode=mh_episode,
        attendance=attendance,
        authorization=authorization,
    )


@pytest.fixture
def clinic(db: None) -> Clinic:
    return make_clinic()


__all__ = ["ALL", "READ", "Clinic", "api_get", "api_post", "clinic", "make_clinic", "token_for"]
