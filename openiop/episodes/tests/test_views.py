from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEntry
from openiop.episodes.models import Episode
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment
from openiop.testing import make_episode, make_patient, make_track

if TYPE_CHECKING:
    from django.test import Client

    from openiop.patients.tests.clinic import Clinic

ADMITTED = dt.date(2026, 2, 2)


@pytest.fixture
def patient(clinic: Clinic) -> Patient:
    return make_patient(clinic.site, legal_first_name="Barnaby", legal_last_name="Thistlewick")


@pytest.fixture
def episode(patient: Patient) -> Episode:
    return make_episode(patient, admission_date=ADMITTED, focus="substance_use")


def test_open_episode_then_go_to_its_page(client: Client, clinic: Clinic, patient: Patient) -> None:
    client.force_login(clinic.intake)
    response = client.post(
        reverse("episodes:open", kwargs={"patient_id": patient.pk}),
        {
            "site": clinic.site.pk,
            "focus": "co_occurring",
            "referral_source": "inpatient",
            "admission_date": "2026-02-02",
            "level_of_care": "2.1",
            "status": "active",
            "primary_clinician": clinic.clinician.pk,
        },
    )
    episode = Episode.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("episodes:detail", kwargs={"episode_id": episode.pk})
    assert episode.part2_protected
    assert episode.primary_clinician == clinic.clinician


def test_second_open_episode_is_refused_and_the_form_keeps_the_input(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    client.force_login(clinic.intake)
    response = client.post(
        reverse("episodes:open", kwargs={"patient_id": episode.patient_id}),
        {
            "site": clinic.site.pk,
            "focus": "mental_health",
            "referral_source": "school",
            "referral_detail": "Hollowbrook Middle (fictional)",
            "admission_date": "2026-03-02",
            "level_of_care": "2.1",
            "status": "waitlisted",
        },
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert f"already has an open episode (episode {episode.pk}" in body
    assert 'value="Hollowbrook Middle (fictional)"' in body
    assert Episode.objects.filter(patient=episode.patient).count() == 1


def test_detail_shows_history_enrollments_and_part2_badge(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    episode.level_changes.create(to_level="2.1", effective_date=ADMITTED, reason="Admission")
    Enrollment.objects.create(
        episode=episode, track=make_track(clinic.site, name="Evening IOP"), start_date=ADMITTED
    )
    client.force_login(clinic.clinician)
    body = client.get(
        reverse("episodes:detail", kwargs={"episode_id": episode.pk})
    ).content.decode()
    assert "Opening level" in body
    assert "Evening IOP" in body
    assert "42 CFR Part 2" in body
    entry = AuditEntry.objects.get(action="view", object_type="episode")
    assert entry.patient_id == episode.patient_id


def test_detail_refused_for_another_site_and_audited_with_the_patient(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    client.force_login(clinic.other_site_intake)
    response = client.get(reverse("episodes:detail", kwargs={"episode_id": episode.pk}))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(
        patient_id=episode.patient_id, outcome="denied", user_id=clinic.other_site_intake.pk
    ).exists()


def test_change_level_before_admission_shows_the_error_beside_the_field(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    client.force_login(clinic.case_manager)
    response = client.post(
        reverse("episodes:change_level", kwargs={"episode_id": episode.pk}),
        {
            "to_level": "2.5",
            "effective_date": "2026-01-01",
            "reason": "Needs more structure",
            "version": episode.version,
        },
    )
    body = response.content.decode()
    assert "before the admission date" in body
    assert "Needs more structure" in body
    assert Episode.objects.get(pk=episode.pk).level_of_care == "2.1"


def test_change_level_step_up(client: Client, clinic: Clinic, episode: Episode) -> None:
    client.force_login(clinic.case_manager)
    response = client.post(
        reverse("episodes:change_level", kwargs={"episode_id": episode.pk}),
        {"to_level": "2.5", "effective_date": "2026-02-09", "reason": "Relapse", "version": 1},
    )
    assert response.status_code == 302
    assert Episode.objects.get(pk=episode.pk).level_of_care == "2.5"


def test_set_status_offers_only_allowed_moves(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    client.force_login(clinic.case_manager)
    url = reverse("episodes:set_status", kwargs={"episode_id": episode.pk})
    body = client.get(url).content.decode()
    assert 'value="on_hold"' in body
    assert 'value="waitlisted"' not in body
    assert client.post(url, {"status": "on_hold", "version": 1}).status_code == 302
    assert Episode.objects.get(pk=episode.pk).status == "on_hold"


def test_discharge_asks_for_confirmation_then_ends_enrollments(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    track = make_track(clinic.site, name="Morning IOP")
    enrollment = Enrollment.objects.create(episode=episode, track=track, start_date=ADMITTED)
    client.force_login(clinic.case_manager)
    url = reverse("episodes:discharge", kwargs={"episode_id": episode.pk})
    form = {"discharge_date": "2026-03-06", "reason": "completed", "note": "", "version": 1}
    confirm = client.post(url, form)
    body = confirm.content.decode()
    assert "Confirm discharge" in body
    assert "Morning IOP" in body
    assert "leaves every roster after it" in body
    assert Episode.objects.get(pk=episode.pk).status == "active"
    response = client.post(url, {**form, "confirm": "yes"})
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.end_date == dt.date(2026, 3, 6)
    assert Episode.objects.get(pk=episode.pk).status == "discharged"


def test_discharge_before_admission_keeps_the_form(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    client.force_login(clinic.case_manager)
    response = client.post(
        reverse("episodes:discharge", kwargs={"episode_id": episode.pk}),
        {"discharge_date": "2026-01-06", "reason": "terminated", "note": "Kept note", "version": 1},
    )
    body = response.content.decode()
    assert "cannot be before the admission date" in body
    assert "Kept note" in body
    assert "Confirm discharge" not in body


def test_forms_of_a_discharged_episode_say_it_is_closed(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    episode.status = "discharged"
    episode.discharge_date = ADMITTED
    episode.discharge_reason = "other"
    episode.save()
    client.force_login(clinic.case_manager)
    for name in ("change_level", "set_status", "assign", "discharge"):
        body = client.get(reverse(f"episodes:{name}", kwargs={"episode_id": episode.pk}))
        assert "can no longer change" in body.content.decode()


def test_billing_may_view_but_not_manage_episodes(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    client.force_login(clinic.billing)
    assert (
        client.get(reverse("episodes:detail", kwargs={"episode_id": episode.pk})).status_code == 200
    )
    response = client.get(reverse("episodes:discharge", kwargs={"episode_id": episode.pk}))
    assert response.status_code == 403
