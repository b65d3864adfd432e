"""The revenue cycle's data in the synthetic network (issue 16, point 8): payers and their billing
configuration, a coverage and an authorization per admitted stay, and last month's charges.

The configuration (a few hundred rows) goes through the ORM in bulk with the values the demo
clinic saves through its services (billing.demo_cycle); coverages and authorizations stream
through `writer.write_rows` like the other large tables, each coverage on the stay's admitted
inquiry. Charges are posted by the app's own `charges_post` for the calendar month before today
(the month a month-end claims build bills), as the network's billing user: the charge rules are
the app's, not a copy. Payer mix (an assumption for synthetic data, domain.md gives none): the
adolescents on Medicaid, the adults 75% commercial, 10% Medicaid, 15% paying for themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from openiop.accounts.models import User
from openiop.billing.domain.claims import npi_is_valid
from openiop.billing.models import (
    Authorization,
    BillingProvider,
    Coverage,
    FeeScheduleEntry,
    Payer,
    PayerClaimSetup,
    PayerProgramBilling,
    TrackClaimSetup,
)
from openiop.billing.services import charges_post
from openiop.consents.choices import ConsentSource, Purpose, RecipientKind
from openiop.consents.demo import INFORMATION as CONSENT_INFORMATION
from openiop.consents.models import Consent
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.demo.synth import plan as synth_plan
from openiop.demo.synth.writer import aware, next_id, write_rows
from openiop.episodes.domain import is_part2_protected

if TYPE_CHECKING:
    from openiop.demo.synth.plan import NetworkPlan
    from openiop.programs.models import Organization, Site, Track


class BuiltNetwork(Protocol):
    """What the billing data reads from the network build has written (build._Builder is one):
    a protocol, so that build imports billing and billing imports nothing of build."""

    network: NetworkPlan
    rng: random.Random
    today: dt.date
    stream: TextIO | None
    counts: dict[str, int]
    org: Organization
    sites: list[Site]
    tracks: list[Track]
    stay_ids: list[tuple[int, int]]
    names: dict[int, tuple[str, str]]
    admitted_inquiry: dict[int, int]
    focus: list[str]


ADULT_PAYERS = (("commercial", 0.75), ("medicaid", 0.10), ("self_pay", 0.15))
SESSION_KINDS = {"skills": "group", "holistic": "activity_therapy"}
# payer kind -> (per-diem code, revenue code, rate); the demo's fictional figures.
PER_DIEM = {
    "commercial": ("H0015", "0906", Decimal("285.00")),
    "medicaid": ("S9480", "0905", Decimal("225.00")),
    "self_pay": ("H0015", "0906", Decimal("250.00")),
}
AUTHORIZED_DAYS = 60
AUTHORIZED_FOR_DAYS = 90


def with_check_digit(first_nine: str) -> str:
    """A ten-digit NPI from nine digits and its Luhn check digit (a fictional number)."""
    return next(f"{first_nine}{d}" for d in range(10) if npi_is_valid(f"{first_nine}{d}"))


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def write_billing(b: BuiltNetwork) -> None:
    """Add the billing data to the network `b` is building (after its admissions and plans)."""
    rng = random.Random(b.rng.random())
    org = b.org
    payers = {
        kind: Payer.objects.create(organization=org, name=name, payer_id=payer_id, payer_type=kind)
        for kind, name, payer_id in (
            ("commercial", "Synthetic Mutual (fictional)", "SYN01"),
            ("medicaid", "Synthetic State Medicaid (fictional)", "SYNMC"),
            ("self_pay", "Self-pay", ""),
        )
    }
    for kind in ("commercial", "medicaid"):
        PayerClaimSetup.objects.create(
            payer=payers[kind],
            period="month",
            sequential=False,
            authorization_required=True,
            certification_required=False,
            patient_status="01",
            claim_filing_indicator="CI" if kind == "commercial" else "MC",
            receiver_name="SYNTHETIC CLEARINGHOUSE",
            receiver_id="SYNCLEAR",
            receiver_qualifier="ZZ",
            receiver_interchange_id="SYNCLEAR",
            application_receiver_code="SYNCLEAR",
            assignment="A",
            benefits_assignment="Y",
            release_of_information="Y",
            provider_signature_on_file=True,
        )
    BillingProvider.objects.bulk_create(
        BillingProvider(
            site=site,
            name=f"SYNTHETIC CLINIC {n + 1:02d}",
            npi=with_check_digit(f"1{n:08d}"),
            ein=f"99{n:07d}",
            taxonomy="261QM0801X",
            address_line=site.address,
            city="Faketown",
            state="ZZ",
            postal_code="000000000",
            submitter_name="SYNTHETIC NETWORK BILLING",
            submitter_id="SYNNETWORK",
            contact_name="Synthetic Billing Desk",
            contact_phone="5555550199",
            sender_qualifier="ZZ",
            sender_id="SYNNETWORK",
            application_sender_code="SYNNETWORK",
            production=False,
        )
        for n, site in enumerate(b.sites)
    )
    attending = with_check_digit("182736455")
    effective = b.network.window_start - dt.timedelta(days=60)
    setups, configs, fees = [], [], []
    for track in b.tracks:
        setups.append(
            TrackClaimSetup(
                track=track,
                claim_form="837I",
                facility_code="13",
                rendering_npi_required=False,
                provider_last_name="Attending",
                provider_first_name="Synthetic",
                provider_npi=attending,
                provider_taxonomy="2084P0800X",
            )
        )
        kinds = ["medicaid", "self_pay"] + (["commercial"] if track.age_band == "adult" else [])
        for kind in kinds:
            code, revenue, rate = PER_DIEM[kind]
            configs.append(
                PayerProgramBilling(
                    payer=payers[kind],
                    track=track,
                    mode="per_diem",
                    claim_form="837I",
                    per_diem_code=code,
                    revenue_code=revenue,
                    session_kinds=SESSION_KINDS,
                    min_minutes_per_day=180,
                )
            )
            fees.append(
                FeeScheduleEntry(
                    payer=payers[kind], track=track, code=code, rate=rate, effective_from=effective
                )
            )
    TrackClaimSetup.objects.bulk_create(setups)
    PayerProgramBilling.objects.bulk_create(configs)
    FeeScheduleEntry.objects.bulk_create(fees)
    b.counts["billing_configuration"] = len(setups) + len(configs) + len(fees)

    billing_user = User.objects.get(username=f"o{org.pk}-billing")
    first_coverage = next_id(Coverage)
    covered: list[tuple[int, int, int]] = []  # (coverage id, stay index, payer id)
    age_band = {i: t.age_band for i, (_s, t) in enumerate(b.network.tracks)}

    def coverages() -> Iterator[dict[str, Any]]:
        coverage_id = first_coverage
        for i, inquiry_id in b.admitted_inquiry.items():
            stay = b.network.stays[i]
            if age_band[stay.track_index] == "adult":
                kind = synth_plan.weighted(rng, ADULT_PAYERS)
            else:
                kind = "medicaid"
            if kind == "self_pay":
                continue
            patient_id = b.stay_ids[i][1]
            first, last = b.names[patient_id]
            covered.append((coverage_id, i, payers[kind].pk))
            yield {
                "id": coverage_id,
                "inquiry_id": inquiry_id,
                "patient_id": patient_id,
                "payer_id": payers[kind].pk,
                "rank": "primary",
                "member_id": f"SYN{patient_id:09d}",
                "subscriber_name": f"{first} {last}",
                "subscriber_relationship": "self",
                "start_date": stay.admission - dt.timedelta(days=rng.randint(30, 400)),
            }
            coverage_id += 1

    b.counts["coverages"] = write_rows(Coverage, coverages(), stream=b.stream)
    first_auth = next_id(Authorization)
    code_of = {payers["commercial"].pk: "H0015", payers["medicaid"].pk: "S9480"}
    b.counts["authorizations"] = write_rows(
        Authorization,
        (
            {
                "id": first_auth + n,
                "coverage_id": coverage_id,
                "reference_number": f"SA{coverage_id:08d}",
                "unit_kind": "days",
                "quantity": AUTHORIZED_DAYS,
                "start_date": b.network.stays[i].admission,
                "end_date": b.network.stays[i].admission
                + dt.timedelta(days=AUTHORIZED_FOR_DAYS - 1),
                "service_codes": json.dumps([code_of[payer_id]]),
                "created_by_id": billing_user.pk,
            }
            for n, (coverage_id, i, payer_id) in enumerate(covered)
        ),
        stream=b.stream,
    )
    b.counts["part2_consents"] = write_part2_consents(b, billing_user.pk)
    start, end = last_month(b.today)
    start = max(start, b.network.window_start)
    if end < start or end >= min(local_today(site.tz) for site in b.sites):
        return  # no whole past month in the window (a tiny test network, or a future today)
    posting = charges_post(by=Actor.cli(billing_user, "synth"), period_start=start, period_end=end)
    b.counts["charges"] = posting.charges
    b.counts["unbilled_days"] = posting.unbilled


def write_part2_consents(b: BuiltNetwork, recorded_by_id: int) -> int:
    """The single TPO consent (42 CFR 2.31(a)(4)-(5), lasting until revoked) each patient of a
    substance-use stay signs in the intake packet: without it no claim of theirs may go to a
    payer (billing's part2_consent_missing edit). An assumption for synthetic data: every such
    patient signed it on the admission day of their first such stay."""
    signed_on: dict[int, dt.date] = {}
    for i, stay in enumerate(b.network.stays):
        if is_part2_protected(b.focus[i]):
            patient_id = b.stay_ids[i][1]
            signed_on[patient_id] = min(stay.admission, signed_on.get(patient_id, stay.admission))
    first = next_id(Consent)

    def rows() -> Iterator[dict[str, Any]]:
        for n, (patient_id, day) in enumerate(sorted(signed_on.items())):
            first_name, last_name = b.names[patient_id]
            yield {
                "id": first + n,
                "patient_id": patient_id,
                "discloser": b.org.name,
                "information": CONSENT_INFORMATION,  # the demo clinic's wording
                "recipient_kind": RecipientKind.TPO_CLASS.value,
                "purpose": Purpose.TPO.value,
                "effective_on": day,
                "signed_by_name": f"{first_name} {last_name}",
                "signed_at": aware(day, 15),
                "source": ConsentSource.INTAKE_PACKET.value,
                "recorded_by_id": recorded_by_id,
            }

    return write_rows(Consent, rows(), stream=b.stream)
