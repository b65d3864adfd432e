from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openiop.core.models import TimeStamped, Versioned
from openiop.programs.choices import AgeBand, BlockKind, SessionKind, SessionStatus, Weekday


class Organization(TimeStamped):
    name = models.CharField(max_length=200)
    mrn_prefix = models.CharField(
        max_length=6, help_text="Prefix of medical record numbers, e.g. SH"
    )
    next_mrn = models.PositiveIntegerField(default=1)
    crisis_line = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(
        default=True,
        help_text="Inactive: none of its sites takes new patients, inquiries, tracks or sessions; "
        "its records stay readable. Organizations with history are deactivated, never deleted.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SiteQuerySet(models.QuerySet["Site"]):
    def active(self) -> SiteQuerySet:
        """The sites that take new work (patients, inquiries, tracks, sessions, enrollments,
        staff): active, of an active organization. The one place this rule is written as a
        filter; `Site.takes_new_work` is the same rule for one site."""
        return self.filter(is_active=True, organization__is_active=True)


SiteManager = models.Manager.from_queryset(SiteQuerySet)


class Site(TimeStamped):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64, default="America/Chicago", help_text="IANA time zone"
    )
    address = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(
        default=True,
        help_text="Inactive: takes no new patients, inquiries, tracks or sessions; its records "
        "stay readable. Sites with history are deactivated, never deleted.",
    )

    objects = SiteManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="site_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def takes_new_work(self) -> bool:
        """Whether new work may start here (see SiteQuerySet.active); reads the organization."""
        return self.is_active and self.organization.is_active

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Room(TimeStamped):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=100)
    capacity = models.PositiveIntegerField()

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="room_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.capacity})"


class Track(TimeStamped):
    """A program track, e.g. Adult Day IOP Mon-Thu 9:00-12:00."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(max_length=200)
    age_band = models.CharField(max_length=20, choices=AgeBand.choices, default=AgeBand.ADULT)
    capacity = models.PositiveIntegerField(help_text="Most patients enrolled at once")
    weekly_minimum_minutes = models.PositiveIntegerField(
        help_text="Weekly hours minimum, in minutes (540 = 9 h adults, 360 = 6 h adolescents)"
    )
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="track_unique_name")]

    def __str__(self) -> str:
        return self.name


class TrackBlock(TimeStamped):
    """One weekly block of a track's template. A series edit ends this block and starts a new one."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="blocks")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Local wall-clock time at the site")
    duration_minutes = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=BlockKind.choices)
    title = models.CharField(max_length=200)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="track_blocks"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="track_blocks")
    valid_from = models.DateField()
    valid_until = models.DateField(
        null=True, blank=True, help_text="Last date included; empty = open"
    )

    class Meta:
        ordering = ["track", "weekday", "start_time"]

    def __str__(self) -> str:
        return f"{self.track} · {self.get_weekday_display()} {self.start_time:%H:%M} {self.title}"

    @property
    def end_time(self) -> dt.time:
        start = dt.datetime.combine(dt.date(2000, 1, 3), self.start_time)
        return (start + dt.timedelta(minutes=self.duration_minutes)).time()


class CurriculumTopic(TimeStamped):
    """The skill of the week: week_number 1 is the first week of the rotating curriculum."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="curriculum")
    week_number = models.PositiveSmallIntegerField()
    topic = models.CharField(max_length=200)
    modality = models.CharField(max_length=40, blank=True, help_text="CBT, DBT, MI, RP, 12-step…")

    class Meta:
        ordering = ["track", "week_number"]
        constraints = [
            models.UniqueConstraint(fields=["track", "week_number"], name="curriculum_unique_week")
        ]

    def __str__(self) -> str:
        return f"Week {self.week_number}: {self.topic}"


class Closure(TimeStamped):
    """A holiday or closure. site empty = every site of the organization."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="closures"
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="closures"
    )
    date = models.DateField()
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class GroupSession(TimeStamped, Versioned):
    """One occurrence: generated from a track block, or booked (individual / family) for a patient."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="sessions")
    track = models.ForeignKey(
        Track, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    block = models.ForeignKey(
        TrackBlock, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    title = models.CharField(max_length=200)
    topic = models.CharField(max_length=200, blank=True)
    date = models.DateField(help_text="Local date at the site")
    series_date = models.DateField(
        null=True,
        blank=True,
        help_text="The date of the series this occurrence was generated for; kept when it is moved",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="facilitated_sessions"
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    is_exception = models.BooleanField(default=False, help_text="Changed apart from its series")
    # Individual and family sessions belong to one patient's episode.
    episode = models.ForeignKey(
        "episodes.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "date"],
                condition=Q(block__isnull=False),
                name="session_once_per_block_date",
            ),
            models.UniqueConstraint(
                fields=["block", "series_date"],
                condition=Q(block__isnull=False, series_date__isnull=False),
                name="session_once_per_block_series_date",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["site", "date"], name="session_site_date"),
            models.Index(fields=["track", "date"], name="session_track_date"),
            models.Index(fields=["facilitator", "date"], name="session_facilitator_date"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.date:%Y-%m-%d}"

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED


def enrolled_q(first: dt.date | F, last: dt.date | F | None = None, *, via: str = "") -> Q:
    """Enrollments covering a day (`first`), or any day of first..last: "enrolled on day D"
    (ADR 2) as a filter, the same rule as programs.domain.DateSpan.contains / overlaps. `via`
    reaches enrollments through a relation ("enrollments__" from Episode); give the whole Q to
    one filter() so that both ends are read from the same enrollment. A day may be a column
    (`OuterRef("date")`: enrolled on each session's own date, in a subquery)."""
    last = first if last is None else last
    return Q(**{f"{via}start_date__lte": last}) & (
        Q(**{f"{via}end_date__isnull": True}) | Q(**{f"{via}end_date__gte": first})
    )


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def on(self, day: dt.date) -> EnrollmentQuerySet:
        """Enrollments that include `day` (rosters, seats taken that day)."""
        return self.filter(enrolled_q(day))

    def during(self, first: dt.date, last: dt.date) -> EnrollmentQuerySet:
        """Enrollments that include any day from `first` to `last` (a week of hours)."""
        return self.filter(enrolled_q(first, last))


class Enrollment(TimeStamped):
    """An episode's membership in a track from start_date to end_date (both included)."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="enrollments"
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="enrollments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    objects = models.Manager.from_queryset(EnrollmentQuerySet)()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrollment_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["episode", "track"],
                condition=Q(end_date__isnull=True),
                name="enrollment_one_open_per_track",
            ),
        ]
        indexes = [
            models.Index(fields=["track", "start_date", "end_date"], name="enrollment_track_dates")
        ]

    def __str__(self) -> str:
        return f"{self.episode} in {self.track} from {self.start_date}"
