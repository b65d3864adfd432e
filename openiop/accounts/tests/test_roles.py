import pytest

from openiop.accounts.domain import MFA_REQUIRED_ROLES, ROLE_CAPS, Cap, Role, role_can


def test_every_role_has_a_capability_set() -> None:
    assert set(ROLE_CAPS) == set(Role)


@pytest.mark.parametrize(
    ("role", "cap", "allowed"),
    [
        (Role.BILLING, Cap.NOTE_TEXT, False),
        (Role.BILLING, Cap.ATTENDANCE_VIEW, True),
        (Role.INTAKE, Cap.CLINICAL_VIEW, False),
        (Role.INTAKE, Cap.NOTE_TEXT, False),
        (Role.INTAKE, Cap.PATIENT_EDIT, True),
        (Role.CLINICIAN, Cap.CLINICAL_VIEW, True),
        (Role.CLINICIAN, Cap.ALL_SITES, False),
        (Role.AUDITOR, Cap.AUDIT_VIEW, True),
        (Role.AUDITOR, Cap.PATIENT_DEMOGRAPHICS, False),
        (Role.DIRECTOR, Cap.AUDIT_VIEW, True),
        (Role.ADMIN, Cap.CLINICAL_VIEW, False),
    ],
)
def test_role_capabilities_follow_minimum_necessary(role: Role, cap: Cap, allowed: bool) -> None:
    assert role_can(role, cap) is allowed


def test_unknown_role_has_no_capability() -> None:
    assert role_can("janitor", Cap.SCHEDULE_VIEW) is False


def test_director_and_admin_require_two_factor() -> None:
    assert {Role.DIRECTOR, Role.ADMIN} == MFA_REQUIRED_ROLES
