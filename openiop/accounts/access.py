"""Access checks that selectors and services call: role capability plus site scope, audited when denied."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q, QuerySet

from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_denied, audit_record
from openiop.core.actor import Actor
from openiop.core.errors import NotFound, NotPermitted

if TYPE_CHECKING:
    from openiop.patients.models import Patient
    from openiop.programs.models import Site

M = TypeVar("M", bound=Model)

SITE_REFUSAL = "This is at a site you do not work at."

# The access checks made while a block of code runs (kernel_checks): a test proves that a page
# went through this module and did not write its own check.
_checks: ContextVar[list[str] | None] = ContextVar("access_checks", default=None)


@contextmanager
def kernel_checks() -> Iterator[list[str]]:
    """Collect the name of every kernel check made inside the block, and `<name>:denied` for each
    that refused (for tests)."""
    seen: list[str] = []
    token = _checks.set(seen)
    try:
        yield seen
    finally:
        _checks.reset(token)


def _note(check: str) -> None:
    seen = _checks.get()
    if seen is not None:
        seen.append(check)


def require(
    actor: Actor, cap: Cap, *, patient_id: int | None = None, object_type: str = ""
) -> None:
    """Raise NotPermitted (and audit the denied attempt) unless the actor's role has `cap`."""
    user = actor.user
    if user is None or not user.can(cap):
        _note("require:denied")
        audit_denied(
            actor, patient_id=patient_id, object_type=object_type, reason=f"missing {cap.value}"
        )
        raise NotPermitted("Your role does not allow this.", code="role_not_permitted")


def require_patient(
    actor: Actor, cap: Cap, patient: Patient, *, object_type: str = "patient"
) -> None:
    """Raise NotPermitted (audited) unless the actor has `cap` and the patient is at one of their sites."""
    _note("require_patient")
    require(actor, cap, patient_id=patient.pk, object_type=object_type)
    if patient.site_id not in visible_site_ids(actor):
        _note("require_patient:denied")
        audit_denied(
            actor, patient_id=patient.pk, object_type=object_type, reason="patient at another site"
        )
        raise NotPermitted("This patient is not at one of your sites.", code="site_not_permitted")


# --- which sites, one definition ------------------------------------------------------------------


def limited_site_ids(actor: Actor) -> set[int] | None:
    """The ids of the sites the actor is limited to (the sites they work at), or None when they
    see every site of their organization (Cap.ALL_SITES; visible_site_ids lists those). No query
    of its own beyond the user's sites (read with the session's query on a web request): for a
    key or filter that may treat None as every site."""
    user = actor.user
    if user is None:
        return set()
    return None if user.sees_all_sites() else user.site_ids()


def work_site_ids(actor: Actor) -> set[int]:
    """The ids of the sites the actor works at, whatever else they may see: where a page that
    shows one site opens (pick_site). Not an access rule: that is visible_site_ids."""
    user = actor.user
    return user.site_ids() if user is not None else set()


def pick_site(actor: Actor, sites: Sequence[Site], wanted: str | None) -> Site | None:
    """The site a page about one site shows, among `sites` (the actor's visible sites): the one
    whose id is `wanted` (from the query), else the first the actor works at, else the first."""
    chosen = next((s for s in sites if str(s.pk) == wanted), None)
    if chosen is None:
        mine = work_site_ids(actor)
        chosen = next((s for s in sites if s.pk in mine), sites[0] if sites else None)
    return chosen


def visible_site_ids(actor: Actor) -> set[int]:
    """The ids of the sites the actor may see: every site of their organization with
    Cap.ALL_SITES (every site when they belong to none), else the sites they work at. Cached on
    the user for the request."""
    limited = limited_site_ids(actor)
    if limited is not None:
        return limited
    user = actor.user
    assert user is not None  # no user: limited to no site
    cached: set[int] | None = getattr(user, "_visible_site_ids", None)
    if cached is None:
        from openiop.programs.models import Site

        qs = Site.objects.all()
        if user.organization_id:
            qs = qs.filter(organization_id=user.organization_id)
        cached = set(qs.values_list("id", flat=True))
        user._visible_site_ids = cached  # type: ignore[attr-defined]
    return cached


def visible_sites(actor: Actor, *, for_new_work: bool = False) -> QuerySet[Site]:
    """The sites the actor may see (visible_site_ids), by name. With `for_new_work`, only those
    that take new work (Site.objects.active()): the choices of pages that start something at a
    site. Reading pages keep inactive sites, whose records stay readable."""
    from openiop.programs.models import Site

    user = actor.user
    if user is None:
        return Site.objects.none()
    base = Site.objects.active() if for_new_work else Site.objects.all()
    qs = base.select_related("organization").order_by("name", "id")
    return qs.filter(site_scope(actor, "id"))


