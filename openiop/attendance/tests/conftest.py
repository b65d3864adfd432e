from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import (
    make_block,
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_site,
    make_track,
    make_user,
)

# A Monday three weeks back, so 'that week is finished' holds whatever day the suite runs.
MONDAY = IsoWeek.of(local_today(dt.UTC)).previous().previous().previous().monday


@dataclass
class Group:
    site: Any
    track: Any
    room: Any
    clinician: Any
    actor: Actor
    sessions: list[Any]
    episodes: list[Any]

    def add_patient(
        self, first: str = "Pimpernel", last: str = "Applebough", start: dt.date = MONDAY
    ) -> Any:
        patient = make_patient(self.site, legal_first_name=first, legal_last_name=last)
        episode = make_episode(patient, admission_date=start)
        Enrollment.objects.create(episode=episode, track=self.track, start_date=start)
        self.episodes.append(episode)
        return episode

    def add_session(self, day: dt.date, minutes: int = 180) -> GroupSession:
        starts = dt.datetime.combine(day, dt.time(9, 0), tzinfo=self.site.tz)
        session = GroupSession.objects.create(
            site=self.site,
            track=self.track,
            kind="group_therapy",
            title="Process group",
            date=day,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=minutes),
            facilitator=self.clinician,
            room=self.room,
        )
        self.sessions.append(session)
        return session


@pytest.fixture
def group(db: Any) -> Group:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)")
    room = make_room(site, capacity=16)
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    track = make_track(site, weekly_minimum_minutes=540)
    make_block(track, clinician, room)
    g = Group(
        site=site,
        track=track,
        room=room,
        clinician=clinician,
        actor=Actor(user=clinician, client_addr="127.0.0.1"),
        sessions=[],
        episodes=[],
    )
    for offset in range(4):  # Mon-Thu, 3 h each
        g.add_session(MONDAY + dt.timedelta(days=offset))
    g.add_patient("Pimpernel", "Applebough")
    g.add_patient("Quintessa", "Bramblethorn")
    return g
