"""Every write to tracks, blocks, sessions, closures, appointments and enrollments.

Each function owns its transaction, its permission check and its audit entry, and raises
`openiop.core.errors` with a message a person can act on and the field it concerns.

Rosters are not stored: the roster of a track session is every enrollment of the track whose dates
include the session's date (plus, for an individual or family session, its episode). So an
enrollment that starts after sessions were generated appears on them, and ending one removes the
patient from later sessions only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce

from openiop.accounts.access import require, require_patient, require_site, sees_site
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.admissions.domain.pipeline import OPEN_STAGES
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.dates import IsoWeek, format_local
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import OPEN_STATUSES, EpisodeStatus
from openiop.episodes.models import Episode
from openiop.programs import domain
from openiop.programs.choices import AgeBand, BlockKind, SessionKind, SessionStatus, Weekday
from openiop.programs.models import (
    Closure,
    CurriculumTopic,
    Enrollment,
    GroupSession,
    Organization,
    Room,
    Site,
    Track,
    TrackBlock,
)
from openiop.programs.signals import seat_freed

MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 600
APPOINTMENT_KINDS = (SessionKind.INDIVIDUAL, SessionKind.FAMILY)
ENROLLABLE_STATUSES = (EpisodeStatus.WAITLISTED, EpisodeStatus.ACTIVE)
SERIES_FIELDS = (
    "weekday",
    "start_time",
    "duration_minutes",
    "facilitator",
    "room",
    "title",
    "kind",
)


# --- shared checks --------------------------------------------------------------------------


def require_site_takes_new_work(site: Site, *, field: str = "site") -> None:
    """Refuse new work (a patient, inquiry, episode, track, session or enrollment) at `site` when
    it is inactive or its organization is (Site.takes_new_work). Its records stay readable.

    Raises RuleViolation (code site_inactive) naming the site, on `field`.
    """
    if not site.is_active:
        raise RuleViolation(
            f"{site} is inactive: it takes no new patients, inquiries, tracks or sessions. "
            "Choose an active site.",
            code="site_inactive",
            field=field,
        )
    if not site.organization.is_active:
        raise RuleViolation(
            f"{site.organization} is inactive, so {site} takes no new patients, inquiries, "
            "tracks or sessions.",
            code="site_inactive",
            field=field,
        )


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


def roster_size(session: GroupSession, on: dt.date | None = None) -> int:
    """How many patients are on the session's roster on its date (or on `on`, for a move):
    the track's enrollments that include the date, or 1 for an individual or family session."""
    if session.episode_id is not None:
        return 1
    if session.track_id is None:
        return 0
    day = on or session.date
    return Enrollment.objects.on(day).filter(track_id=session.track_id).count()


def _check_room_fits(room: Room | None, size: int, what: str) -> None:
    if room is not None and size > room.capacity:
        raise RuleViolation(
            f"{room.name} seats {room.capacity}, but {what} has {size} patients on its roster. "
            "Choose a larger room.",
            code="room_too_small",
            field="room",
        )


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


# --- tracks, blocks, curriculum -------------------------------------------------------------


def track_create(
    *,
    site: Site,
    name: str,
    age_band: str,
    capacity: int,
    by: Actor,
    weekly_minimum_minutes: int | None = None,
    description: str = "",
) -> Track:
    """Create a track at `site`. Without a weekly minimum, the age band's default applies
    (`domain.default_weekly_minimum_minutes`: 540 adults, 360 adolescents and tweens).

    Raises RuleViolation for a blank or taken name, an unknown age band, capacity below 1 or a site
    that takes no new work; NotPermitted (audited) without Cap.SCHEDULE_MANAGE.
    """
    require_site(by, site, Cap.SCHEDULE_MANAGE, object_type="track")
    require_site_takes_new_work(site)
    name = _text(name, "name", "the track's name")
    if age_band not in AgeBand.values:
        raise RuleViolation("Choose an age band.", code="invalid_choice", field="age_band")
    if not capacity or capacity < 1:
        raise RuleViolation(
            "Capacity must be at least 1 patient.", code="capacity", field="capacity"
        )
    if weekly_minimum_minutes is None:
        weekly_minimum_minutes = domain.default_weekly_minimum_minutes(age_band)
    if weekly_minimum_minutes < 0:
        raise RuleViolation(
            "The weekly minimum cannot be negative.", code="minimum", field="weekly_minimum_minutes"
        )
    with transaction.atomic():
        if Track.objects.filter(site=site, name__iexact=name).exists():
            raise RuleViolation(
                f"{site} already has a track named {name}.", code="duplicate", field="name"
            )
        track = Track.objects.create(
            site=site,
            name=name,
            age_band=age_band,
            capacity=capacity,
            weekly_minimum_minutes=weekly_minimum_minutes,
            description=(description or "").strip()[:300],
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="track",
            object_id=track.pk,
            detail={"name": name, "capacity": capacity, "minimum": weekly_minimum_minutes},
        )
    return track


