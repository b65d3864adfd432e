"""The patient's bill pages over HTTP: the balances list (search, pagination, a pinned query
count, empty states), a patient's ledger (balances from real charges with a sliding-fee
discount, forms that keep what was typed on an error, a refund confirmed first, a payment plan,
an agreement), the statement PDF (its text read back with pypdf: the clinic, the balances, the
installment, no clinical text), and who may open them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING
from unittest.mock import patch

import pytest
from django.urls import reverse
from pypdf import PdfReader

from openiop.audit.models import AuditEntry
from openiop.billing.models import (
    PatientPayment,
    PatientRefund,
    PaymentPlan,
    SlidingFeeAgreement,
    Statement,
)
from openiop.billing.services.accounts import payment_record, sliding_fee_agree
from openiop.billing.tests.accounts_books import Books, make_books
from openiop.testing import make_patient, page_query_count
from openiop.ui.views_support import PAGE_SIZE

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # Monday 30 Nov 2026, 9:00 in Chicago


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with patch("openiop.core.clock.now", lambda: NOW):
        yield


@pytest.fixture
def books() -> Books:
    return make_books()


def _ledger_url(books: Books) -> str:
    return reverse("billing:ledger", kwargs={"patient_id": books.patient.pk})


def _with_discounted_charges(books: Books) -> None:
    """A 25% agreement made on 1 Oct (its discounts are dated the charges' days), two self-pay
    charges of 200.00 and one of 300.00 billed to insurance."""
    with patch("openiop.core.clock.now", lambda: dt.datetime(2026, 10, 1, 15, tzinfo=dt.UTC)):
        sliding_fee_agree(
            by=books.actor("billing"),
            patient=books.patient,
            effective_from=dt.date(2026, 10, 1),
            share_percent=Decimal("25"),
        )
    books.charge(dt.date(2026, 10, 5), "200.00")
    books.charge(dt.date(2026, 10, 6), "200.00")
    books.charge(dt.date(2026, 10, 7), "300.00", payer=books.insurer)


def test_the_ledger_shows_entries_balances_and_the_discount(books: Books, client: Client) -> None:
    _with_discounted_charges(books)
    client.force_login(books.users["billing"])
    response = client.get(_ledger_url(books))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-balance="patient"><strong>$100.00</strong>' in page
    assert 'data-balance="insurance">$300.00' in page
    assert page.count('data-kind="sliding_scale_discount"') == 2
    assert "Patient pays 25.00% of each self-pay charge" in page
    assert AuditEntry.objects.filter(
        object_type="patient_ledger", patient_id=books.patient.pk
    ).exists()


def test_a_payment_is_recorded_and_a_bad_one_keeps_what_was_typed(
    books: Books, client: Client
) -> None:
    _with_discounted_charges(books)
    client.force_login(books.users["billing"])
    url = _ledger_url(books)
    bad = client.post(
        url,
        {
            "action": "payment",
            "payment-amount": "12.345",
            "payment-date": "2026-11-30",
            "payment-method": "check",
            "payment-reference": "Check 1001",
        },
    )
    assert bad.status_code == 200  # the form's own validation: the page again, with the error
    text = bad.content.decode()
    assert 'value="Check 1001"' in text and 'value="12.345"' in text
    assert not PatientPayment.objects.exists()
    future = client.post(
        url,
        {
            "action": "payment",
            "payment-amount": "40.00",
            "payment-date": "2026-12-01",
            "payment-method": "check",
            "payment-reference": "Check 1001",
        },
    )
    assert future.status_code == 422
    assert "cannot be after today" in future.content.decode()
    good = client.post(
        url,
        {
            "action": "payment",
            "payment-amount": "40.00",
            "payment-date": "2026-11-30",
            "payment-method": "check",
            "payment-reference": "Check 1001",
        },
    )
    assert good.status_code == 302
    assert PatientPayment.objects.get().amount == Decimal("40.00")
    assert 'data-balance="patient"><strong>$60.00</strong>' in client.get(url).content.decode()


def test_a_refund_is_confirmed_before_it_is_recorded_and_refused_beyond_what_was_paid(
    books: Books, client: Client
) -> None:
    payment_record(
        by=books.actor("billing"),
        patient=books.patient,
        amount=Decimal("50.00"),
        date=dt.date(2026, 11, 2),
        method="cash",
    )
    client.force_login(books.users["billing"])
    url = _ledger_url(books)
    fields = {
        "action": "refund",
        "refund-amount": "20.00",
        "refund-date": "2026-11-30",
        "refund-reason": "Overpaid at the front desk",
    }
    confirm = client.post(url, fields)
    assert confirm.status_code == 200
    assert "Confirm the refund" in confirm.content.decode()
    assert not PatientRefund.objects.exists()
    done = client.post(url, {**fields, "confirm": "yes"})
    assert done.status_code == 302
    assert PatientRefund.objects.get().reason == "Overpaid at the front desk"
    too_much = client.post(url, {**fields, "refund-amount": "30.01", "confirm": "yes"})
    assert too_much.status_code == 422
    page = too_much.content.decode()
    assert "more than" in page and 'value="Overpaid at the front desk"' in page
    assert PatientRefund.objects.count() == 1


def test_the_refund_review_refuses_an_over_refund_on_the_form_before_any_confirmation(
    books: Books, client: Client
) -> None:
    payment_record(
        by=books.actor("billing"),
        patient=books.patient,
        amount=Decimal("50.00"),
        date=dt.date(2026, 11, 2),
        method="cash",
    )
    client.force_login(books.users["billing"])
    url = _ledger_url(books)
    fields = {
        "action": "refund",
        "refund-amount": "50.01",
        "refund-date": "2026-11-30",
        "refund-reason": "Card charged twice",
    }
    review = client.post(url, fields)
    page = review.content.decode()
    # The ledger again, the refund form open with its error and what was typed; no confirmation.
    assert review.status_code == 422
    assert "Confirm the refund" not in page and "Record the refund" not in page
    assert "more than the $50.00 the patient had paid" in page
    assert 'value="50.01"' in page and 'value="Card charged twice"' in page
    # A refund dated before the payment is refused the same way (refunds up to each day).
    early = client.post(url, {**fields, "refund-amount": "10.00", "refund-date": "2026-11-01"})
    assert early.status_code == 422 and "Confirm the refund" not in early.content.decode()
    # Within what was paid, the review shows the balance it would leave.
    fine = client.post(url, {**fields, "refund-amount": "50.00"}).content.decode()
    assert "Confirm the refund" in fine and "goes from -$50.00 to $0.00" in fine
    assert not PatientRefund.objects.exists()


def test_an_agreement_and_a_plan_from_the_page(books: Books, client: Client) -> None:
    books.charge(dt.date(2026, 10, 5), "300.00")
    client.force_login(books.users["billing"])
    url = _ledger_url(books)
    response = client.post(
        url,
        {
            "action": "agreement",
            "agreement-share_percent": "50",
            "agreement-effective_from": "2026-10-01",
        },
    )
    assert response.status_code == 302
    assert SlidingFeeAgreement.objects.get().share_percent == Decimal("50.00")
    response = client.post(
        url,
        {
            "action": "plan",
            "plan-total": "150.00",
            "plan-installments": "3",
            "plan-first_due": "2026-12-15",
            "plan-cadence": "monthly",
        },
    )
    assert response.status_code == 302
    plan = PaymentPlan.objects.get()
    assert [i.amount for i in plan.installments.all()] == [Decimal("50.00")] * 3
    page = client.get(url).content.decode()
    assert '<tr data-installment="3"><td>3</td><td>Mon Feb 15, 2027</td><td>$50.00</td>' in page
    cancel = client.post(url, {"action": "plan_cancel"})
    assert "Cancel the payment plan?" in cancel.content.decode()
    assert PaymentPlan.objects.get().status == "active"
    client.post(url, {"action": "plan_cancel", "confirm": "yes"})
    assert PaymentPlan.objects.get().status == "cancelled"


def test_a_plan_with_bad_input_keeps_it_and_names_the_field(books: Books, client: Client) -> None:
    client.force_login(books.users["billing"])
    response = client.post(
        _ledger_url(books),
        {
            "action": "plan",
            "plan-total": "0.02",
            "plan-installments": "3",
            "plan-first_due": "2026-12-15",
            "plan-cadence": "monthly",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "cannot be split into 3 installments" in page and 'value="0.02"' in page
    assert not PaymentPlan.objects.exists()


def test_the_statement_pdf(books: Books, client: Client) -> None:
    books.site.address = "1 Pinecone Way, Springfield"
    books.site.save()
    books.charge(dt.date(2026, 9, 20), "80.00")
    _with_discounted_charges(books)
    payment_record(
        by=books.actor("billing"),
        patient=books.patient,
        amount=Decimal("30.00"),
        date=dt.date(2026, 11, 2),
        method="card",
    )
    client.force_login(books.users["billing"])
    url = _ledger_url(books)
    client.post(
        url,
        {
            "action": "plan",
            "plan-total": "150.00",
            "plan-installments": "2",
            "plan-first_due": "2026-12-10",
            "plan-cadence": "monthly",
        },
    )
    response = client.post(
        url,
        {
            "action": "statement",
            "statement-period_start": "2026-11-01",
            "statement-period_end": "2026-11-30",
        },
    )
    assert response.status_code == 302
    statement = Statement.objects.get()
    assert response["Location"] == reverse(
        "billing:statement_pdf", kwargs={"statement_id": statement.pk}
    )
    pdf = client.get(response["Location"])
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = " ".join(text.split())
    assert "Pinecone Hollow Recovery (fictional)" in flat
    assert "1 Pinecone Way, Springfield" in flat
    assert "Testy McTestface" in flat
    # Opening: 80.00 + 50.00 + 50.00 (25% of two 200.00 charges) = 180.00; a 30.00 payment in
    # November: closing 150.00; the plan covers it and nothing is due before 10 Dec: due now 0.
    assert "Opening balance $180.00" in flat
    assert "Closing balance $150.00" in flat
    assert "Amount due now $0.00" in flat
    assert "Next installment $75.00 due" in flat
    assert "Payment (Card)" in flat
    assert "$300.00" in flat  # still with insurance
    assert "diagnos" not in flat.lower() and "note" not in flat.lower()
    assert AuditEntry.objects.filter(
        object_type="patient_statement", action="export", patient_id=books.patient.pk
    ).exists()


@pytest.mark.parametrize("who", ["intake", "clinician", "foreign_billing"])
def test_the_pages_are_refused_outside_revenue_at_the_patients_site(
    books: Books, client: Client, who: str
) -> None:
    client.force_login(books.users[who])
    assert client.get(_ledger_url(books)).status_code == 403
    assert AuditEntry.objects.filter(outcome="denied", patient_id=books.patient.pk).exists()
    if who != "foreign_billing":
        assert client.get(reverse("billing:balances")).status_code == 403


def test_another_organizations_billing_sees_none_of_our_patients(
    books: Books, client: Client
) -> None:
    books.charge(dt.date(2026, 10, 5), "100.00")
    client.force_login(books.users["foreign_billing"])
    page = client.get(reverse("billing:balances")).content.decode()
    assert "McTestface" not in page and "No patient has anything on their account yet" in page


def test_the_balances_list_searches_pages_and_pins_its_queries(
    books: Books, client: Client
) -> None:
    client.force_login(books.users["billing"])
    url = reverse("billing:balances")
    assert "No patient has anything on their account yet" in client.get(url).content.decode()
    for i in range(2):
        patient = make_patient(books.site, legal_first_name="Quill", legal_last_name=f"Ledgerly{i}")
        books.charge(dt.date(2026, 10, 5), "100.00", patient=patient)
    small = page_query_count(client, url + "?q=ledgerly")
    for i in range(2, PAGE_SIZE + 2):
        patient = make_patient(books.site, legal_first_name="Quill", legal_last_name=f"Ledgerly{i}")
        books.charge(dt.date(2026, 10, 5), "100.00", patient=patient)
        payment_record(
            by=books.actor("billing"),
            patient=patient,
            amount=Decimal("10.00"),
            date=dt.date(2026, 10, 6),
            method="cash",
        )
    assert page_query_count(client, url + "?q=ledgerly") == small
    assert page_query_count(client, url + "?q=ledgerly&page=2") == small
    first = client.get(url, {"q": "ledgerly"}).content.decode()
    assert f"Page 1 of 2 · {PAGE_SIZE + 2} in all" in first
    assert "$90.00" in first and "$100.00" in first
    nothing = client.get(url, {"q": "nobody-by-this-name"}).content.decode()
    assert "No patient with an account matches" in nothing
    entry = AuditEntry.objects.filter(object_type="patient_balances").latest("id")
    assert entry.action == "view"


def test_the_ledger_page_reads_a_fixed_number_of_queries_whatever_the_entries(
    books: Books, client: Client
) -> None:
    _with_discounted_charges(books)
    client.force_login(books.users["billing"])
    url = _ledger_url(books)
    small = page_query_count(client, url)
    for day in range(8, 28):
        books.charge(dt.date(2026, 10, day), "200.00")
        payment_record(
            by=books.actor("billing"),
            patient=books.patient,
            amount=Decimal("5.00"),
            date=dt.date(2026, 10, day),
            method="cash",
        )
    assert page_query_count(client, url) == small
