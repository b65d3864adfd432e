"""Every cached page, found through the URL resolver (staff_view(cache=True)), held to the page
cache's contract (CONTRIBUTING.md, "Cached pages"; ADR 12). A page made cacheable later is held to
it the day it is: give its URL arguments a value in `kwargs_for` and the tests run for it too.

On PostgreSQL everything is real. On SQLite pages are not cached (the change counters are
PostgreSQL triggers), so there the counter is replaced by a constant: the decorator's contract
(order inside staff_view, hits replay the audit entries, refusals never stored, a GET writes only
audit entries) is still tested; being rendered again after a change is PostgreSQL's half.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from openiop.accounts.domain import ROLE_CAPS, Role
from openiop.admissions import services as admissions
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditEntry, AuditEntryPatient
from openiop.casemgmt.models import CaseTask
from openiop.core.actor import Actor
from openiop.drugtests.models import DrugTestOrder, ReconciliationFlag
from openiop.episodes.models import Alert
from openiop.pagecache import cache
from openiop.pagecache.cache import HEADER
from openiop.programs.models import Enrollment
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_session,
    make_site,
    make_track,
    make_user,
    postgresql_only,
)

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

# Writes a GET may make: its audit entries, and the middleware's session bookkeeping (which runs
# on a page served from the cache too).
GET_MAY_WRITE = frozenset(
    {"audit_auditentry", "audit_auditentrypatient", "django_session", "accounts_staffsession"}
)
# URL arguments that name a patient: a cached page with one must say so (cache_patient_kwarg).
PATIENT_KWARGS = frozenset({"patient_id"})
# Roles tried, in this order, for a user allowed a page: site-scoped roles first.
ROLE_ORDER = (Role.CLINICIAN, Role.CASE_MANAGER, Role.INTAKE, Role.PRESCRIBER, Role.BILLING)


def _walk(patterns: list[Any], namespaces: list[str]) -> list[tuple[str, URLPattern]]:
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _walk(p.url_patterns, namespaces + ([p.namespace] if p.namespace else []))
        elif isinstance(p, URLPattern) and getattr(p.callback, "cached", False):
            found.append((":".join([*namespaces, str(p.name)]), p))
    return found


def cached_pages() -> list[tuple[str, URLPattern]]:
    return sorted(_walk(get_resolver().url_patterns, []), key=lambda x: x[0])


PAGES = [name for name, _ in cached_pages()]


def test_the_seven_pages_of_adr_12_are_found_as_cached() -> None:
    assert set(PAGES) >= {
        "web:today",
        "patients:chart",
        "attendance:session",
        "attendance:below_hours",
        "notes:group",
        "admissions:board",
        "measures:program",
    }


@pytest.fixture
def clinic() -> dict[str, Any]:
    """One site where every cached page shows Marigold Puddifoot; a second site with nothing."""
    org = make_org()
    site = make_site(org, name="Larkspur Hollow (fictional)")
    other = make_site(org, name="Quillmoor (fictional)")
    room = make_room(site)
    track = make_track(site)
    users = {
        role: make_user(role, sites=[site], org=org, last_name=f"Fernwhistle{role.value.title()}")
        for role in ROLE_ORDER
    }
    patient = make_patient(site, legal_first_name="Marigold", legal_last_name="Puddifoot")
    today = timezone.localdate(timezone=site.tz)
    episode = make_episode(patient, admission_date=today - dt.timedelta(days=14))
    Enrollment.objects.create(
        episode=episode, track=track, start_date=today - dt.timedelta(days=14)
    )
    session = make_session(
        site, users[Role.CLINICIAN], today, track=track, room=room, at=dt.time(0, 0)
    )
    Attendance.objects.create(  # the group note has a section for those who came
        session=session,
        episode=episode,
        patient=patient,
        status="present",
        minutes_attended=180,
        recorded_by=users[Role.CLINICIAN],
    )
    Alert.objects.create(  # what Today shows by name
        patient=patient,
        episode=episode,
        kind="consecutive_absences",
        message="Missed two sessions in a row",
        dedupe_key="page-contract",
    )
    CaseTask.objects.create(  # what My tasks shows by name
        site=site,
        owner=users[Role.CASE_MANAGER],
        episode=episode,
        patient=patient,
        title="Call about the pantry",
        due_on=today + dt.timedelta(days=1),
        created_by=users[Role.CASE_MANAGER],
    )
    order = DrugTestOrder.objects.create(  # a result the prescriber's list shows by name
        patient=patient,
        episode=episode,
        kind="poc_cup",
        reason="scheduled",
        status="resulted",
        ordered_by=users[Role.PRESCRIBER],
        ordered_at=timezone.now(),
        collected_at=timezone.now(),
        resulted_at=timezone.now(),
        validity="valid",
    )
    ReconciliationFlag.objects.create(
        order=order, kind="unexpected", analyte="cocaine", message="Cocaine was found."
    )
    admissions.inquiry_create(
        site=site,
        by=Actor(user=users[Role.INTAKE], client_addr="198.51.100.7", path="/test"),
        channel="call",
        referral_source="therapist",
        first_name="Tamsin",
        last_name="Larkrise",
        date_of_birth=dt.date(1991, 4, 2),
        phone="555-010-7788",
        concerns="co_occurring",
        age_group="adult",
        urgency="soon",
    )
    return {
        "org": org,
        "site": site,
        "other": other,
        "users": users,
        "patient": patient,
        "kwargs": {"patient_id": patient.pk, "session_id": session.pk},
    }


def kwargs_for(pattern: URLPattern, clinic: dict[str, Any]) -> dict[str, Any]:
    names = list(pattern.pattern.converters)
    missing = [n for n in names if n not in clinic["kwargs"]]
    assert not missing, f"give the URL argument(s) {missing} a value in the clinic fixture"
    return {n: clinic["kwargs"][n] for n in names}


def _page(name: str, clinic: dict[str, Any]) -> tuple[str, Any]:
    pattern = dict(cached_pages())[name]
    url = reverse(name, kwargs=kwargs_for(pattern, clinic))
    cap = pattern.callback.required_cap  # type: ignore[attr-defined]
    role = next(r for r in ROLE_ORDER if cap is None or cap in ROLE_CAPS[r])
    return url, clinic["users"][role]


def _entries(after_id: int, upto_id: int) -> list[tuple[str, str, str, list[int]]]:
    """The audit entries written after `after_id` up to `upto_id`: action, object, patients."""
    rows = []
    for entry in AuditEntry.objects.filter(id__gt=after_id, id__lte=upto_id).order_by("id"):
        patients = sorted(
            AuditEntryPatient.objects.filter(entry=entry).values_list("patient_id", flat=True)
        )
        if entry.patient_id and entry.patient_id not in patients:
            patients = sorted([*patients, entry.patient_id])
        rows.append((entry.action, entry.object_type, entry.object_id, patients))
    return rows


def _last_entry() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def counted(page_cache: BaseCache, monkeypatch: pytest.MonkeyPatch) -> BaseCache:
    """The cache on; on SQLite, with the change counter (PostgreSQL triggers) a constant."""
    if connection.vendor != "postgresql":
        monkeypatch.setattr(cache, "enabled", lambda: True)
        monkeypatch.setattr(cache, "generation", lambda sites, patient_id=None: 0)
    return page_cache


@pytest.mark.parametrize("name", PAGES)
def test_every_cached_page_is_served_from_the_cache_and_audited_like_a_render(
    client: Client, counted: BaseCache, clinic: dict[str, Any], name: str
) -> None:
    url, user = _page(name, clinic)
    client.force_login(user)
    assert client.get(url).status_code == 200  # the CSRF cookie the page's forms are keyed by
    before = _last_entry()
    rendered = client.get(url)
    middle = _last_entry()
    served = client.get(url)
    assert (rendered.status_code, served.status_code) == (200, 200)
    assert (rendered[HEADER], served[HEADER]) == ("miss", "hit")
    assert "Puddifoot" in served.text or "Larkrise" in served.text
    first, second = _entries(before, middle), _entries(middle, _last_entry())
    shown = clinic["patient"].pk
    assert first and second == first
    assert name == "admissions:board" or any(shown in e[3] for e in second), second


@pytest.mark.parametrize("name", PAGES)
def test_a_get_of_every_cached_page_writes_nothing_but_audit_entries(
    client: Client, clinic: dict[str, Any], name: str
) -> None:
    """What a page served from the cache skips: any other write its view made on GET."""
    url, user = _page(name, clinic)
    client.force_login(user)
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    written = {  # on PostgreSQL an entry and its patient links are one statement (a CTE)
        table
        for q in ctx.captured_queries
        for _, table in re.findall(r'(INSERT INTO|UPDATE|DELETE FROM) "(\w+)"', q["sql"])
    }
    assert written and written <= GET_MAY_WRITE, written - GET_MAY_WRITE


@pytest.mark.parametrize("name", PAGES)
def test_a_refusal_of_every_cached_page_is_never_stored(
    client: Client, counted: BaseCache, clinic: dict[str, Any], name: str
) -> None:
    url, _ = _page(name, clinic)
    pattern = dict(cached_pages())[name]
    cap = pattern.callback.required_cap  # type: ignore[attr-defined]
    outsider = make_user(Role.AUDITOR, sites=[clinic["site"]], org=clinic["org"])
    assert cap not in ROLE_CAPS[Role.AUDITOR]
    client.force_login(outsider)
    for _ in range(3):
        answer = client.get(url)
        assert answer.status_code == 403 and answer.get(HEADER) is None
    assert len(counted._cache) == 0  # type: ignore[attr-defined]  # LocMemCache's store


@pytest.mark.parametrize("name", PAGES)
@postgresql_only("the change counters are PostgreSQL triggers")
def test_every_cached_page_renders_again_after_a_change_at_its_site(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any], name: str
) -> None:
    url, user = _page(name, clinic)
    client.force_login(user)
    client.get(url)
    assert client.get(url)[HEADER] == "miss"
    make_room(clinic["other"])  # a room counts at its own site only
    assert client.get(url)[HEADER] == "hit"
    make_room(clinic["site"])
    assert client.get(url)[HEADER] == "miss"
    assert client.get(url)[HEADER] == "hit"


def test_a_cached_page_about_one_patient_says_which_argument_names_them() -> None:
    for name, pattern in cached_pages():
        names = set(pattern.pattern.converters) & PATIENT_KWARGS
        declared = pattern.callback.cache_patient_kwarg  # type: ignore[attr-defined]
        assert declared == (min(names) if names else None), name


def test_nothing_but_staff_view_applies_the_cache() -> None:
    """Used on its own, the cached wrapper could sit outside the login and capability checks."""
    root = Path(__file__).resolve().parents[2]
    allowed = {root / "pagecache" / "cache.py", root / "ui" / "views_support.py"}
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts
        and path not in allowed
        and "cached_page" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
