"""A small fictional clinic for the programs tests, with the clock fixed on Monday, March 2, 2026,
8:00 in Chicago (the week before daylight saving time starts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
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

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=CHICAGO)


@dataclass
class Clinic:
    org: Any
    site: Any
    other_site: Any
    room: Any
    nook: Any
    director: Any
    clinician: Any
    clinician2: Any
    intake: Any
    track: Any
    monday: Any
    wednesday: Any

    @property
    def by(self) -> Actor:
        return Actor(user=self.director, path="/test")

    def episode(self, **kw: Any) -> Any:
        patient = make_patient(self.site, legal_first_name="Wobbleton")
        return make_episode(patient, admission_date=dt.date(2026, 1, 5), **kw)


@pytest.fixture
def frozen(monkeypatch: Any) -> dt.datetime:
    monkeypatch.setattr("openiop.core.clock.now", lambda: NOW.astimezone(dt.UTC))
    return NOW


@pytest.fixture
def clinic(db: Any, frozen: dt.datetime) -> Clinic:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="America/Chicago")
    other = make_site(org, name="Cedar Hollow (fictional)", timezone="America/Denver")
    room = make_room(site, name="Willow Room", capacity=12)
    nook = make_room(site, name="Tiny Nook", capacity=2)
    director = make_user(Role.DIRECTOR, sites=[site, other], org=org)
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org, last_name="Groveheartly")
    clinician2 = make_user(Role.CLINICIAN, sites=[site], org=org, last_name="Quillfeatherby")
    intake = make_user(Role.INTAKE, sites=[site], org=org)
    track = make_track(site, name="Adult Day IOP (test)", capacity=10)
    monday = make_block(track, clinician, room, weekday=0, title="Process group")
    wednesday = make_block(
        track, clinician2, room, weekday=2, title="Skills workshop", kind="skills"
    )
    return Clinic(
        org=org,
        site=site,
        other_site=other,
        room=room,
        nook=nook,
        director=director,
        clinician=clinician,
        clinician2=clinician2,
        intake=intake,
        track=track,
        monday=monday,
        wednesday=wednesday,
    )


def roster(session: GroupSession) -> set[int]:
    """The roster as attendance derives it: enrollments open on the session's date (or its episode)."""
    if session.episode_id:
        return {session.episode_id}
    assert session.track_id is not None
    return set(
        Enrollment.objects.filter(track_id=session.track_id, start_date__lte=session.date)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=session.date))
        .values_list("episode_id", flat=True)
    )
