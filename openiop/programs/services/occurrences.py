"""Group session occurrences: generating them from a track's weekly blocks, closures that cancel
them, and moving, cancelling or reassigning one occurrence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from openiop.accounts.access import require, require_patient, require_site
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.programs import domain
from openiop.programs.choices import SessionStatus
from openiop.programs.models import (
    Closure,
    Enrollment,
    GroupSession,
    Organization,
    Room,
    Site,
    Track,
    TrackBlock,
)
from openiop.programs.selectors import closure_affected_sessions, session_manage_cap
from openiop.programs.services._common import (
    _busy,
    _check_facilitator,
    _check_open_future_date,
    _check_room,
    _closures_map,
    _fmt_date,
    _text,
)
from openiop.programs.services.sites import require_site_takes_new_work


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


# --- generating sessions -------------------------------------------------------------------------


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


def _spec(block: TrackBlock) -> domain.BlockSpec:
    return domain.BlockSpec(
        key=block.pk,
        weekday=block.weekday,
        start_time=block.start_time,
        duration_minutes=block.duration_minutes,
        valid_from=block.valid_from,
        valid_until=block.valid_until,
    )


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


# --- closures ------------------------------------------------------------------------------------


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


# --- changing one occurrence ---------------------------------------------------------------------


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
