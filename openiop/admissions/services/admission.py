"""Admitting an assessed inquiry: the patient, the episode, a track or its waitlist, and the
intake packet, in one action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from openiop.accounts.domain import Cap
from openiop.admissions.domain import pipeline
from openiop.admissions.models import Inquiry, IntakeDocument, WaitlistEntry
from openiop.admissions.services.common import (
    audit_inquiry,
    lock_inquiry,
    refuse_while_urgent_task,
    require_inquiry,
    set_stage,
)
from openiop.admissions.services.intake_packet import open_packet
from openiop.admissions.services.waitlist_offers import next_session_date, track_full_on
from openiop.audit.models import AuditAction
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus, TreatmentFocus
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_open
from openiop.patients.models import Patient
from openiop.patients.services import patient_create
from openiop.programs.models import Enrollment, Track
from openiop.programs.services import enrollment_start

if TYPE_CHECKING:
    from openiop.accounts.models import User


@dataclass
class AdmissionResult:
    patient: Patient
    episode: Episode
    enrollment: Enrollment | None
    waitlist_entry: WaitlistEntry | None
    start_date: dt.date
    documents: list[IntakeDocument]


def _focus_for(concerns: str) -> str:
    return concerns if concerns in TreatmentFocus.values else TreatmentFocus.MENTAL_HEALTH


def admission_admit(
    *,
    inquiry: Inquiry,
    track: Track,
    by: Actor,
    level_of_care: str | None = None,
    sex: str = "unknown",
    date_of_birth: dt.date | None = None,
    primary_clinician: User | None = None,
) -> AdmissionResult:
    """Admit an assessed inquiry: patient, episode, track (or waitlist), intake packet; one action.

    Registers the patient with patients' `patient_create` from the inquiry's details, or re-admits
    the linked existing patient (a new episode on the same patient). Opens the episode with
    episodes' `episode_open` at `level_of_care` (default: the level the clinician chose on the
    assessment) and the inquiry's referral source. Enrolls in `track` with programs'
    `enrollment_start` from its next session; when the track is full the episode is waitlisted and
    joins the track's waitlist. Opens the six packet documents to sign. Moves the inquiry to
    'admitted'. Everything happens or nothing does.

    Raises RuleViolation when the inquiry has no decided assessment or is not at 'assessed' /
    'benefits verified', `level_of_care` differs from the level decided on the assessment (only a
    clinician's override there, with its justification, changes it), an urgent task is open, the track has no upcoming session, or a rule of
    the reused services refuses; NotPermitted (audited) without Cap.ADMISSIONS_MANAGE (and the
    patient and episode capabilities the reused services check).
    """
    require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    if track is None:
        raise RuleViolation("Choose a track.", code="required", field="track")
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        if current.stage not in pipeline.ADMITTABLE_STAGES:
            raise RuleViolation(
                f"Only an assessed inquiry can be admitted; this one is at "
                f"'{current.get_stage_display()}'.",
                code="not_assessed",
            )
        refuse_while_urgent_task(current)
        assessment = (
            current.assessments.filter(decided_at__isnull=False).order_by("-decided_at").first()
        )
        if assessment is None:
            raise RuleViolation("Decide the level-of-care assessment first.", code="no_assessment")
        level = level_of_care or assessment.chosen_level
        if level != assessment.chosen_level:
            raise RuleViolation(
                f"The assessment decided Level {assessment.chosen_level}; admit at that level, or "
                "have a clinician record a new assessment (an override needs a justification).",
                code="level_not_decided",
                field="level_of_care",
            )
        if track.site_id != current.site_id:
            raise RuleViolation(
                f"{track.name} runs at another site than this inquiry.", code="site", field="track"
            )
        start = next_session_date(track)
        patient = current.patient
        if patient is None:
            dob = date_of_birth or current.date_of_birth
            if dob is None:
                raise RuleViolation(
                    "Enter the date of birth to register the patient.",
                    code="required",
                    field="date_of_birth",
                )
            patient = patient_create(
                organization=current.organization,
                site=current.site,
                by=by,
                legal_first_name=current.first_name,
                legal_last_name=current.last_name,
                date_of_birth=dob,
                sex=sex,
                phone=current.phone,
                email=current.email,
            )
        today = clock.local_today(current.site.tz)
        full = track_full_on(track, start)
        episode = episode_open(
            patient=patient,
            site=current.site,
            focus=_focus_for(current.concerns),
            referral_source=current.referral_source,
            referral_detail=current.referral_detail,
            admission_date=today if full else start,
            level_of_care=level,
            status=EpisodeStatus.WAITLISTED if full else EpisodeStatus.ACTIVE,
            primary_clinician=primary_clinician,
            by=by,
        )
        enrollment: Enrollment | None = None
        entry: WaitlistEntry | None = None
        if full:
            entry = WaitlistEntry.objects.create(
                track=track, episode=episode, joined_at=clock.now()
            )
        else:
            enrollment = enrollment_start(episode=episode, track=track, start_date=start, by=by)
        documents = open_packet(episode, by)
        current.coverages.filter(patient__isnull=True).update(patient=patient)
        Inquiry.objects.filter(pk=current.pk).update(
            patient=patient, episode=episode, updated_at=clock.now()
        )
        current.patient, current.episode = patient, episode
        set_stage(current, pipeline.ADMITTED, by, f"Episode {episode.pk}")
        audit_inquiry(
            by,
            current,
            AuditAction.CREATE,
            {
                "event": "admit",
                "episode": episode.pk,
                "track": track.pk,
                "start_date": start.isoformat(),
                "waitlisted": full,
                "readmission": inquiry.patient_id is not None,
            },
            object_type="admission",
        )
    inquiry.patient, inquiry.episode = patient, episode
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return AdmissionResult(
        patient=patient,
        episode=episode,
        enrollment=enrollment,
        waitlist_entry=entry,
        start_date=start,
        documents=documents,
    )
