"""Tracks and their templates: creating a track, its weekly blocks and curriculum, and changing a
block's series from a date on (its future sessions follow).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models.functions import Coalesce

from openiop.accounts.access import require_site
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.dates import IsoWeek
from openiop.core.errors import RuleViolation
from openiop.programs import domain
from openiop.programs.choices import AgeBand, BlockKind, SessionStatus, Weekday
from openiop.programs.models import (
    CurriculumTopic,
    GroupSession,
    Room,
    Site,
    Track,
    TrackBlock,
)
from openiop.programs.services._common import (
    _check_duration,
    _check_facilitator,
    _check_room,
    _enrollment_spans,
    _fmt_date,
    _text,
)
from openiop.programs.services.occurrences import _generate, _spec, _topic_rule
from openiop.programs.services.sites import require_site_takes_new_work

SERIES_FIELDS = (
    "weekday",
    "start_time",
    "duration_minutes",
    "facilitator",
    "room",
    "title",
    "kind",
)


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


# --- changing a series ---------------------------------------------------------------------------


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
