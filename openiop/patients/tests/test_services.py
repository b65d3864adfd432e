from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.patients.models import Patient
from openiop.patients.services import contact_add, contact_remove, patient_create, patient_update
from openiop.testing import make_org, make_patient, make_site, make_user

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.tests.clinic import Clinic
    from openiop.programs.models import Site

FIELDS = {
    "legal_first_name": "Zephyrine",
    "legal_last_name": "Quillfeather",
    "date_of_birth": dt.date(1991, 4, 12),
    "sex": "female",
}


def register(
    clinic: Clinic, user: User | None = None, site: Site | None = None, **kw: Any
) -> Patient:
    return patient_create(
        organization=clinic.org,
        site=site or clinic.site,
        by=clinic.actor(user or clinic.intake),
        **{**FIELDS, **kw},
    )


def test_mrn_is_the_organizations_next_number(clinic: Clinic) -> None:
    first = register(clinic)
    second = register(clinic, legal_first_name="Bartholomew")
    assert (first.mrn, second.mrn) == ("PG000001", "PG000002")
    clinic.org.refresh_from_db()
    assert clinic.org.next_mrn == 3


def test_mrn_sequences_are_per_organization(clinic: Clinic) -> None:
    other_org = make_org(name="Driftwood Shoals (fictional)", mrn_prefix="DS")
    other_site = make_site(other_org)
    register(clinic)
    their_director = make_user(Role.DIRECTOR, org=other_org)
    theirs = patient_create(
        organization=other_org, site=other_site, by=clinic.actor(their_director), **FIELDS
    )
    assert theirs.mrn == "DS000001"


def test_a_director_sees_only_their_own_organizations_sites(clinic: Clinic) -> None:
    """Cap.ALL_SITES is all sites of the director's organization (accounts.access.visible_site_ids),
    not another organization's."""
    other_org = make_org(name="Driftwood Shoals (fictional)", mrn_prefix="DS")
    other_site = make_site(other_org)
    with pytest.raises(NotPermitted, match="a site you do not work at"):
        patient_create(
            organization=other_org, site=other_site, by=clinic.actor(clinic.director), **FIELDS
        )
    assert not Patient.objects.filter(organization=other_org).exists()
    assert AuditEntry.objects.filter(
        outcome="denied", object_type="patient", detail__reason="site not permitted"
    ).exists()


def test_mrn_skips_numbers_already_taken(clinic: Clinic) -> None:
    make_patient(clinic.site, mrn="PG000001")
    assert register(clinic).mrn == "PG000002"
    assert Patient.objects.filter(organization=clinic.org, mrn="PG000002").count() == 1


def test_create_sets_search_name_and_audits(clinic: Clinic) -> None:
    p = register(clinic, preferred_name="Zeph")
    assert p.search_name == "zephyrine zeph quillfeather"
    entry = AuditEntry.objects.get(action="create", object_type="patient")
    assert entry.patient_id == p.pk
    assert entry.username == clinic.intake.username


def test_create_refused_for_a_role_without_patient_edit_and_audited_as_denied(
    clinic: Clinic,
) -> None:
    with pytest.raises(NotPermitted):
        register(clinic, user=clinic.clinician)
    assert AuditEntry.objects.filter(user_id=clinic.clinician.pk, outcome="denied").exists()
    assert not Patient.objects.exists()


def test_create_refused_at_a_site_that_is_not_yours(clinic: Clinic) -> None:
    with pytest.raises(NotPermitted):
        register(clinic, site=clinic.other_site)


def test_create_refuses_a_future_date_of_birth(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as exc:
        register(clinic, date_of_birth=dt.date(2999, 1, 1))
    assert exc.value.field == "date_of_birth"


def test_create_refuses_an_invalid_sex_on_its_field(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as exc:
        register(clinic, sex="dragon")
    assert exc.value.field == "sex"


def test_update_bumps_version_and_refuses_a_stale_one(clinic: Clinic) -> None:
    p = register(clinic)
    updated = patient_update(
        patient=p, expected_version=1, by=clinic.actor(clinic.intake), preferred_name="Zeph"
    )
    assert updated.version == 2
    assert Patient.objects.get(pk=p.pk).search_name == "zephyrine zeph quillfeather"
    stale = Patient.objects.get(pk=p.pk)
    with pytest.raises(Conflict):
        patient_update(
            patient=stale, expected_version=1, by=clinic.actor(clinic.intake), phone="555-0199"
        )
    assert Patient.objects.get(pk=p.pk).phone == ""


def test_an_update_that_changes_nothing_writes_nothing_but_still_checks_the_version(
    clinic: Clinic,
) -> None:
    """Saving the same demographics again neither bumps the version (which would turn another
    editor's copy stale) nor logs an update; named at an old version it is still a conflict."""
    p = register(clinic)
    by = clinic.actor(clinic.intake)
    same = patient_update(patient=p, expected_version=1, by=by, phone=p.phone)
    assert same.version == 1 and Patient.objects.get(pk=p.pk).version == 1
    assert not AuditEntry.objects.filter(patient_id=p.pk, action="update").exists()
    patient_update(patient=p, expected_version=1, by=by, preferred_name="Zeph")
    again = Patient.objects.get(pk=p.pk)
    with pytest.raises(Conflict):
        patient_update(patient=again, expected_version=1, by=by, preferred_name="Zeph")
    assert AuditEntry.objects.filter(patient_id=p.pk, action="update").count() == 1


def test_update_of_a_patient_at_another_site_is_refused_and_audited(clinic: Clinic) -> None:
    p = register(clinic)
    with pytest.raises(NotPermitted):
        patient_update(
            patient=p, expected_version=1, by=clinic.actor(clinic.other_site_intake), phone="1"
        )
    assert AuditEntry.objects.filter(
        user_id=clinic.other_site_intake.pk, patient_id=p.pk, outcome="denied"
    ).exists()


def test_contacts_are_added_and_removed_with_audit(clinic: Clinic) -> None:
    p = register(clinic, date_of_birth=dt.date(2011, 2, 3))
    guardian = contact_add(
        patient=p,
        by=clinic.actor(clinic.intake),
        name="Ophelia Quillfeather",
        relationship="parent",
        is_legal_guardian=True,
        is_emergency_contact=True,
    )
    assert p.contacts.get().is_legal_guardian
    contact_remove(contact=guardian, by=clinic.actor(clinic.intake))
    assert not p.contacts.exists()
    actions = set(
        AuditEntry.objects.filter(object_type="patient_contact").values_list("action", flat=True)
    )
    assert actions == {"create", "delete"}


def test_contact_needs_a_name(clinic: Clinic) -> None:
    p = register(clinic)
    with pytest.raises(RuleViolation) as exc:
        contact_add(patient=p, by=clinic.actor(clinic.intake), name="", relationship="parent")
    assert exc.value.field == "name"
