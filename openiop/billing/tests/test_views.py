"""Billing pages over HTTP: each renders, links from and back to the inquiry, the estimate PDF,
the payer list.

Who may open each page: openiop/web/tests/test_permission_matrix.py (billing:payers, billing:verify)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse
from pypdf import PdfReader

from openiop.audit.models import AuditEntry
from openiop.billing import services
from openiop.billing.models import Payer
from openiop.billing.tests.test_services import VERIFIED
from openiop.ui.views_support import PAGE_SIZE

if TYPE_CHECKING:
    from django.test import Client

    from openiop.admissions.models import Inquiry
    from openiop.admissions.tests.conftest import Clinic
    from openiop.billing.models import CostEstimate, Coverage, PovertyGuidelineYear

pytestmark = pytest.mark.django_db


def _insured(clinic: Clinic) -> tuple[Inquiry, Coverage, CostEstimate]:
    """An assessed inquiry with a verified coverage and a self-pay estimate."""
    inquiry = clinic.assessed()
    payer = services.payer_create(
        organization_id=clinic.org.pk,
        name="Bluebell",
        payer_id="B1",
        payer_type="commercial",
        by=clinic.actor("billing"),
    )
    coverage = services.coverage_add(
        inquiry=inquiry, payer=payer, rank="primary", by=clinic.actor("billing")
    )
    services.benefits_verify(coverage=coverage, by=clinic.actor("billing"), **VERIFIED)
    estimate = services.estimate_prepare(
        inquiry=inquiry,
        household_size=2,
        annual_income=Decimal(20000),
        planned_days=30,
        installments=2,
        first_date=dt.date(2026, 5, 1),
        by=clinic.actor("billing"),
    )
    return inquiry, coverage, estimate


def test_every_billing_page_renders_for_billing_staff(
    clinic: Clinic, guideline: PovertyGuidelineYear, client: Client
) -> None:
    inquiry, coverage, estimate = _insured(clinic)
    client.force_login(clinic.users["billing"])
    urls = [
        reverse("billing:payers"),
        reverse("billing:coverage_new", kwargs={"inquiry_id": inquiry.pk}),
        reverse("billing:verify", kwargs={"coverage_id": coverage.pk}),
        reverse("billing:estimate_new", kwargs={"inquiry_id": inquiry.pk}),
        reverse("billing:estimate", kwargs={"estimate_id": estimate.pk}),
    ]
    for url in urls:
        assert url.startswith("/billing/"), url
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_inquiry_page_links_to_the_billing_pages_and_they_link_back(
    clinic: Clinic, guideline: PovertyGuidelineYear, client: Client
) -> None:
    inquiry, coverage, estimate = _insured(clinic)
    client.force_login(clinic.users["billing"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    for url in (
        reverse("billing:coverage_new", kwargs={"inquiry_id": inquiry.pk}),
        reverse("billing:estimate_new", kwargs={"inquiry_id": inquiry.pk}),
        reverse("billing:verify", kwargs={"coverage_id": coverage.pk}),
        reverse("billing:estimate", kwargs={"estimate_id": estimate.pk}),
    ):
        assert f'href="{url}"' in page, url
    board = client.get(reverse("admissions:board")).text
    assert f'href="{reverse("billing:payers")}"' in board
    back = reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})
    detail = client.get(reverse("billing:estimate", kwargs={"estimate_id": estimate.pk})).text
    assert f'href="{back}"' in detail
    assert (
        f'href="{reverse("billing:estimate_pdf", kwargs={"estimate_id": estimate.pk})}"' in detail
    )


def test_adding_a_coverage_goes_back_to_the_inquiry_and_is_audited(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    payer = services.payer_create(
        organization_id=clinic.org.pk,
        name="Bluebell",
        payer_id="B1",
        payer_type="commercial",
        by=clinic.actor("billing"),
    )
    client.force_login(clinic.users["billing"])
    response = client.post(
        reverse("billing:coverage_new", kwargs={"inquiry_id": inquiry.pk}),
        {"payer": payer.pk, "rank": "primary", "subscriber_relationship": "self"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})
    coverage = inquiry.coverages.get()
    assert AuditEntry.objects.filter(
        object_type="coverage", action="create", object_id=inquiry.pk
    ).exists()
    assert coverage.payer == payer


def test_an_estimate_prints_as_pdf(
    clinic: Clinic, guideline: PovertyGuidelineYear, client: Client
) -> None:
    *_, estimate = _insured(clinic)
    client.force_login(clinic.users["billing"])
    response = client.get(reverse("billing:estimate_pdf", kwargs={"estimate_id": estimate.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Payment plan" in text and "$" in text
    assert AuditEntry.objects.filter(object_type="cost_estimate", object_id=estimate.pk).exists()


def test_payer_list_searches_pages_and_says_when_nothing_matches(
    clinic: Clinic, client: Client
) -> None:

    for i in range(PAGE_SIZE + 3):
        Payer.objects.create(
            organization=clinic.org, name=f"Plan {i:03d} (fictional)", payer_type="commercial"
        )
    Payer.objects.create(organization=clinic.org, name="Bluebell Mutual", payer_type="medicaid")
    client.force_login(clinic.users["billing"])
    url = reverse("billing:payers")
    first = client.get(url).text
    assert "Page 1 of 2" in first and "Plan 000 (fictional)" in first
    assert f"Plan {PAGE_SIZE + 2:03d} (fictional)" not in first
    found = client.get(url, {"q": "bluebell"}).text
    assert "Bluebell Mutual" in found and "Plan 000" not in found
    none = client.get(url, {"q": "Nowhere Health"}).text
    assert "No payers match" in none and "Nowhere Health" in none
