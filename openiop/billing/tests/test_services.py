"""Billing services: payers, coverages, benefits checks and self-pay estimates; their rules,
permissions and effect on the admissions pipeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from openiop.admissions import services as admissions_services
from openiop.admissions.tests.conftest import IOP_RATINGS
from openiop.billing import services
from openiop.core.errors import NotPermitted, RuleViolation

if TYPE_CHECKING:
    from openiop.admissions.models import Inquiry
    from openiop.admissions.tests.conftest import Clinic
    from openiop.billing.models import Coverage, PovertyGuidelineYear

pytestmark = pytest.mark.django_db(transaction=True)


def _coverage(clinic: Clinic, inquiry: Inquiry) -> Coverage:
    payer = services.payer_create(
        organization_id=clinic.org.pk,
        name="Bluebell Mutual (fictional)",
        payer_id="BBM01",
        payer_type="commercial",
        by=clinic.actor("billing"),
    )
    return services.coverage_add(
        inquiry=inquiry,
        payer=payer,
        rank="primary",
        member_id="ZZ123",
        subscriber_name="Wren Pemberbottom",
        subscriber_relationship="self",
        by=clinic.actor("billing"),
    )


VERIFIED = dict(
    in_network=True,
    iop_covered=True,
    deductible_amount=Decimal("1500"),
    deductible_met_amount=Decimal("200"),
    copay_per_day=Decimal("40"),
    coinsurance_percent=None,
    prior_auth_required=True,
    days_allowed=30,
    reference_number="REF-778",
    payer_contact="Agent Fictional",
)


def test_benefits_verification_advances_an_assessed_inquiry(clinic: Clinic) -> None:
    inquiry = clinic.assessed()
    coverage = _coverage(clinic, inquiry)
    check = services.benefits_verify(coverage=coverage, by=clinic.actor("billing"), **VERIFIED)
    assert check.verified_by == clinic.users["billing"]
    inquiry.refresh_from_db()
    assert inquiry.stage == "benefits_verified"


def test_benefits_before_assessment_do_not_skip_stages(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    services.benefits_verify(
        coverage=_coverage(clinic, inquiry), by=clinic.actor("billing"), **VERIFIED
    )
    inquiry.refresh_from_db()
    assert inquiry.stage == "inquiry"  # not assessed yet: the card stays where it is
    a = admissions_services.assessment_save(
        inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=clinic.actor("clinician")
    )
    admissions_services.assessment_decide(
        assessment=a, chosen_level="2.1", expected_version=a.version, by=clinic.actor("clinician")
    )
    inquiry.refresh_from_db()
    assert inquiry.stage == "benefits_verified"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deductible_met_amount": Decimal("2000")}, "deductible_met_amount"),
        ({"copay_per_day": None}, "copay_per_day"),
        ({"coinsurance_percent": Decimal("20")}, "copay_per_day"),
        ({"reference_number": ""}, "reference_number"),
    ],
)
def test_benefits_verification_rules(
    clinic: Clinic, change: dict[str, Decimal] | dict[str, None] | dict[str, str], field: str
) -> None:
    coverage = _coverage(clinic, clinic.inquiry())
    with pytest.raises(RuleViolation) as exc:
        services.benefits_verify(
            coverage=coverage, by=clinic.actor("billing"), **{**VERIFIED, **change}
        )
    assert exc.value.field == field


def test_second_primary_coverage_is_refused(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    coverage = _coverage(clinic, inquiry)
    with pytest.raises(RuleViolation):
        services.coverage_add(
            inquiry=inquiry, payer=coverage.payer, rank="primary", by=clinic.actor("billing")
        )


def test_clinician_may_not_verify_benefits(clinic: Clinic) -> None:
    coverage = _coverage(clinic, clinic.inquiry())
    with pytest.raises(NotPermitted):
        services.benefits_verify(coverage=coverage, by=clinic.actor("clinician"), **VERIFIED)


def test_self_pay_estimate_and_payment_plan(
    clinic: Clinic, guideline: PovertyGuidelineYear
) -> None:
    inquiry = clinic.inquiry()
    est = services.estimate_prepare(
        inquiry=inquiry,
        household_size=3,  # guideline 15000 + 2 x 5000 = 25000
        annual_income=Decimal("37500"),  # 150 % -> band <=200 %: 50 %
        planned_days=36,
        installments=3,
        first_date=dt.date(2026, 4, 1),
        by=clinic.actor("billing"),
    )
    assert est.percent_of_poverty == Decimal("150.00")
    assert est.share_percent == Decimal("50")
    assert est.total_amount == Decimal("7200.00")
    assert est.patient_amount == Decimal("3600.00")
    assert est.installments == [
        ["2026-04-01", "1200.00"],
        ["2026-05-01", "1200.00"],
        ["2026-06-01", "1200.00"],
    ]


def test_estimate_without_configuration_is_refused(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.estimate_prepare(
            inquiry=clinic.inquiry(),
            household_size=1,
            annual_income=Decimal(1),
            planned_days=1,
            installments=1,
            first_date=dt.date(2026, 4, 1),
            by=clinic.actor("billing"),
        )
    assert exc.value.code == "no_guideline"


def test_every_billing_write_and_read_is_audited_and_another_site_is_refused(
    clinic: Clinic, guideline: PovertyGuidelineYear
) -> None:
    from openiop.audit.models import AuditEntry
    from openiop.billing import selectors

    inquiry = clinic.inquiry()
    coverage = _coverage(clinic, inquiry)
    services.benefits_verify(coverage=coverage, by=clinic.actor("billing"), **VERIFIED)
    estimate = services.estimate_prepare(
        inquiry=inquiry,
        household_size=1,
        annual_income=Decimal("15000"),
        planned_days=10,
        installments=1,
        first_date=dt.date(2026, 4, 1),
        by=clinic.actor("billing"),
    )
    selectors.coverage_get(actor=clinic.actor("billing"), coverage_id=coverage.pk)
    selectors.estimate_get(actor=clinic.actor("billing"), estimate_id=estimate.pk)
    done = set(AuditEntry.objects.values_list("object_type", "action"))
    assert {
        ("payer", "create"),
        ("coverage", "create"),
        ("benefits_verification", "create"),
        ("cost_estimate", "create"),
        ("coverage", "view"),
        ("cost_estimate", "view"),
    } <= done
    with pytest.raises(NotPermitted):
        selectors.coverage_get(actor=clinic.actor("other_intake"), coverage_id=coverage.pk)
    assert AuditEntry.objects.filter(object_type="coverage", outcome="denied").exists()
