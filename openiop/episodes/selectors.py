"""Reads of episodes: access checked and audited here, so no interface can forget."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from openiop.accounts.access import get_for
from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.models import Episode, LevelOfCareChange
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment


def episodes_with_history() -> QuerySet[Episode]:
    """Episodes with what their pages show, loaded in a fixed number of queries."""
    return Episode.objects.select_related(
        "patient", "site", "primary_clinician", "case_manager"
    ).prefetch_related(
        Prefetch(
            "level_changes",
            queryset=LevelOfCareChange.objects.select_related("changed_by").order_by(
                "effective_date", "id"
            ),
        ),
        Prefetch(
            "enrollments",
            queryset=Enrollment.objects.select_related("track").order_by("start_date", "id"),
        ),
    )


def episode_get(
    *, actor: Actor, episode_id: int, cap: Cap = Cap.EPISODE_VIEW, purpose: str = "episode"
) -> Episode:
    """One episode with its level history and enrollments; audited as a view of its patient.

    `cap` is what the page needs (Cap.EPISODE_MANAGE for the forms that change the episode).
    Raises NotFound for an unknown id; NotPermitted (audited, naming the patient) without `cap`
    or for a patient at another site.
    """
    return get_for(
        actor,
        episodes_with_history(),
        episode_id,
        cap=cap,
        object_type=purpose,
        missing=NotFound("There is no episode with this number.", code="episode_not_found"),
        patient_of=lambda e: e.patient,
    )


def episode_with_patient(*, episode_id: int) -> Episode | None:
    """The episode with its patient, or None. No access check or audit: for a service that checks
    both itself (attendance_record requires the patient's site and the session's roster)."""
    return Episode.objects.select_related("patient").filter(pk=episode_id).first()


def patient_has_part2_records(patient: Patient) -> bool:
    """Whether any episode of the patient holds 42 CFR Part 2 records.

    For services that let records leave the chart (exports, disclosures): when True, they must
    check for the patient's written consent. Not audited: it reads no content, only the marking.
    """
    return Episode.objects.filter(patient=patient, part2_protected=True).exists()
