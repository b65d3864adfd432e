from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING

import pytest
from django.db import connection, transaction
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.attendance.models import Attendance
from openiop.attendance.selectors import below_hours, patient_weekly_ledger, roster_episode_ids
from openiop.attendance.services import (
    alert_acknowledge,
    attendance_mark_all_present,
    attendance_record,
)
from openiop.attendance.tests.conftest import MONDAY
from openiop.audit.models import AuditEntry
from openiop.billing.models import Coverage, Payer, PayerProgramBilling
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.episodes.models import Alert
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import make_site, make_user, postgresql_only

if TYPE_CHECKING:
    from pytest_django import Settings

    from openiop.attendance.tests.conftest import Group
    from openiop.episodes.models import Episode

pytestmark = pytest.mark.django_db


def test_present_defaults_to_the_session_length_and_is_audited(group: Group) -> None:
    session, episode = group.sessions[0], group.episodes[0]
    record = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    assert record.minutes_attended == 180
    entry = AuditEntry.objects.get(object_type="attendance", action="create")
    assert entry.patient_id == episode.patient_id and entry.username == group.clinician.username


def test_late_needs_minutes_and_the_error_names_the_field(group: Group) -> None:
    with pytest.raises(RuleViolation) as exc:
        attendance_record(
            session=group.sessions[0], episode=group.episodes[0], status="late", by=group.actor
        )
    assert exc.value.field == "minutes_attended"
    assert not Attendance.objects.exists()


def test_all_present_marks_only_those_not_yet_recorded(group: Group) -> None:
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


def test_a_correction_is_audited_with_before_and_after(group: Group) -> None:
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


def test_a_stale_correction_is_refused_not_overwritten(group: Group) -> None:
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


def test_no_attendance_after_discharge(group: Group) -> None:
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


def test_no_attendance_for_someone_not_on_the_roster(group: Group) -> None:
    late_joiner = group.add_patient("Yarrow", "Nettlebed", start=MONDAY + dt.timedelta(days=2))
    assert late_joiner.pk not in roster_episode_ids(group.sessions[0])
    assert late_joiner.pk in roster_episode_ids(group.sessions[2])
    with pytest.raises(RuleViolation, match="not on this session's roster"):
        attendance_record(
            session=group.sessions[0], episode=late_joiner, status="present", by=group.actor
        )


def test_leaving_the_track_removes_the_patient_from_later_rosters_only(group: Group) -> None:
    enrollment = Enrollment.objects.get(episode=group.episodes[1])
    enrollment.end_date = MONDAY + dt.timedelta(days=1)
    enrollment.save()
    assert group.episodes[1].pk in roster_episode_ids(group.sessions[1])
    assert group.episodes[1].pk not in roster_episode_ids(group.sessions[2])


def test_cancelled_session_takes_no_attendance(group: Group) -> None:
    session = group.sessions[0]
    session.status = "cancelled"
    session.save()
    with pytest.raises(RuleViolation, match="cancelled"):
        attendance_mark_all_present(session=session, by=group.actor)


def test_two_unexcused_absences_in_a_row_raise_one_alert(group: Group) -> None:
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


def test_billing_cannot_record_and_the_refusal_is_audited(group: Group) -> None:
    billing = make_user(Role.BILLING, sites=[group.site])
    with pytest.raises(NotPermitted):
        attendance_record(
            session=group.sessions[0],
            episode=group.episodes[0],
            status="present",
            by=Actor(user=billing),
        )
    assert AuditEntry.objects.filter(user_id=billing.pk, outcome="denied").exists()


def test_clinician_of_another_site_cannot_record(group: Group) -> None:
    other = make_site(group.site.organization, name="Elsewhere (fictional)")
    stranger = make_user(Role.CLINICIAN, sites=[other])
    with pytest.raises(NotPermitted):
        attendance_mark_all_present(session=group.sessions[0], by=Actor(user=stranger))
    assert not Attendance.objects.exists()


def test_a_long_streak_keeps_one_open_alert_and_a_new_streak_after_acknowledging_raises_another(
    group: Group,
) -> None:
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


def _individual_session(group: Group, episode: Episode, day: dt.date) -> GroupSession:
    starts = dt.datetime.combine(day, dt.time(14, 0), tzinfo=group.site.tz)
    return GroupSession.objects.create(
        site=group.site,
        kind="individual",
        title="Individual therapy",
        date=day,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=50),
        facilitator=group.clinician,
        room=group.room,
        episode=episode,
    )


