"""A fictional clinic's sent claims and the 835 its payer returns, for the remittance tests
(test_remittances_*): two sites of one organization, a site of another organization with a claim
of its own, the roles that may and may not import, and `remit()` building the 835 as data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.billing.choices import ClaimForm, PayerType
from openiop.billing.domain import remittance as r
from openiop.billing.models import Charge, Claim, ClaimLine, Coverage, Payer
from openiop.core.actor import Actor
from openiop.patients.models import Patient
from openiop.programs.models import Organization, Site, Track
from openiop.testing import make_episode, make_org, make_patient, make_site, make_track, make_user

D = Decimal
OCT = dt.date(2026, 10, 5)

ENVELOPE = r.EnvelopeIds(
    sender_qualifier="ZZ",
    sender_id="BLUEBELL",
    receiver_qualifier="ZZ",
    receiver_id="RIVERBEND",
    application_sender_code="BLUEBELL",
    application_receiver_code="RIVERBEND",
    date=dt.date(2026, 11, 20),
    time="1200",
    interchange_control_number=501,
    group_control_number=501,
    transaction_set_control_number="0001",
    usage="T",
)
PAYER_835 = r.Payer(
    name="BLUEBELL MUTUAL TEST",
    identifier="BBM01",
    address=r.PartyAddress(line1="1 TEST WAY", city="TESTVILLE", state="NY", postal_code="12345"),
    contacts=(r.Contact("BL", "TEST EDI DESK", (("TE", "5555550199"),)),),
)
PAYEE_835 = r.Payee(name="RIVERBEND TEST IOP", id_qualifier="XX", identifier="1234567893")


@dataclass
class RemitBooks:
    org: Organization
    site: Site
    foreign_site: Site
    track: Track
    payer: Payer
    users: dict[str, Any]

    def actor(self, who: str) -> Actor:
        return Actor(user=self.users[who], client_addr="198.51.100.7", path="/test")

    def claim(
        self,
        pcn: str,
        first: str,
        last: str,
        amounts: list[str],
        *,
        site: Site | None = None,
        state: str = "submitted",
    ) -> Claim:
        """A sent claim `pcn` for a new patient: one H0015 line per amount, a day apart from
        OCT, line control numbers `<pcn>-1`, `<pcn>-2`..."""
        where = site or self.site
        patient = make_patient(where, legal_first_name=first, legal_last_name=last)
        episode = make_episode(patient, admission_date=dt.date(2026, 9, 28))
        track = self.track if where == self.site else make_track(where)
        payer = self.payer
        if where.organization_id != self.org.pk:
            payer = Payer.objects.get_or_create(
                organization=where.organization,
                name="Foreign Mutual (fictional)",
                defaults={"payer_type": PayerType.COMMERCIAL, "payer_id": "BBM01"},
            )[0]
        inquiry = Inquiry.objects.create(
            organization=where.organization,
            site=where,
            received_at=timezone.now(),
            channel="call",
            referral_source="self",
            first_name=first,
            last_name=last,
            concerns="co_occurring",
            stage_entered_on=dt.date(2026, 9, 1),
            patient=patient,
        )
        coverage = Coverage.objects.create(
            inquiry=inquiry, patient=patient, payer=payer, rank="primary", member_id="ZZ1"
        )
        days = [OCT + dt.timedelta(days=n) for n in range(len(amounts))]
        claim = Claim.objects.create(
            key=f"test {pcn}",
            patient=patient,
            site=where,
            coverage=coverage,
            payer=payer,
            episode=episode,
            track=track,
            claim_form=ClaimForm.PROFESSIONAL,
            frequency="1",
            period_start=days[0],
            period_end=days[-1],
            statement_from=days[0],
            statement_to=days[-1],
            patient_control_number=pcn,
            state=state,
            total=sum((D(a) for a in amounts), D(0)),
            created_by=self.users["billing"],
        )
        for n, (day, amount) in enumerate(zip(days, amounts, strict=True), start=1):
            charge = Charge.objects.create(
                patient=patient,
                site=where,
                episode=episode,
                track=track,
                payer=payer,
                coverage=coverage,
                service_date=day,
                code="H0015",
                units=1,
                rate=D(amount),
                amount=D(amount),
                claim_form=ClaimForm.PROFESSIONAL,
                status="on_claim",
                posted_by=self.users["billing"],
            )
            ClaimLine.objects.create(
                claim=claim,
                charge=charge,
                number=n,
                service_date=day,
                code="H0015",
                units=1,
                amount=D(amount),
                line_control_number=f"{pcn}-{n}",
            )
        return claim


def make_remit_books() -> RemitBooks:
    org = make_org(name="Riverbend Recovery (fictional)", mrn_prefix="RB")
    site = make_site(org, name="Riverbend North")
    foreign_org = make_org(name="Elsewhere Wellness (fictional)", mrn_prefix="EW")
    foreign_site = make_site(foreign_org, name="Elsewhere One")
    users = {
        "billing": make_user(Role.BILLING, org=org, sites=[site]),
        "director": make_user(Role.DIRECTOR, org=org, sites=[site]),
        "clinician": make_user(Role.CLINICIAN, org=org, sites=[site]),
        "foreign_billing": make_user(Role.BILLING, org=foreign_org, sites=[foreign_site]),
    }
    payer = Payer.objects.create(
        organization=org,
        name="Bluebell Mutual (fictional)",
        payer_id="BBM01",
        payer_type=PayerType.COMMERCIAL,
    )
    return RemitBooks(
        org=org,
        site=site,
        foreign_site=foreign_site,
        track=make_track(site, name="Adult Day IOP (fictional)"),
        payer=payer,
        users=users,
    )


def svc(
    billed: str, paid: str, day: int, *adjustments: r.Adjustment, control: str | None = None
) -> r.ServicePayment:
    return r.ServicePayment(
        procedure=r.Procedure("HC", "H0015"),
        billed=D(billed),
        paid=D(paid),
        units_paid=D(1),
        service_date=OCT + dt.timedelta(days=day),
        adjustments=adjustments,
        line_control_number=control,
    )


def adj(group: str, reason: str, amount: str) -> r.Adjustment:
    return r.Adjustment(group, reason, D(amount))


def clp(
    pcn: str,
    status: str,
    billed: str,
    paid: str,
    lines: tuple[r.ServicePayment, ...],
    *,
    pr: str | None = None,
    payer_number: str | None = None,
) -> r.ClaimPayment:
    return r.ClaimPayment(
        patient_control_number=pcn,
        status=status,
        billed=D(billed),
        paid=D(paid),
        patient_responsibility=D(pr) if pr is not None else None,
        filing_indicator="12",
        payer_claim_control_number=payer_number or f"PAYER{pcn}",
        patient=r.PersonName("MCTESTFACE", "TESTY", id_qualifier="MI", identifier="ZZ1"),
        lines=lines,
    )


def remit(*claims: r.ClaimPayment, trace: str = "TRACE0001", control: int = 501) -> r.Remittance835:
    total = sum((c.paid for c in claims), D(0))
    return r.Remittance835(
        envelope=ENVELOPE.__class__(**{**ENVELOPE.__dict__, "interchange_control_number": control}),
        payment=r.PaymentInfo("I", total, "C", "NON", dt.date(2026, 11, 20)),
        trace=r.Trace(trace, "1999999999"),
        payer=PAYER_835,
        payee=PAYEE_835,
        claims=claims,
    )


def world_remittance_ids(
    site: Site, patient: Patient, episode: Any, track: Track, billing_user: Any
) -> dict[str, int]:
    """For web/tests/conftest.py's world: a sent claim of the world's patient, a remittance that
    denied it and its denial work item, so the walks of every page (patient data, bad input, offered actions) cover
    the remittance pages. Returns remittance_id, denial_id and unmatched_id."""
    from openiop.billing.models import (
        Charge,
        ClaimLine,
        DenialWorkItem,
        Remittance,
        RemittanceClaim,
        UnmatchedRemittanceItem,
    )

    payer = Payer.objects.create(
        organization=site.organization,
        name="World Remit Payer (fictional)",
        payer_id="WRP01",
        payer_type=PayerType.COMMERCIAL,
    )
    inquiry = Inquiry.objects.create(
        organization=site.organization,
        site=site,
        received_at=timezone.now(),
        channel="call",
        referral_source="self",
        first_name="Remitta",
        last_name="Denialsworth",
        concerns="co_occurring",
        stage_entered_on=OCT,
        patient=patient,
    )
    coverage = Coverage.objects.create(
        inquiry=inquiry, patient=patient, payer=payer, rank="primary"
    )
    claim = Claim.objects.create(
        key="world claim",
        patient=patient,
        site=site,
        coverage=coverage,
        payer=payer,
        episode=episode,
        track=track,
        claim_form=ClaimForm.PROFESSIONAL,
        frequency="1",
        period_start=OCT,
        period_end=OCT,
        statement_from=OCT,
        statement_to=OCT,
        place_of_service="53",  # a fictional community mental health center
        patient_control_number="WORLD0001",
        state="denied",
        total=D("100.00"),
        created_by=billing_user,
    )
    # Every claim has at least one line (the builder never makes one without).
    charge = Charge.objects.create(
        patient=patient,
        site=site,
        episode=episode,
        track=track,
        payer=payer,
        coverage=coverage,
        service_date=OCT,
        code="90853",
        units=1,
        rate=D("100.00"),
        amount=D("100.00"),
        claim_form=ClaimForm.PROFESSIONAL,
        status="on_claim",
        posted_by=billing_user,
    )
    ClaimLine.objects.create(
        claim=claim,
        charge=charge,
        number=1,
        service_date=OCT,
        code="90853",
        units=1,
        amount=D("100.00"),
        line_control_number="WORLD0001-1",
    )
    now = timezone.now()
    remittance = Remittance.objects.create(
        organization=site.organization,
        file_name="world.835",
        sha256="0" * 64,
        payer=payer,
        payer_name="WORLD REMIT PAYER",
        payer_identifier="WRP01",
        trace_number="WORLDTRACE",
        payment_amount=D(0),
        payment_date=OCT,
        payment_method="NON",
        imported_by=billing_user,
        imported_at=now,
        raw_content="",
    )
    rclaim = RemittanceClaim.objects.create(
        remittance=remittance,
        position=1,
        claim=claim,
        patient_control_number="WORLD0001",
        status_code="4",
        billed=D("100.00"),
        paid=D(0),
        filing_indicator="12",
        payer_claim_control_number="WORLDPAYER1",
        outcome="denied",
    )
    denial = DenialWorkItem.objects.create(
        remittance=remittance,
        remittance_claim=rclaim,
        claim=claim,
        payer=payer,
        payer_name="WORLD REMIT PAYER",
        payer_identifier="WRP01",
        status_code="4",
        group_code="CO",
        reason_code="50",
        amount=D("100.00"),
        next_action=r.next_action("CO", "4"),
        created_at=now,
    )
    other = RemittanceClaim.objects.create(
        remittance=remittance,
        position=2,
        patient_control_number="NOTOURS01",
        status_code="1",
        billed=D("50.00"),
        paid=D("50.00"),
        filing_indicator="12",
        payer_claim_control_number="WORLDPAYER2",
    )
    unmatched = UnmatchedRemittanceItem.objects.create(
        remittance=remittance,
        remittance_claim=other,
        patient_control_number="NOTOURS01",
        payer_claim_control_number="WORLDPAYER2",
        amount_paid=D("50.00"),
        reason="no claim has patient control number NOTOURS01",
        data={"patient_control_number": "NOTOURS01"},
    )
    return {
        "remittance_id": remittance.pk,
        "denial_id": denial.pk,
        "unmatched_id": unmatched.pk,
    }
