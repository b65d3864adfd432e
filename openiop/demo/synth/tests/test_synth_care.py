"""`openiop synth` adds care around the groups (issue 18, point 6): resources, referrals, tasks,
rides, medications, MAT with clinic doses, drug tests whose flags are the app's own reconciliation,
each row marked Part 2 as its episode; and `openiop synth --add care` adds the same rows to a
network built without them, once."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F, Q

from openiop.casemgmt.models import CaseTask, CommunityResource, Referral, SupportRequest
from openiop.core.part2 import part2_marked_models
from openiop.demo.synth.care import CARE_TABLES
from openiop.drugtests import domain as tests_domain
from openiop.drugtests.models import DrugTestOrder, DrugTestResult, ReconciliationFlag
from openiop.drugtests.services import expected_on
from openiop.episodes.models import Episode
from openiop.medications.models import (
    AdherenceNote,
    Allergy,
    DoseAdministration,
    MatEpisode,
    Medication,
)
from openiop.programs.models import Site

pytestmark = pytest.mark.django_db

TODAY = "2026-11-24"
SIZE = ("--sites", "2", "--patients", "220", "--weeks", "6", "--seed", "4", "--today", TODAY)


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("synth", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_care_rows_follow_the_episodes_and_the_apps_rules() -> None:
    output = run(*SIZE)
    today = dt.date.fromisoformat(TODAY)
    assert "drugtests_reconciliationflag" in output and "medications_matepisode" in output
    counts = {m: m._default_manager.count() for m in CARE_TABLES}
    assert all(counts.values()), counts
    assert (
        counts[CommunityResource] == 2 * CommunityResource.objects.values("name").distinct().count()
    )

    # Part 2: every row carries its episode's protection, as the services set it.
    for model in part2_marked_models():
        if model not in CARE_TABLES:
            continue
        path = f"{model.part2_episode_path}__part2_protected"
        rows = model._default_manager
        assert not rows.filter(Q(**{path: True}, part2=False)).exists(), model
        assert not rows.filter(Q(**{path: False}, part2=True)).exists(), model

    # MAT: substance-use care only, a share of it; open only in an active episode; at most one open
    # per patient and kind (the table's constraint); methadone is dispensed elsewhere.
    mats = MatEpisode.objects.select_related("episode")
    assert not mats.filter(episode__part2_protected=False).exists()
    sud = Episode.objects.filter(part2_protected=True, admission_date__lt=today).count()
    assert 0.15 * sud < mats.count() < 0.6 * sud
    assert not mats.filter(ended_on__isnull=True).exclude(episode__status="active").exists()
    assert set(mats.values_list("kind", flat=True)) >= {"buprenorphine", "naltrexone_xr"}
    assert all(m.medication_id for m in mats)
    assert not DoseAdministration.objects.filter(mat__kind="methadone_elsewhere").exists()
    doses = DoseAdministration.objects.select_related("mat")
    for dose in doses:
        day = dose.given_at.date()
        assert dose.mat.started_on <= day < today
        assert dose.mat.ended_on is None or day <= dose.mat.ended_on
        assert bool(dose.injection_site) == (dose.mat.kind == "naltrexone_xr")
    assert Medication.objects.exclude(rxnorm_code="").exists()
    assert not Medication.objects.filter(stop_date__lt=F("start_date")).exists()
    assert Allergy.objects.exists() and AdherenceNote.objects.exists()

    # Drug tests: only in substance-use care, within the stay, never collected from today on.
    orders = DrugTestOrder.objects.select_related("episode__site")
    assert not orders.filter(episode__part2_protected=False).exists()
    assert not orders.filter(collected_at__date__gte=TODAY).exists()
    assert not orders.filter(collected_at__date__lt=F("episode__admission_date")).exists()
    assert set(orders.values_list("kind", flat=True)) == {"poc_cup", "lab_panel", "breathalyzer"}
    assert not orders.filter(status="resulted", collected_at__isnull=True).exists()
    # Each resulted order's flags are what the app's reconciliation makes of its stored results
    # and the patient's medication list on the day, as drugtests.services would have stored them.
    flags_by_order: dict[int, Counter[tuple[str, str]]] = {}
    for order_id, kind, analyte in ReconciliationFlag.objects.values_list(
        "order_id", "kind", "analyte"
    ):
        flags_by_order.setdefault(order_id, Counter())[(kind, analyte)] += 1
    results: dict[int, list[tests_domain.AnalyteResult]] = {}
    for order_id, analyte, outcome in DrugTestResult.objects.values_list(
        "order_id", "analyte", "outcome"
    ):
        results.setdefault(order_id, []).append(
            tests_domain.AnalyteResult(tests_domain.Analyte(analyte), tests_domain.Outcome(outcome))
        )
    kinds: Counter[str] = Counter()
    for order in orders.filter(status="resulted"):
        assert order.collected_at is not None
        day = order.collected_at.astimezone(order.episode.site.tz).date()
        findings = tests_domain.reconcile(
            results.get(order.pk, []),
            tests_domain.Validity(order.validity),
            expected_on(order.patient_id, day),
        )
        wanted = Counter(
            (f.kind.value, f.analyte.value if f.analyte else "") for f in findings if f.needs_review
        )
        assert flags_by_order.get(order.pk, Counter()) == wanted, order.pk
        kinds.update(k for k, _ in wanted.elements())
    assert {"expected_absent", "unexpected", "invalid_specimen"} <= set(kinds)
    # Most flags were answered; the recent ones of patients still in care wait for the prescriber.
    flags = ReconciliationFlag.objects.all()
    assert flags.filter(status="open").exists() and flags.filter(status="responded").exists()
    assert not flags.filter(status="responded", response_kind="").exists()
    assert not flags.filter(status="open").exclude(order__episode__status="active").exists()

    # Case management: referrals and tasks of the episode's case manager; rides to sessions of
    # the patient's track within the stay, shown on the roster.
    assert not Referral.objects.exclude(resource__site=F("episode__site")).exists()
    assert not CaseTask.objects.exclude(owner=F("episode__case_manager")).exists()
    tasks = CaseTask.objects.all()
    assert tasks.filter(done_at__isnull=True, due_on__lt=TODAY).exists()  # overdue ones
    assert tasks.filter(done_at__isnull=True, due_on__gte=TODAY).exists()
    requests = SupportRequest.objects.all()
    assert not requests.exclude(
        episode__enrollments__track=F("session__track"),
    ).exists()
    assert not requests.filter(session__date__lt=F("episode__admission_date")).exists()
    assert requests.filter(session__date__gte=TODAY, kind="transportation").exists()


def _fingerprint() -> dict[str, Any]:
    """The care rows without their ids, per table (a second build numbers them afresh)."""
    return {
        "mats": sorted(
            MatEpisode.objects.values_list("patient_id", "kind", "started_on", "ended_on")
        ),
        "meds": sorted(
            Medication.objects.values_list("patient_id", "name", "source", "start_date")
        ),
        "orders": sorted(
            DrugTestOrder.objects.values_list("patient_id", "kind", "status", "collected_at")
        ),
        "results": Counter(DrugTestResult.objects.values_list("analyte", "outcome")),
        "flags": Counter(ReconciliationFlag.objects.values_list("kind", "analyte", "status")),
        "tasks": sorted(CaseTask.objects.values_list("owner_id", "patient_id", "due_on", "title")),
        "requests": sorted(SupportRequest.objects.values_list("session_id", "patient_id", "kind")),
        "referrals": sorted(Referral.objects.values_list("patient_id", "status", "follow_up_on")),
        "counts": {m._meta.label: m._default_manager.count() for m in CARE_TABLES},
    }


def test_add_care_fills_a_network_built_without_it_the_same_way_and_only_once() -> None:
    run(*SIZE)
    built = _fingerprint()
    assert built["counts"]["drugtests.ReconciliationFlag"] > 0
    # A network as it was before the care step: its care tables empty.
    for model in reversed(CARE_TABLES):
        model._default_manager.all().delete()
    assert run("--add", "care", "--seed", "4", "--today", TODAY).count("Synthetic Network") == 1
    assert _fingerprint() == built
    again = run("--add", "care", "--seed", "4", "--today", TODAY)
    assert "nothing to add" in again
    assert _fingerprint()["counts"] == built["counts"]
    assert Site.objects.count() == 2