def test_an_individual_session_has_its_patient_on_the_roster_and_counts_toward_hours(
    group: Group,
) -> None:
    episode, other = group.episodes
    session = _individual_session(group, episode, MONDAY + dt.timedelta(days=4))
    assert roster_episode_ids(session) == {episode.pk}
    record = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    assert record.minutes_attended == 50
    with pytest.raises(RuleViolation, match="not on this session's roster"):
        attendance_record(session=session, episode=other, status="present", by=group.actor)
    ledger = patient_weekly_ledger(
        actor=group.actor,
        patient_id=episode.patient_id,
        weeks=2,
        today=MONDAY + dt.timedelta(days=10),
    )
    week = ledger.weeks[1]  # newest first
    assert week.week == IsoWeek.of(MONDAY)
    # 4 group sessions of 180 min + the 50-min individual session are scheduled; 50 attended.
    assert (week.scheduled_minutes, week.attended_minutes) == (770, 50)


def test_minutes_above_the_session_length_are_refused_naming_the_field(group: Group) -> None:
    with pytest.raises(RuleViolation) as exc:
        attendance_record(
            session=group.sessions[0],
            episode=group.episodes[0],
            status="present",
            minutes_attended=181,
            by=group.actor,
        )
    assert exc.value.field == "minutes_attended"
    assert "180" in exc.value.message


def test_an_unknown_status_is_refused_naming_the_field(group: Group) -> None:
    with pytest.raises(RuleViolation) as exc:
        attendance_record(
            session=group.sessions[0], episode=group.episodes[0], status="asleep", by=group.actor
        )
    assert exc.value.field == "status"


def test_absences_record_zero_minutes(group: Group) -> None:
    record = attendance_record(
        session=group.sessions[0],
        episode=group.episodes[0],
        status="absent_excused",
        by=group.actor,
    )
    assert record.minutes_attended == 0


def test_all_present_leaves_out_a_patient_discharged_before_the_session(group: Group) -> None:
    episode = group.episodes[0]
    episode.status, episode.discharge_date, episode.discharge_reason = (
        "discharged",
        MONDAY,
        "completed",
    )
    episode.save()
    assert attendance_mark_all_present(session=group.sessions[1], by=group.actor) == 1
    assert list(Attendance.objects.values_list("episode_id", flat=True)) == [group.episodes[1].pk]
    # On the discharge day itself attendance is still allowed.
    assert attendance_mark_all_present(session=group.sessions[0], by=group.actor) == 2


def test_all_present_twice_marks_nobody_the_second_time(group: Group) -> None:
    assert attendance_mark_all_present(session=group.sessions[0], by=group.actor) == 2
    assert attendance_mark_all_present(session=group.sessions[0], by=group.actor) == 0
    assert Attendance.objects.count() == 2


def test_excused_absences_raise_no_alert(group: Group) -> None:
    for session in group.sessions[:3]:
        attendance_record(
            session=session, episode=group.episodes[0], status="absent_excused", by=group.actor
        )
    assert not Alert.objects.exists()


def test_an_excused_absence_between_two_unexcused_still_raises_the_alert(group: Group) -> None:
    for session, status in zip(
        group.sessions[:3], ["absent_unexcused", "absent_excused", "absent_unexcused"], strict=True
    ):
        attendance_record(session=session, episode=group.episodes[0], status=status, by=group.actor)
    alert = Alert.objects.get()
    assert alert.kind == "consecutive_absences" and alert.patient_id == group.episodes[0].patient_id
    assert AuditEntry.objects.filter(object_type="alert", action="create").count() == 1


def test_the_absence_count_is_a_setting(group: Group, settings: Settings) -> None:
    settings.ATTENDANCE_ABSENCE_ALERT_COUNT = 3
    for session in group.sessions[:2]:
        attendance_record(
            session=session, episode=group.episodes[0], status="absent_unexcused", by=group.actor
        )
    assert not Alert.objects.exists()
    attendance_record(
        session=group.sessions[2],
        episode=group.episodes[0],
        status="absent_unexcused",
        by=group.actor,
    )
    assert Alert.objects.count() == 1


def test_acknowledging_is_audited_and_a_second_acknowledgement_is_refused(group: Group) -> None:
    for session in group.sessions[:2]:
        attendance_record(
            session=session, episode=group.episodes[0], status="absent_unexcused", by=group.actor
        )
    alert = Alert.objects.get()
    alert_acknowledge(alert=alert, by=group.actor)
    entry = AuditEntry.objects.get(object_type="alert", action="update")
    assert entry.patient_id == alert.patient_id and entry.detail == {"status": "acknowledged"}
    with pytest.raises(RuleViolation, match="already acknowledged"):
        alert_acknowledge(alert=alert, by=group.actor)