def site_scope(actor: Actor, field: str = "site_id") -> Q:
    """A filter limiting rows to the actor's sites (`field` names the site id on the queried
    model); the same rule as visible_site_ids, as a filter (no query of its own)."""
    user = actor.user
    if user is None:
        return Q(pk__in=[])
    limited = limited_site_ids(actor)
    if limited is None:
        if not user.organization_id:
            return Q()
        from openiop.programs.models import Site

        ids = Site.objects.filter(organization_id=user.organization_id).values("id")
        return Q(**{f"{field}__in": ids})
    return Q(**{f"{field}__in": sorted(limited)})


def sees_site(actor: Actor, site: Site | int) -> bool:
    """Whether `site` (a Site or its id) is one the actor may see. Given a Site, no query."""
    user = actor.user
    if user is None:
        return False
    if not isinstance(site, int) and user.sees_all_sites():
        return not user.organization_id or site.organization_id == user.organization_id
    return (site if isinstance(site, int) else site.pk) in visible_site_ids(actor)


def require_site(
    actor: Actor,
    site: Site | int,
    cap: Cap | None = None,
    *,
    object_type: str,
    patient_id: int | None = None,
) -> None:
    """Raise NotPermitted (audited) unless the actor has `cap` (when given) and may see `site`
    (a Site or its id). The one site check of every selector and service."""
    _note("require_site")
    if cap is not None:
        require(actor, cap, patient_id=patient_id, object_type=object_type)
    if actor.user is None:
        audit_denied(actor, patient_id=patient_id, object_type=object_type, reason="no user")
        raise NotPermitted("Your role does not allow this.", code="role_not_permitted")
    if not sees_site(actor, site):
        _note("require_site:denied")
        audit_denied(
            actor, patient_id=patient_id, object_type=object_type, reason="site not permitted"
        )
        raise NotPermitted(SITE_REFUSAL, code="site_not_permitted")


def get_for(
    actor: Actor,
    queryset: QuerySet[M],
    pk: object,
    *,
    cap: Cap,
    object_type: str,
    missing: NotFound,
    patient_of: Callable[[M], Patient | None] | None = None,
    site_of: Callable[[M], Site | int] | None = None,
    patient_id_of: Callable[[M], int | None] | None = None,
    action: str | None = AuditAction.VIEW,
) -> M:
    """Load one record for this actor, for this purpose (`object_type`), and audit it.

    One query (the caller's queryset, with what it selects); `missing` raised when there is no
    such record. Then check_for: access and the audit entry."""
    _note("get_for")
    record = queryset.filter(pk=pk).first()
    if record is None:
        raise missing
    return _check_record(
        actor,
        record,
        cap=cap,
        object_type=object_type,
        patient_of=patient_of,
        site_of=site_of,
        patient_id_of=patient_id_of,
        action=action,
    )


def check_for(
    actor: Actor,
    record: M,
    *,
    cap: Cap,
    object_type: str,
    patient_of: Callable[[M], Patient | None] | None = None,
    site_of: Callable[[M], Site | int] | None = None,
    patient_id_of: Callable[[M], int | None] | None = None,
    action: str | None = AuditAction.VIEW,
) -> M:
    """Check this actor's access to a record already loaded, for this purpose (`object_type`),
    and audit it (get_for without the load; no query of its own once the sites are known).

    With `patient_of`, the record's patient (require_patient: `cap` and the patient's site); with
    `site_of`, the record's site (require_site: `cap` and that site), naming the patient given by
    `patient_id_of` when there is one (an inquiry before it has a patient). A refusal is
    NotPermitted, audited naming the patient. Then `action` is audited naming the patient (None:
    the caller audits, e.g. a note naming each of its members)."""
    _note("check_for")
    return _check_record(
        actor,
        record,
        cap=cap,
        object_type=object_type,
        patient_of=patient_of,
        site_of=site_of,
        patient_id_of=patient_id_of,
        action=action,
    )


def _check_record(
    actor: Actor,
    record: M,
    *,
    cap: Cap,
    object_type: str,
    patient_of: Callable[[M], Patient | None] | None,
    site_of: Callable[[M], Site | int] | None,
    patient_id_of: Callable[[M], int | None] | None,
    action: str | None,
) -> M:
    patient = patient_of(record) if patient_of is not None else None
    if patient is not None:
        require_patient(actor, cap, patient, object_type=object_type)
        patient_id: int | None = patient.pk
    else:
        assert site_of is not None, "check_for needs the record's patient or its site"
        patient_id = patient_id_of(record) if patient_id_of is not None else None
        require_site(actor, site_of(record), cap, object_type=object_type, patient_id=patient_id)
    if action is not None:
        audit_record(
            actor,
            action=action,
            patient_id=patient_id,
            object_type=object_type,
            object_id=record.pk,
        )
    return record


def visible_patients(actor: Actor, qs: QuerySet[Patient]) -> QuerySet[Patient]:
    return qs.filter(site_scope(actor))


def home_path(user: Any) -> str:
    """Where a staff member starts: Today, or the audit log for a role that has no schedule (the
    auditor). The login, two-factor and the OpenIOP link of every page all go here."""
    from django.urls import reverse

    if user.can(Cap.AUDIT_VIEW) and not user.can(Cap.SCHEDULE_VIEW):
        return reverse("audit:log")
    return reverse("web:today")
