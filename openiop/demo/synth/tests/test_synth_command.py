"""`openiop synth` writes a consistent network (on SQLite and PostgreSQL) and refuses bad sizes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q

from openiop.attendance.models import Attendance
from openiop.audit.models import AuditEntry, AuditEntryPatient
from openiop.episodes.models import Episode
from openiop.notes.models import NoteSection
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment, GroupSession, Organization

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("synth", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_synth_fills_a_consistent_network_with_progress() -> None:
    output = run(
        "--sites", "2", "--patients", "300", "--weeks", "6", "--seed", "9", "--today", "2026-11-24"
    )
    org = Organization.objects.get(name__startswith="Synthetic Network")
    assert org.sites.count() == 2
    assert Patient.objects.filter(organization=org).count() == 300
    # Readmitted patients have more than one episode, never two open at once.
    episodes = Episode.objects.filter(patient__organization=org)
    assert episodes.count() > 300
    assert episodes.values("patient").distinct().count() == 300
    assert not (
        episodes.filter(status="active").values("patient").annotate(n=Count("id")).filter(n__gt=1)
    ).exists()
    assert {"active", "discharged", "waitlisted"} <= set(
        Episode.objects.values_list("status", flat=True)
    )
    attendance = Attendance.objects.all()
    assert attendance.count() > 1000
    assert "100%" in output and "attendance" in output
    # Nobody attends before admission, after discharge, or on a session from today on.
    assert not attendance.filter(session__date__lt=F("episode__admission_date")).exists()
    assert not attendance.filter(session__date__gt=F("episode__discharge_date")).exists()
    assert not attendance.filter(session__date__gte="2026-11-24").exists()
    # Each group attendance row is a roster row: the patient was enrolled in the session's track.
    outside = attendance.filter(session__episode__isnull=True).exclude(
        Q(episode__enrollments__track=F("session__track"))
        & Q(episode__enrollments__start_date__lte=F("session__date"))
    )
    assert not outside.exists()
    assert (
        Enrollment.objects.filter(end_date__isnull=True).count()
        == Episode.objects.filter(status="active").count()
    )
    # Individual and family sessions belong to one episode, which is their only roster row.
    appointments = GroupSession.objects.filter(episode__isnull=False)
    assert set(appointments.values_list("kind", flat=True)) == {"individual", "family"}
    assert not appointments.filter(track__isnull=False).exists()
    assert (
        not attendance.filter(session__episode__isnull=False)
        .exclude(session__episode=F("episode"))
        .exists()
    )
    assert not (
        attendance.filter(session__episode__isnull=False)
        .values("session")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    group_rows = attendance.filter(session__episode__isnull=True)
    assert 0 < attendance.count() - group_rows.count() < group_rows.count()
    # The audit trail names every patient on each saved roster, and chart views name one patient
    # (the month's charges, posted by the billing service, add their own links: not counted here).
    rosters = AuditEntryPatient.objects.filter(entry__object_type="attendance")
    assert rosters.count() == group_rows.count()
    some_patient = attendance.first().patient_id  # type: ignore[union-attr]
    assert AuditEntry.objects.filter(patient_id=some_patient, action="view").exists()
    assert AuditEntryPatient.objects.filter(patient_id=some_patient).exists()
    # The identity sequences moved past the written ids: the ORM can add rows afterwards.
    session = GroupSession.objects.first()
    assert session is not None
    Patient.objects.create(
        organization=org,
        site=session.site,
        mrn="S99000001",
        legal_first_name="Quillon",
        legal_last_name="Afterwrite",
        date_of_birth="1990-01-01",
        sex="female",
    )


def test_the_same_seed_gives_the_same_network() -> None:
    run("--sites", "1", "--patients", "60", "--weeks", "3", "--seed", "4", "--today", "2026-11-24")
    first = list(Patient.objects.order_by("mrn").values_list("legal_first_name", "date_of_birth"))
    first_att = list(Attendance.objects.order_by("id").values_list("status", "minutes_attended"))
    NoteSection.objects.all().delete()  # test-only clean-up of synthetic rows
    Attendance.objects.all().delete()
    Enrollment.objects.all().delete()
    run("--sites", "1", "--patients", "60", "--weeks", "3", "--seed", "4", "--today", "2026-11-24")
    org2 = Organization.objects.order_by("-id").first()
    second = list(
        Patient.objects.filter(organization=org2)
        .order_by("mrn")
        .values_list("legal_first_name", "date_of_birth")
    )
    assert first[: len(second)] == second
    second_att = list(Attendance.objects.order_by("id").values_list("status", "minutes_attended"))
    assert first_att == second_att


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sites", "0"], "--sites must be 1 or more"),
        (["--patients", "-5"], "--patients must be 1 or more"),
        (["--weeks", "500"], "--weeks must be at most 104"),
    ],
)
def test_bad_sizes_exit_2_with_a_message(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as caught:
        call_command("synth", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.returncode == 2
    assert not Organization.objects.exists()
