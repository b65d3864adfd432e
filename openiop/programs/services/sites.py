"""Sites and organizations: whether a site takes new work, and deactivating or reactivating a site
or an organization (refused while it has open work).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import transaction
from django.db.models import Count, Q

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.admissions.domain.pipeline import OPEN_STAGES
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.programs.choices import SessionStatus
from openiop.programs.models import (
    GroupSession,
    Organization,
    Site,
)


def require_site_takes_new_work(site: Site, *, field: str = "site") -> None:
    """Refuse new work (a patient, inquiry, episode, track, session or enrollment) at `site` when
    it is inactive or its organization is (Site.takes_new_work). Its records stay readable.

    Raises RuleViolation (code site_inactive) naming the site, on `field`.
    """
    if not site.is_active:
        raise RuleViolation(
            f"{site} is inactive: it takes no new patients, inquiries, tracks or sessions. "
            "Choose an active site.",
            code="site_inactive",
            field=field,
        )
    if not site.organization.is_active:
        raise RuleViolation(
            f"{site.organization} is inactive, so {site} takes no new patients, inquiries, "
            "tracks or sessions.",
            code="site_inactive",
            field=field,
        )


# --- deactivating and reactivating ---------------------------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def site_deactivation_refusal(*, sites: Iterable[Site], name: str) -> RuleViolation | None:
    """Why `name` (a site, or an organization with these sites) may not be deactivated yet, or None.

    What is still open at the sites stops it: episodes not discharged, scheduled sessions not yet
    over, inquiries still in the pipeline. Each would be stranded at a place that takes no new
    work, so the message counts them and says what to do first.
    """
    site_ids = [s.pk for s in sites]
    episodes = Episode.objects.filter(site_id__in=site_ids, status__in=OPEN_STATUSES).count()
    sessions = GroupSession.objects.filter(
        site_id__in=site_ids, status=SessionStatus.SCHEDULED, ends_at__gt=clock.now()
    ).count()
    inquiries = int(
        Site.objects.filter(pk__in=site_ids).aggregate(
            n=Count("inquiries", filter=Q(inquiries__stage__in=OPEN_STAGES))
        )["n"]
        or 0
    )
    still: list[str] = []
    todo: list[str] = []
    if episodes:
        still.append(_plural(episodes, "open episode", "open episodes"))
        todo.append("discharge the episodes")
    if sessions:
        still.append(_plural(sessions, "scheduled session", "scheduled sessions") + " to come")
        todo.append("cancel the sessions")
    if inquiries:
        still.append(_plural(inquiries, "open inquiry", "open inquiries"))
        todo.append("close the inquiries")
    if not still:
        return None
    listed = ", ".join(still[:-1]) + (" and " if len(still) > 1 else "") + still[-1]
    steps = ", ".join(todo[:-1]) + (" and " if len(todo) > 1 else "") + todo[-1]
    return RuleViolation(
        f"{name} still has {listed}: {steps} before deactivating it.",
        code="site_has_open_work",
        field="is_active",
    )


def site_set_active(*, site: Site, active: bool, by: Actor) -> Site:
    """Deactivate or reactivate a site. Inactive, it takes no new work (Site.takes_new_work) and its
    records stay readable; sites with history are deactivated, never deleted. Audited.

    Raises RuleViolation when deactivating a site with open work (site_deactivation_refusal);
    NotPermitted (audited) without Cap.STAFF_MANAGE.
    """
    return _place_set_active(
        site, active=active, by=by, object_type="site", sites_of=lambda current: [current]
    )


def organization_set_active(*, organization: Organization, active: bool, by: Actor) -> Organization:
    """Deactivate or reactivate an organization; inactive, none of its sites takes new work.
    Audited.

    Raises RuleViolation when deactivating while any of its sites has open work
    (site_deactivation_refusal); NotPermitted (audited) without Cap.STAFF_MANAGE.
    """
    return _place_set_active(
        organization,
        active=active,
        by=by,
        object_type="organization",
        sites_of=lambda current: Site.objects.filter(organization=current),
    )


_Place = TypeVar("_Place", Site, Organization)


def _place_set_active(
    place: _Place,
    *,
    active: bool,
    by: Actor,
    object_type: str,
    sites_of: Callable[[_Place], Iterable[Site]],
) -> _Place:
    """site_set_active and organization_set_active: lock the row, refuse deactivating while
    `sites_of` it have open work, save and audit a change (nothing when it already is so)."""
    require(by, Cap.STAFF_MANAGE, object_type=object_type)
    with transaction.atomic():
        current = type(place).objects.select_for_update().get(pk=place.pk)
        if current.is_active != active:
            if not active:
                refusal = site_deactivation_refusal(sites=sites_of(current), name=str(current))
                if refusal is not None:
                    raise refusal
            current.is_active = active
            current.save(update_fields=["is_active", "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type=object_type,
                object_id=current.pk,
                detail={"event": "reactivate" if active else "deactivate", "active": active},
            )
    place.is_active = active
    return place
