"""Offering a track's free seats to its waitlist, and where an admission or a waitlisted patient
starts (`next_session_date`, `track_full_on`).

This module builds only on models, rules, the access kernel and the audit log, never on another
app's services: programs' enrollment service calls `waitlist_offer_freed_seats` when it ends an
enrollment, and admissions' own services (admission, waitlist) build on programs' services, so a
call from here into them would close an import cycle.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.admissions.choices import WaitlistStatus
from openiop.admissions.domain import admission as admission_rules
from openiop.admissions.models import WaitlistEntry
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.programs.choices import SessionStatus
from openiop.programs.models import Enrollment, GroupSession, Track


def next_session_date(track: Track) -> dt.date:
    """The date of the track's next scheduled session that has not started yet.

    Raises RuleViolation when the track has none (its schedule needs generating).
    """
    now = clock.now()
    rows = GroupSession.objects.filter(
        track=track, starts_at__gt=now, status=SessionStatus.SCHEDULED
    ).values_list("date", "starts_at")[:50]
    upcoming = [admission_rules.UpcomingSession(date=d, starts_at=s) for d, s in rows]
    first = admission_rules.first_session_on_or_after(upcoming, clock.local_today(track.site.tz))
    if first is None:
        raise RuleViolation(
            f"{track.name} has no upcoming sessions; generate its schedule first.",
            code="no_sessions",
            field="track",
        )
    return first.date


def _enrolled_on(track: Track, day: dt.date) -> int:
    return Enrollment.objects.on(day).filter(track=track).count()


def track_full_on(track: Track, day: dt.date) -> bool:
    """Full when no seat is free on `day`, counting seats already offered to the waitlist, or
    when someone is already waiting (first come, first served)."""
    waiting = WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.WAITING).exists()
    offered = WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.OFFERED).count()
    return (
        waiting
        or admission_rules.free_seats(track.capacity, _enrolled_on(track, day), offered) == 0
    )


def waitlist_offer_seats(*, track: Track, by: Actor) -> list[WaitlistEntry]:
    """Offer freed seats of `track` to the next people on its waitlist; returns the new offers.

    A seat is free on the track's next session when enrolled patients and outstanding offers are
    fewer than its capacity. Called from the waitlist page, and when an enrollment ends
    (waitlist_offer_freed_seats).
    Needs no capability when called by the system (`by.user` None); otherwise
    Cap.ADMISSIONS_MANAGE.
    """
    if by.user is not None:
        require(by, Cap.ADMISSIONS_MANAGE, object_type="waitlist")
    try:
        start = next_session_date(track)
    except RuleViolation:
        return []
    offers: list[WaitlistEntry] = []
    with transaction.atomic():
        Track.objects.select_for_update().filter(pk=track.pk).first()
        offered = WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.OFFERED).count()
        seats = admission_rules.free_seats(track.capacity, _enrolled_on(track, start), offered)
        if seats == 0:
            return []
        waiting = list(
            WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.WAITING)
            .select_related("episode")
            .order_by("joined_at", "id")[:seats]
        )
        now = clock.now()
        for entry in waiting:
            entry.status = WaitlistStatus.OFFERED
            entry.offered_at = now
            entry.offered_start_date = start
            entry.save(update_fields=["status", "offered_at", "offered_start_date", "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                patient_id=entry.episode.patient_id,
                object_type="waitlist",
                object_id=entry.pk,
                detail={"event": "offer", "start_date": start.isoformat()},
            )
            offers.append(entry)
    return offers


def waitlist_offer_freed_seats(*, track: Track, freed_by: str) -> None:
    """A seat of `track` may have freed: once the caller's transaction commits, offer the track's
    free seats to its waitlist (waitlist_offer_seats), as the system, since whoever ended the
    enrollment need not manage admissions. Does nothing when no one is waiting.

    Called by programs.services.enrollment_end, the one service that ends an enrollment (a
    discharge ends them through it); nothing else frees a seat. `freed_by` says what did, for the
    audit entry's path.
    """
    track_id = track.pk

    def offer() -> None:
        current = Track.objects.select_related("site").filter(pk=track_id).first()
        if current is not None and current.waitlist.filter(status=WaitlistStatus.WAITING).exists():
            waitlist_offer_seats(track=current, by=Actor.system(f"waitlist: {freed_by}"))

    transaction.on_commit(offer)
