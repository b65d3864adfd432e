"""Who may discharge: clinicians their own patients (the episode's primary clinician), the
director and case managers any patient at their sites (issue 14)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.audit.models import AuditEntry
from openiop.core.errors import NotPermitted
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_discharge, may_discharge
from openiop.testing import make_episode, make_patient, make_user

if TYPE_CHECKING:
    from django.test import Client

    from openiop.patients.tests.clinic import Clinic

ADMITTED = dt.date(2026, 2, 2)
FORM = {"discharge_date": "2026-03-06", "reason": "completed", "note": "", "version": 1}


@pytest.fixture
def colleague(clinic: Clinic) -> User:
    return make_user(Role.CLINICIAN, sites=[clinic.site], org=clinic.org)


@pytest.fixture
def own(clinic: Clinic) -> Episode:
    patient = make_patient(clinic.site, legal_first_name="Barnaby", legal_last_name="Thistlewick")
    return make_episode(patient, admission_date=ADMITTED, primary_clinician=clinic.clinician)


@pytest.fixture
def others(clinic: Clinic, colleague: User) -> Episode:
    patient = make_patient(
        clinic.site, legal_first_name="Clementine", legal_last_name="Quillfeather"
    )
    return make_episode(patient, admission_date=ADMITTED, primary_clinician=colleague)


def _discharge(clinic: Clinic, episode: Episode, user: User) -> Episode:
    return episode_discharge(
        episode=episode,
        discharge_date=dt.date(2026, 3, 6),
        reason="completed",
        expected_version=episode.version,
        by=clinic.actor(user),
    )


def test_a_clinician_discharges_their_own_patient(clinic: Clinic, own: Episode) -> None:
    _discharge(clinic, own, clinic.clinician)
    assert Episode.objects.get(pk=own.pk).status == "discharged"


def test_a_clinician_is_refused_another_clinicians_patient_and_the_refusal_is_audited(
    clinic: Clinic, others: Episode
) -> None:
    with pytest.raises(NotPermitted) as exc:
        _discharge(clinic, others, clinic.clinician)
    assert exc.value.code == "not_primary_clinician"
    assert Episode.objects.get(pk=others.pk).status == "active"
    denied = AuditEntry.objects.get(user_id=clinic.clinician.pk, outcome="denied")
    assert denied.patient_id == others.patient_id


def test_a_clinician_is_refused_a_patient_with_no_primary_clinician(clinic: Clinic) -> None:
    episode = make_episode(make_patient(clinic.site), admission_date=ADMITTED)
    with pytest.raises(NotPermitted):
        _discharge(clinic, episode, clinic.clinician)


def test_a_primary_clinician_at_another_site_is_still_refused(clinic: Clinic) -> None:
    patient = make_patient(clinic.other_site)
    episode = make_episode(patient, admission_date=ADMITTED, primary_clinician=clinic.clinician)
    with pytest.raises(NotPermitted) as exc:
        _discharge(clinic, episode, clinic.clinician)
    assert exc.value.code == "site_not_permitted"


@pytest.mark.parametrize("who", ["director", "case_manager"])
def test_the_director_and_case_managers_discharge_any_patient_at_their_sites(
    clinic: Clinic, others: Episode, who: str
) -> None:
    _discharge(clinic, others, getattr(clinic, who))
    assert Episode.objects.get(pk=others.pk).status == "discharged"


def test_billing_may_not_discharge_even_as_a_named_clinician(clinic: Clinic) -> None:
    episode = make_episode(make_patient(clinic.site), admission_date=ADMITTED)
    Episode.objects.filter(pk=episode.pk).update(primary_clinician=clinic.billing)
    episode.refresh_from_db()
    assert not may_discharge(clinic.billing, episode)
    with pytest.raises(NotPermitted):
        _discharge(clinic, episode, clinic.billing)


def test_the_discharge_page_and_button_follow_the_same_rule(
    client: Client, clinic: Clinic, own: Episode, others: Episode
) -> None:
    client.force_login(clinic.clinician)
    mine = reverse("episodes:discharge", kwargs={"episode_id": own.pk})
    theirs = reverse("episodes:discharge", kwargs={"episode_id": others.pk})
    detail = client.get(reverse("episodes:detail", kwargs={"episode_id": own.pk})).text
    assert mine in detail
    assert reverse("episodes:change_level", kwargs={"episode_id": own.pk}) not in detail
    other_detail = client.get(reverse("episodes:detail", kwargs={"episode_id": others.pk})).text
    assert theirs not in other_detail
    assert client.get(theirs).status_code == 403
    assert client.post(theirs, {**FORM, "confirm": "yes"}).status_code == 403
    assert Episode.objects.get(pk=others.pk).status == "active"
    assert "Confirm discharge" in client.post(mine, FORM).text
    response = client.post(mine, {**FORM, "confirm": "yes"})
    assert response.status_code == 302
    assert Episode.objects.get(pk=own.pk).status == "discharged"


def test_a_clinician_discharges_their_own_patient_who_is_enrolled_in_a_track(
    clinic: Clinic, own: Episode
) -> None:
    """The discharge ends the patient's enrollment as part of it: the clinician's right to
    discharge covers that step (it is not a separate enrollment change of theirs)."""
    from openiop.programs.models import Enrollment
    from openiop.testing import make_track

    enrollment = Enrollment.objects.create(
        episode=own, track=make_track(clinic.site), start_date=ADMITTED
    )
    _discharge(clinic, own, clinic.clinician)
    assert Episode.objects.get(pk=own.pk).status == "discharged"
    enrollment.refresh_from_db()
    assert enrollment.end_date == dt.date(2026, 3, 6)
