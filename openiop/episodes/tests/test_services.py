from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.db import IntegrityError

from openiop.audit.models import AuditEntry
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.episodes.models import Episode, LevelOfCareChange
from openiop.episodes.services import (
    episode_assign,
    episode_change_focus,
    episode_change_level,
    episode_discharge,
    episode_open,
    episode_set_status,
)
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment
from openiop.testing import make_episode, make_patient, make_track

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.tests.clinic import Clinic

ADMITTED = dt.date(2026, 2, 2)


@pytest.fixture
def patient(clinic: Clinic) -> Patient:
    return make_patient(clinic.site, legal_first_name="Barnaby", legal_last_name="Thistlewick")


def open_episode(clinic: Clinic, patient: Patient, user: User | None = None, **kw: Any) -> Episode:
    args: dict[str, Any] = {
        "site": clinic.site,
        "focus": "mental_health",
        "referral_source": "therapist",
        "admission_date": ADMITTED,
        "level_of_care": "2.1",
    }
    args.update(kw)
    return episode_open(patient=patient, by=clinic.actor(user or clinic.intake), **args)


def test_open_records_the_opening_level_as_first_history_row(
    clinic: Clinic, patient: Patient
) -> None:
    episode = open_episode(clinic, patient, primary_clinician=clinic.clinician)
    row = episode.level_changes.get()
    assert (row.from_level, row.to_level, row.effective_date) == ("", "2.1", ADMITTED)
    assert row.direction == "opening"
    entry = AuditEntry.objects.get(action="create", object_type="episode")
    assert entry.patient_id == patient.pk


def test_one_open_episode_per_patient_names_the_existing_one(
    clinic: Clinic, patient: Patient
) -> None:
    first = open_episode(clinic, patient)
    with pytest.raises(RuleViolation) as exc:
        open_episode(clinic, patient, status="waitlisted")
    assert f"episode {first.pk}" in exc.value.message
    assert Episode.objects.filter(patient=patient).count() == 1


def test_database_also_refuses_two_open_episodes(clinic: Clinic, patient: Patient) -> None:
    make_episode(patient)
    with pytest.raises(IntegrityError):
        make_episode(patient, status="waitlisted")


def test_a_new_episode_can_open_after_discharge(clinic: Clinic, patient: Patient) -> None:
    first = open_episode(clinic, patient)
    episode_discharge(
        episode=first,
        discharge_date=ADMITTED + dt.timedelta(days=20),
        reason="completed",
        expected_version=first.version,
        by=clinic.actor(clinic.intake),
    )
    second = open_episode(clinic, patient, admission_date=ADMITTED + dt.timedelta(days=60))
    assert second.is_open


def test_open_refused_without_episode_manage_and_audited(clinic: Clinic, patient: Patient) -> None:
    with pytest.raises(NotPermitted):
        open_episode(clinic, patient, user=clinic.clinician)
    assert AuditEntry.objects.filter(
        user_id=clinic.clinician.pk, patient_id=patient.pk, outcome="denied"
    ).exists()


def test_open_refused_for_a_patient_at_another_site(clinic: Clinic, patient: Patient) -> None:
    with pytest.raises(NotPermitted):
        open_episode(clinic, patient, user=clinic.other_site_intake)


def test_open_refuses_non_clinical_staff_as_primary_clinician(
    clinic: Clinic, patient: Patient
) -> None:
    with pytest.raises(RuleViolation) as exc:
        open_episode(clinic, patient, primary_clinician=clinic.billing)
    assert exc.value.field == "primary_clinician"


@pytest.mark.parametrize(
    ("focus", "protected"),
    [("substance_use", True), ("co_occurring", True), ("mental_health", False)],
)
def test_part2_is_set_from_the_start_for_substance_use(
    clinic: Clinic, patient: Patient, focus: str, protected: bool
) -> None:
    assert open_episode(clinic, patient, focus=focus).part2_protected is protected


