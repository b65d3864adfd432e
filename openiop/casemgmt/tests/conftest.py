"""A small fictional clinic for the case management tests: one site with a track meeting today
and the next days, a case manager, a director, a clinician, and patients enrolled in the track."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.casemgmt.models import CommunityResource
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.episodes.choices import TreatmentFocus
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_session,
    make_site,
    make_track,
    make_user,
)


@dataclass
class Casework:
    org: Any
    site: Any
    other_site: Any
    track: Any
    room: Any
    case_manager: Any
    director: Any
    clinician: Any
    today: dt.date
    sessions: list[GroupSession] = field(default_factory=list)

    def actor(self, user: Any) -> Actor:
        return Actor(user=user, client_addr="127.0.0.1")

    @property
    def cm(self) -> Actor:
        return self.actor(self.case_manager)

    def patient(
        self, first: str = "Marigold", last: str = "Thistlewood", *, focus: str = "", **kw: Any
    ) -> Any:
        """An open episode of a new patient, enrolled in the track from a week ago."""
        patient = make_patient(self.site, legal_first_name=first, legal_last_name=last, **kw)
        episode = make_episode(
            patient,
            focus=focus or TreatmentFocus.SUBSTANCE_USE,
            admission_date=self.today - dt.timedelta(days=7),
        )
        Enrollment.objects.create(
            episode=episode, track=self.track, start_date=self.today - dt.timedelta(days=7)
        )
        return episode

    def resource(
        self, name: str = "Juniper House (fictional)", *, site: Any = None, **kw: Any
    ) -> CommunityResource:
        defaults: dict[str, Any] = {"kind": "sober_living", "phone": "555-0177"}
        defaults.update(kw)
        return CommunityResource.objects.create(site=site or self.site, name=name, **defaults)


@pytest.fixture
def cw(db: Any) -> Casework:
    org = make_org()
    site = make_site(org, name="Willowmere (fictional)")
    other = make_site(org, name="Faraway Dunes (fictional)")
    room = make_room(site)
    track = make_track(site)
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    world = Casework(
        org=org,
        site=site,
        other_site=other,
        track=track,
        room=room,
        case_manager=make_user(
            Role.CASE_MANAGER, sites=[site], org=org, first_name="Rosalind", last_name="Ferncastle"
        ),
        director=make_user(Role.DIRECTOR, sites=[site], org=org),
        clinician=clinician,
        today=local_today(site.tz),
    )
    for offset in range(4):  # today (late in the day, so not yet started) and three days on
        world.sessions.append(
            make_session(
                site,
                clinician,
                world.today + dt.timedelta(days=offset),
                at=dt.time(23, 0),
                minutes=50,
                track=track,
                room=room,
            )
        )
    return world
