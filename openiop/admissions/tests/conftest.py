"""A small fictional clinic for the admissions tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.admissions import services
from openiop.admissions.domain import asam
from openiop.admissions.domain.prescreen import PrescreenAnswers
from openiop.admissions.models import Inquiry
from openiop.core.actor import Actor
from openiop.programs.models import GroupSession
from openiop.testing import make_block, make_org, make_room, make_site, make_track, make_user

FITS = PrescreenAnswers(
    needs_24h_supervision=False,
    needs_medical_withdrawal=False,
    safe_home=True,
    substance_free_home=True,
    outpatient_not_enough=True,
    can_attend=True,
    motivation="ready",
)
NO_RISK = [0, 0, 0, 0, 0, 0, 0]
HIGH_RISK = [1, 1, 0, 1, 0, 0, 0]
IOP_RATINGS = [asam.DimensionRating(d, 2 if d in (3, 5) else 1, f"note {d}") for d in range(1, 7)]


@dataclass
class Clinic:
    org: Any
    site: Any
    other_site: Any
    users: dict[str, Any]
    track: Any
    room: Any
    session: Any

    def actor(self, role: str) -> Actor:
        return Actor(user=self.users[role], client_addr="198.51.100.7", path="/test")

    def inquiry(self, **kw: Any) -> Inquiry:
        fields: dict[str, Any] = {
            "channel": "call",
            "referral_source": "therapist",
            "first_name": "Wren",
            "last_name": "Pemberbottom",
            "date_of_birth": dt.date(1991, 4, 2),
            "phone": "555-010-7788",
            "concerns": "co_occurring",
            "age_group": "adult",
            "urgency": "soon",
        }
        fields.update(kw)
        return services.inquiry_create(site=self.site, by=self.actor("intake"), **fields)

    def assessed(self, **kw: Any) -> Inquiry:
        inquiry = self.inquiry(**kw)
        services.prescreen_record(
            inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=self.actor("clinician")
        )
        a = services.assessment_save(
            inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=self.actor("clinician")
        )
        services.assessment_decide(
            assessment=a, chosen_level="2.1", expected_version=a.version, by=self.actor("clinician")
        )
        inquiry.refresh_from_db()
        return inquiry


@pytest.fixture
def clinic(db: Any) -> Clinic:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="UTC")
    other = make_site(org, name="Far Away (fictional)", timezone="UTC")
    room = make_room(site, capacity=12)
    users = {role.value: make_user(role, sites=[site], org=org) for role in Role}
    users["other_intake"] = make_user(Role.INTAKE, sites=[other], org=org)
    track = make_track(site, name="Adult Day IOP", capacity=2)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    block = make_block(track, users["clinician"], room, weekday=tomorrow.weekday())
    starts = dt.datetime.combine(tomorrow, dt.time(9, 0), tzinfo=dt.UTC)
    session = GroupSession.objects.create(
        site=site,
        track=track,
        block=block,
        kind="group_therapy",
        title="Process group",
        date=tomorrow,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        facilitator=users["clinician"],
        room=room,
    )
    return Clinic(org, site, other, users, track, room, session)