def block_add(
    *,
    track: Track,
    weekday: int,
    start_time: dt.time,
    duration_minutes: int,
    kind: str,
    title: str,
    facilitator: User,
    room: Room,
    valid_from: dt.date,
    by: Actor,
    valid_until: dt.date | None = None,
) -> TrackBlock:
    """Add a weekly block to the track's template. Sessions appear when they are generated.

    Raises RuleViolation for an invalid weekday, kind, duration, dates, a facilitator or room
    not at the track's site, or a site that takes no new work; NotPermitted (audited) without
    Cap.SCHEDULE_MANAGE.
    """
    require_site(by, track.site, Cap.SCHEDULE_MANAGE, object_type="track_block")
    require_site_takes_new_work(track.site)
    values = _validated_block_values(
        track,
        {
            "weekday": weekday,
            "start_time": start_time,
            "duration_minutes": duration_minutes,
            "kind": kind,
            "title": title,
            "facilitator": facilitator,
            "room": room,
        },
    )
    if valid_from is None:
        raise RuleViolation("Enter the first date.", code="required", field="valid_from")
    if valid_until is not None and valid_until < valid_from:
        raise RuleViolation(
            "The last date is before the first date.", code="dates", field="valid_until"
        )
    with transaction.atomic():
        block = TrackBlock.objects.create(
            track=track, valid_from=valid_from, valid_until=valid_until, **values
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="track_block",
            object_id=block.pk,
            detail={"track": track.pk, "block": str(block)},
        )
    return block


def _validated_block_values(track: Track, values: dict[str, Any]) -> dict[str, Any]:
    site = track.site
    out = dict(values)
    if "weekday" in out:
        if out["weekday"] is None or int(out["weekday"]) not in Weekday.values:
            raise RuleViolation("Choose a weekday.", code="invalid_choice", field="weekday")
        out["weekday"] = int(out["weekday"])
    if "start_time" in out and out["start_time"] is None:
        raise RuleViolation("Enter the start time.", code="required", field="start_time")
    if "duration_minutes" in out:
        _check_duration(out["duration_minutes"])
    if "kind" in out and out["kind"] not in BlockKind.values:
        raise RuleViolation("Choose the kind of block.", code="invalid_choice", field="kind")
    if "title" in out:
        out["title"] = _text(out["title"], "title", "a title")
    if "facilitator" in out:
        _check_facilitator(out["facilitator"], site)
    if "room" in out:
        _check_room(out["room"], site)
    return out


def curriculum_set(*, track: Track, topics: list[tuple[str, str]], by: Actor) -> int:
    """Replace the track's curriculum with `topics` ((topic, modality) pairs, week 1 first) and
    refresh the topic of its sessions from today on. Returns the number of weeks.

    Raises RuleViolation for an empty list or a blank topic; NotPermitted (audited) without
    Cap.SCHEDULE_MANAGE.
    """
    require_site(by, track.site, Cap.SCHEDULE_MANAGE, object_type="curriculum")
    if not topics:
        raise RuleViolation("Enter at least one weekly topic.", code="required", field="topics")
    cleaned: list[tuple[str, str]] = []
    for n, (topic, modality) in enumerate(topics, start=1):
        text = (topic or "").strip()
        if not text:
            raise RuleViolation(f"Week {n} has no topic.", code="required", field="topics")
        cleaned.append((text[:200], (modality or "").strip()[:40]))
    with transaction.atomic():
        Track.objects.select_for_update().filter(pk=track.pk).first()
        track.curriculum.all().delete()
        CurriculumTopic.objects.bulk_create(
            [
                CurriculumTopic(track=track, week_number=n, topic=t, modality=m)
                for n, (t, m) in enumerate(cleaned, start=1)
            ]
        )
        topic_for = _topic_rule(track)
        today = clock.local_today(track.site.tz)
        future = list(
            GroupSession.objects.filter(track=track, date__gte=today, block__isnull=False)
        )
        for session in future:
            session.topic = topic_for(session.series_date or session.date)
        GroupSession.objects.bulk_update(future, ["topic"], batch_size=500)
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="curriculum",
            object_id=track.pk,
            detail={"weeks": len(cleaned), "sessions_updated": len(future)},
        )
    return len(cleaned)


def _topic_rule(track: Track) -> Callable[[dt.date], str]:
    """day -> the skill of the week (see domain.curriculum_week for the rotation rule)."""
    topics = dict(track.curriculum.values_list("week_number", "topic"))
    anchor = track.blocks.order_by("valid_from").values_list("valid_from", flat=True).first()
    if not topics or anchor is None:
        return lambda day: ""
    rotation = max(topics)

    def topic_for(day: dt.date) -> str:
        return topics.get(domain.curriculum_week(day, anchor, rotation), "")

    return topic_for


# --- generating and changing sessions -------------------------------------------------------


def sessions_generate(*, track: Track, start: dt.date, end: dt.date, by: Actor) -> int:
    """Create the track's sessions from its weekly blocks for start..end (both included).

    Idempotent: an occurrence that exists (even if it was moved) is not created again. Sessions on a
    closure date are created cancelled, with the closure's name as the reason. Each session's topic
    is the curriculum week of its date (domain.curriculum_week). Returns how many were created.

    Raises RuleViolation when end is before start, the range exceeds a year or the site takes no
    new work; NotPermitted (audited) without Cap.SCHEDULE_MANAGE.
    """
    require_site(by, track.site, Cap.SCHEDULE_MANAGE, object_type="track")
    require_site_takes_new_work(track.site)
    if start is None or end is None:
        raise RuleViolation(
            "Enter both dates.", code="required", field="start" if not start else "end"
        )
    if end < start:
        raise RuleViolation("The end date is before the start date.", code="dates", field="end")
    if (end - start).days + 1 > domain.MAX_GENERATE_DAYS:
        raise RuleViolation(
            f"Generate at most {domain.MAX_GENERATE_DAYS} days at a time.",
            code="range_too_long",
            field="end",
        )
    with transaction.atomic():
        Track.objects.select_for_update().filter(pk=track.pk).first()  # one generator at a time
        created = _generate(track, start, end)
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="track_sessions",
            object_id=track.pk,
            detail={"start": start.isoformat(), "end": end.isoformat(), "created": created},
        )
    return created


