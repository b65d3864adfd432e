from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.core.actor import Actor
from openiop.episodes.models import Episode
from openiop.programs.models import GroupSession
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_site,
    make_track,
    make_user,
)

FIRST_NAMES = [
    "Pimpernel", "Quillon", "Rosalind", "Sorrel", "Tamsin", "Umbra", "Vesper", "Wren",
    "Xylia", "Yarrow", "Zinnia", "Bramble",
]  # fmt: skip


@dataclass
class Clinic:
    org: Any
    site: Any
    room: Any
    track: Any
    clinician: Any
    supervisor: Any
    actor: Actor
    episodes: list[Episode] = field(default_factory=list)

    def patient(self, first: str, last: str = "Fictionalson", **kw: Any) -> Episode:
        patient = make_patient(self.site, legal_first_name=first, legal_last_name=last, **kw)
        episode = make_episode(patient, primary_clinician=self.clinician)
        self.episodes.append(episode)
        return episode

    def session(self, day: dt.date | None = None, minutes: int = 180, **kw: Any) -> GroupSession:
        day = day or dt.date(2026, 3, 2)
        starts = dt.datetime.combine(day, dt.time(9, 0), tzinfo=self.site.tz)
        defaults: dict[str, Any] = {
            "kind": "group_therapy",
            "title": "Process group",
            "track": self.track,
        }
        defaults.update(kw)
        return GroupSession.objects.create(
            site=self.site,
            date=day,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=minutes),
            facilitator=self.clinician,
            room=self.room,
            **defaults,
        )

    def attend(
        self, session: GroupSession, episode: Episode, status: str = "present", minutes: int = 180
    ) -> Attendance:
        return Attendance.objects.create(
            session=session,
            episode=episode,
            patient=episode.patient,
            status=status,
            minutes_attended=minutes if status in ("present", "late", "left_early") else 0,
            recorded_by=self.clinician,
        )

    def group(self, size: int, day: dt.date | None = None) -> tuple[GroupSession, list[Episode]]:
        session = self.session(day)
        members = []
        for i in range(size):
            if len(self.episodes) <= i:
                self.patient(FIRST_NAMES[i], f"Fictionalson{i}")
            members.append(self.episodes[i])
            self.attend(session, self.episodes[i])
        return session, members


@pytest.fixture
def clinic(db: Any) -> Clinic:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="America/Chicago")
    room = make_room(site)
    track = make_track(site)
    supervisor = make_user(
        Role.CLINICIAN, sites=[site], org=org, first_name="Hollis", last_name="Oakenshield"
    )
    clinician = make_user(
        Role.CLINICIAN, sites=[site], org=org, first_name="Juniper", last_name="Groveheart"
    )
    return Clinic(
        org=org,
        site=site,
        room=room,
        track=track,
        clinician=clinician,
        supervisor=supervisor,
        actor=Actor(user=clinician, client_addr="127.0.0.1"),
    )


# Distinct, individual texts for members (no member names in them).
INDIVIDUAL_TEXTS = [
    "Described cravings after payday and practiced urge surfing with the breathing count.",
    "Quiet at first; later named loneliness on weekends as a trigger and listed two calls to make.",
    "Reported six days abstinent, proud of refusing a drink at a cousin's birthday party.",
    "Challenged a catastrophic thought about work using the evidence column of the worksheet.",
    "Arrived tense after a court date; grounding exercise helped and mood lifted by the end.",
    "Shared a relapse on Saturday honestly and rebuilt the evening routine with peer feedback.",
    "Practiced assertive refusal in a role play about a roommate offering pills after a shift.",
    "Identified sleep problems feeding irritability and agreed to a wind-down plan before bed.",
    "Discussed the custody hearing, tearful, used the distress tolerance skill with coaching.",
    "Set a goal to attend two evening meetings and asked how to find a sponsor near the bus line.",
    "Explored ambivalence about quitting cannabis with a decisional balance on the whiteboard.",
    "Talked about starting a new job and planned how to handle the Friday happy hour invitation.",
]
