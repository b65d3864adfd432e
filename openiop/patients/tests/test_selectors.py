from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from openiop.audit.models import AuditEntry
from openiop.core.errors import NotFound, NotPermitted
from openiop.episodes.models import Alert, Episode
from openiop.episodes.selectors import patient_has_part2_records
from openiop.patients.models import Patient
from openiop.patients.selectors import (
    patient_chart,
    patient_match,
    patient_search,
    patient_search_shown,
)
from openiop.testing import make_episode, make_patient

if TYPE_CHECKING:
    from collections.abc import Iterable

    from openiop.patients.tests.clinic import Clinic


@pytest.fixture
def people(clinic: Clinic) -> dict[str, Patient]:
    return {
        "zeph": make_patient(
            clinic.site,
            legal_first_name="Zephyrine",
            legal_last_name="Quillfeather",
            preferred_name="Zeph",
            date_of_birth=dt.date(1991, 4, 12),
            mrn="PG000101",
        ),
        "barn": make_patient(
            clinic.site,
            legal_first_name="Barnaby",
            legal_last_name="Thistlewick",
            date_of_birth=dt.date(1985, 11, 30),
            mrn="PG000102",
        ),
        "far": make_patient(
            clinic.other_site,
            legal_first_name="Zephyrine",
            legal_last_name="Farawayson",
            mrn="PG000103",
        ),
    }


def names(qs: Iterable[Patient]) -> list[str]:
    return sorted(p.legal_last_name for p in qs)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quill", ["Quillfeather"]),
        ("ZEPH", ["Quillfeather"]),
        ("zeph quill", ["Quillfeather"]),
        ("1991-04-12", ["Quillfeather"]),
        ("11/30/1985", ["Thistlewick"]),
        ("pg000102", ["Thistlewick"]),
        ("102", ["Thistlewick"]),
        ("", ["Quillfeather", "Thistlewick"]),
        ("nobody", []),
    ],
)
def test_search_by_name_dob_or_mrn_within_the_actors_sites(
    clinic: Clinic, people: dict[str, Patient], query: str, expected: list[str]
) -> None:
    assert names(patient_search(actor=clinic.actor(clinic.intake), query=query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quill", ["Quillfeather"]),
        ("ZEPH", ["Farawayson", "Quillfeather"]),
        ("zeph quill", ["Quillfeather"]),
        ("1991-04-12", ["Quillfeather"]),
        ("11/30/1985", ["Thistlewick"]),
        ("pg000102", ["Thistlewick"]),
        ("102", ["Thistlewick"]),
        ("", ["Farawayson", "Quillfeather", "Thistlewick"]),
        ("nobody", []),
    ],
)
def test_patient_match_reads_the_search_box_on_a_related_patient(
    people: dict[str, Patient], query: str, expected: list[str]
) -> None:
    episodes = Episode.objects.filter(patient_match(query)).select_related("patient")
    for p in people.values():
        make_episode(p)
    assert sorted(e.patient.legal_last_name for e in episodes) == expected
    assert names(Patient.objects.filter(patient_match(query, prefix=""))) == expected


def test_search_across_sites_for_billing(clinic: Clinic, people: dict[str, Patient]) -> None:
    found = patient_search(actor=clinic.actor(clinic.billing), query="zephyrine")
    assert names(found) == ["Farawayson", "Quillfeather"]


def test_search_is_audited_with_the_patients_shown(
    clinic: Clinic, people: dict[str, Patient]
) -> None:
    actor = clinic.actor(clinic.intake)
    shown = list(patient_search(actor=actor, query="zeph"))
    patient_search_shown(actor=actor, query="zeph", patients=shown)
    entry = AuditEntry.objects.get(action="search")
    assert entry.patient_id == people["zeph"].pk
    assert list(entry.patients.values_list("patient_id", flat=True)) == [people["zeph"].pk]


def test_chart_for_intake_has_no_clinical_part(clinic: Clinic, people: dict[str, Patient]) -> None:
    make_episode(people["zeph"])
    chart = patient_chart(actor=clinic.actor(clinic.intake), patient_id=people["zeph"].pk)
    assert chart.episodes is not None
    assert chart.alerts is None
    assert not chart.shows_clinical
    entry = AuditEntry.objects.get(action="view", object_type="patient_chart")
    assert entry.patient_id == people["zeph"].pk
    assert entry.detail["sections"] == ["demographics", "contacts", "episodes"]


def test_chart_for_clinician_has_alerts(clinic: Clinic, people: dict[str, Patient]) -> None:
    episode = make_episode(people["zeph"])
    Alert.objects.create(
        patient=people["zeph"], episode=episode, kind="below_hours", message="6.0 h", dedupe_key="w"
    )
    chart = patient_chart(actor=clinic.actor(clinic.clinician), patient_id=people["zeph"].pk)
    assert [a.message for a in chart.alerts or []] == ["6.0 h"]
    assert chart.has_part2_records


def test_chart_unknown_id_is_not_found(clinic: Clinic) -> None:
    with pytest.raises(NotFound):
        patient_chart(actor=clinic.actor(clinic.clinician), patient_id=999999)


def test_chart_of_another_sites_patient_is_refused_and_audited(
    clinic: Clinic, people: dict[str, Patient]
) -> None:
    with pytest.raises(NotPermitted):
        patient_chart(actor=clinic.actor(clinic.clinician), patient_id=people["far"].pk)
    assert AuditEntry.objects.filter(
        patient_id=people["far"].pk, outcome="denied", user_id=clinic.clinician.pk
    ).exists()


def test_patient_has_part2_records(clinic: Clinic, people: dict[str, Patient]) -> None:
    make_episode(people["zeph"], focus="mental_health")
    assert not patient_has_part2_records(people["zeph"])
    make_episode(people["barn"], focus="substance_use")
    assert patient_has_part2_records(people["barn"])