def _generate(
    track: Track, start: dt.date, end: dt.date, blocks: Iterable[TrackBlock] | None = None
) -> int:
    if blocks is None:
        blocks = track.blocks.filter(valid_from__lte=end).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=start)
        )
    block_list = list(blocks)
    if not block_list:
        return 0
    site = track.site
    specs = [
        domain.BlockSpec(
            key=b.pk,
            weekday=b.weekday,
            start_time=b.start_time,
            duration_minutes=b.duration_minutes,
            valid_from=b.valid_from,
            valid_until=b.valid_until,
        )
        for b in block_list
    ]
    found = domain.occurrences(specs, start, end, _closures_map(site, start, end), site.tz)
    existing = GroupSession.objects.filter(block__in=block_list).filter(
        Q(series_date__range=(start, end))
        | Q(series_date__isnull=True, date__range=(start, end))
        | Q(date__range=(start, end))
    )
    taken: set[tuple[int, dt.date]] = set()
    for block_id, series_date, day in existing.values_list("block_id", "series_date", "date"):
        taken.add((block_id, series_date or day))
        taken.add((block_id, day))  # a moved occurrence already sits on this date
    topic_for = _topic_rule(track)
    by_pk = {b.pk: b for b in block_list}
    new: list[GroupSession] = []
    for occ in found:
        if (occ.key, occ.date) in taken:
            continue
        block = by_pk[occ.key]
        new.append(
            GroupSession(
                site=site,
                track=track,
                block=block,
                kind=block.kind,
                title=block.title,
                topic=topic_for(occ.date),
                date=occ.date,
                series_date=occ.date,
                starts_at=occ.starts_at,
                ends_at=occ.ends_at,
                facilitator_id=block.facilitator_id,
                room_id=block.room_id,
                status=SessionStatus.CANCELLED if occ.is_closed else SessionStatus.SCHEDULED,
                cancel_reason=occ.closed_reason[:200],
            )
        )
    GroupSession.objects.bulk_create(new, batch_size=500)
    return len(new)


def closure_add(
    *, organization: Organization, site: Site | None, date: dt.date, name: str, by: Actor
) -> Closure:
    """Record a holiday or closure (site None = every site of the organization) and cancel the
    scheduled sessions that day, with the closure's name as the reason. Sessions that already have
    attendance recorded stay as they are. The number cancelled is on `closure.sessions_cancelled`.

    Raises RuleViolation for a blank name, a missing date, a site of another organization or a
    closure already recorded; NotPermitted (audited) without Cap.SCHEDULE_MANAGE.
    """
    if site is not None:
        require_site(by, site, Cap.SCHEDULE_MANAGE, object_type="closure")
    else:
        require(by, Cap.SCHEDULE_MANAGE, object_type="closure")
    if date is None:
        raise RuleViolation("Enter the date.", code="required", field="date")
    name = _text(name, "name", "the closure's name (e.g. Thanksgiving)")
    if site is not None and site.organization_id != organization.pk:
        raise RuleViolation(f"{site} is not part of {organization}.", code="site_org", field="site")
    with transaction.atomic():
        same = Closure.objects.filter(organization=organization, date=date)
        same = same.filter(Q(site__isnull=True) | Q(site=site)) if site else same
        clash = same.select_related("site").first()
        if clash is not None:
            where = clash.site.name if clash.site else "every site"
            raise RuleViolation(
                f"{_fmt_date(date)} is already closed for {where} ({clash.name}).",
                code="duplicate",
                field="date",
            )
        closure = Closure.objects.create(organization=organization, site=site, date=date, name=name)
        affected = closure_affected_sessions(organization=organization, site=site, date=date)
        cancelled = affected.update(
            status=SessionStatus.CANCELLED,
            cancel_reason=name[:200],
            version=F("version") + 1,
            updated_at=clock.now(),
        )
        closure.sessions_cancelled = cancelled  # type: ignore[attr-defined]
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="closure",
            object_id=closure.pk,
            detail={
                "date": date.isoformat(),
                "site": site.pk if site else None,
                "name": name,
                "sessions_cancelled": cancelled,
            },
        )
    return closure


def closure_affected_sessions(
    *, organization: Organization, site: Site | None, date: dt.date
) -> Any:
    """The scheduled sessions a closure on `date` cancels (a queryset): not yet attended."""
    qs = GroupSession.objects.filter(date=date, status=SessionStatus.SCHEDULED)
    qs = qs.filter(site=site) if site is not None else qs.filter(site__organization=organization)
    return qs.filter(attendances__isnull=True)


def session_manage_cap(session: GroupSession) -> Cap:
    """The capability that changes this session: appointments need APPOINTMENT_BOOK."""
    return Cap.APPOINTMENT_BOOK if session.episode_id else Cap.SCHEDULE_MANAGE


