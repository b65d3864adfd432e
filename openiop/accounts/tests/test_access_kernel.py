"""The access kernel (accounts.access): one definition of the sites a user sees, one site check,
one "load this record for this actor, for this purpose" that checks and audits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from openiop.accounts.access import (
    get_for,
    kernel_checks,
    require_site,
    site_scope,
    visible_site_ids,
    visible_sites,
)
from openiop.accounts.domain import Cap, Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotFound, NotPermitted
from openiop.patients.models import Patient
from openiop.programs.models import Site
from openiop.programs.selectors import visible_sites as programs_visible_sites
from openiop.testing import make_org, make_patient, make_site, make_user

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries


@pytest.fixture
def far(staff: dict[str, Any]) -> dict[str, Any]:
    """Another organization with a site and a patient (fictional)."""
    org = make_org(name="Driftwood Shoals (fictional)", mrn_prefix="DS")
    site = make_site(org, name="Driftwood Pier (fictional)")
    return {"org": org, "site": site, "patient": make_patient(site)}


def test_a_director_sees_every_site_of_their_organization_only(
    staff: dict[str, Any], far: dict[str, Any]
) -> None:
    actor = Actor(staff["director"])
    mine = {staff["site"].pk, staff["other"].pk}
    assert visible_site_ids(actor) == mine
    assert {s.pk for s in visible_sites(actor)} == mine
    assert {s.pk for s in programs_visible_sites(actor=actor)} == mine  # the same definition
    assert set(Site.objects.filter(site_scope(actor, "id")).values_list("pk", flat=True)) == mine
    assert not Patient.objects.filter(site_scope(actor)).filter(pk=far["patient"].pk).exists()


def test_a_clinician_sees_the_sites_they_work_at(staff: dict[str, Any]) -> None:
    actor = Actor(staff["clinician"])
    assert visible_site_ids(actor) == {staff["site"].pk}
    assert [s.pk for s in visible_sites(actor)] == [staff["site"].pk]


def test_require_site_refuses_another_organizations_site_and_audits(
    staff: dict[str, Any], far: dict[str, Any]
) -> None:
    actor = Actor(staff["director"])
    require_site(actor, staff["other"], Cap.SCHEDULE_MANAGE, object_type="track")
    for site in (far["site"], far["site"].pk):
        with pytest.raises(NotPermitted, match="a site you do not work at"):
            require_site(actor, site, Cap.SCHEDULE_MANAGE, object_type="track")
    assert (
        AuditEntry.objects.filter(
            outcome="denied", object_type="track", detail__reason="site not permitted"
        ).count()
        == 2
    )


def test_require_site_refuses_a_role_without_the_capability(staff: dict[str, Any]) -> None:
    with pytest.raises(NotPermitted, match="Your role"):
        require_site(
            Actor(staff["billing"]), staff["site"], Cap.SCHEDULE_MANAGE, object_type="track"
        )


def test_get_for_loads_checks_and_audits_naming_the_patient(
    staff: dict[str, Any], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    patient = make_patient(staff["site"])
    actor = Actor(staff["clinician"])
    staff["clinician"].site_ids()  # the request's session query reads these (accounts.backends)
    with kernel_checks() as checks, django_assert_num_queries(1 + 1):  # the record, the entry
        got = get_for(
            actor,
            Patient.objects.all(),
            patient.pk,
            cap=Cap.CLINICAL_VIEW,
            object_type="patient_test",
            missing=NotFound("No such patient."),
            patient_of=lambda p: p,
        )
    assert got == patient
    assert checks == ["get_for", "require_patient"]
    entry = AuditEntry.objects.get(object_type="patient_test")
    assert (entry.action, entry.outcome, entry.patient_id) == ("view", "ok", patient.pk)


def test_get_for_refuses_another_sites_patient_and_audits_naming_them(
    staff: dict[str, Any],
) -> None:
    patient = make_patient(staff["other"])
    with pytest.raises(NotPermitted):
        get_for(
            Actor(staff["clinician"]),
            Patient.objects.all(),
            patient.pk,
            cap=Cap.CLINICAL_VIEW,
            object_type="patient_test",
            missing=NotFound("No such patient."),
            patient_of=lambda p: p,
        )
    entry = AuditEntry.objects.get(object_type="patient_test")
    assert (entry.outcome, entry.patient_id) == ("denied", patient.pk)


def test_get_for_raises_the_callers_not_found_for_a_missing_id(staff: dict[str, Any]) -> None:
    with pytest.raises(NotFound, match="No such site"):
        get_for(
            Actor(staff["clinician"]),
            Site.objects.all(),
            10**9,
            cap=Cap.SCHEDULE_VIEW,
            object_type="site_test",
            missing=NotFound("No such site."),
            site_of=lambda s: s,
        )


def test_a_user_of_no_organization_with_all_sites_sees_every_site(
    staff: dict[str, Any], far: dict[str, Any]
) -> None:
    admin = make_user(Role.ADMIN)
    assert {staff["site"].pk, far["site"].pk} <= visible_site_ids(Actor(admin))