def test_part2_marking_is_sticky_when_the_focus_changes(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient, focus="substance_use")
    episode_change_focus(
        episode=episode,
        focus="mental_health",
        expected_version=episode.version,
        by=clinic.actor(clinic.intake),
    )
    stored = Episode.objects.get(pk=episode.pk)
    assert (stored.focus, stored.part2_protected) == ("mental_health", True)


def test_part2_is_set_when_the_focus_becomes_substance_use(
    clinic: Clinic, patient: Patient
) -> None:
    episode = open_episode(clinic, patient, focus="mental_health")
    episode_change_focus(
        episode=episode,
        focus="co_occurring",
        expected_version=episode.version,
        by=clinic.actor(clinic.intake),
    )
    assert Episode.objects.get(pk=episode.pk).part2_protected


def test_step_up_and_step_down_are_recorded(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    actor = clinic.actor(clinic.case_manager)
    up = episode_change_level(
        episode=episode,
        to_level="2.5",
        effective_date=ADMITTED + dt.timedelta(days=7),
        reason="Worsening symptoms",
        expected_version=episode.version,
        by=actor,
    )
    down = episode_change_level(
        episode=episode,
        to_level="1",
        effective_date=ADMITTED + dt.timedelta(days=30),
        reason="Goals met",
        expected_version=episode.version,
        by=actor,
    )
    assert (up.direction, down.direction) == ("step_up", "step_down")
    assert Episode.objects.get(pk=episode.pk).level_of_care == "1"
    assert list(
        LevelOfCareChange.objects.filter(episode=episode).values_list("to_level", flat=True)
    ) == ["2.1", "2.5", "1"]


def test_level_change_before_admission_is_refused(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    with pytest.raises(RuleViolation) as exc:
        episode_change_level(
            episode=episode,
            to_level="2.5",
            effective_date=ADMITTED - dt.timedelta(days=1),
            reason="x",
            expected_version=episode.version,
            by=clinic.actor(clinic.intake),
        )
    assert exc.value.field == "effective_date"


def test_level_change_to_the_same_level_is_refused(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    with pytest.raises(RuleViolation) as exc:
        episode_change_level(
            episode=episode,
            to_level="2.1",
            effective_date=ADMITTED,
            reason="x",
            expected_version=episode.version,
            by=clinic.actor(clinic.intake),
        )
    assert exc.value.field == "to_level"


def test_level_change_with_a_stale_version_is_a_conflict(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    episode_set_status(
        episode=episode,
        status="on_hold",
        expected_version=episode.version,
        by=clinic.actor(clinic.intake),
    )
    with pytest.raises(Conflict):
        episode_change_level(
            episode=episode,
            to_level="2.5",
            effective_date=ADMITTED,
            reason="x",
            by=clinic.actor(clinic.intake),
            expected_version=1,
        )
    assert not LevelOfCareChange.objects.filter(episode=episode, to_level="2.5").exists()


def test_status_moves(clinic: Clinic, patient: Patient) -> None:
    actor = clinic.actor(clinic.intake)
    episode = open_episode(clinic, patient, status="waitlisted")
    episode_set_status(episode=episode, status="active", expected_version=episode.version, by=actor)
    episode_set_status(
        episode=episode, status="on_hold", expected_version=episode.version, by=actor
    )
    episode_set_status(episode=episode, status="active", expected_version=episode.version, by=actor)
    assert Episode.objects.get(pk=episode.pk).status == "active"
    with pytest.raises(RuleViolation):
        episode_set_status(
            episode=episode, status="waitlisted", expected_version=episode.version, by=actor
        )
    with pytest.raises(RuleViolation, match="Discharge"):
        episode_set_status(
            episode=episode, status="discharged", expected_version=episode.version, by=actor
        )


def test_discharge_refused_before_admission(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    with pytest.raises(RuleViolation) as exc:
        episode_discharge(
            episode=episode,
            discharge_date=ADMITTED - dt.timedelta(days=1),
            reason="completed",
            expected_version=episode.version,
            by=clinic.actor(clinic.intake),
        )
    assert exc.value.field == "discharge_date"
    assert Episode.objects.get(pk=episode.pk).status == "active"


def test_discharge_ends_open_enrollments_at_the_discharge_date(
    clinic: Clinic, patient: Patient
) -> None:
    episode = open_episode(clinic, patient)
    track = make_track(clinic.site)
    later_track = make_track(clinic.site)
    open_one = Enrollment.objects.create(episode=episode, track=track, start_date=ADMITTED)
    ends_later = Enrollment.objects.create(
        episode=episode, track=later_track, start_date=ADMITTED, end_date=dt.date(2026, 12, 31)
    )
    ended_before = Enrollment.objects.create(
        episode=episode, track=later_track, start_date=ADMITTED, end_date=ADMITTED
    )
    day = ADMITTED + dt.timedelta(days=21)
    episode_discharge(
        episode=episode,
        discharge_date=day,
        reason="dropped_out",
        expected_version=episode.version,
        by=clinic.actor(clinic.intake),
    )
    for enrollment in (open_one, ends_later):
        enrollment.refresh_from_db()
        assert enrollment.end_date == day
    ended_before.refresh_from_db()
    assert ended_before.end_date == ADMITTED
    stored = Episode.objects.get(pk=episode.pk)
    assert (stored.status, stored.discharge_date, stored.discharge_reason) == (
        "discharged",
        day,
        "dropped_out",
    )
    entry = AuditEntry.objects.filter(object_type="episode", action="update").latest("id")
    assert entry.detail["event"] == "discharge"
    assert entry.patient_id == patient.pk


def test_discharge_refused_when_an_enrollment_starts_after_it(
    clinic: Clinic, patient: Patient
) -> None:
    episode = open_episode(clinic, patient)
    Enrollment.objects.create(
        episode=episode, track=make_track(clinic.site), start_date=ADMITTED + dt.timedelta(days=30)
    )
    with pytest.raises(RuleViolation) as exc:
        episode_discharge(
            episode=episode,
            discharge_date=ADMITTED + dt.timedelta(days=3),
            reason="other",
            expected_version=episode.version,
            by=clinic.actor(clinic.intake),
        )
    assert "starts on" in exc.value.message


def test_a_discharged_episode_cannot_change(clinic: Clinic, patient: Patient) -> None:
    actor = clinic.actor(clinic.intake)
    episode = open_episode(clinic, patient)
    episode_discharge(
        episode=episode,
        discharge_date=ADMITTED,
        reason="transferred",
        expected_version=episode.version,
        by=actor,
    )
    with pytest.raises(RuleViolation, match="discharged"):
        episode_change_level(
            episode=episode,
            to_level="2.5",
            effective_date=ADMITTED,
            reason="x",
            expected_version=episode.version,
            by=actor,
        )
    with pytest.raises(RuleViolation, match="discharged"):
        episode_set_status(
            episode=episode, status="on_hold", expected_version=episode.version, by=actor
        )
    with pytest.raises(RuleViolation, match="discharged"):
        episode_discharge(
            episode=episode,
            discharge_date=ADMITTED,
            reason="other",
            expected_version=episode.version,
            by=actor,
        )
    with pytest.raises(RuleViolation, match="discharged"):
        episode_assign(episode=episode, primary_clinician=None, case_manager=None, by=actor)


def test_discharge_refuses_an_unknown_reason(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    with pytest.raises(RuleViolation) as exc:
        episode_discharge(
            episode=episode,
            discharge_date=ADMITTED,
            reason="bored",
            expected_version=episode.version,
            by=clinic.actor(clinic.intake),
        )
    assert exc.value.field == "reason"


def test_assign_sets_clinician_and_case_manager(clinic: Clinic, patient: Patient) -> None:
    episode = open_episode(clinic, patient)
    episode_assign(
        episode=episode,
        primary_clinician=clinic.clinician,
        case_manager=clinic.case_manager,
        by=clinic.actor(clinic.case_manager),
        expected_version=episode.version,
    )
    stored = Episode.objects.get(pk=episode.pk)
    assert (stored.primary_clinician, stored.case_manager) == (
        clinic.clinician,
        clinic.case_manager,
    )
    assert stored.version == 2
