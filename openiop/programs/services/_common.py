"""Checks shared by the program services: facilitator, room, duration, text, dates and closures,
double booking. Private to openiop.programs.services.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from openiop.accounts.access import sees_site
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.dates import format_local
from openiop.core.errors import RuleViolation
from openiop.programs import domain
from openiop.programs.choices import SessionStatus
from openiop.programs.models import (
    Closure,
    Enrollment,
    GroupSession,
    Room,
    Site,
    Track,
)

MIN_DURATION_MINUTES = 15


MAX_DURATION_MINUTES = 600


def _fmt_date(day: dt.date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def is_clinical_staff(user: User) -> bool:
    """Whether `user` may facilitate a session or see a patient: active, with a clinical role."""
    return user.is_active and user.can(Cap.CLINICAL_VIEW)


def _check_facilitator(facilitator: User | None, site: Site, field: str = "facilitator") -> User:
    if facilitator is None:
        raise RuleViolation("Choose who facilitates.", code="required", field=field)
    if not is_clinical_staff(facilitator):
        raise RuleViolation(
            f"{facilitator} cannot facilitate sessions: only active clinical staff can.",
            code="not_clinical_staff",
            field=field,
        )
    if not sees_site(Actor(facilitator), site):
        raise RuleViolation(
            f"{facilitator} does not work at {site}.", code="facilitator_other_site", field=field
        )
    return facilitator


def _check_room(room: Room | None, site: Site, *, required: bool = True) -> None:
    if room is None:
        if required:
            raise RuleViolation("Choose a room.", code="required", field="room")
        return
    if room.site_id != site.pk:
        raise RuleViolation(f"{room.name} is not at {site}.", code="room_other_site", field="room")


def _check_duration(minutes: int) -> None:
    if minutes is None or not (MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES):
        raise RuleViolation(
            f"A session lasts from {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes; "
            f"{minutes} is outside that.",
            code="duration_out_of_range",
            field="duration_minutes",
        )


def _text(value: str | None, field: str, label: str, max_length: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise RuleViolation(f"Enter {label}.", code="required", field=field)
    if len(text) > max_length:
        raise RuleViolation(
            f"Keep {label} to {max_length} characters.", code="too_long", field=field
        )
    return text


def _closures_map(site: Site, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Closure dates of `site` (its own and organization-wide) from start to end, with names."""
    rows = Closure.objects.filter(
        Q(site=site) | Q(site__isnull=True),
        organization_id=site.organization_id,
        date__range=(start, end),
    ).order_by("date", "id")
    found: dict[dt.date, str] = {}
    for closure in rows:
        found.setdefault(closure.date, closure.name)
    return found


def _check_open_future_date(site: Site, date: dt.date) -> None:
    """Refuse a date in the past (site-local) or on a closure, naming the field `date`."""
    if date < clock.local_today(site.tz):
        raise RuleViolation("Choose today or a later date.", code="date_past", field="date")
    closed = _closure_on(site, date)
    if closed:
        raise RuleViolation(
            f"The clinic is closed on {_fmt_date(date)} ({closed}).", code="closed", field="date"
        )


def _closure_on(site: Site, day: dt.date) -> str:
    return _closures_map(site, day, day).get(day, "")


def _enrollment_spans(track: Track, exclude_pk: int | None = None) -> list[domain.DateSpan]:
    qs = Enrollment.objects.filter(track=track)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return [domain.DateSpan(s, e) for s, e in qs.values_list("start_date", "end_date")]


def _busy(
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    facilitator: User | None = None,
    room: Room | None = None,
    exclude_pk: int | None = None,
) -> None:
    """Refuse double booking of the facilitator or the room (scheduled sessions only)."""
    overlapping = GroupSession.objects.filter(
        status=SessionStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    if facilitator is not None:
        other = overlapping.filter(facilitator=facilitator).select_related("site").first()
        if other is not None:
            tz = other.site.tz
            raise RuleViolation(
                f"{facilitator} already facilitates {other.title} from "
                f"{format_local(other.starts_at, tz, with_date=False)} to "
                f"{format_local(other.ends_at, tz, with_date=False)} on {_fmt_date(other.date)}.",
                code="facilitator_busy",
                field="facilitator",
            )
    if room is not None:
        other = overlapping.filter(room=room).select_related("site").first()
        if other is not None:
            tz = other.site.tz
            raise RuleViolation(
                f"{room.name} is taken by {other.title} from "
                f"{format_local(other.starts_at, tz, with_date=False)} to "
                f"{format_local(other.ends_at, tz, with_date=False)} on {_fmt_date(other.date)}.",
                code="room_busy",
                field="room",
            )
