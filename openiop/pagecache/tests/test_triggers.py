"""The change counters behind the page cache: every table counted, each change at the right site."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.core.clock import local_today
from openiop.pagecache.models import DataGeneration
from openiop.pagecache.triggers import EXCLUDED_APPS, EXCLUDED_TABLES
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
    from django.core.cache.backends.base import BaseCache
    from django.test import Client

pytestmark = [
    pytest.mark.django_db,
    postgresql_only("the counting triggers exist on PostgreSQL only"),
]


def generations() -> dict[int, int]:
    return dict(DataGeneration.objects.values_list("site_id", "n"))


def _triggered_tables() -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'openiop_count_%%'"
        )
        found: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            found.setdefault(table, set()).add(name)
    return found


def test_every_table_a_page_can_show_counts_its_changes() -> None:
    from django.apps import apps

    found = _triggered_tables()
    expected = {
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label not in EXCLUDED_APPS and m._meta.db_table not in EXCLUDED_TABLES
    }
    assert expected - set(found) == set()
    assert all(
        names == {"openiop_count_ins", "openiop_count_upd", "openiop_count_del"}
        for names in found.values()
    )
    assert "audit_auditentry" not in found and "accounts_staffsession" not in found


def test_a_change_counts_for_its_own_site_only() -> None:
    org = make_org()
    here, there = make_site(org, name="Here (fictional)"), make_site(org, name="There (fictional)")
    before = generations()
    patient = make_patient(here)  # demographics: every site (site 0)
    after_patient = generations()
    assert after_patient.get(0, 0) > before.get(0, 0)
    make_episode(patient)
    after = generations()
    assert after.get(here.pk, 0) > after_patient.get(here.pk, 0)
    assert after.get(there.pk, 0) == after_patient.get(there.pk, 0)


def test_an_attendance_row_counts_for_its_sessions_site_through_the_foreign_keys() -> None:
    org = make_org()
    site, other = make_site(org), make_site(org, name="Other (fictional)")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    track = make_track(site)
    episode = make_episode(make_patient(site))
    today = local_today(site.tz)
    Enrollment.objects.create(episode=episode, track=track, start_date=today)
    session = make_session(site, clinician, today, track=track, room=make_room(site))
    before = generations()
    row = Attendance.objects.create(
        session=session,
        episode=episode,
        patient=episode.patient,
        status="present",
        minutes_attended=180,
        recorded_by=clinician,
    )
    middle = generations()
    assert middle[site.pk] == before.get(site.pk, 0) + 1
    assert middle.get(other.pk, 0) == before.get(other.pk, 0)
    assert middle.get(0, 0) == before.get(0, 0)
    Attendance.objects.filter(pk=row.pk).update(minutes_attended=90)  # old and new row: same site
    assert generations()[site.pk] == middle[site.pk] + 2
    Attendance.objects.filter(pk=row.pk).delete()
    assert generations()[site.pk] == middle[site.pk] + 3


def test_a_login_changes_nothing_a_page_shows_but_a_renamed_clinician_does() -> None:
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    before = generations().get(0, 0)
    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())
    assert generations().get(0, 0) == before
    type(user).objects.filter(pk=user.pk).update(last_name="Renamedsworth")
    assert generations().get(0, 0) == before + 1


def test_a_statement_that_changes_no_row_counts_nothing() -> None:
    before = generations()
    Attendance.objects.filter(pk=-1).update(minutes_attended=1)
    assert generations() == before


def test_the_installed_triggers_match_the_models_table_by_table() -> None:
    from openiop.pagecache.triggers import problems

    assert problems() == []


def _drop_triggers(table: str) -> None:
    with connection.cursor() as cursor:
        for name in ("openiop_count_ins", "openiop_count_upd", "openiop_count_del"):
            cursor.execute(f'DROP TRIGGER {name} ON "{table}"')


def test_a_table_without_its_triggers_fails_the_check_until_the_step_installs_them() -> None:
    """As after a migration that adds a table when the step after migrate was not run."""
    from django.core.management import CommandError, call_command

    from openiop.pagecache.triggers import problems

    _drop_triggers("attendance_attendance")
    with connection.cursor() as cursor:  # a changed model: its trigger's fingerprint differs
        cursor.execute(
            "COMMENT ON TRIGGER openiop_count_upd ON programs_room IS 'openiop:from-old-models'"
        )
    assert problems() == [
        "attendance_attendance: no counting triggers",
        "programs_room: triggers differ from the models",
    ]
    with pytest.raises(CommandError) as refused:
        call_command("pagecache_triggers", "--check")
    assert refused.value.returncode == 1
    assert "attendance_attendance: no counting triggers" in str(refused.value)
    call_command("pagecache_triggers", stdout=io.StringIO())
    assert problems() == []
    out = io.StringIO()
    call_command("pagecache_triggers", "--check", stdout=out)
    assert "match the models" in out.getvalue()


def test_migrate_does_not_rebuild_the_triggers() -> None:
    """Installing them is a step of its own (and checked), not a side effect of every migrate."""
    from django.core.management import call_command

    from openiop.pagecache.triggers import problems

    _drop_triggers("attendance_attendance")
    call_command("migrate", verbosity=0, interactive=False)
    assert problems() == ["attendance_attendance: no counting triggers"]


def test_the_page_cache_stays_off_while_a_table_is_not_counted(
    client: Client, page_cache: BaseCache, caplog: pytest.LogCaptureFixture
) -> None:
    """A page served from the cache with an uncounted table could show stale data: render instead."""
    from django.urls import reverse

    from openiop.pagecache import cache
    from openiop.pagecache.cache import HEADER

    org = make_org()
    site = make_site(org)
    client.force_login(make_user(Role.CLINICIAN, sites=[site], org=org))
    url = reverse("web:today")
    _drop_triggers("attendance_attendance")
    cache._trigger_check.clear()
    try:
        for _ in range(3):
            assert client.get(url).get(HEADER) is None
        assert "attendance_attendance: no counting triggers" in caplog.text
        assert "openiop pagecache_triggers" in caplog.text
    finally:
        cache._trigger_check.clear()  # the next test's database has them all again
