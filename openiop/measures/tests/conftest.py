"""A small fictional clinic for the measures tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.programs.models import Enrollment
from openiop.testing import make_episode, make_org, make_patient, make_site, make_track, make_user


@dataclass
class Clinic:
    site: Any
    other_site: Any
    clinician: Any
    on_call: Any
    director: Any
    intake: Any
    billing: Any
    other_clinician: Any
    patient: Any
    episode: Any
    track: Any

    def actor(self, user: Any) -> Actor:
        return Actor(user=user, client_addr="127.0.0.1", path="/test")


@pytest.fixture
def clinic(db: Any) -> Clinic:
    org = make_org()
    site = make_site(org, name="Cedar Hollow (fictional)")
    other = make_site(org, name="Elsewhere (fictional)")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    on_call = make_user(Role.CLINICIAN, sites=[site], org=org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    patient = make_patient(site, legal_first_name="Wendeline", legal_last_name="Sparrowgrass")
    episode = make_episode(patient, primary_clinician=clinician, admission_date=dt.date(2026, 1, 5))
    track = make_track(site)
    Enrollment.objects.create(episode=episode, track=track, start_date=episode.admission_date)
    return Clinic(
        site=site,
        other_site=other,
        clinician=clinician,
        on_call=on_call,
        director=director,
        intake=make_user(Role.INTAKE, sites=[site], org=org),
        billing=make_user(Role.BILLING, sites=[site], org=org),
        other_clinician=make_user(Role.CLINICIAN, sites=[other], org=org),
        patient=patient,
        episode=episode,
        track=track,
    )
