"""The demo clinic's revenue cycle (issue 16, point 8): what a billing office would have after a
month of work, done through the same services as the billing pages.

1. Set-up: each site's billing provider, each payer's claim set-up, each program's claim set-up
   and its payers' billing rules and fees (the configuration of billing.services.fee_schedules
   and claim_setup; the figures are the demo's own, fictional).
2. The patients in care (active or on hold) get their insurance: the commercial plan for most
   adults, one adult on Medicare (with a physician's certification), Medicaid for the
   adolescents; every fifth adult and the discharged pay for themselves. A coverage is recorded
   on an inquiry (billing.services.coverage_add), so each insured patient gets one, linked to
   them. Their episodes without a treatment plan get a draft plan with the diagnosis.
3. Charges are posted from the demo's attendance (charges_post) for the six past weeks.
4. Authorizations on the commercial and Medicaid coverages (one almost used up: the 80% alert,
   one patient without any: a claim that cannot be readied), and the alert job's run.
5. Claims for last month (claims_build), readied (claim_mark_ready) unless the scrubber found an
   error, most sent (claims_export), and an 835 for some of the commercial ones
   (billing.remittance_sample) imported (remittance_import): paid, partially paid and denied.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from typing import Any

from openiop.admissions import services as admissions
from openiop.billing import services
from openiop.billing.domain.charges import CMS_PSYCHOTHERAPY_TIME_BANDS
from openiop.billing.domain.claims import npi_is_valid
from openiop.billing.models import Charge, Claim, Payer
from openiop.billing.remittance_sample import Answer, sample_835
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.errors import RuleViolation
from openiop.episodes.models import Episode
from openiop.programs.models import Enrollment, Track
from openiop.treatment import services as plan_services
from openiop.treatment.models import TreatmentPlan

# Diagnoses for the draft plans, by the episode's focus (fictional patients; real ICD-10-CM).
DIAGNOSES = {
    "substance_use": ("Alcohol use disorder, moderate", "F10.20", "I drink to get through the day."),
    "co_occurring": ("Opioid use disorder, moderate", "F11.20", "I want my life back."),
    "mental_health": ("Major depressive disorder, recurrent, moderate", "F33.1", "Everything is heavy."),
}  # fmt: skip


def with_check_digit(first_nine: str) -> str:
    """A ten-digit NPI from nine digits and the Luhn check digit (a fictional number)."""
    return next(f"{first_nine}{d}" for d in range(10) if npi_is_valid(f"{first_nine}{d}"))


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the calendar month before `today`'s."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


class RevenueCycleDemo:
    def __init__(self, builder: Any, payers: dict[str, Payer]) -> None:
        self.b = builder
        self.payers = payers
        self.director: Actor = builder.actor
        self.billing = Actor.cli(builder.staff["billing"], "demo")
        self.today: dt.date = builder.today
        self.npi = with_check_digit("192837465")
        self.attending_npi = with_check_digit("182736455")

    def build(self) -> None:
        yesterday = self.today - dt.timedelta(days=1)
        if yesterday >= local_today(self.b.riverbend.tz):
            # Charges are posted for days that are over (charges_post): a demo dated in the
            # future has none to post yet.
            self.b.out("  revenue cycle: skipped (the demo's today is not over yet)")
            return
        self.configure()
        insured = self.insure()
        posting = services.charges_post(
            by=self.billing, period_start=self.b.start, period_end=yesterday
        )
        self.authorize(insured)
        services.authorization_alerts_raise(by=Actor.system("demo"), today=self.today)
        states = self.claims()
        self.b.out(
            f"  revenue cycle: {len(insured)} insured patients, {posting.charges} charges, "
            f"claims {', '.join(f'{n} {s}' for s, n in sorted(states.items()))}"
        )

    # --- 1. set-up ---------------------------------------------------------------------------
    def configure(self) -> None:
        for n, site in enumerate((self.b.riverbend, self.b.cedar)):
            services.billing_provider_save(
                by=self.director,
                site=site,
                values={
                    "name": f"LANTERN HILL {site.name.upper()}",
                    "npi": with_check_digit(f"19283746{n}"),
                    "ein": f"99000000{n + 1}",
                    "taxonomy": "261QM0801X",
                    "address_line": site.address,
                    "city": "Faketown",
                    "state": "ZZ",
                    "postal_code": "000000000",
                    "submitter_name": "LANTERN HILL BILLING",
                    "submitter_id": "LANTERNHILL",
                    "contact_name": "Prudence Abacus",
                    "contact_phone": "5555550142",
                    "sender_qualifier": "ZZ",
                    "sender_id": "LANTERNHILL",
                    "application_sender_code": "LANTERNHILL",
                    "production": False,
                },
            )
        common = {
            "receiver_qualifier": "ZZ",
            "assignment": "A",
            "benefits_assignment": "Y",
            "release_of_information": "Y",
            "provider_signature_on_file": True,
        }
        for kind, period, indicator, receiver in (
            ("commercial", "month", "CI", "BLUEBELL"),
            ("medicaid", "month", "MC", "STATEMEDICAID"),
        ):
            services.payer_claim_setup_save(
                by=self.director,
                payer=self.payers[kind],
                values={
                    **common,
                    "period": period,
                    "sequential": False,
                    "authorization_required": True,
                    "certification_required": False,
                    "patient_status": "01",
                    "claim_filing_indicator": indicator,
                    "receiver_name": f"{receiver} (FICTIONAL)",
                    "receiver_id": receiver,
                    "receiver_interchange_id": receiver,
                    "application_receiver_code": receiver,
                },
            )
        # Medicare: sequential claims, one a week ("daily/weekly/monthly" [domain.md 2.1]).
        services.payer_claim_setup_save(
            by=self.director,
            payer=self.payers["medicare"],
            values={
                **common,
                "period": "week",
                "sequential": True,
                "authorization_required": False,
                "certification_required": True,
                "patient_status": "",
                "claim_filing_indicator": "MA",
                "receiver_name": "MEDICARE DEMO CONTRACTOR",
                "receiver_id": "MCRDEMO",
                "receiver_interchange_id": "MCRDEMO",
                "application_receiver_code": "MCRDEMO",
            },
        )
        prescriber = self.b.staff["prescriber"]
        for track in self.b.tracks:
            services.track_claim_setup_save(
                by=self.director,
                track=track,
                claim_form="837I",
                values={
                    "facility_code": "13",  # the demo clinic bills as a hospital outpatient dept
                    "place_of_service": "",
                    "rendering_npi_required": False,
                    "condition_codes": "",
                    "provider_last_name": prescriber.last_name,
                    "provider_first_name": prescriber.first_name,
                    "provider_npi": self.attending_npi,
                    "provider_taxonomy": "2084P0800X",
                },
            )
            self.rules(track)

    def rules(self, track: Track) -> None:
        """How each payer bills `track`: per diem for commercial (H0015 on adult tracks), Medicaid
        (S9480 for adolescents) and self-pay, a line per service for Medicare; the payer's own
        threshold of 3 hours a day [domain.md 2.3]. The rates are the demo's own."""
        start = self.b.start - dt.timedelta(days=60)
        adult = track.age_band == "adult"
        kinds = {"skills": "group", "holistic": "activity_therapy"}
        plans: list[tuple[str, dict[str, Any], dict[str, str]]] = [
            (
                "self_pay",
                {"mode": "per_diem", "per_diem_code": "H0015", "revenue_code": "0906"},
                {"H0015": "250.00"},
            )
        ]
        if adult:
            plans += [
                (
                    "commercial",
                    {"mode": "per_diem", "per_diem_code": "H0015", "revenue_code": "0906"},
                    {"H0015": "285.00"},
                ),
                (
                    "medicare",
                    {
                        "mode": "medicare_iop",
                        "revenue_code": "0905",
                        "codes": {
                            "individual": [
                                [b.code, b.min_minutes, b.max_minutes]
                                for b in CMS_PSYCHOTHERAPY_TIME_BANDS
                            ],
                            "group": [["G0410", 1, None]],
                            "education": [["G0177", 1, None]],
                            "activity_therapy": [["G0176", 1, None]],
                        },
                    },
                    {
                        "G0410": "95.00",
                        "G0177": "60.00",
                        "G0176": "55.00",
                        "90832": "80.00",
                        "90834": "110.00",
                        "90837": "140.00",
                    },
                ),
            ]
        else:
            plans.append(
                (
                    "medicaid",
                    {"mode": "per_diem", "per_diem_code": "S9480", "revenue_code": "0905"},
                    {"S9480": "225.00"},
                )
            )
        for kind, config, fees in plans:
            per_diem = config["mode"] == "per_diem"
            services.payer_billing_create(
                payer=self.payers[kind],
                track=track,
                claim_form="837I",
                session_kinds=kinds,
                min_minutes_per_day=180 if per_diem else None,
                by=self.director,
                **config,
            )
            for code, rate in fees.items():
                services.fee_entry_create(
                    payer=self.payers[kind],
                    track=track,
                    code=code,
                    rate=Decimal(rate),
                    effective_from=start,
                    by=self.director,
                )

    # --- 2. insurance --------------------------------------------------------------------------
    def insure(self) -> dict[int, tuple[Episode, Any]]:
        """Coverages of the patients in care; returns episode id -> (episode, coverage)."""
        episodes = list(
            Episode.objects.filter(site__organization=self.b.org, status__in=["active", "on_hold"])
            .select_related("patient", "site")
            .order_by("admission_date", "id")
        )
        tracks = {
            e.episode_id: e.track
            for e in Enrollment.objects.filter(episode__in=episodes).select_related("track")
        }
        adults = [e for e in episodes if tracks[e.pk].age_band == "adult"]
        medicare = min(
            (e for e in adults if e.status == "active"),
            key=lambda e: (e.patient.date_of_birth, e.pk),
        )
        insured: dict[int, tuple[Episode, Any]] = {}
        for n, episode in enumerate(episodes):
            patient = episode.patient
            if tracks[episode.pk].age_band != "adult":
                kind = "medicaid"
            elif episode == medicare:
                kind = "medicare"
            elif n % 5 == 4:
                continue  # pays for themselves (the self-pay payer's rules)
            else:
                kind = "commercial"
            tz = episode.site.tz
            inquiry = admissions.inquiry_create(
                site=episode.site,
                by=self.director,
                received_at=dt.datetime.combine(
                    episode.admission_date - dt.timedelta(days=9), dt.time(10, 30), tzinfo=tz
                ),
                channel="call",
                referral_source=episode.referral_source,
                first_name=patient.legal_first_name,
                last_name=patient.legal_last_name,
                phone=patient.phone,
                date_of_birth=patient.date_of_birth,
                concerns=episode.focus,
                age_group="adult" if kind != "medicaid" else "adolescent",
                insurance_name=self.payers[kind].name,
            )
            admissions.inquiry_link_patient(inquiry=inquiry, patient=patient, by=self.director)
            prefix = {"commercial": "BBM", "medicaid": "SMP", "medicare": "MBI"}[kind]
            coverage = services.coverage_add(
                inquiry=inquiry,
                payer=self.payers[kind],
                rank="primary",
                member_id=f"{prefix}-{patient.pk:06d}",
                group_number="GRP-42" if kind == "commercial" else "",
                subscriber_name=patient.legal_name,
                subscriber_relationship="self",
                start_date=dt.date(episode.admission_date.year - 1, 1, 1),
                by=self.director,
            )
            insured[episode.pk] = (episode, coverage)
            if kind == "medicare":
                services.certification_create(
                    episode=episode,
                    physician_name=f"{self.b.staff['prescriber'].get_full_name()}, MD",
                    physician_npi=self.attending_npi,
                    signed_on=episode.admission_date,
                    start_date=episode.admission_date,
                    certified_weekly_minutes=540,
                    interval="every_other_month",
                    by=self.billing,
                )
            if not TreatmentPlan.objects.filter(episode=episode).exists():
                by = Actor.cli(episode.primary_clinician or self.b.staff["clinician"], "demo")
                plan = plan_services.plan_start(episode=episode, by=by)
                description, code, words = DIAGNOSES[episode.focus]
                plan_services.plan_add_problem(
                    plan=plan, description=description, icd10_code=code, patient_words=words, by=by
                )
        return insured

    # --- 4. authorizations ---------------------------------------------------------------------
    def authorize(self, insured: dict[int, tuple[Episode, Any]]) -> None:
        """Days authorized from admission for 60 days; the patient with the most billed days has
        an authorization 85% used (the 80% alert), the commercial patient with the fewest none at all
        (the scrubber holds their claim)."""
        used = Counter(
            episode_id
            for episode_id, _day in set(
                Charge.objects.filter(episode_id__in=list(insured))
                .exclude(status="voided")
                .values_list("episode_id", "service_date")
            )
        )
        authorized = [
            (episode, coverage)
            for episode, coverage in insured.values()
            if coverage.payer.payer_type in ("commercial", "medicaid")
        ]
        first, last = last_month(self.today)
        billed_last_month = set(
            Charge.objects.filter(
                episode_id__in=list(insured), service_date__range=(first, last)
            ).values_list("episode_id", flat=True)
        )
        busiest = max(authorized, key=lambda a: (used[a[0].pk], -a[0].pk))[0].pk
        commercial = [
            a[0]
            for a in authorized
            if a[1].payer.payer_type == "commercial"
            and a[0].pk in billed_last_month
            and a[0].pk != busiest
        ]
        without = min(commercial, key=lambda e: (used[e.pk], e.pk)).pk if commercial else None
        for episode, coverage in authorized:
            if episode.pk == without:
                continue
            quantity = max(30, used[episode.pk] + 20)
            if episode.pk == busiest:
                quantity = max(1, math.ceil(used[episode.pk] / Decimal("0.85")))
            code = "S9480" if coverage.payer.payer_type == "medicaid" else "H0015"
            services.authorization_create(
                coverage=coverage,
                reference_number=f"AUTH-{episode.pk:05d}",
                unit_kind="days",
                quantity=quantity,
                start_date=episode.admission_date,
                end_date=episode.admission_date + dt.timedelta(days=59),
                service_codes=code,
                note="Demo authorization (fictional)",
                by=self.billing,
            )

    # --- 5. claims -----------------------------------------------------------------------------
    def claims(self) -> Counter[str]:
        start, end = last_month(self.today)
        services.claims_build(by=self.billing, period_start=start, period_end=end)
        built = list(
            Claim.objects.filter(site__organization=self.b.org)
            .select_related("payer")
            .prefetch_related("edits")
            .order_by("id")
        )
        ready: list[Claim] = []
        for claim in built:
            if any(e.severity == "error" for e in claim.edits.all()):
                continue  # stays a draft: the worklist shows what to fix
            try:
                ready.append(
                    services.claim_mark_ready(
                        by=self.billing, claim_id=claim.pk, expected_version=claim.version
                    )
                )
            except RuleViolation:
                continue
        # The last two ready claims wait for the next batch; the rest are sent.
        send = [c.pk for c in ready[:-2]]
        if send:
            services.claims_export(by=self.billing, claim_ids=send)
        commercial = list(
            Claim.objects.filter(pk__in=send, payer=self.payers["commercial"], state="submitted")
            .select_related("patient", "coverage", "payer")
            .prefetch_related("lines")
            .order_by("id")
        )
        outcomes = ["paid", "paid", "denied", "partially_paid", "paid", "denied"]
        answers = [
            Answer(claim=c, outcome=o)  # type: ignore[arg-type]
            for c, o in zip(commercial, outcomes, strict=False)
        ]
        if answers:
            text = sample_835(
                answers,
                payer_name="Bluebell Mutual Health",
                payer_identifier=self.payers["commercial"].payer_id,
                payee_name="Lantern Hill Riverbend Clinic",
                payee_npi=with_check_digit("192837460"),
                paid_on=min(end + dt.timedelta(days=20), self.today - dt.timedelta(days=1)),
                trace_number=f"BBM{end:%Y%m}",
                control_number=int(f"{end:%y%m}1"),
            )
            services.remittance_import(by=self.billing, name=f"bluebell-{end:%Y-%m}.835", text=text)
        return Counter(
            Claim.objects.filter(site__organization=self.b.org).values_list("state", flat=True)
        )
