"""The steps every admissions write takes, shared with billing's services (an inquiry's coverages
and estimates): the inquiry access check, locking it, moving its stage, its audit entry, field
validation. Only require_inquiry checks access; the others assume the caller has."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models

from openiop.accounts.access import require_site
from openiop.accounts.domain import Cap
from openiop.admissions.choices import TaskStatus
from openiop.admissions.domain import pipeline
from openiop.admissions.models import Inquiry, StageChange
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation

if TYPE_CHECKING:
    from openiop.accounts.models import User

__all__ = [
    "acting_staff",
    "audit_inquiry",
    "inquiry_today",
    "lock_inquiry",
    "refuse_if_closed",
    "refuse_while_urgent_task",
    "require_inquiry",
    "set_stage",
    "validate_model",
]


def validate_model(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise RuleViolation(
            f"{field.replace('_', ' ').capitalize()}: {' '.join(messages)}",
            code="invalid_field",
            field=None if field == "__all__" else field,
        ) from exc


def require_inquiry(by: Actor, cap: Cap, inquiry: Inquiry) -> None:
    require_site(by, inquiry.site_id, cap, object_type="inquiry", patient_id=inquiry.patient_id)


def audit_inquiry(
    by: Actor, inquiry: Inquiry, action: str, detail: dict[str, Any], object_type: str = "inquiry"
) -> None:
    audit_record(
        by,
        action=action,
        patient_id=inquiry.patient_id,
        object_type=object_type,
        object_id=inquiry.pk,
        detail=detail,
    )


def acting_staff(by: Actor) -> User:
    """The signed-in staff member acting (services that reach here have checked a capability)."""
    assert by.user is not None
    return by.user


def inquiry_today(inquiry: Inquiry) -> dt.date:
    return clock.local_today(inquiry.site.tz)


def set_stage(inquiry: Inquiry, stage: str, by: Actor, note: str = "") -> None:
    """Move the (locked, current) inquiry to `stage` and record the change. No permission check."""
    if stage == inquiry.stage:
        return
    StageChange.objects.create(
        inquiry=inquiry,
        from_stage=inquiry.stage,
        to_stage=stage,
        on=inquiry_today(inquiry),
        changed_by=by.user,
        note=note[:500],
    )
    inquiry.stage = stage
    inquiry.stage_entered_on = inquiry_today(inquiry)
    Inquiry.objects.filter(pk=inquiry.pk).update(
        stage=stage, stage_entered_on=inquiry.stage_entered_on, updated_at=clock.now()
    )


def lock_inquiry(inquiry: Inquiry) -> Inquiry:
    return Inquiry.objects.select_for_update().select_related("site").get(pk=inquiry.pk)


def refuse_while_urgent_task(inquiry: Inquiry) -> None:
    task = inquiry.tasks.filter(urgent=True, status=TaskStatus.OPEN).first()
    if task is not None:
        raise RuleViolation(
            f"An urgent task is open: {task.title} Record what was done about it before going on.",
            code="urgent_task_open",
        )


def refuse_if_closed(inquiry: Inquiry) -> None:
    if inquiry.stage not in pipeline.OPEN_STAGES:
        raise RuleViolation(
            f"This inquiry is {inquiry.get_stage_display().lower()}; reopen it first.",
            code="inquiry_closed",
        )