def test_billing_cannot_acknowledge_alerts(group: Group) -> None:
    for session in group.sessions[:2]:
        attendance_record(
            session=session, episode=group.episodes[0], status="absent_unexcused", by=group.actor
        )
    billing = make_user(Role.BILLING, sites=[group.site])
    with pytest.raises(NotPermitted):
        alert_acknowledge(alert=Alert.objects.get(), by=Actor(user=billing))
    assert Alert.objects.get().status == "open"


def test_the_ledger_flags_a_finished_week_under_the_minimum_and_is_audited(group: Group) -> None:
    episode = group.episodes[0]
    for session in group.sessions[:2]:
        attendance_record(session=session, episode=episode, status="present", by=group.actor)
    ledger = patient_weekly_ledger(
        actor=group.actor,
        patient_id=episode.patient_id,
        weeks=8,
        today=MONDAY + dt.timedelta(days=10),
    )
    assert len(ledger.weeks) == 8
    week = ledger.weeks[1]  # newest first: this week, then MONDAY's week
    assert (week.week, week.attended_minutes, week.minimum_minutes, week.status) == (
        IsoWeek.of(MONDAY),
        360,
        540,
        "below",
    )
    assert AuditEntry.objects.filter(
        object_type="hours_ledger", action="view", patient_id=episode.patient_id
    ).exists()


@pytest.mark.parametrize(
    ("covered_from", "minimum", "status"), [(None, 540, "below"), (MONDAY, 360, "met")]
)
def test_a_payer_that_sets_its_own_weekly_minimum_overrides_the_tracks(
    group: Group, covered_from: dt.date | None, minimum: int, status: str
) -> None:
    """The track asks 9 h; this fictional payer bills from 6 h a week on this track, so the
    patient it covers is judged against 6 h (attendance.domain.weekly_minimum_minutes)."""
    episode = group.episodes[0]
    payer = Payer.objects.create(
        organization=group.site.organization,
        name="Sixhour Mutual (fictional)",
        payer_type="commercial",
    )
    PayerProgramBilling.objects.create(
        payer=payer,
        track=group.track,
        mode="per_diem",
        claim_form="837I",
        per_diem_code="S9480",
        min_minutes_per_week=360,
    )
    if covered_from is not None:
        inquiry = Inquiry.objects.create(
            organization=group.site.organization,
            site=group.site,
            received_at=timezone.now(),
            channel="call",
            referral_source="self",
            first_name="Pimpernel",
            last_name="Applebough",
            concerns="co_occurring",
            stage_entered_on=covered_from,
            patient_id=episode.patient_id,
        )
        Coverage.objects.create(
            inquiry=inquiry,
            patient_id=episode.patient_id,
            payer=payer,
            rank="primary",
            start_date=covered_from,
        )
    for session in group.sessions[:2]:
        attendance_record(session=session, episode=episode, status="present", by=group.actor)

    ledger = patient_weekly_ledger(
        actor=group.actor,
        patient_id=episode.patient_id,
        weeks=2,
        today=MONDAY + dt.timedelta(days=10),
    )

    week = ledger.weeks[1]
    assert (week.attended_minutes, week.minimum_minutes, week.status) == (360, minimum, status)


def test_below_hours_search_finds_by_patient_name(group: Group) -> None:
    today = MONDAY + dt.timedelta(days=10)
    rows = below_hours(actor=group.actor, site=group.site, week=IsoWeek.of(MONDAY), today=today)
    assert len(rows) == 2  # nobody attended anything that finished week
    rows = below_hours(
        actor=group.actor,
        site=group.site,
        week=IsoWeek.of(MONDAY),
        today=today,
        query="bramble",
    )
    assert [r.patient.legal_first_name for r in rows] == ["Quintessa"]
    mrn = next(r.patient.mrn for r in rows)
    for query in (mrn, "quintessa bramble"):
        rows = below_hours(
            actor=group.actor,
            site=group.site,
            week=IsoWeek.of(MONDAY),
            today=today,
            query=query,
        )
        assert [r.patient.legal_first_name for r in rows] == ["Quintessa"]


