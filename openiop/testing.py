"""Builders for tests: a small fictional clinic. Names are obviously invented (no real people).

Builders create rows directly so each test states only what matters to it; services are tested by
calling services.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.episodes.choices import EpisodeStatus, LevelOfCare, ReferralSource, TreatmentFocus
from openiop.episodes.domain import is_part2_protected
from openiop.episodes.models import Episode
from openiop.patients.domain import search_name_for
from openiop.patients.models import Patient
from openiop.programs.models import GroupSession, Organization, Room, Site, Track, TrackBlock

if TYPE_CHECKING:
    import pytest

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery-staple-42"


def postgresql_only(why: str) -> pytest.MarkDecorator:
    """A pytest mark: skip on SQLite (the suite's PostgreSQL half runs the test)."""
    import pytest
    from django.db import connection

    return pytest.mark.skipif(connection.vendor != "postgresql", reason=why)


def audit_links_query() -> int:
    """The query a multi-patient audit entry adds for its patient links: 1 on SQLite, 0 on
    PostgreSQL, where the entry and its links are one INSERT (audit.services._save)."""
    from django.db import connection

    return 0 if connection.vendor == "postgresql" else 1


def make_org(**kw: Any) -> Organization:
    defaults: dict[str, Any] = {
        "name": "Lantern Hill Recovery (fictional)",
        "mrn_prefix": "LH",
        "crisis_line": "555-0100",
    }
    defaults.update(kw)
    return Organization.objects.create(**defaults)


def make_site(org: Organization, **kw: Any) -> Site:
    defaults: dict[str, Any] = {"name": f"Test Site {next(_seq)}", "timezone": "America/Chicago"}
    defaults.update(kw)
    return Site.objects.create(organization=org, **defaults)


def make_room(site: Site, **kw: Any) -> Room:
    defaults: dict[str, Any] = {"name": f"Room {next(_seq)}", "capacity": 12}
    defaults.update(kw)
    return Room.objects.create(site=site, **defaults)


def make_user(
    role: Role | str, *, sites: list[Site] | None = None, org: Organization | None = None, **kw: Any
) -> User:
    n = next(_seq)
    role = Role(role)
    defaults: dict[str, Any] = {
        "username": f"{role.value}{n}",
        "first_name": "Testy",
        "last_name": f"{role.value.replace('_', ' ').title().replace(' ', '')}{n}",
    }
    defaults.update(kw)
    user = User.objects.create_user(
        password=PASSWORD, role=role.value, organization=org, **defaults
    )
    if sites:
        user.sites.set(sites)
    return user


def make_patient(site: Site, **kw: Any) -> Patient:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "legal_first_name": "Zephyrine",
        "legal_last_name": f"Testperson{n}",
        "date_of_birth": dt.date(1990, 1, 1),
        "sex": "female",
        "mrn": f"{site.organization.mrn_prefix}{n:06d}",
    }
    defaults.update(kw)
    p = Patient(organization=site.organization, site=site, **defaults)
    p.search_name = search_name_for(p.legal_first_name, p.preferred_name, p.legal_last_name)
    p.save()
    return p


def make_episode(patient: Patient, **kw: Any) -> Episode:
    defaults: dict[str, Any] = {
        "site": patient.site,
        "focus": TreatmentFocus.CO_OCCURRING,
        "referral_source": ReferralSource.SELF,
        "admission_date": dt.date(2026, 1, 5),
        "level_of_care": LevelOfCare.L2_1,
        "status": EpisodeStatus.ACTIVE,
    }
    defaults.update(kw)
    ep = Episode(patient=patient, **defaults)
    ep.part2_protected = is_part2_protected(ep.focus)
    ep.save()
    return ep


def make_track(site: Site, **kw: Any) -> Track:
    defaults: dict[str, Any] = {
        "name": f"Adult Day IOP {next(_seq)}",
        "capacity": 12,
        "weekly_minimum_minutes": 540,
    }
    defaults.update(kw)
    return Track.objects.create(site=site, **defaults)


def make_session(site: Site, facilitator: User, day: dt.date, **kw: Any) -> GroupSession:
    """A session on `day` at the site, 9:00 for three hours unless `at` and `minutes` say otherwise
    (a group of `track`, or an individual session of `episode`, through kw)."""
    starts = dt.datetime.combine(day, kw.pop("at", dt.time(9, 0)), tzinfo=site.tz)
    minutes = kw.pop("minutes", 180)
    defaults: dict[str, Any] = {"kind": "group_therapy", "title": "Process group"}
    defaults.update(kw)
    return GroupSession.objects.create(
        site=site,
        date=day,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=minutes),
        facilitator=facilitator,
        **defaults,
    )


def make_block(track: Track, facilitator: User, room: Room, **kw: Any) -> TrackBlock:
    defaults: dict[str, Any] = {
        "weekday": 0,
        "start_time": dt.time(9, 0),
        "duration_minutes": 180,
        "kind": "group_therapy",
        "title": "Process group",
        "valid_from": dt.date(2026, 1, 1),
    }
    defaults.update(kw)
    return TrackBlock.objects.create(track=track, facilitator=facilitator, room=room, **defaults)


def page_query_count(client: Any, url: str) -> int:
    """The number of SQL queries one GET of `url` makes, after a first GET has warmed the session
    (the idle timeout renews it at most once a minute) and per-process caches. Asserts a 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def make_tpo_consent(patient: Patient, recorded_by: Any, **kw: Any) -> Any:
    """The single TPO consent of 42 CFR 2.31(a)(4)(i) on file for `patient` (what the signed
    intake packet gives a clinic's patients), so that claims and other disclosures for treatment,
    payment and operations go. Written directly: tests of the consent services use those."""
    from openiop.consents.models import Consent

    defaults: dict[str, Any] = {
        "discloser": patient.organization.name,
        "information": "All records of my substance use disorder treatment",
        "recipient_kind": "tpo_class",
        "purpose": "tpo",
        "effective_on": dt.date(2026, 1, 1),
        "signed_by_name": patient.legal_first_name + " " + patient.legal_last_name,
        "signed_at": dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC),
        "source": "paper",
        "recorded_by": recorded_by,
    }
    defaults.update(kw)
    return Consent.objects.create(patient=patient, **defaults)
