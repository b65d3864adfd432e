"""The dry run and the import: row by row, one transaction, through the apps' services."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from openiop.admissions.models import Inquiry
from openiop.audit.models import AuditEntry
from openiop.billing.models import Coverage
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.episodes.models import Episode
from openiop.imports.models import ImportedIdentity
from openiop.imports.services import ImportRefused, import_apply, import_plan
from openiop.imports.tests.conftest import BAD, GOOD_1, GOOD_2, GOOD_3, Clinic, csv_of
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment
from openiop.testing import make_episode, make_patient, make_track, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "openiop.core.clock.now", lambda: dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    )


def counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Episode.objects.count(),
        Coverage.objects.count(),
        Inquiry.objects.count(),
        Enrollment.objects.count(),
        ImportedIdentity.objects.count(),
    )


def plan(clinic: Clinic, text: str, user: Any = None, fmt: str = "csv") -> Any:
    return import_plan(
        site=clinic.site,
        text=text,
        file_format=fmt,
        source_name="Fictional EHR",
        by=Actor.cli(user or clinic.intake, "test"),
    )


def apply(clinic: Clinic, text: str, user: Any = None, fmt: str = "csv") -> Any:
    return import_apply(
        site=clinic.site,
        text=text,
        file_format=fmt,
        source_name="Fictional EHR",
        by=Actor.cli(user or clinic.intake, "test"),
    )


def test_the_dry_run_reports_row_by_row_and_writes_no_patient_data(clinic: Clinic) -> None:
    before = counts()
    report = plan(clinic, csv_of(GOOD_1, GOOD_2, BAD, GOOD_3))
    assert counts() == before
    assert [(d.row_no, d.outcome) for d in report.decisions] == [
        (2, "create"),
        (3, "create"),
        (4, "refuse"),
        (5, "create"),
    ]
    assert "date_of_birth '1979-02-30' is not a date" in report.decisions[2].reasons[0]
    entry = AuditEntry.objects.get(object_type="patient_import_dry_run")
    assert entry.detail["rows"] == 4


def test_a_bad_row_in_the_middle_leaves_nothing_written(clinic: Clinic) -> None:
    before = counts()
    with pytest.raises(ImportRefused) as refused:
        apply(clinic, csv_of(GOOD_1, GOOD_2, BAD, GOOD_3))
    assert counts() == before
    assert [d.row_no for d in refused.value.report.refused] == [4]
    assert AuditEntry.objects.filter(object_type="patient_import", outcome="error").exists()


def test_a_row_a_service_refuses_while_importing_undoes_the_rows_before_it(
    clinic: Clinic,
) -> None:
    make_track(clinic.site, name="Tiny Group", capacity=1)
    rows = [
        f"FE-{n},Quillon{n},Fakename,1991-04-05,male,555-014{n},,,,,mental_health,2026-01-05,2.1,Tiny Group"
        for n in (1, 2)
    ]
    before = counts()
    with pytest.raises(ImportRefused) as refused:
        apply(clinic, csv_of(*rows))
    assert counts() == before  # row 2's patient, episode and enrollment are undone too
    [bad] = refused.value.report.refused
    assert bad.row_no == 3 and "Refused while importing" in bad.reasons[-1]


def test_the_import_creates_patients_coverages_and_open_episodes(clinic: Clinic) -> None:
    report = apply(clinic, csv_of(GOOD_1, GOOD_2, GOOD_3))
    assert report.applied and report.summary.created == 3
    quillon = Patient.objects.get(legal_first_name="Quillon")
    assert quillon.mrn.startswith("LH") and quillon.phone == "555-0142"
    episode = Episode.objects.get(patient=quillon)
    assert (episode.focus, episode.level_of_care, episode.admission_date) == (
        "mental_health",
        "2.1",
        dt.date(2026, 1, 5),
    )
    assert episode.referral_detail == "Imported from Fictional EHR"
    assert Enrollment.objects.get(episode=episode).track == clinic.track
    coverage = Coverage.objects.get(patient=quillon)
    assert (coverage.payer, coverage.member_id, coverage.rank) == (clinic.payer, "ZZ100", "primary")
    assert coverage.inquiry.patient == quillon
    dorinda = Patient.objects.get(legal_first_name="Dorinda")
    assert Episode.objects.get(patient=dorinda).part2_protected  # episodes' own rule applied
    assert not Episode.objects.filter(patient__legal_first_name="Brisa").exists()
    # The apps' services audited each write, and the import names every patient it touched.
    assert AuditEntry.objects.filter(object_type="patient", action="create").count() == 3
    summary = AuditEntry.objects.get(object_type="patient_import", outcome="ok")
    assert set(summary.patients.values_list("patient_id", flat=True)) == set(
        Patient.objects.values_list("id", flat=True)
    )


def test_a_merge_updates_the_existing_patient_rather_than_duplicating(clinic: Clinic) -> None:
    existing = make_patient(
        clinic.site,
        legal_first_name="Quillon",
        legal_last_name="Fakename",
        date_of_birth=dt.date(1991, 4, 5),
        sex="male",
        phone="555-0100",
    )
    report = apply(clinic, csv_of(GOOD_1))
    [decision] = report.decisions
    assert (decision.outcome, decision.patient_id, decision.changes) == (
        "merge",
        existing.pk,
        ("phone",),
    )
    assert Patient.objects.count() == 1
    existing.refresh_from_db()
    assert existing.phone == "555-0142" and existing.version == 2
    assert ImportedIdentity.objects.get(external_id="FE-1").patient == existing
    # The same external id again merges (now by the link), and adds no second episode.
    again = plan(clinic, csv_of(GOOD_1.replace("Quillon", "Quill")))
    assert again.decisions[0].outcome == "refuse"
    assert "already has an open episode" in again.decisions[0].reasons[-1]
    demographics_only = "FE-1,Quill,Fakename,1991-04-05,male,555-0142,,,,,,,,"
    merged = apply(clinic, csv_of(demographics_only)).decisions[0]
    assert merged.outcome == "merge" and "external id FE-1 linked" in merged.reasons[0]
    assert Patient.objects.count() == 1


def test_an_ambiguous_match_is_refused_with_the_reason(clinic: Clinic) -> None:
    for _ in range(2):
        make_patient(
            clinic.site,
            legal_first_name="Brisa",
            legal_last_name="Nottareal",
            date_of_birth=dt.date(1988, 11, 30),
        )
    [decision] = plan(clinic, csv_of(GOOD_2)).decisions
    assert decision.outcome == "refuse"
    assert "2 patients share this name and date of birth" in decision.reasons[0]


def test_a_match_at_a_site_the_user_does_not_work_at_is_refused_without_naming_them(
    clinic: Clinic,
) -> None:
    make_patient(
        clinic.other_site,
        legal_first_name="Brisa",
        legal_last_name="Nottareal",
        date_of_birth=dt.date(1988, 11, 30),
    )
    [decision] = plan(clinic, csv_of(GOOD_2)).decisions
    assert decision.outcome == "refuse"
    assert "a site you do not work at" in decision.reasons[-1]


def test_a_bundle_of_patients_imports(clinic: Clinic) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"value": "FB-1"}],
                    "name": [{"family": "Fakename", "given": ["Quillon"]}],
                    "gender": "male",
                    "birthDate": "1991-04-05",
                    "telecom": [{"system": "phone", "value": "555-0142"}],
                }
            },
            {
                "resource": {
                    "resourceType": "Patient",
                    "gender": "other",
                    "birthDate": "1990-02-02",
                    "name": [{"family": "Unnamed", "given": ["Pat"]}],
                }
            },
        ],
    }
    report = apply(clinic, json.dumps(bundle), fmt="fhir")
    assert report.summary.created == 2
    pat = Patient.objects.get(legal_first_name="Pat")
    assert pat.sex == "unknown"
    assert ImportedIdentity.objects.get(external_id="FB-1").patient.legal_first_name == "Quillon"
    bundle["entry"].append({"resource": {"resourceType": "Patient", "birthDate": "bad"}})  # type: ignore[attr-defined]
    with pytest.raises(ImportRefused) as refused:
        apply(clinic, json.dumps(bundle), fmt="fhir")
    assert refused.value.report.refused[0].row_no == 3


def test_who_may_import(clinic: Clinic) -> None:
    clinician = make_user("clinician", sites=[clinic.site], org=clinic.org)
    with pytest.raises(NotPermitted):
        plan(clinic, csv_of(GOOD_2), user=clinician)
    elsewhere = make_user("intake", sites=[clinic.other_site], org=clinic.org)
    with pytest.raises(NotPermitted):
        plan(clinic, csv_of(GOOD_2), user=elsewhere)
    # A case manager imports patients and episodes, but not coverages (benefits are intake's).
    case_manager = make_user("case_manager", sites=[clinic.site], org=clinic.org)
    first, second = plan(clinic, csv_of(GOOD_1, GOOD_2), user=case_manager).decisions
    assert first.outcome == "refuse" and "may not record coverages" in first.reasons[0]
    assert second.outcome == "create"


def test_a_coverage_of_a_rank_in_force_is_refused(clinic: Clinic) -> None:
    apply(clinic, csv_of(GOOD_1))
    other = "FE-1,Quillon,Fakename,1991-04-05,male,555-0142,,Fictional Mutual,ZZ999,primary,,,,"
    [decision] = plan(clinic, csv_of(other)).decisions
    assert decision.outcome == "refuse" and "already a primary coverage" in decision.reasons[0]
    same = "FE-1,Quillon,Fakename,1991-04-05,male,555-0142,,Fictional Mutual,ZZ100,primary,,,,"
    [decision] = plan(clinic, csv_of(same)).decisions
    assert decision.outcome == "merge" and not decision.adds_coverage


def test_unknown_payer_track_and_a_file_that_is_no_csv(clinic: Clinic) -> None:
    row = GOOD_1.replace("Fictional Mutual", "Nonexistent Health").replace(
        "Adult Evening IOP", "Nope"
    )
    [decision] = plan(clinic, csv_of(row)).decisions
    assert any("No active payer named 'Nonexistent Health'" in r for r in decision.reasons)
    assert any("no active track named 'Nope'" in r for r in decision.reasons)
    with pytest.raises(RuleViolation, match="Unknown column"):
        plan(clinic, "name,dob\nA,B\n")


def test_an_open_episode_elsewhere_keeps_the_patient_single(clinic: Clinic) -> None:
    existing = make_patient(
        clinic.site,
        legal_first_name="Quillon",
        legal_last_name="Fakename",
        date_of_birth=dt.date(1991, 4, 5),
    )
    make_episode(existing)
    [decision] = plan(clinic, csv_of(GOOD_1)).decisions
    assert decision.outcome == "refuse"
