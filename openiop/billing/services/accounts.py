"""The patient's bill (issue 16 point 6): the one doorway that writes a patient's account.

- `patient_responsibility_add`: an amount a remittance moved to the patient (the 835 import calls
  it); idempotent on (source, claim, line), so importing the same file again adds nothing.

Every function here needs Cap.REVENUE_MANAGE at the patient's site (require_patient: a refusal is
NotPermitted, audited naming the patient), writes under a lock of the patient's row (two writes to
one account wait for each other, so the refund limit is checked against what is really there), and
audits what it wrote naming the patient. Bad input is a RuleViolation naming the form field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.domain.money import CENT
from openiop.billing.models import PatientResponsibility
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.patients.models import Patient

MAX_AMOUNT = Decimal("9999999999.99")  # what a DecimalField(12, 2) holds


def money(value: object, *, field: str, what: str) -> Decimal:
    """`value` as a Decimal amount of whole cents more than zero, or a RuleViolation naming
    `field` ("The payment's amount must be ...")."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RuleViolation(f"{what} must be an amount such as 25.00.", field=field) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise RuleViolation(f"{what} must be in whole cents, such as 25.00.", field=field)
    if amount <= 0:
        raise RuleViolation(f"{what} must be more than zero.", field=field)
    if amount > MAX_AMOUNT:
        raise RuleViolation(f"{what} is too large.", field=field)
    return amount.quantize(CENT)


def text(value: str, *, field: str, what: str, limit: int, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise RuleViolation(f"{what} is required.", field=field)
    if len(cleaned) > limit:
        raise RuleViolation(f"{what} is at most {limit} characters.", field=field)
    return cleaned


def _a_date(value: object, *, field: str, what: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise RuleViolation(f"{what} must be a date.", field=field)
    return value


def staff(by: Actor) -> User:
    """The signed-in staff member acting (every caller has passed require_patient)."""
    assert by.user is not None
    return by.user


def lock_patient(patient: Patient) -> None:
    """Lock the patient's row until the transaction ends: the account's writes wait for each
    other (FOR NO KEY UPDATE on PostgreSQL; SQLite serializes writers anyway)."""
    Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).exists()


def patient_responsibility_add(
    *,
    by: Actor,
    patient: Patient,
    amount: Decimal,
    date: dt.date,
    source: str,
    claim_ref: str,
    line_ref: str = "",
) -> tuple[PatientResponsibility, bool]:
    """Move `amount` from the insurance balance to the patient's, as a remittance said (an 835
    CAS group PR), and say whether it was added: `(row, created)`.

    `source` names the remittance stably (e.g. "835 TRN 1234567 Acme Health": never the time of
    the import); `claim_ref` and `line_ref` are the claim's and line's references as text. The
    same (source, claim_ref, line_ref) again returns the row already there, `created` False, and
    writes nothing; the same references with another patient or amount are refused
    (RuleViolation): one remittance line cannot say two things. Needs Cap.REVENUE_MANAGE at the
    patient's site. Audited (object_type "patient_responsibility") when it adds a row.
    """
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="patient_responsibility")
    value = money(amount, field="amount", what="The patient responsibility")
    day = _a_date(date, field="date", what="The remittance date")
    src = text(source, field="source", what="The source", limit=200)
    claim = text(claim_ref, field="claim_ref", what="The claim reference", limit=80)
    line = text(line_ref, field="line_ref", what="The line reference", limit=80, required=False)
    with transaction.atomic():
        lock_patient(patient)
        existing = PatientResponsibility.objects.filter(
            source=src, claim_ref=claim, line_ref=line
        ).first()
        if existing is None:
            try:
                with transaction.atomic():
                    row = PatientResponsibility.objects.create(
                        patient=patient,
                        amount=value,
                        date=day,
                        source=src,
                        claim_ref=claim,
                        line_ref=line,
                        added_by=staff(by),
                        created_at=clock.now(),
                    )
            except IntegrityError:
                # Another import of the same file got there first (another patient's lock).
                existing = PatientResponsibility.objects.get(
                    source=src, claim_ref=claim, line_ref=line
                )
            else:
                audit_record(
                    by,
                    action=AuditAction.CREATE,
                    patient_id=patient.pk,
                    object_type="patient_responsibility",
                    object_id=row.pk,
                    detail={
                        "amount": str(value),
                        "date": day.isoformat(),
                        "source": src,
                        "claim_ref": claim,
                        "line_ref": line,
                    },
                )
                return row, True
    if existing.patient_id != patient.pk or existing.amount != value:
        raise RuleViolation(
            f"{src}, claim {claim}{f' line {line}' if line else ''} was already recorded as "
            f"{existing.amount} for another patient or amount; one remittance line cannot move "
            "two amounts.",
            code="responsibility_conflict",
        )
    return existing, False