def _require_session(by: Actor, session: GroupSession) -> None:
    cap = session_manage_cap(session)
    episode = session.episode if session.episode_id else None
    if episode is not None:
        require_patient(by, cap, episode.patient, object_type="appointment")
    else:
        require_site(by, session.site, cap, object_type="group_session")


def _locked_session(session: GroupSession) -> GroupSession:
    """A fresh, row-locked copy, so a refused change never leaves the caller's object half-changed."""
    return (
        GroupSession.objects.select_for_update(of=("self",))
        .select_related("site", "facilitator", "episode__patient")
        .get(pk=session.pk)
    )


def _copy_back(caller: GroupSession, saved: GroupSession) -> None:
    for name in (
        "date",
        "series_date",
        "starts_at",
        "ends_at",
        "room_id",
        "facilitator_id",
        "status",
        "cancel_reason",
        "is_exception",
        "version",
        "updated_at",
    ):
        setattr(caller, name, getattr(saved, name))  # a changed *_id drops the cached relation


def _refuse_if_held(session: GroupSession) -> None:
    if session.starts_at <= clock.now():
        raise RuleViolation(
            f"{session.title} on {_fmt_date(session.date)} has already started; past sessions stay "
            "as they were held.",
            code="session_past",
        )


def _refuse_if_cancelled(session: GroupSession) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise RuleViolation(
            f"{session.title} on {_fmt_date(session.date)} is cancelled"
            f"{f' ({session.cancel_reason})' if session.cancel_reason else ''}.",
            code="session_cancelled",
        )


def _audit_session(by: Actor, session: GroupSession, action: str, detail: dict[str, Any]) -> None:
    episode = session.episode if session.episode_id else None
    patient_id = episode.patient_id if episode is not None else None
    audit_record(
        by,
        action=action,
        patient_id=patient_id,
        object_type="appointment" if session.episode_id else "group_session",
        object_id=session.pk,
        detail=detail,
    )


def session_move(
    *,
    session: GroupSession,
    expected_version: int | None,
    date: dt.date,
    start_time: dt.time,
    room: Room | None,
    by: Actor,
) -> GroupSession:
    """Move one occurrence to another date, time or room; other weeks and the series stay as they are.

    The session keeps its length; the local start time is kept across daylight-saving changes.
    Raises RuleViolation for a past or cancelled session, a date in the past or closed, a room at
    another site or smaller than the roster, a double-booked facilitator or room, or a site that
    takes no new work; Conflict on a stale version; NotPermitted (audited) without the capability.
    """
    _require_session(by, session)
    require_site_takes_new_work(session.site, field="date")
    if date is None:
        raise RuleViolation("Enter the new date.", code="required", field="date")
    if start_time is None:
        raise RuleViolation("Enter the new start time.", code="required", field="start_time")
    site = session.site
    _check_room(room, site, required=session.episode_id is None)
    with transaction.atomic():
        caller, session = session, _locked_session(session)
        _refuse_if_held(session)
        _refuse_if_cancelled(session)
        tz = site.tz
        _check_open_future_date(site, date)
        if (
            session.block_id
            and date != session.date
            and GroupSession.objects.filter(block_id=session.block_id, date=date)
            .exclude(pk=session.pk)
            .exists()
        ):
            raise RuleViolation(
                f"This series already has a session on {_fmt_date(date)}; move or cancel that one "
                "instead.",
                code="series_date_taken",
                field="date",
            )
        starts_at, ends_at = domain.session_times(date, start_time, session.duration_minutes, tz)
        if starts_at <= clock.now():
            raise RuleViolation(
                "Choose a time that is still ahead.", code="time_past", field="start_time"
            )
        before = {
            "date": session.date.isoformat(),
            "start": session.starts_at.astimezone(tz).strftime("%H:%M"),
            "room": session.room_id,
        }
        _check_room_fits(room, roster_size(session, on=date), "this session")
        _busy(
            starts_at=starts_at,
            ends_at=ends_at,
            facilitator=session.facilitator,
            room=room,
            exclude_pk=session.pk,
        )
        if session.block_id and session.series_date is None:
            session.series_date = session.date
        session.date = date
        session.starts_at, session.ends_at, session.room = starts_at, ends_at, room
        session.is_exception = True
        session.updated_at = clock.now()
        try:
            save_if_unchanged(
                session,
                expected_version=expected_version,
                fields=[
                    "date",
                    "series_date",
                    "starts_at",
                    "ends_at",
                    "room",
                    "is_exception",
                    "updated_at",
                ],
            )
        except IntegrityError as exc:  # a concurrent move to the same date won the race
            raise RuleViolation(
                f"This series already has a session on {_fmt_date(date)}.",
                code="series_date_taken",
                field="date",
            ) from exc
        _audit_session(
            by,
            session,
            AuditAction.UPDATE,
            {
                "event": "move",
                "from": before,
                "to": {
                    "date": date.isoformat(),
                    "start": start_time.strftime("%H:%M"),
                    "room": room.pk if room else None,
                },
            },
        )
    _copy_back(caller, session)
    return caller


