"""Access checks that selectors and services call: role capability plus site scope, audited when denied."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from openiop.accounts.domain import Cap
from openiop.audit.services import audit_denied
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted

if TYPE_CHECKING:
    from openiop.patients.models import Patient


def require(
    actor: Actor, cap: Cap, *, patient_id: int | None = None, object_type: str = ""
) -> None:
    """Raise NotPermitted (and audit the denied attempt) unless the actor's role has `cap`."""
    user = actor.user
    if user is None or not user.can(cap):
        audit_denied(
            actor, patient_id=patient_id, object_type=object_type, reason=f"missing {cap.value}"
        )
        raise NotPermitted("Your role does not allow this.", code="role_not_permitted")


def require_patient(
    actor: Actor, cap: Cap, patient: Patient, *, object_type: str = "patient"
) -> None:
    """Raise NotPermitted (audited) unless the actor has `cap` and the patient is at one of their sites."""
    require(actor, cap, patient_id=patient.pk, object_type=object_type)
    user = actor.user
    assert user is not None
    if not user.sees_all_sites() and patient.site_id not in user.site_ids():
        audit_denied(
            actor, patient_id=patient.pk, object_type=object_type, reason="patient at another site"
        )
        raise NotPermitted("This patient is not at one of your sites.", code="site_not_permitted")


def site_scope(actor: Actor, field: str = "site_id") -> Q:
    """A filter limiting rows to the actor's sites (`field` names the site id on the queried model)."""
    user = actor.user
    if user is None:
        return Q(pk__in=[])
    if user.sees_all_sites():
        return Q()
    return Q(**{f"{field}__in": sorted(user.site_ids())})


def visible_patients(actor: Actor, qs: QuerySet[Patient]) -> QuerySet[Patient]:
    return qs.filter(site_scope(actor))


def home_path(user: Any) -> str:
    """Where a staff member starts: Today, or the audit log for a role that has no schedule (the
    auditor). The login, two-factor and the OpenIOP link of every page all go here."""
    from django.urls import reverse

    if user.can(Cap.AUDIT_VIEW) and not user.can(Cap.SCHEDULE_VIEW):
        return reverse("audit:log")
    return reverse("web:today")
