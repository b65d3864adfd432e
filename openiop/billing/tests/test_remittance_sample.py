"""billing.remittance_sample (the demo's 835 for claims it sent): a valid 835 (pyx12) that the
real import matches claim by claim and line by line, each claim ending in the state asked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openiop.billing.models import Claim, PatientResponsibility
from openiop.billing.remittance_sample import Answer, sample_835
from openiop.billing.services.remittances import remittance_import
from openiop.billing.tests.remittance_books import RemitBooks, make_remit_books
from openiop.billing.tests.test_remittance_domain import (  # noqa: F401 - the fixture
    Findings,
    assert_valid_835,
    pyx12_findings,
)

pytestmark = pytest.mark.django_db


def test_the_sample_835_is_valid_and_posts_paid_partial_and_denied(
    pyx12_findings: Findings,  # noqa: F811 - the imported fixture
) -> None:
    books: RemitBooks = make_remit_books()
    paid = books.claim("RB0101", "Testy", "McTestface", ["250.00", "250.00"])
    partial = books.claim("RB0102", "Sunny", "Testperson", ["250.00", "250.00"])
    denied = books.claim("RB0103", "Dotty", "Fakename", ["250.00"])
    answers = [Answer(paid, "paid"), Answer(partial, "partially_paid"), Answer(denied, "denied")]
    claims = Claim.objects.filter(pk__in=[a.claim.pk for a in answers]).prefetch_related("lines")
    by_pk = {c.pk: c for c in claims.select_related("patient", "coverage", "payer")}
    text = sample_835(
        [Answer(by_pk[a.claim.pk], a.outcome) for a in answers],
        payer_name="Bluebell Mutual (fictional)",
        payer_identifier="BBM01",
        payee_name="Riverbend test IOP",
        payee_npi="1234567893",
        paid_on=dt.date(2026, 11, 20),
        trace_number="SAMPLE01",
        control_number=777,
    )
    assert_valid_835(text, pyx12_findings)

    result = remittance_import(by=books.actor("billing"), name="sample.835", text=text)

    states = dict(Claim.objects.filter(pk__in=by_pk).values_list("patient_control_number", "state"))
    assert states == {"RB0101": "paid", "RB0102": "partially_paid", "RB0103": "denied"}
    assert not result.remittance.unmatched_items.exists()
    # Paid lines: 80% allowed, 35.00 co-payment each to the patient, the rest from the payer.
    assert result.remittance.payment_amount == Decimal("165.00") * 3
    owed = PatientResponsibility.objects.filter(patient=paid.patient)
    assert sum(p.amount for p in owed) == Decimal("70.00")
