"""Taking an offered seat on a track's waitlist (the offers themselves: waitlist_offers)."""

from __future__ import annotations

from django.db import transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.admissions.choices import WaitlistStatus
from openiop.admissions.models import WaitlistEntry
from openiop.admissions.services.waitlist_offers import next_session_date
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.services import episode_set_status
from openiop.programs.models import Enrollment
from openiop.programs.services import enrollment_start


def waitlist_accept(*, entry: WaitlistEntry, by: Actor) -> Enrollment:
    """The patient takes the offered seat: enrolled from the track's next session, episode active.

    Raises RuleViolation when no seat was offered or a reused rule refuses (e.g. the track filled);
    NotPermitted (audited) without Cap.ADMISSIONS_MANAGE / Cap.EPISODE_MANAGE at the site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, entry.episode.patient, object_type="waitlist")
    with transaction.atomic():
        current = (
            WaitlistEntry.objects.select_for_update()
            .select_related("track", "episode")
            .get(pk=entry.pk)
        )
        if current.status != WaitlistStatus.OFFERED:
            raise RuleViolation("No seat has been offered to this patient yet.", code="not_offered")
        start = next_session_date(current.track)
        enrollment = enrollment_start(
            episode=current.episode, track=current.track, start_date=start, by=by
        )
        if current.episode.status == EpisodeStatus.WAITLISTED:
            episode_set_status(
                episode=current.episode,
                status=EpisodeStatus.ACTIVE,
                expected_version=current.episode.version,
                by=by,
            )
        current.status = WaitlistStatus.ENROLLED
        current.save(update_fields=["status", "updated_at"])
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=current.episode.patient_id,
            object_type="waitlist",
            object_id=current.pk,
            detail={"event": "enrolled", "start_date": start.isoformat()},
        )
    entry.status = current.status
    return enrollment