def test_current_week_is_flagged_only_when_the_remaining_sessions_cannot_reach_the_minimum(
    group: Group,
) -> None:
    episode = group.episodes[0]
    on_wednesday = MONDAY + dt.timedelta(days=2)
    attendance_record(
        session=group.sessions[0], episode=episode, status="absent_unexcused", by=group.actor
    )
    attendance_record(session=group.sessions[1], episode=episode, status="present", by=group.actor)
    # Attended 180, Wednesday + Thursday remain (360): 540 still reachable.
    rows = below_hours(
        actor=group.actor, site=group.site, week=IsoWeek.of(MONDAY), today=on_wednesday
    )
    assert episode.pk not in {r.episode.pk for r in rows}
    attendance_record(
        session=group.sessions[2], episode=episode, status="absent_excused", by=group.actor
    )
    rows = below_hours(
        actor=group.actor, site=group.site, week=IsoWeek.of(MONDAY), today=on_wednesday
    )
    line = next(r.line for r in rows if r.episode.pk == episode.pk)
    assert (line.attended_minutes, line.remaining_minutes, line.status) == (180, 180, "at_risk")


def test_a_first_write_from_a_page_without_the_row_is_a_conflict_once_it_exists(
    group: Group,
) -> None:
    session, episode = group.sessions[0], group.episodes[0]
    attendance_record(
        session=session, episode=episode, status="present", expected_version=0, by=group.actor
    )
    with pytest.raises(Conflict):
        attendance_record(
            session=session,
            episode=episode,
            status="absent_excused",
            expected_version=0,
            by=group.actor,
        )
    with pytest.raises(RuleViolation) as exc:
        attendance_record(session=session, episode=episode, status="absent_excused", by=group.actor)
    assert exc.value.code == "version_missing"
    assert Attendance.objects.get().status == "present"


@postgresql_only("two connections racing for one row need a real server")
@pytest.mark.django_db(transaction=True)
def test_two_first_writes_at_the_same_moment_one_saves_the_other_is_told(group: Group) -> None:
    """The first writer's new row is not committed yet when the second arrives: the second cannot
    see it, tries to insert too, waits on the unique constraint, and gets a Conflict."""
    session, episode = group.sessions[0], group.episodes[0]
    inserted = threading.Event()
    outcome: dict[str, object] = {}

    def write(name: str, status: str, hold: bool) -> None:
        try:
            if not hold:
                inserted.wait(5)
            with transaction.atomic():
                attendance_record(
                    session=session,
                    episode=episode,
                    status=status,
                    expected_version=0,
                    by=group.actor,
                )
                if hold:
                    inserted.set()
                    time.sleep(0.5)  # the second writer blocks on the unique index meanwhile
            outcome[name] = "saved"
        except Exception as exc:  # the outcome is what the test reads
            outcome[name] = exc
        finally:
            inserted.set()
            connection.close()

    threads = [
        threading.Thread(target=write, args=("first", "present", True)),
        threading.Thread(target=write, args=("second", "absent_excused", False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert outcome["first"] == "saved"
    assert isinstance(outcome["second"], Conflict), outcome["second"]
    assert Attendance.objects.get(session=session, episode=episode).status == "present"


# --- no attendance before the session starts ------------------------------------------------------
def _future_session(group: Group, days: int = 1) -> GroupSession:
    """A session of the group's track `days` from now (the roster holds both patients)."""
    return group.add_session(local_today(group.site.tz) + dt.timedelta(days=days))


def test_attendance_is_refused_before_the_session_starts_and_nothing_is_written(
    group: Group,
) -> None:
    session = _future_session(group)
    with pytest.raises(RuleViolation) as exc:
        attendance_record(
            session=session, episode=group.episodes[0], status="present", by=group.actor
        )
    assert exc.value.code == "session_not_started"
    local = session.starts_at.astimezone(group.site.tz)
    assert f"{local:%a %b %-d, %Y} 9:00 AM {local:%Z}" in exc.value.message
    assert not Attendance.objects.filter(session=session).exists()
    assert not AuditEntry.objects.filter(object_type="attendance").exists()


def test_attendance_is_taken_once_the_session_has_started(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _future_session(group)
    monkeypatch.setattr(
        "openiop.attendance.services.now", lambda: session.starts_at - dt.timedelta(seconds=1)
    )
    with pytest.raises(RuleViolation):
        attendance_record(
            session=session, episode=group.episodes[0], status="present", by=group.actor
        )
    monkeypatch.setattr("openiop.attendance.services.now", lambda: session.starts_at)
    record = attendance_record(
        session=session, episode=group.episodes[0], status="present", by=group.actor
    )
    assert record.minutes_attended == 180


def test_all_present_on_a_future_session_is_refused_with_the_start_time(group: Group) -> None:
    session = _future_session(group, days=7)
    with pytest.raises(RuleViolation) as exc:
        attendance_mark_all_present(session=session, by=group.actor)
    assert exc.value.code == "session_not_started"
    assert "has not started yet" in exc.value.message
    assert session.starts_at.astimezone(group.site.tz).strftime("%b %-d, %Y") in exc.value.message
    assert not Attendance.objects.filter(session=session).exists()