def session_cancel(
    *, session: GroupSession, expected_version: int | None, reason: str, by: Actor
) -> GroupSession:
    """Cancel one occurrence (other weeks keep theirs). Its roster stays readable; nobody attends.

    Raises RuleViolation for a blank reason or a session already cancelled or past; Conflict on a
    stale version; NotPermitted (audited) without the capability.
    """
    _require_session(by, session)
    reason = _text(reason, "reason", "the reason for cancelling")
    with transaction.atomic():
        caller, session = session, _locked_session(session)
        _refuse_if_cancelled(session)
        _refuse_if_held(session)
        session.status = SessionStatus.CANCELLED
        session.cancel_reason = reason
        session.is_exception = True
        session.updated_at = clock.now()
        save_if_unchanged(
            session,
            expected_version=expected_version,
            fields=["status", "cancel_reason", "is_exception", "updated_at"],
        )
        _audit_session(by, session, AuditAction.UPDATE, {"event": "cancel", "reason": reason})
    _copy_back(caller, session)
    return caller


def session_reassign(
    *, session: GroupSession, expected_version: int | None, facilitator: User, by: Actor
) -> GroupSession:
    """Give one occurrence another facilitator (a cover); the series keeps its own.

    Raises RuleViolation for a facilitator who is not clinical staff at the site, already busy, or
    the same one; a past or cancelled session; Conflict on a stale version; NotPermitted (audited).
    """
    _require_session(by, session)
    with transaction.atomic():
        caller, session = session, _locked_session(session)
        _refuse_if_cancelled(session)
        _refuse_if_held(session)
        _check_facilitator(facilitator, session.site)
        if facilitator.pk == session.facilitator_id:
            raise RuleViolation(
                f"{facilitator} already facilitates this session.",
                code="unchanged",
                field="facilitator",
            )
        _busy(
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            facilitator=facilitator,
            exclude_pk=session.pk,
        )
        before = session.facilitator_id
        session.facilitator = facilitator
        session.is_exception = True
        session.updated_at = clock.now()
        save_if_unchanged(
            session,
            expected_version=expected_version,
            fields=["facilitator", "is_exception", "updated_at"],
        )
        _audit_session(
            by,
            session,
            AuditAction.UPDATE,
            {"event": "reassign", "from": before, "to": facilitator.pk},
        )
    _copy_back(caller, session)
    return caller


def block_change_series(
    *, block: TrackBlock, effective_date: dt.date, by: Actor, **changes: Any
) -> TrackBlock:
    """Change a weekly block from `effective_date` on; earlier sessions are untouched.

    `changes` are among weekday, start_time, duration_minutes, facilitator, room, title and kind.
    The block ends the day before `effective_date` and a new block with the changes starts on it
    (a block that has not started yet is changed in place). Future not-yet-started sessions of the
    series follow: same weekday, they are updated; new weekday, they are removed and generated again
    on the new day through the last week generated before. Occurrences changed one by one
    (moved, cancelled, reassigned) keep their own details. Returns the block now in effect.

    Raises RuleViolation for an effective date in the past or after the block ended, nothing to
    change, an invalid value, or a room smaller than a future roster; NotPermitted (audited) without
    Cap.SCHEDULE_MANAGE.
    """
    require_site(by, block.track.site, Cap.SCHEDULE_MANAGE, object_type="track_block")
    unknown = set(changes) - set(SERIES_FIELDS)
    if unknown:
        raise RuleViolation(
            f"These cannot be changed for a series: {', '.join(sorted(unknown))}.",
            code="unknown_field",
        )
    if effective_date is None:
        raise RuleViolation(
            "Enter the date the change takes effect.", code="required", field="effective_date"
        )
    with transaction.atomic():
        current = (
            TrackBlock.objects.select_for_update().select_related("track__site").get(pk=block.pk)
        )
        track = current.track
        site = track.site
        tz = site.tz
        today = clock.local_today(tz)
        if effective_date < today:
            raise RuleViolation(
                "A series change applies from today on; to change one past or upcoming "
                "occurrence, edit that session.",
                code="effective_past",
                field="effective_date",
            )
        if current.valid_until is not None and effective_date > current.valid_until:
            raise RuleViolation(
                f"This block ended on {_fmt_date(current.valid_until)}.",
                code="block_ended",
                field="effective_date",
            )
        values = _validated_block_values(track, changes)
        differing = {k: v for k, v in values.items() if _block_value(current, k) != _plain(v)}
        if not differing:
            raise RuleViolation(
                "Nothing to change: the new values are the current ones.", code="unchanged"
            )

        now = clock.now()
        series = (
            GroupSession.objects.filter(block=current, starts_at__gt=now)
            .annotate(series_day=Coalesce("series_date", "date"))
            .filter(series_day__gte=effective_date)
        )
        follow = list(series.filter(is_exception=False))
        exceptions = list(series.filter(is_exception=True))
        if "room" in differing and "weekday" not in differing:
            _check_future_rosters_fit(track, differing["room"], [s.date for s in follow])

        if effective_date <= current.valid_from:
            new = current
            for key, value in differing.items():
                setattr(new, key, value)
            new.save()
        else:
            old_until = current.valid_until
            current.valid_until = effective_date - dt.timedelta(days=1)
            current.save(update_fields=["valid_until", "updated_at"])
            fields = {k: getattr(current, k) for k in SERIES_FIELDS}
            fields.update(differing)
            new = TrackBlock.objects.create(
                track=track, valid_from=effective_date, valid_until=old_until, **fields
            )

        updated = created = removed = 0
        if "weekday" in differing:
            # Regenerate through the end of the last week that had been generated.
            last = max((s.series_date or s.date for s in follow), default=None)
            if last is not None:
                last = IsoWeek.of(last).sunday
            removed = GroupSession.objects.filter(pk__in=[s.pk for s in follow]).delete()[0]
            if last is not None:
                if "room" in differing:
                    _check_future_rosters_fit(
                        track,
                        differing["room"],
                        [
                            o.date
                            for o in domain.occurrences(
                                [_spec(new)], max(effective_date, today), last, {}, tz
                            )
                        ],
                    )
                created = _generate(track, max(effective_date, today), last, blocks=[new])
        else:
            for s in follow:
                s.block = new
                s.title, s.kind = new.title, new.kind
                s.facilitator_id, s.room_id = new.facilitator_id, new.room_id
                if s.status == SessionStatus.SCHEDULED:
                    s.starts_at, s.ends_at = domain.session_times(
                        s.date, new.start_time, new.duration_minutes, tz
                    )
                s.version += 1
                s.updated_at = now
            for s in exceptions:
                s.block = new
                s.version += 1
                s.updated_at = now
            GroupSession.objects.bulk_update(
                follow + exceptions,
                [
                    "block",
                    "title",
                    "kind",
                    "facilitator",
                    "room",
                    "starts_at",
                    "ends_at",
                    "version",
                    "updated_at",
                ],
                batch_size=500,
            )
            updated = len(follow)
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="track_block",
            object_id=new.pk,
            detail={
                "event": "series_change",
                "from_block": current.pk,
                "effective_date": effective_date.isoformat(),
                "changes": {k: _plain(v) for k, v in differing.items()},
                "sessions_updated": updated,
                "sessions_removed": removed,
                "sessions_created": created,
            },
        )
    return new


