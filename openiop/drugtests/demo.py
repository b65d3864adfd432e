"""The medications and drug testing block of the demo clinic: MAT for some patients in
substance-use care, a few other medications, doses given in the clinic, tests with results (one
of which the prescriber is asked to look at) and this week's random draw. Called by `openiop demo`
after the consents block; writes through the services, as in real use. Fictional people only.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.drugtests import domain, services
from openiop.episodes.models import Episode
from openiop.medications import services as med_services

A, OUT = domain.Analyte, domain.Outcome


def build_medications_demo(builder: Any) -> None:
    """Add the demo's medication lists, MAT episodes, doses, drug tests and random draws (uses the
    builder's organization, sites, staff, today and random generator)."""
    rng = random.Random(builder.rng.getrandbits(32))
    nurse = Actor.cli(builder.staff["prescriber"], "demo")
    episodes = list(
        Episode.objects.filter(
            site__organization=builder.org, part2_protected=True, status="active"
        )
        .select_related("patient", "site")
        .order_by("admission_date", "id")
    )
    tests = flags = 0
    for n, episode in enumerate(episodes):
        patient, tz = episode.patient, episode.site.tz
        start = episode.admission_date
        on_bup = n % 3 == 0
        if on_bup:
            med = med_services.medication_add(
                patient=patient,
                catalog_key="buprenorphine_naloxone",
                name="",
                dose="8 mg/2 mg",
                route="sublingual",
                frequency="twice a day",
                source="here",
                prescriber=builder.staff["prescriber"].get_full_name(),
                start_date=start,
                by=nurse,
            )
            mat = med_services.mat_start(
                patient=patient, kind="buprenorphine", started_on=start, medication=med, by=nurse
            )
            given = min(dt.datetime.combine(builder.today, dt.time(9, 15), tzinfo=tz), now())
            med_services.dose_record(
                mat=mat,
                dose="8 mg/2 mg",
                lot=f"BN{rng.randint(1000, 9999)}",
                given_at=given,
                by=nurse,
            )
        elif n % 3 == 1:
            med_services.medication_add(
                patient=patient,
                catalog_key="sertraline",
                name="",
                dose="50 mg",
                route="oral",
                frequency="once a day",
                source="elsewhere",
                prescriber="Dr. Rosamund Thistlewood (fictional)",
                start_date=start - dt.timedelta(days=90),
                by=nurse,
            )
        if n == 1:
            mat = med_services.mat_start(
                patient=patient, kind="naltrexone_xr", started_on=start, by=nurse
            )
            med_services.dose_record(
                mat=mat,
                dose="380 mg",
                lot="XR2291",
                injection_site="right_gluteal",
                given_at=dt.datetime.combine(start, dt.time(10, 0), tzinfo=tz),
                by=nurse,
            )
            med_services.allergy_add(
                patient=patient,
                substance="Penicillin",
                reaction="Hives",
                severity="moderate",
                by=nurse,
            )
        for week in (2, 1):
            collected = dt.datetime.combine(
                builder.today - dt.timedelta(weeks=week), dt.time(11, 0), tzinfo=tz
            )
            if collected.date() < start:
                continue
            order = services.order_create(
                patient=patient, kind="poc_cup", reason="scheduled", by=nurse
            )
            found_bup = on_bup and not (n == 0 and week == 1)  # one is asked about
            results = [
                domain.AnalyteResult(A.BUPRENORPHINE, OUT.POSITIVE if found_bup else OUT.NEGATIVE),
                domain.AnalyteResult(A.FENTANYL, OUT.NEGATIVE),
                domain.AnalyteResult(A.COCAINE, OUT.NEGATIVE),
                domain.AnalyteResult(A.ETG, OUT.NEGATIVE),
            ]
            made = services.results_record(
                order=order,
                results=results,
                validity="valid",
                observed=week == 1,
                collected_at=collected,
                by=nurse,
            )
            tests += 1
            flags += len(made)
    draws = 0
    for site in (builder.riverbend, builder.cedar):
        services.random_draw_run(
            site=site,
            week=builder.today,
            rate=Decimal("0.25"),
            seed=f"{rng.getrandbits(64):016x}",
            by=nurse,
        )
        draws += 1
    builder.out(
        f"  medications and MAT for {len(episodes)} patients in substance-use care; "
        f"{tests} drug tests ({flags} for the prescriber to review), {draws} random draws"
    )
