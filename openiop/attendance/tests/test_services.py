from __future__ import annotations

import datetime as dt

import pytest

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.attendance.selectors import roster_episode_ids
from openiop.attendance.services import (
    alert_acknowledge,
    attendance_mark_all_present,
    attendance_record,
)
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.episodes.models import Alert
from openiop.programs.models import Enrollment
from openiop.testing import make_site, make_user

from .conftest import MONDAY

pytestmark = pytest.mark.django_db


def test_present_defaults_to_the_session_length_and_is_audited(group):
    session, episode = group.sessions[0], group.episodes[0]
    record = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    assert record.minutes_attended == 180
    entry = AuditEntry.objects.get(object_type="attendance", action="create")
    assert entry.patient_id == episode.patient_id and entry.username == group.clinician.username


def test_late_needs_minutes_and_the_error_names_the_field(group):
    with pytest.raises(RuleViolation) as exc:
        attendance_record(
            session=group.sessions[0], episode=group.episodes[0], status="late", by=group.actor
        )
    assert exc.value.field == "minutes_attended"
    assert not Attendance.objects.exists()


def test_all_present_marks_only_those_not_yet_recorded(group):
    session = group.sessions[0]
    attendance_record(
        session=session,
        episode=group.episodes[0],
        status="late",
        minutes_attended=120,
        by=group.actor,
    )
    assert attendance_mark_all_present(session=session, by=group.actor) == 1
    statuses = dict(Attendance.objects.filter(session=session).values_list("episode_id", "status"))
    assert statuses == {group.episodes[0].pk: "late", group.episodes[1].pk: "present"}
    entry = AuditEntry.objects.filter(object_type="attendance").latest("id")
    assert list(entry.patients.values_list("patient_id", flat=True)) == [
        group.episodes[1].patient_id
    ]


def test_a_correction_is_audited_with_before_and_after(group):
    session, episode = group.sessions[0], group.episodes[0]
    first = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    attendance_record(
        session=session,
        episode=episode,
        status="left_early",
        minutes_attended=120,
        expected_version=first.version,
        by=group.actor,
    )
    entry = AuditEntry.objects.get(object_type="attendance", action="update")
    assert entry.detail["before"]["status"] == "present"
    assert entry.detail["after"] == {"status": "left_early", "minutes": 120, "comment": ""}


def test_a_stale_correction_is_refused_not_overwritten(group):
    session, episode = group.sessions[0], group.episodes[0]
    first = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    attendance_record(
        session=session,
        episode=episode,
        status="late",
        minutes_attended=100,
        expected_version=first.version,
        by=group.actor,
    )
    with pytest.raises(Conflict):
        attendance_record(
            session=session,
            episode=episode,
            status="absent_excused",
            expected_version=first.version,
            by=group.actor,
        )
    assert Attendance.objects.get().status == "late"


def test_no_attendance_after_discharge(group):
    episode = group.episodes[0]
    episode.status, episode.discharge_date, episode.discharge_reason = (
        "discharged",
        MONDAY,
        "completed",
    )
    episode.save()
    with pytest.raises(RuleViolation, match="discharged"):
        attendance_record(
            session=group.sessions[1], episode=episode, status="present", by=group.actor
        )


def test_no_attendance_for_someone_not_on_the_roster(group):
    late_joiner = group.add_patient("Yarrow", "Nettlebed", start=MONDAY + dt.timedelta(days=2))
    assert late_joiner.pk not in roster_episode_ids(group.sessions[0])
    assert late_joiner.pk in roster_episode_ids(group.sessions[2])
    with pytest.raises(RuleViolation, match="not on this session's roster"):
        attendance_record(
            session=group.sessions[0], episode=late_joiner, status="present", by=group.actor
        )


def test_leaving_the_track_removes_the_patient_from_later_rosters_only(group):
    enrollment = Enrollment.objects.get(episode=group.episodes[1])
    enrollment.end_date = MONDAY + dt.timedelta(days=1)
    enrollment.save()
    assert group.episodes[1].pk in roster_episode_ids(group.sessions[1])
    assert group.episodes[1].pk not in roster_episode_ids(group.sessions[2])


def test_cancelled_session_takes_no_attendance(group):
    session = group.sessions[0]
    session.status = "cancelled"
    session.save()
    with pytest.raises(RuleViolation, match="cancelled"):
        attendance_mark_all_present(session=session, by=group.actor)


def test_two_unexcused_absences_in_a_row_raise_one_alert(group):
    episode = group.episodes[0]
    for session in group.sessions[:3]:
        attendance_record(
            session=session, episode=episode, status="absent_unexcused", by=group.actor
        )
    alerts = Alert.objects.filter(episode=episode, kind="consecutive_absences")
    assert alerts.count() == 1
    assert alerts.get().status == "open"
    alert_acknowledge(alert=alerts.get(), by=group.actor)
    assert Alert.objects.get().acknowledged_by == group.clinician


def test_billing_cannot_record_and_the_refusal_is_audited(group):
    billing = make_user(Role.BILLING, sites=[group.site])
    with pytest.raises(NotPermitted):
        attendance_record(
            session=group.sessions[0],
            episode=group.episodes[0],
            status="present",
            by=Actor(user=billing),
        )
    assert AuditEntry.objects.filter(user_id=billing.pk, outcome="denied").exists()


def test_clinician_of_another_site_cannot_record(group):
    other = make_site(group.site.organization, name="Elsewhere (fictional)")
    stranger = make_user(Role.CLINICIAN, sites=[other])
    with pytest.raises(NotPermitted):
        attendance_mark_all_present(session=group.sessions[0], by=Actor(user=stranger))
    assert not Attendance.objects.exists()


def test_a_long_streak_keeps_one_open_alert_and_a_new_streak_after_acknowledging_raises_another(
    group,
):
    episode = group.episodes[0]
    extra = [group.add_session(MONDAY + dt.timedelta(days=7 + d)) for d in range(4)]
    sessions = group.sessions[:4] + extra
    for session in sessions[:5]:
        attendance_record(
            session=session, episode=episode, status="absent_unexcused", by=group.actor
        )
    assert Alert.objects.filter(episode=episode).count() == 1
    alert_acknowledge(alert=Alert.objects.get(), by=group.actor)
    attendance_record(
        session=sessions[5], episode=episode, status="absent_unexcused", by=group.actor
    )
    assert Alert.objects.filter(episode=episode).count() == 1  # same streak, already acknowledged
    attendance_record(session=sessions[6], episode=episode, status="present", by=group.actor)
    attendance_record(
        session=sessions[7], episode=episode, status="absent_unexcused", by=group.actor
    )
    assert Alert.objects.filter(episode=episode).count() == 1
    group.add_session(MONDAY + dt.timedelta(days=14))
    attendance_record(
        session=group.sessions[-1], episode=episode, status="absent_unexcused", by=group.actor
    )
    assert Alert.objects.filter(episode=episode, status="open").count() == 1
    assert Alert.objects.filter(episode=episode).count() == 2