def _spec(block: TrackBlock) -> domain.BlockSpec:
    return domain.BlockSpec(
        key=block.pk,
        weekday=block.weekday,
        start_time=block.start_time,
        duration_minutes=block.duration_minutes,
        valid_from=block.valid_from,
        valid_until=block.valid_until,
    )


def _plain(value: Any) -> Any:
    """A comparable, JSON-friendly form of a change value (a model becomes its pk)."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


def _block_value(block: TrackBlock, key: str) -> Any:
    if key in ("facilitator", "room"):
        return getattr(block, f"{key}_id")
    return _plain(getattr(block, key))


def _check_future_rosters_fit(track: Track, room: Room, dates: list[dt.date]) -> None:
    checks = [domain.SeatCheck(date=d, capacity=room.capacity, label=room.name) for d in dates]
    overflow = domain.first_room_overflow(checks, _enrollment_spans(track))
    if overflow is not None:
        check, size = overflow
        raise RuleViolation(
            f"{room.name} seats {check.capacity}, but the session on {_fmt_date(check.date)} has "
            f"{size} patients on its roster. Choose a larger room.",
            code="room_too_small",
            field="room",
        )


# --- appointments ---------------------------------------------------------------------------


def appointment_book(
    *,
    episode: Episode,
    facilitator: User,
    kind: str,
    date: dt.date,
    start_time: dt.time,
    duration_minutes: int,
    room: Room | None,
    title: str,
    by: Actor,
) -> GroupSession:
    """Book an individual or family session for the episode's patient with a clinician.

    The session is on the episode's site, with the episode set and no track; its roster is the
    patient. Raises RuleViolation for a discharged episode, a kind other than individual or family,
    a past or closed date, a facilitator or room not at the site, a double booking, or a site that
    takes no new work; NotPermitted (audited) without Cap.APPOINTMENT_BOOK or for a patient at another site.
    """
    require_patient(by, Cap.APPOINTMENT_BOOK, episode.patient, object_type="appointment")
    if kind not in [k.value for k in APPOINTMENT_KINDS]:
        raise RuleViolation(
            "Choose individual or family therapy.", code="invalid_choice", field="kind"
        )
    if date is None:
        raise RuleViolation("Enter the date.", code="required", field="date")
    if start_time is None:
        raise RuleViolation("Enter the start time.", code="required", field="start_time")
    _check_duration(duration_minutes)
    site = episode.site
    require_site_takes_new_work(site)
    _check_facilitator(facilitator, site)
    _check_room(room, site, required=False)
    title = (title or "").strip()[:200] or SessionKind(kind).label
    with transaction.atomic():
        current = Episode.objects.select_for_update().get(pk=episode.pk)
        if current.status == EpisodeStatus.DISCHARGED:
            raise RuleViolation(
                "This episode is discharged; open a new episode to book sessions.",
                code="episode_discharged",
            )
        tz = site.tz
        _check_open_future_date(site, date)
        starts_at, ends_at = domain.session_times(date, start_time, duration_minutes, tz)
        if starts_at <= clock.now():
            raise RuleViolation(
                "Choose a time that is still ahead.", code="time_past", field="start_time"
            )
        _busy(starts_at=starts_at, ends_at=ends_at, facilitator=facilitator, room=room)
        session = GroupSession.objects.create(
            site=site,
            track=None,
            block=None,
            kind=kind,
            title=title,
            date=date,
            starts_at=starts_at,
            ends_at=ends_at,
            facilitator=facilitator,
            room=room,
            episode=current,
        )
        session.episode = episode
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="appointment",
            object_id=session.pk,
            detail={"kind": kind, "date": date.isoformat(), "facilitator": facilitator.pk},
        )
    return session


# --- enrollment -----------------------------------------------------------------------------


def enrollment_start(
    *, episode: Episode, track: Track, start_date: dt.date, by: Actor
) -> Enrollment:
    """Enroll the episode in the track from `start_date`: from then on the patient is on the roster
    of every session of the track, including sessions generated before (rolling admission).

    Raises RuleViolation when the episode is not waitlisted or active, the track is at another site
    or inactive (or its site takes no new work), the start is before admission, the episode is already enrolled in the track, the
    track would exceed its capacity on some date, or a future session's room would be too small;
    NotPermitted (audited) without Cap.EPISODE_MANAGE or for a patient at another site.
    """
    require_patient(by, Cap.EPISODE_MANAGE, episode.patient, object_type="enrollment")
    if track is None:
        raise RuleViolation("Choose a track.", code="required", field="track")
    if start_date is None:
        raise RuleViolation("Enter the first day.", code="required", field="start_date")
    with transaction.atomic():
        track = Track.objects.select_for_update().select_related("site").get(pk=track.pk)
        current = Episode.objects.get(pk=episode.pk)
        if current.status not in ENROLLABLE_STATUSES:
            raise RuleViolation(
                f"Only waitlisted or active episodes can join a track; this one is "
                f"{current.get_status_display().lower()}.",
                code="episode_status",
            )
        if track.site_id != current.site_id:
            raise RuleViolation(
                f"{track.name} runs at {track.site}; this episode is at another site.",
                code="track_other_site",
                field="track",
            )
        if not track.is_active:
            raise RuleViolation(
                f"{track.name} is no longer active.", code="track_inactive", field="track"
            )
        require_site_takes_new_work(track.site, field="track")
        if start_date < current.admission_date:
            raise RuleViolation(
                f"The enrollment cannot start before admission ({_fmt_date(current.admission_date)}).",
                code="before_admission",
                field="start_date",
            )
        new = domain.DateSpan(start_date, None)
        # Any enrollment in the track that overlaps the new one (open from start_date on).
        open_one = (
            Enrollment.objects.during(start_date, dt.date.max)
            .filter(episode=current, track=track)
            .first()
        )
        if open_one is not None:
            raise RuleViolation(
                f"This episode is already enrolled in {track.name} from "
                f"{_fmt_date(open_one.start_date)}"
                + (f" to {_fmt_date(open_one.end_date)}" if open_one.end_date else "")
                + ".",
                code="already_enrolled",
                field="track",
            )
        spans = _enrollment_spans(track)
        peak, peak_day = domain.peak_concurrent(spans, new)
        if peak > track.capacity:
            raise RuleViolation(
                f"{track.name} is full: {peak - 1} of {track.capacity} places are taken on "
                f"{_fmt_date(peak_day)}. Choose a later start date or another track.",
                code="track_full",
                field="start_date",
            )
        today = clock.local_today(track.site.tz)
        sessions = (
            GroupSession.objects.filter(
                track=track,
                status=SessionStatus.SCHEDULED,
                date__gte=max(start_date, today),
                room__isnull=False,
            )
            .select_related("room")
            .only("date", "title", "room__name", "room__capacity")
        )
        checks = [
            domain.SeatCheck(date=s.date, capacity=room.capacity, label=f"{s.title} in {room.name}")
            for s in sessions
            if (room := s.room) is not None
        ]
        overflow = domain.first_room_overflow(checks, spans, new)
        if overflow is not None:
            check, size = overflow
            raise RuleViolation(
                f"{check.label} on {_fmt_date(check.date)} seats {check.capacity}; this enrollment "
                f"would make its roster {size}. Move that session to a larger room first.",
                code="room_full",
                field="start_date",
            )
        enrollment = Enrollment.objects.create(episode=current, track=track, start_date=start_date)
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=current.patient_id,
            object_type="enrollment",
            object_id=enrollment.pk,
            detail={"track": track.pk, "start_date": start_date.isoformat()},
        )
    return enrollment


def enrollment_end(
    *, enrollment: Enrollment, end_date: dt.date, reason: str, by: Actor
) -> Enrollment:
    """End the enrollment on `end_date` (its last day on rosters); it is kept, never deleted.

    The patient stays on rosters up to and including end_date and leaves later ones. An enrollment
    that already ends later may be ended earlier (a discharge). The seat it frees is offered to the
    track's waitlist once this commits (admissions.services.waitlist_offer_freed_seats). Raises RuleViolation for a blank
    reason, an end before the start, or an enrollment already ended by then; NotPermitted (audited)
    without Cap.EPISODE_MANAGE or for a patient at another site.
    """
    require_patient(by, Cap.EPISODE_MANAGE, enrollment.episode.patient, object_type="enrollment")
    return enrollment_end_at_discharge(
        enrollment=enrollment, end_date=end_date, reason=reason, by=by
    )


def enrollment_end_at_discharge(
    *, enrollment: Enrollment, end_date: dt.date, reason: str, by: Actor
) -> Enrollment:
    """enrollment_end without its own permission check: for episodes.services.episode_discharge
    only, which has checked that `by` may discharge this episode (a clinician may discharge their
    own patient without managing enrollments). Same rules, audit entry and waitlist offer."""
    episode = enrollment.episode
    if end_date is None:
        raise RuleViolation("Enter the last day.", code="required", field="end_date")
    reason = _text(reason, "reason", "the reason for leaving")
    with transaction.atomic():
        current = (
            Enrollment.objects.select_for_update().select_related("track").get(pk=enrollment.pk)
        )
        if end_date < current.start_date:
            raise RuleViolation(
                f"The last day cannot be before the first ({_fmt_date(current.start_date)}).",
                code="end_before_start",
                field="end_date",
            )
        if current.end_date is not None and current.end_date <= end_date:
            raise RuleViolation(
                f"This enrollment already ended on {_fmt_date(current.end_date)}.",
                code="already_ended",
                field="end_date",
            )
        before = current.end_date
        current.end_date = end_date
        current.end_reason = reason
        current.save(update_fields=["end_date", "end_reason", "updated_at"])
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=episode.patient_id,
            object_type="enrollment",
            object_id=current.pk,
            detail={
                "event": "end",
                "end_date": end_date.isoformat(),
                "previous_end_date": before.isoformat() if before else None,
                "reason": reason,
            },
        )
    # admissions offers the seat to the waitlist (it builds on this module, so it listens).
    seat_freed.send(
        sender=Enrollment, track=current.track, freed_by=f"enrollment {current.pk} ended"
    )
    enrollment.end_date, enrollment.end_reason = current.end_date, current.end_reason
    return enrollment


# --- sites and organizations ----------------------------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def site_deactivation_refusal(*, sites: Iterable[Site], name: str) -> RuleViolation | None:
    """Why `name` (a site, or an organization with these sites) may not be deactivated yet, or None.

    What is still open at the sites stops it: episodes not discharged, scheduled sessions not yet
    over, inquiries still in the pipeline. Each would be stranded at a place that takes no new
    work, so the message counts them and says what to do first.
    """
    site_ids = [s.pk for s in sites]
    episodes = Episode.objects.filter(site_id__in=site_ids, status__in=OPEN_STATUSES).count()
    sessions = GroupSession.objects.filter(
        site_id__in=site_ids, status=SessionStatus.SCHEDULED, ends_at__gt=clock.now()
    ).count()
    inquiries = int(
        Site.objects.filter(pk__in=site_ids).aggregate(
            n=Count("inquiries", filter=Q(inquiries__stage__in=OPEN_STAGES))
        )["n"]
        or 0
    )
    still: list[str] = []
    todo: list[str] = []
    if episodes:
        still.append(_plural(episodes, "open episode", "open episodes"))
        todo.append("discharge the episodes")
    if sessions:
        still.append(_plural(sessions, "scheduled session", "scheduled sessions") + " to come")
        todo.append("cancel the sessions")
    if inquiries:
        still.append(_plural(inquiries, "open inquiry", "open inquiries"))
        todo.append("close the inquiries")
    if not still:
        return None
    listed = ", ".join(still[:-1]) + (" and " if len(still) > 1 else "") + still[-1]
    steps = ", ".join(todo[:-1]) + (" and " if len(todo) > 1 else "") + todo[-1]
    return RuleViolation(
        f"{name} still has {listed}: {steps} before deactivating it.",
        code="site_has_open_work",
        field="is_active",
    )


def site_set_active(*, site: Site, active: bool, by: Actor) -> Site:
    """Deactivate or reactivate a site. Inactive, it takes no new work (Site.takes_new_work) and its
    records stay readable; sites with history are deactivated, never deleted. Audited.

    Raises RuleViolation when deactivating a site with open work (site_deactivation_refusal);
    NotPermitted (audited) without Cap.STAFF_MANAGE.
    """
    require(by, Cap.STAFF_MANAGE, object_type="site")
    with transaction.atomic():
        current = Site.objects.select_for_update().get(pk=site.pk)
        if current.is_active != active:
            if not active:
                refusal = site_deactivation_refusal(sites=[current], name=str(current))
                if refusal is not None:
                    raise refusal
            current.is_active = active
            current.save(update_fields=["is_active", "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type="site",
                object_id=current.pk,
                detail={"event": "reactivate" if active else "deactivate", "active": active},
            )
    site.is_active = active
    return site


def organization_set_active(*, organization: Organization, active: bool, by: Actor) -> Organization:
    """Deactivate or reactivate an organization; inactive, none of its sites takes new work.
    Audited.

    Raises RuleViolation when deactivating while any of its sites has open work
    (site_deactivation_refusal); NotPermitted (audited) without Cap.STAFF_MANAGE.
    """
    require(by, Cap.STAFF_MANAGE, object_type="organization")
    with transaction.atomic():
        current = Organization.objects.select_for_update().get(pk=organization.pk)
        if current.is_active != active:
            if not active:
                refusal = site_deactivation_refusal(
                    sites=Site.objects.filter(organization=current), name=str(current)
                )
                if refusal is not None:
                    raise refusal
            current.is_active = active
            current.save(update_fields=["is_active", "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type="organization",
                object_id=current.pk,
                detail={"event": "reactivate" if active else "deactivate", "active": active},
            )
    organization.is_active = active
    return organization
