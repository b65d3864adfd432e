"""The patient's bill's services (billing.services.accounts): patient responsibility from a
remittance (idempotent on its reference), payments, refunds and their limit, sliding-fee
agreements, payment plans, statements, reminders; each refused to another organization, another
site, intake and clinicians, and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openiop.audit.models import AuditEntry
from openiop.billing.models import PatientResponsibility
from openiop.billing.services.accounts import patient_responsibility_add
from openiop.billing.tests.accounts_books import Books, make_books
from openiop.core.errors import NotPermitted, RuleViolation

pytestmark = pytest.mark.django_db

OCT_20 = dt.date(2026, 10, 20)


@pytest.fixture
def books() -> Books:
    return make_books()


def _add(books: Books, who: str = "billing", **kw: Any) -> tuple[PatientResponsibility, bool]:
    args: dict[str, Any] = {
        "patient": books.patient,
        "amount": Decimal("40.00"),
        "date": OCT_20,
        "source": "835 TRN 7700123 Acme Health (fictional)",
        "claim_ref": "CLM-1",
        "line_ref": "1",
    }
    args.update(kw)
    return patient_responsibility_add(by=books.actor(who), **args)


def test_responsibility_is_added_once_per_remittance_line_and_audited(books: Books) -> None:
    row, created = _add(books)
    again, created_again = _add(books)
    assert created and not created_again
    assert again.pk == row.pk
    assert PatientResponsibility.objects.count() == 1
    entries = AuditEntry.objects.filter(object_type="patient_responsibility", action="create")
    assert [(e.patient_id, e.detail["amount"]) for e in entries] == [(books.patient.pk, "40.00")]
    # another line of the same claim, or the same line in another remittance, is another amount
    _add(books, line_ref="2")
    _add(books, source="835 TRN 7700999 Acme Health (fictional)")
    assert PatientResponsibility.objects.count() == 3


def test_responsibility_the_same_line_with_another_amount_is_refused(books: Books) -> None:
    _add(books)
    with pytest.raises(RuleViolation, match="already recorded"):
        _add(books, amount=Decimal("41.00"))
    assert PatientResponsibility.objects.get().amount == Decimal("40.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", Decimal("0")), ("amount", Decimal("1.005")), ("source", " "), ("claim_ref", "")],
)
def test_responsibility_bad_input_names_the_field(books: Books, field: str, value: Any) -> None:
    with pytest.raises(RuleViolation) as caught:
        _add(books, **{field: value})
    assert caught.value.field == field
    assert not PatientResponsibility.objects.exists()


@pytest.mark.parametrize("who", ["intake", "clinician", "foreign_billing"])
def test_responsibility_refused_without_revenue_at_the_patients_site(
    books: Books, who: str
) -> None:
    with pytest.raises(NotPermitted):
        _add(books, who)
    assert not PatientResponsibility.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", patient_id=books.patient.pk).exists()
