from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openiop.audit.models import AuditEntry
from openiop.patients.models import Patient
from openiop.testing import make_episode, make_patient

if TYPE_CHECKING:
    from openiop.patients.tests.clinic import Clinic


@pytest.fixture
def zeph(clinic: Clinic) -> Patient:
    patient = make_patient(
        clinic.site, legal_first_name="Zephyrine", legal_last_name="Quillfeather", mrn="PG000101"
    )
    make_episode(patient, focus="substance_use")
    return patient


def test_patient_show_prints_demographics_and_episodes_and_audits_channel_cli(
    clinic: Clinic, zeph: Patient, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("patient_show", "pg000101", "--as", clinic.clinician.username)
    out = capsys.readouterr().out
    assert "Zephyrine Quillfeather" in out
    assert "42 CFR Part 2" in out
    assert "Episode" in out
    entry = AuditEntry.objects.get(action="view", object_type="patient_chart")
    assert (entry.channel, entry.patient_id) == ("cli", zeph.pk)
    assert entry.username == clinic.clinician.username


def test_patient_show_unknown_mrn_exits_2(clinic: Clinic) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("patient_show", "PG999999", "--as", clinic.clinician.username)
    assert exc.value.returncode == 2
    assert "PG999999" in str(exc.value)


def test_patient_show_unknown_user_exits_2(clinic: Clinic, zeph: Patient) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("patient_show", "PG000101", "--as", "nobody.at.all")
    assert exc.value.returncode == 2


def test_patient_show_applies_the_users_site_scope(clinic: Clinic, zeph: Patient) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("patient_show", "PG000101", "--as", clinic.other_site_intake.username)
    assert exc.value.returncode == 2
    assert AuditEntry.objects.filter(channel="cli", outcome="denied", patient_id=zeph.pk).exists()


def test_patient_show_works_for_billing_across_sites(
    clinic: Clinic, zeph: Patient, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("patient_show", "PG000101", "--as", clinic.billing.username)
    assert "Quillfeather" in capsys.readouterr().out
