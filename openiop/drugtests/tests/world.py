"""For web/tests/conftest.py's world: a medication, a MAT episode, a resulted drug test with a
flag for the prescriber, so the walks of every page cover the medication and drug test pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from openiop.drugtests.models import DrugTestOrder, DrugTestResult, ReconciliationFlag
from openiop.medications.models import MatEpisode, Medication


def world_medication_ids(patient: Any, episode: Any, users: dict[str, Any]) -> dict[str, int]:
    prescriber = users["prescriber"]
    med = Medication.objects.create(
        patient=patient,
        episode=episode,
        catalog_key="buprenorphine_naloxone",
        name="Buprenorphine/naloxone",
        analyte="buprenorphine",
        dose="8 mg/2 mg",
        route="sublingual",
        frequency="once a day",
        source="here",
        start_date=dt.date(2026, 1, 5),
        recorded_by=prescriber,
        part2=episode.part2_protected,
    )
    mat = MatEpisode.objects.create(
        patient=patient,
        episode=episode,
        kind="buprenorphine",
        medication=med,
        started_on=dt.date(2026, 1, 5),
        started_by=prescriber,
        part2=episode.part2_protected,
    )
    at = timezone.now() - dt.timedelta(days=1)
    order = DrugTestOrder.objects.create(
        patient=patient,
        episode=episode,
        kind="poc_cup",
        reason="scheduled",
        status="resulted",
        ordered_by=prescriber,
        ordered_at=at,
        collected_at=at,
        validity="valid",
        resulted_at=at,
        resulted_by=prescriber,
        part2=episode.part2_protected,
    )
    DrugTestResult.objects.create(
        order=order, analyte="buprenorphine", outcome="negative", part2=order.part2
    )
    flag = ReconciliationFlag.objects.create(
        order=order,
        kind="expected_absent",
        analyte="buprenorphine",
        message="Buprenorphine was not found in this sample although it is prescribed; worth a "
        "conversation.",
        part2=order.part2,
    )
    return {
        "medication_id": med.pk,
        "mat_id": mat.pk,
        "drug_test_id": order.pk,
        "drug_test_flag_id": flag.pk,
    }
