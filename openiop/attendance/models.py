from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.attendance.choices import AttendanceStatus
from openiop.core.models import TimeStamped, Versioned


class Attendance(TimeStamped, Versioned):
    """One patient's attendance at one session. Minutes default to the session length when present."""

    session = models.ForeignKey(
        "programs.GroupSession", on_delete=models.PROTECT, related_name="attendances"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="attendances"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="attendances"
    )
    status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    minutes_attended = models.PositiveIntegerField(default=0)
    comment = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["session__starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "episode"], name="attendance_once_per_session"
            )
        ]
        indexes = [models.Index(fields=["episode", "session"], name="attendance_episode_session")]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.get_status_display()} at {self.session_id}"


class RosterSeat(TimeStamped):
    """A patient added to one session's roster beyond their track enrollment (a make-up session,
    or a seat of an accepted week's plan). Rosters stay derived (docs/decisions.md #2): the
    roster is the enrolled episodes, plus these seats, plus anyone already recorded. A seat is
    never rewritten by a plan; `source` says where it came from."""

    session = models.ForeignKey(
        "programs.GroupSession", on_delete=models.PROTECT, related_name="roster_seats"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="roster_seats"
    )
    source = models.CharField(max_length=60, help_text="e.g. make-up, plan 12")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["session_id", "episode_id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "episode"], name="roster_seat_once")
        ]

    def __str__(self) -> str:
        return f"{self.episode_id} on {self.session_id} ({self.source})"
