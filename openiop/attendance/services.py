"""Every attendance write: recording, 'all present', acknowledging alerts. One doorway each."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from openiop.accounts.access import require, require_patient, require_site
from openiop.accounts.domain import Cap
from openiop.attendance.choices import AttendanceStatus
from openiop.attendance.domain import (
    MinutesError,
    consecutive_unexcused,
    not_started_problem,
    resolve_minutes,
)
from openiop.attendance.models import Attendance, RosterSeat
from openiop.attendance.selectors import roster_episode_ids
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import Conflict, RuleViolation
from openiop.episodes.choices import AlertKind, AlertStatus, EpisodeStatus
from openiop.episodes.models import Alert, Episode
from openiop.programs.models import GroupSession

STREAK_LOOKBACK = 60  # sessions read back to find where a streak of absences began


def absence_alert_threshold() -> int:
    """Consecutive unexcused absences that raise an alert (setting ATTENDANCE_ABSENCE_ALERT_COUNT)."""
    return int(getattr(settings, "ATTENDANCE_ABSENCE_ALERT_COUNT", 2))


def _check_session_site(by: Actor, session: GroupSession) -> None:
    require_site(by, session.site_id, object_type="attendance")


def _check_can_record(session: GroupSession, episode: Episode) -> None:
    if session.is_cancelled:
        raise RuleViolation(
            "This session was cancelled; there is no attendance to take.", code="session_cancelled"
        )
    if episode.discharge_date is not None and session.date > episode.discharge_date:
        raise RuleViolation(
            f"{episode.patient.display_name} was discharged on {episode.discharge_date:%b %-d, %Y}; "
            "attendance after discharge cannot be recorded.",
            code="after_discharge",
        )


def attendance_record(
    *,
    session: GroupSession,
    episode: Episode,
    status: str,
    minutes_attended: int | None = None,
    comment: str = "",
    expected_version: int | None = None,
    by: Actor,
) -> Attendance:
    """Record (or correct) one patient's attendance at one session.

    Minutes default to the session length when present. A correction is versioned (a stale form
    raises Conflict) and audited with the values before and after. Raises RuleViolation for a
    cancelled session, a date after discharge, a patient not on the roster or minutes that do not fit.
    """
    require_patient(by, Cap.ATTENDANCE_RECORD, episode.patient, object_type="attendance")
    recorder = by.user
    assert recorder is not None  # require_patient refuses anonymous actors
    _check_session_site(by, session)
    _check_can_record(session, episode)
    _check_started(session)
    if status not in AttendanceStatus.values:
        raise RuleViolation(f"'{status}' is not an attendance status.", field="status")
    try:
        minutes = resolve_minutes(status, minutes_attended, session.duration_minutes)
    except MinutesError as exc:
        raise RuleViolation(str(exc), field="minutes_attended") from exc
    if episode.pk not in roster_episode_ids(session):
        raise RuleViolation(
            f"{episode.patient.display_name} is not on this session's roster.", code="not_on_roster"
        )
    with transaction.atomic():
        existing = (
            Attendance.objects.select_for_update().filter(session=session, episode=episode).first()
        )
        if existing is None:
            try:
                with transaction.atomic():
                    record = Attendance.objects.create(
                        session=session,
                        episode=episode,
                        patient_id=episode.patient_id,
                        status=status,
                        minutes_attended=minutes,
                        comment=comment,
                        recorded_by=recorder,
                    )
            except IntegrityError as exc:
                raise Conflict(
                    "Someone recorded this patient's attendance at the same moment. Reload to see it.",
                    code="stale_version",
                ) from exc
            audit_record(
                by,
                action=AuditAction.CREATE,
                patient_id=episode.patient_id,
                object_type="attendance",
                object_id=record.pk,
                detail={"session": session.pk, "status": status, "minutes": minutes},
            )
        else:
            before = {
                "status": existing.status,
                "minutes": existing.minutes_attended,
                "comment": existing.comment,
            }
            existing.status, existing.minutes_attended, existing.comment = status, minutes, comment
            existing.recorded_by = recorder
            existing.updated_at = now()
            save_if_unchanged(
                existing,
                expected_version=expected_version,
                fields=["status", "minutes_attended", "comment", "recorded_by", "updated_at"],
            )
            record = existing
            audit_record(
                by,
                action=AuditAction.UPDATE,
                patient_id=episode.patient_id,
                object_type="attendance",
                object_id=record.pk,
                detail={
                    "session": session.pk,
                    "before": before,
                    "after": {"status": status, "minutes": minutes, "comment": comment},
                },
            )
        if status == AttendanceStatus.ABSENT_UNEXCUSED:
            _raise_absence_alert(episode, by)
    return record


def _raise_absence_alert(episode: Episode, by: Actor) -> None:
    """Raise an alert when the latest sessions end in a streak of unexcused absences.

    One alert per streak (keyed by the session that started it), and never a second open alert of
    this kind for the same episode: the care team already has one to act on.
    """
    threshold = absence_alert_threshold()
    recent = list(
        Attendance.objects.filter(episode=episode)
        .order_by("-session__starts_at")
        .values_list("status", "session__date", "session_id")[:STREAK_LOOKBACK]
    )
    if not consecutive_unexcused([status for status, _, _ in reversed(recent)], threshold):
        return
    if Alert.objects.filter(
        episode=episode, kind=AlertKind.CONSECUTIVE_ABSENCES, status=AlertStatus.OPEN
    ).exists():
        return
    streak_start = recent[0]
    for row in recent:
        if row[0] == AttendanceStatus.ABSENT_EXCUSED:
            continue
        if row[0] != AttendanceStatus.ABSENT_UNEXCUSED:
            break
        streak_start = row
    alert, created = Alert.objects.get_or_create(
        episode=episode,
        kind=AlertKind.CONSECUTIVE_ABSENCES,
        dedupe_key=f"streak-from-session-{streak_start[2]}",
        defaults={
            "patient_id": episode.patient_id,
            "part2": episode.part2_protected,
            "message": f"Missed {threshold} or more sessions in a row without an excuse, "
            f"since {streak_start[1]:%a %b %-d}.",
        },
    )
    if created:
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="alert",
            object_id=alert.pk,
            detail={"kind": alert.kind},
        )


def attendance_mark_all_present(*, session: GroupSession, by: Actor) -> int:
    """Mark everyone on the roster with nothing recorded yet as present for the whole session.

    Returns how many were marked. One bulk insert and one audit entry naming them all. Patients
    discharged before the session date are left out.
    """
    require(by, Cap.ATTENDANCE_RECORD, object_type="attendance")
    _check_session_site(by, session)
    if session.is_cancelled:
        raise RuleViolation(
            "This session was cancelled; there is no attendance to take.", code="session_cancelled"
        )
    _check_started(session)
    with transaction.atomic():
        done = set(Attendance.objects.filter(session=session).values_list("episode_id", flat=True))
        todo = [
            e
            for e in Episode.objects.filter(pk__in=roster_episode_ids(session) - done)
            if e.discharge_date is None or session.date <= e.discharge_date
        ]
        Attendance.objects.bulk_create(
            [
                Attendance(
                    session=session,
                    episode=e,
                    patient_id=e.patient_id,
                    status=AttendanceStatus.PRESENT,
                    minutes_attended=session.duration_minutes,
                    recorded_by=by.user,
                )
                for e in todo
            ],
            ignore_conflicts=True,
        )
        if todo:
            audit_record_many(
                by,
                action=AuditAction.CREATE,
                object_type="attendance",
                object_id=f"session {session.pk} all present",
                patient_ids=[e.patient_id for e in todo],
            )
    return len(todo)


def alert_acknowledge(*, alert: Alert, by: Actor) -> Alert:
    """Acknowledge an open alert (who and when are kept)."""
    require_patient(by, Cap.ALERT_ACK, alert.patient, object_type="alert")
    if alert.status != AlertStatus.OPEN:
        raise RuleViolation("This alert was already acknowledged.", code="already_acknowledged")
    updated = Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
        status=AlertStatus.ACKNOWLEDGED, acknowledged_by=by.user, acknowledged_at=now()
    )
    if not updated:
        raise Conflict("Someone acknowledged this alert a moment ago.", code="stale_version")
    alert.refresh_from_db()
    audit_record(
        by,
        action=AuditAction.UPDATE,
        patient_id=alert.patient_id,
        object_type="alert",
        object_id=alert.pk,
        detail={"status": "acknowledged"},
    )
    return alert


def _check_started(session: GroupSession) -> None:
    """Refuse documenting a session that has not started (the clinic's clock, the site's zone)."""
    if problem := not_started_problem(session.starts_at, now(), session.site.tz):
        raise RuleViolation(problem, code="session_not_started")


def _seat_problem(session: GroupSession, episode: Episode, on_roster: set[int]) -> str:
    """Why `episode` cannot take a seat on `session` ('' when it can)."""
    name = episode.patient.display_name
    when = f"{session.title} on {session.starts_at.astimezone(session.site.tz):%a %b %-d %H:%M}"
    if session.track_id is None:
        return f"{when} is an individual or family session; book an appointment instead."
    if session.is_cancelled:
        return f"{when} was cancelled."
    if session.starts_at <= now():
        return f"{when} has already started."
    if episode.site_id != session.site_id:
        return f"{name} is at another site than {when}."
    if episode.status != EpisodeStatus.ACTIVE:
        return f"{name}'s episode is not active."
    if episode.pk in on_roster:
        return f"{name} is already on the roster of {when}."
    return ""


def roster_seats_add(
    *, seats: list[tuple[GroupSession, Episode]], source: str, by: Actor
) -> list[RosterSeat]:
    """Add each episode to its session's roster beyond the track enrollment (a make-up session,
    a week's accepted plan): all or none, in one transaction, with one audit entry naming every
    patient. Never removes anyone from a roster.

    Each session is a scheduled track session at a site the actor sees that has not started;
    each episode active at that site and not yet on that roster. Raises NotPermitted
    (Cap.ATTENDANCE_RECORD, site), RuleViolation naming the first seat that breaks a rule,
    Conflict when someone added the same seat at the same moment."""
    require(by, Cap.ATTENDANCE_RECORD, object_type="roster_seat")
    user = by.user
    assert user is not None  # require refuses anonymous actors
    if not seats:
        return []
    with transaction.atomic():
        rosters: dict[int, set[int]] = {}
        for session, episode in seats:
            _check_session_site(by, session)
            if session.pk not in rosters:
                rosters[session.pk] = roster_episode_ids(session)
            problem = _seat_problem(session, episode, rosters[session.pk])
            if problem:
                raise RuleViolation(problem, code="seat_refused")
            rosters[session.pk].add(episode.pk)
        made = [
            RosterSeat(session=session, episode=episode, source=source[:60], added_by=user)
            for session, episode in seats
        ]
        try:
            with transaction.atomic():
                RosterSeat.objects.bulk_create(made)
        except IntegrityError as exc:
            raise Conflict(
                "Someone added one of these patients to that roster a moment ago. Reload the page.",
                code="stale_version",
            ) from exc
        audit_record_many(
            by,
            action=AuditAction.CREATE,
            object_type="roster_seat",
            object_id=source[:60],
            patient_ids=[episode.patient_id for _, episode in seats],
            detail={"seats": [[session.pk, episode.pk] for session, episode in seats]},
        )
    return made
