"""Role, site and activation changes: one audited doorway, never on one's own account, and a grant
of record access by an administrator waits for the director (or a second administrator).

Issue 13, point 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from openiop.accounts.domain import Role, access_change_needs_approval
from openiop.accounts.models import AccessChangeRequest, AccessChangeStatus, User
from openiop.accounts.services import access_change_decide, staff_change_access, staff_create
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.testing import PASSWORD

if TYPE_CHECKING:
    from typing import Any

pytestmark = pytest.mark.django_db


def _actor(user: User) -> Actor:
    return Actor(user=user, channel="web", client_addr="127.0.0.1", path="/test")


def test_nobody_changes_their_own_role(staff: dict[str, Any]) -> None:
    me = staff["director"]
    with pytest.raises(NotPermitted):
        staff_change_access(user=me, role=Role.ADMIN.value, sites=[staff["site"]], by=_actor(me))
    me.refresh_from_db()
    assert me.role == Role.DIRECTOR.value
    assert AuditEntry.objects.filter(object_type="staff", outcome="denied").exists()


def test_lowering_a_role_is_applied_and_audited_with_before_and_after(
    staff: dict[str, Any],
) -> None:
    clinician = staff["clinician"]
    change = staff_change_access(
        user=clinician, role=Role.INTAKE.value, sites=[staff["site"]], by=_actor(staff["admin"])
    )
    assert change.status == AccessChangeStatus.APPLIED
    clinician.refresh_from_db()
    assert clinician.role == Role.INTAKE.value
    entry = AuditEntry.objects.get(object_type="staff_access", object_id=str(clinician.pk))
    assert entry.detail["before"]["role"] == "clinician"
    assert entry.detail["after"]["role"] == "intake"


def test_raise_to_chart_role_by_admin_waits_for_director_approval(staff: dict[str, Any]) -> None:
    billing, admin_user = staff["billing"], staff["admin"]
    change = staff_change_access(
        user=billing,
        role=Role.CLINICIAN.value,
        sites=[staff["site"]],
        reason="covers groups",
        by=_actor(admin_user),
    )
    assert change.status == AccessChangeStatus.PENDING
    billing.refresh_from_db()
    assert billing.role == Role.BILLING.value  # not yet
    with pytest.raises(NotPermitted):  # the requester cannot approve their own request
        access_change_decide(change=change, approve=True, by=_actor(admin_user))
    with pytest.raises(NotPermitted):  # nor the person it concerns (not a staff manager anyway)
        access_change_decide(change=change, approve=True, by=_actor(billing))
    access_change_decide(change=change, approve=True, by=_actor(staff["director"]))
    billing.refresh_from_db()
    assert billing.role == Role.CLINICIAN.value
    change.refresh_from_db()
    assert change.status == AccessChangeStatus.APPROVED
    assert change.decided_by == staff["director"]
    decided = AuditEntry.objects.filter(object_type="staff_access", detail__status="approved")
    assert decided.count() == 1
    with pytest.raises(RuleViolation):
        access_change_decide(change=change, approve=False, by=_actor(staff["admin2"]))


def test_second_administrator_may_approve_and_rejection_changes_nothing(
    staff: dict[str, Any],
) -> None:
    clinician = staff["clinician"]
    more_sites = staff_change_access(
        user=clinician,
        role=Role.CLINICIAN.value,
        sites=[staff["site"], staff["other"]],
        by=_actor(staff["admin"]),
    )
    assert more_sites.status == AccessChangeStatus.PENDING
    access_change_decide(change=more_sites, approve=False, by=_actor(staff["admin2"]))
    assert set(clinician.sites.all()) == {staff["site"]}
    again = staff_change_access(
        user=clinician,
        role=Role.CLINICIAN.value,
        sites=[staff["site"], staff["other"]],
        by=_actor(staff["admin"]),
    )
    access_change_decide(change=again, approve=True, by=_actor(staff["admin2"]))
    assert set(clinician.sites.all()) == {staff["site"], staff["other"]}


def test_director_raises_access_directly(staff: dict[str, Any]) -> None:
    change = staff_change_access(
        user=staff["billing"],
        role=Role.CASE_MANAGER.value,
        sites=[staff["site"]],
        by=_actor(staff["director"]),
    )
    assert change.status == AccessChangeStatus.APPLIED
    staff["billing"].refresh_from_db()
    assert staff["billing"].role == Role.CASE_MANAGER.value


def test_approval_refused_when_access_changed_since_request(staff: dict[str, Any]) -> None:
    clinician = staff["clinician"]
    change = staff_change_access(
        user=clinician,
        role=Role.CLINICIAN.value,
        sites=[staff["site"], staff["other"]],
        by=_actor(staff["admin"]),
    )
    staff_change_access(
        user=clinician, role=Role.INTAKE.value, sites=[staff["site"]], by=_actor(staff["admin2"])
    )
    with pytest.raises(Conflict):
        access_change_decide(change=change, approve=True, by=_actor(staff["director"]))


def test_new_account_by_admin_is_inactive_until_approved(staff: dict[str, Any]) -> None:
    user = staff_create(
        username="newhire",
        role=Role.CLINICIAN.value,
        password=PASSWORD,
        first_name="Newly",
        last_name="Hiredperson",
        organization=staff["org"],
        sites=[staff["site"]],
        by=_actor(staff["admin"]),
    )
    assert not user.is_active
    change = AccessChangeRequest.objects.get(user=user)
    assert change.status == AccessChangeStatus.PENDING and change.activate
    access_change_decide(change=change, approve=True, by=_actor(staff["director"]))
    user.refresh_from_db()
    assert user.is_active and user.role == Role.CLINICIAN.value


def test_operator_bootstraps_accounts_from_the_command_line(staff: dict[str, Any]) -> None:
    user = staff_create(
        username="firstadmin",
        role=Role.ADMIN.value,
        password=PASSWORD,
        sites=[staff["site"]],
        by=Actor.cli(None, "staff_add firstadmin"),
    )
    assert user.is_active and user.role == Role.ADMIN.value


@pytest.mark.parametrize(
    ("old", "new", "added_sites", "old_active", "needs"),
    [
        (Role.BILLING, Role.CLINICIAN, False, True, True),  # chart reading
        (Role.CLINICIAN, Role.INTAKE, False, True, False),  # lowering
        (Role.CLINICIAN, Role.CLINICIAN, True, True, True),  # more sites
        (Role.BILLING, Role.BILLING, True, True, False),  # sees every site already
        (Role.INTAKE, Role.ADMIN, False, True, True),  # manages staff, approves changes
        (Role.CLINICIAN, Role.CLINICIAN, False, False, True),  # reactivation
        (Role.DIRECTOR, Role.CLINICIAN, False, True, False),
    ],
)
def test_which_changes_need_approval(
    old: Role, new: Role, added_sites: bool, old_active: bool, needs: bool
) -> None:
    assert (
        access_change_needs_approval(
            old_role=old,
            old_active=old_active,
            old_site_ids=frozenset({1}),
            new_role=new,
            new_active=True,
            new_site_ids=frozenset({1, 2}) if added_sites else frozenset({1}),
        )
        is needs
    )
