"""Enrollment of an episode in a track: starting one (capacity and room checks) and ending one,
including at discharge (the freed seat is offered to the track's waitlist).

Rosters are not stored: the roster of a track session is every enrollment of the track whose dates
include the session's date (plus, for an individual or family session, its episode). So an
enrollment that starts after sessions were generated appears on them, and ending one removes the
patient from later sessions only.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.programs import domain
from openiop.programs.choices import SessionStatus
from openiop.programs.models import (
    Enrollment,
    GroupSession,
    Track,
)
from openiop.programs.services._common import _enrollment_spans, _fmt_date, _text
from openiop.programs.services.sites import require_site_takes_new_work

ENROLLABLE_STATUSES = (EpisodeStatus.WAITLISTED, EpisodeStatus.ACTIVE)


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
    track's waitlist once this commits (admissions.services.waitlist_offers.waitlist_offer_freed_seats). Raises RuleViolation for a blank
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
    # The explicit call that offers the freed seat. Imported here, not at the top: waitlist_offers
    # itself imports no services (no cycle between files), but importing it runs the package
    # openiop.admissions.services, whose admission module builds on this package.
    from openiop.admissions.services.waitlist_offers import waitlist_offer_freed_seats

    waitlist_offer_freed_seats(track=current.track, freed_by=f"enrollment {current.pk} ended")
    enrollment.end_date, enrollment.end_reason = current.end_date, current.end_reason
    return enrollment
