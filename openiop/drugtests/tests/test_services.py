"""Drug test services: results reconciled with the medication list, flags answered by the
prescriber, the audited random draw, the lab file row by row; role access throughout."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.core.part2 import unmarked_part2_rows
from openiop.drugtests import domain, selectors, services
from openiop.drugtests.models import (
    DrugTestOrder,
    DrugTestResult,
    RandomDraw,
    ReconciliationFlag,
)
from openiop.drugtests.tests.conftest import Clinic
from openiop.medications import services as med_services

A, OUT = domain.Analyte, domain.Outcome
COLLECTED = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def on_bup(clinic: Clinic, first: str = "Pimpernel", **kw: object) -> Any:
    episode = clinic.patient(first, **kw)  # type: ignore[arg-type]
    med_services.medication_add(
        patient=episode.patient,
        catalog_key="buprenorphine",
        name="",
        dose="16 mg",
        route="sublingual",
        frequency="daily",
        source="here",
        start_date=dt.date(2026, 2, 1),
        by=clinic.actor(Role.PRESCRIBER),
    )
    return episode


def test_results_are_reconciled_into_flags_for_the_prescriber(clinic: Clinic) -> None:
    episode = on_bup(clinic, focus="substance_use")
    order = services.order_create(
        patient=episode.patient, kind="poc_cup", reason="scheduled", by=clinic.actor(Role.CLINICIAN)
    )
    flags = services.results_record(
        order=order,
        results=[
            domain.AnalyteResult(A.BUPRENORPHINE, OUT.NEGATIVE),
            domain.AnalyteResult(A.COCAINE, OUT.POSITIVE),
            domain.AnalyteResult(A.FENTANYL, OUT.NEGATIVE),
        ],
        validity="valid",
        observed=True,
        collected_at=COLLECTED,
        by=clinic.actor(Role.CLINICIAN),
    )
    assert sorted((f.kind, f.analyte) for f in flags) == [
        ("expected_absent", "buprenorphine"),
        ("unexpected", "cocaine"),
    ]
    order.refresh_from_db()
    assert (order.status, order.observed, order.validity) == ("resulted", True, "valid")
    assert DrugTestResult.objects.filter(order=order).count() == 3
    for model in (DrugTestOrder, DrugTestResult, ReconciliationFlag):
        assert model.objects.filter(part2=True).exists()
        assert not unmarked_part2_rows(model).exists()
    entry = AuditEntry.objects.get(object_type="drug_test_result")
    assert entry.detail["flags"] == 2 and entry.patient_id == episode.patient_id
    with pytest.raises(Conflict):  # a second entry of the same test
        services.results_record(
            order=order,
            results=[domain.AnalyteResult(A.COCAINE, OUT.NEGATIVE)],
            validity="valid",
            observed=False,
            collected_at=COLLECTED,
            by=clinic.actor(Role.CLINICIAN),
        )


def test_a_medication_stopped_before_the_collection_is_not_expected(clinic: Clinic) -> None:
    episode = on_bup(clinic)
    med = episode.patient.medications.get()
    med_services.medication_stop(
        medication=med,
        stop_date=dt.date(2026, 2, 20),
        reason="Tapered",
        by=clinic.actor(Role.PRESCRIBER),
    )
    order = services.order_create(
        patient=episode.patient, kind="poc_cup", reason="clinical", by=clinic.actor(Role.PRESCRIBER)
    )
    flags = services.results_record(
        order=order,
        results=[domain.AnalyteResult(A.BUPRENORPHINE, OUT.NEGATIVE)],
        validity="valid",
        observed=False,
        collected_at=COLLECTED,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert flags == []


def test_an_invalid_specimen_gives_one_flag_and_no_conclusion(clinic: Clinic) -> None:
    episode = on_bup(clinic)
    order = services.order_create(
        patient=episode.patient, kind="poc_cup", reason="random", by=clinic.actor(Role.PRESCRIBER)
    )
    flags = services.results_record(
        order=order,
        results=[],
        validity="substituted",
        observed=False,
        collected_at=COLLECTED,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert [f.kind for f in flags] == ["invalid_specimen"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CLINICIAN, True),
        (Role.PRESCRIBER, True),
        (Role.CASE_MANAGER, False),
        (Role.DIRECTOR, False),
        (Role.BILLING, False),
        (Role.INTAKE, False),
    ],
)
def test_who_orders_tests(clinic: Clinic, role: Role, allowed: bool) -> None:
    episode = clinic.patient()

    def call() -> DrugTestOrder:
        return services.order_create(
            patient=episode.patient, kind="breathalyzer", reason="clinical", by=clinic.actor(role)
        )

    if allowed:
        call()
    else:
        with pytest.raises(NotPermitted):
            call()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CLINICIAN, True),
        (Role.PRESCRIBER, True),
        (Role.DIRECTOR, True),
        (Role.CASE_MANAGER, False),
        (Role.BILLING, False),
        (Role.INTAKE, False),
        (Role.AUDITOR, False),
    ],
)
def test_who_reads_results(clinic: Clinic, role: Role, allowed: bool) -> None:
    episode = clinic.patient()
    if allowed:
        data = selectors.patient_tests(actor=clinic.actor(role), patient_id=episode.patient_id)
        assert data.patient == episode.patient
    else:
        with pytest.raises(NotPermitted):
            selectors.patient_tests(actor=clinic.actor(role), patient_id=episode.patient_id)
        assert AuditEntry.objects.filter(
            outcome="denied", patient_id=episode.patient_id, user_id=clinic.users[role].pk
        ).exists()


def _flagged(clinic: Clinic) -> ReconciliationFlag:
    episode = on_bup(clinic)
    order = services.order_create(
        patient=episode.patient, kind="poc_cup", reason="scheduled", by=clinic.actor(Role.CLINICIAN)
    )
    (flag,) = services.results_record(
        order=order,
        results=[domain.AnalyteResult(A.BUPRENORPHINE, OUT.NEGATIVE)],
        validity="valid",
        observed=False,
        collected_at=COLLECTED,
        by=clinic.actor(Role.CLINICIAN),
    )
    return ReconciliationFlag.objects.select_related("order__patient").get(pk=flag.pk)


def test_only_the_prescriber_answers_a_flag_and_a_repeat_test_is_ordered(clinic: Clinic) -> None:
    flag = _flagged(clinic)
    with pytest.raises(NotPermitted):
        services.flag_respond(
            flag=flag, kind="discussion", text="Talked.", by=clinic.actor(Role.CLINICIAN)
        )
    with pytest.raises(RuleViolation):
        services.flag_respond(
            flag=flag, kind="repeat_test", text=" ", by=clinic.actor(Role.PRESCRIBER)
        )
    answered = services.flag_respond(
        flag=flag,
        kind="repeat_test",
        text="Says the film dissolved badly; repeat observed next week.",
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert answered.status == "responded"
    repeat = DrugTestOrder.objects.get(reason="repeat")
    assert repeat.patient_id == flag.order.patient_id and repeat.status == "ordered"
    # The episode stays as it was: a result never discharges.
    flag.order.episode.refresh_from_db()
    assert flag.order.episode.status == "active"
    with pytest.raises(Conflict):
        services.flag_respond(
            flag=flag, kind="discussion", text="again", by=clinic.actor(Role.PRESCRIBER)
        )


def test_the_flag_list_shows_open_flags_and_audits_each_patient(clinic: Clinic) -> None:
    flag = _flagged(clinic)
    rows = selectors.flag_page(actor=clinic.actor(Role.PRESCRIBER)).object_list
    assert list(rows) == [flag]
    entry = AuditEntry.objects.filter(object_type="drug_test_flags").latest("id")
    assert list(entry.patients.values_list("patient_id", flat=True)) == [flag.order.patient_id]
    none = selectors.flag_page(actor=clinic.actor(Role.PRESCRIBER), q="Nobodyhere")
    assert list(none.object_list) == []
    elsewhere = selectors.flag_page(actor=clinic.actor(Role.PRESCRIBER), site_id=-1)
    assert list(elsewhere.object_list) == []
    with pytest.raises(NotPermitted):
        selectors.flag_page(actor=clinic.actor(Role.CASE_MANAGER))


def test_the_random_draw_is_stored_with_its_seed_in_the_audit_log(clinic: Clinic) -> None:
    episodes = [clinic.patient(f"Wren{i}") for i in range(10)]
    clinic.patient("Gone", status="discharged")
    week = dt.date(2026, 3, 4)  # a Wednesday: the week of Monday 2 March
    draw = services.random_draw_run(
        site=clinic.site,
        week=week,
        rate=Decimal("0.3"),
        by=clinic.actor(Role.PRESCRIBER),
        seed="fixed-seed",
    )
    population = sorted(e.patient_id for e in episodes)
    assert draw.week_start == dt.date(2026, 3, 2)
    assert draw.population == population
    assert draw.drawn == domain.draw(population, dt.date(2026, 3, 2), "fixed-seed", Decimal("0.3"))
    assert len(draw.drawn) == 3
    orders = DrugTestOrder.objects.filter(draw=draw)
    assert sorted(o.patient_id for o in orders) == draw.drawn
    assert {o.reason for o in orders} == {"random"}
    entry = AuditEntry.objects.get(object_type="drug_test_draw")
    assert entry.detail["seed"] == "fixed-seed" and entry.detail["week"] == "2026-03-02"
    assert sorted(entry.patients.values_list("patient_id", flat=True)) == draw.drawn
    with pytest.raises(RuleViolation) as err:
        services.random_draw_run(
            site=clinic.site, week=week, rate=Decimal("0.3"), by=clinic.actor(Role.PRESCRIBER)
        )
    assert err.value.code == "draw_exists"
    assert RandomDraw.objects.count() == 1
    with pytest.raises(NotPermitted):
        services.random_draw_run(
            site=clinic.site,
            week=dt.date(2026, 3, 9),
            rate=Decimal("0.3"),
            by=clinic.actor(Role.CASE_MANAGER),
        )


def test_an_unseeded_draw_gets_a_fresh_secret_seed(clinic: Clinic) -> None:
    clinic.patient()
    a = services.random_draw_run(
        site=clinic.site,
        week=dt.date(2026, 3, 2),
        rate=Decimal("1"),
        by=clinic.actor(Role.PRESCRIBER),
    )
    b = services.random_draw_run(
        site=clinic.site,
        week=dt.date(2026, 3, 9),
        rate=Decimal("1"),
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert len(a.seed) == 32 and a.seed != b.seed


# --- the lab file ------------------------------------------------------------------------------


def lab_file(mrn_a: str, mrn_b: str) -> str:
    return (
        "mrn,accession,collected_on,validity,observed,buprenorphine,fentanyl,cocaine\n"
        f"{mrn_a},ACC-1,2026-03-03,valid,yes,neg,neg,pos\n"  # posts, two flags
        f"{mrn_b},ACC-2,2026-03-03,valid,no,pos,maybe,neg\n"  # bad value: refused whole
        "LH999999,ACC-3,2026-03-03,valid,no,pos,,\n"  # unknown MRN
        f"{mrn_b},ACC-4,2099-01-01,valid,no,pos,,\n"  # collected in the future
        f"{mrn_b},ACC-5,2026-03-03,dilute,no,pos,neg,\n"  # posts, no flag
    )


def test_the_lab_import_dry_run_posts_nothing_and_reports_every_row(clinic: Clinic) -> None:
    a, b = on_bup(clinic, "Ash"), on_bup(clinic, "Birch")
    report = services.lab_import(
        site=clinic.site,
        text=lab_file(a.patient.mrn, b.patient.mrn),
        file_name="lab.csv",
        dry_run=True,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert [(r.line, r.outcome) for r in report.rows] == [
        (2, "would post"),
        (3, "refused"),
        (4, "refused"),
        (5, "refused"),
        (6, "would post"),
    ]
    assert report.rows[1].reasons == ["fentanyl is “maybe”, not pos or neg"]
    assert report.rows[2].reasons == ["no patient with this MRN at this site"]
    assert report.rows[3].reasons == ["collected_on is in the future"]
    assert not DrugTestOrder.objects.exists() and not DrugTestResult.objects.exists()
    entry = AuditEntry.objects.get(object_type="drug_test_import")
    assert entry.action == "view" and entry.detail["dry_run"] is True


def test_the_lab_import_posts_good_rows_whole_and_never_half_a_bad_one(clinic: Clinic) -> None:
    a, b = on_bup(clinic, "Ash", focus="substance_use"), on_bup(clinic, "Birch")
    report = services.lab_import(
        site=clinic.site,
        text=lab_file(a.patient.mrn, b.patient.mrn),
        file_name="lab.csv",
        dry_run=False,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert [r.outcome for r in report.rows] == ["posted", "refused", "refused", "refused", "posted"]
    assert [r.flags for r in report.rows] == [2, 0, 0, 0, 0]
    assert sorted(DrugTestOrder.objects.values_list("accession", flat=True)) == ["ACC-1", "ACC-5"]
    # The refused row of Birch's left nothing behind: neither its order nor any result.
    assert not DrugTestResult.objects.filter(order__accession="ACC-2").exists()
    first = DrugTestOrder.objects.get(accession="ACC-1")
    assert first.part2 and first.observed and first.from_lab_file == "lab.csv"
    assert first.collected_at is not None
    assert first.collected_at.astimezone(clinic.site.tz).date() == dt.date(2026, 3, 3)
    # The same file again: the posted rows are refused, not doubled.
    again = services.lab_import(
        site=clinic.site,
        text=lab_file(a.patient.mrn, b.patient.mrn),
        file_name="lab.csv",
        dry_run=False,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert again.rows[0].reasons == ["this accession number already has results"]
    assert DrugTestResult.objects.count() == 3 + 2


def test_the_lab_import_fills_an_ordered_test_with_the_same_accession(clinic: Clinic) -> None:
    a = on_bup(clinic, "Ash")
    order = services.order_create(
        patient=a.patient,
        kind="lab_panel",
        reason="scheduled",
        accession="ACC-1",
        by=clinic.actor(Role.PRESCRIBER),
    )
    text = (
        "mrn,accession,collected_on,validity,buprenorphine\n"
        f"{a.patient.mrn},ACC-1,2026-03-03,valid,pos\n"
    )
    report = services.lab_import(
        site=clinic.site,
        text=text,
        file_name="f.csv",
        dry_run=False,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert report.rows[0].outcome == "posted"
    order.refresh_from_db()
    assert order.status == "resulted" and DrugTestOrder.objects.count() == 1


def test_a_lab_file_with_a_bad_header_reads_no_row(clinic: Clinic) -> None:
    report = services.lab_import(
        site=clinic.site,
        text="mrn,accession,validity\nx,y,valid\n",
        file_name="bad.csv",
        dry_run=False,
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert report.errors and report.rows == []


def test_the_lab_import_is_refused_to_case_managers(clinic: Clinic) -> None:
    with pytest.raises(NotPermitted):
        services.lab_import(
            site=clinic.site,
            text="",
            file_name="x.csv",
            dry_run=True,
            by=clinic.actor(Role.CASE_MANAGER),
        )
