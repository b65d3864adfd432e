"""Payers: the organization's list, written by one doorway each (create, update), audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.admissions.services.common import validate_model
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.models import Payer
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation


def payer_check(payer: Payer) -> None:
    """The rules a payer must meet to be saved (new or changed): a name not blank and not another
    payer's of the organization (case ignored), a known type. Raises RuleViolation on the field."""
    payer.name = (payer.name or "").strip()
    payer.payer_id = (payer.payer_id or "").strip()
    validate_model(payer, exclude=["organization"])
    taken = Payer.objects.filter(organization_id=payer.organization_id, name__iexact=payer.name)
    if taken.exclude(pk=payer.pk).exists():
        raise RuleViolation(f"{payer.name} is already a payer.", code="duplicate", field="name")


def payer_create(
    *, organization_id: int, name: str, payer_id: str, payer_type: str, by: Actor
) -> Payer:
    """Add a payer to the organization's list. Raises RuleViolation for a blank or repeated name
    or an unknown type; NotPermitted (audited) without Cap.BENEFITS_MANAGE."""
    require(by, Cap.BENEFITS_MANAGE, object_type="payer")
    payer = Payer(
        organization_id=organization_id, name=name, payer_id=payer_id, payer_type=payer_type
    )
    payer_check(payer)
    with transaction.atomic():
        payer.save()
        audit_record(
            by, action=AuditAction.CREATE, object_type="payer", object_id=payer.pk, detail={}
        )
    return payer


PAYER_FIELDS = ("name", "payer_id", "payer_type", "is_active")


def payer_update(*, payer: Payer, by: Actor, **fields: Any) -> Payer:
    """Rename, retype or (de)activate a payer (PAYER_FIELDS); an inactive payer is offered for no
    new coverage, and the coverages that name it keep it. Audited with the fields changed, before
    and after. Raises RuleViolation as payer_create does; NotPermitted (audited) without
    Cap.BENEFITS_MANAGE."""
    require(by, Cap.BENEFITS_MANAGE, object_type="payer")
    unknown = set(fields) - set(PAYER_FIELDS)
    if unknown:
        raise TypeError(f"payer_update: unknown fields {sorted(unknown)}")
    with transaction.atomic():
        current = Payer.objects.select_for_update().get(pk=payer.pk)
        before = {f: getattr(current, f) for f in fields}
        for field, value in fields.items():
            setattr(current, field, value)
        payer_check(current)
        changed = [f for f in fields if getattr(current, f) != before[f]]
        if changed:
            current.save(update_fields=[*changed, "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type="payer",
                object_id=current.pk,
                detail={
                    "fields": changed,
                    "before": {f: before[f] for f in changed},
                    "after": {f: getattr(current, f) for f in changed},
                },
            )
    for field in fields:
        setattr(payer, field, getattr(current, field))
    return payer
