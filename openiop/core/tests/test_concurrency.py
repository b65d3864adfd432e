"""Compare-and-set: a write names the version it read; without one nothing is written."""

from __future__ import annotations

import pytest

from openiop.core.concurrency import check_version, save_if_unchanged
from openiop.core.errors import Conflict, RuleViolation
from openiop.patients.models import Patient
from openiop.testing import make_org, make_patient, make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient() -> Patient:
    return make_patient(make_site(make_org()), preferred_name="Quill")


def test_a_write_without_a_version_is_refused_and_changes_nothing(patient: Patient) -> None:
    patient.preferred_name = "Overwritten"
    with pytest.raises(RuleViolation) as exc:
        save_if_unchanged(patient, expected_version=None, fields=["preferred_name"])
    assert (exc.value.code, exc.value.field) == ("version_missing", "version")
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.preferred_name, stored.version) == ("Quill", 1)


def test_a_stale_version_is_a_conflict_and_the_current_version_writes(patient: Patient) -> None:
    patient.preferred_name = "Marigold"
    save_if_unchanged(patient, expected_version=1, fields=["preferred_name"])
    assert patient.version == 2
    patient.preferred_name = "Stale"
    with pytest.raises(Conflict):
        save_if_unchanged(patient, expected_version=1, fields=["preferred_name"])
    assert Patient.objects.get(pk=patient.pk).preferred_name == "Marigold"


def test_a_request_that_changes_nothing_is_still_checked_against_its_version(
    patient: Patient,
) -> None:
    patient.preferred_name = "Marigold"
    save_if_unchanged(patient, expected_version=1, fields=["preferred_name"])
    with pytest.raises(Conflict) as exc:
        check_version(patient, expected_version=1)
    assert exc.value.code == "stale_version"
    check_version(patient, expected_version=2)  # the current version: nothing to report
    check_version(patient, expected_version=None)  # no version named: nothing to compare
