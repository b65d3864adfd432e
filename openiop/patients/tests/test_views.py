from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEntry
from openiop.episodes.models import Alert
from openiop.patients.models import Patient
from openiop.testing import audit_links_query, make_episode, make_patient

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
    from pytest_django import DjangoAssertNumQueries

    from openiop.patients.tests.clinic import Clinic


@pytest.fixture
def zeph(clinic: Clinic) -> Patient:
    return make_patient(
        clinic.site,
        legal_first_name="Zephyrine",
        legal_last_name="Quillfeather",
        date_of_birth=dt.date(1991, 4, 12),
        mrn="PG000101",
    )


@pytest.fixture
def far(clinic: Clinic) -> Patient:
    return make_patient(
        clinic.other_site, legal_first_name="Ignatius", legal_last_name="Farawayson"
    )


@pytest.mark.parametrize("query", ["quillf", "ZEPHYR", "1991-04-12", "04/12/1991", "pg000101"])
def test_search_finds_by_name_dob_or_mrn(
    client: Client, clinic: Clinic, zeph: Patient, far: Patient, query: str
) -> None:
    client.force_login(clinic.intake)
    body = client.get(reverse("patients:list"), {"q": query}).content.decode()
    assert "Quillfeather" in body
    assert "Farawayson" not in body


def test_search_with_no_match_explains_what_to_try(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    body = client.get(reverse("patients:list"), {"q": "Nobodyhere"}).content.decode()
    assert "No patient at your sites matches" in body
    assert "01/31/1990" in body
    assert reverse("patients:create") in body


def test_list_is_audited_with_the_patients_shown(
    client: Client, clinic: Clinic, zeph: Patient, far: Patient
) -> None:
    client.force_login(clinic.clinician)
    client.get(reverse("patients:list"))
    entry = AuditEntry.objects.get(action="search", object_type="patient_search")
    assert list(entry.patients.values_list("patient_id", flat=True)) == [zeph.pk]


def test_list_paginates(client: Client, clinic: Clinic) -> None:
    for n in range(30):
        make_patient(clinic.site, legal_last_name=f"Pagetest{n:02d}")
    client.force_login(clinic.intake)
    body = client.get(reverse("patients:list")).content.decode()
    assert "Page 1 of 2" in body
    assert "Pagetest29" not in body
    assert "Pagetest29" in client.get(reverse("patients:list"), {"page": 2}).content.decode()


def _list_queries(
    client: Client,
    clinic: Clinic,
    django_assert_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    for _ in range(count):
        patient = make_patient(clinic.site)
        make_episode(patient)
    client.force_login(clinic.clinician)
    client.get(reverse("patients:list"))  # warm the session
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("patients:list"), {"q": "zephyrine"})
    assert response.content.decode().count("badge-ok") == count


# session with user and their sites, count, page, open episodes, audit entry, audit patients (one
# insert). The session is not written: it was renewed less than a minute ago.
LIST_QUERIES = 5 + audit_links_query()


def test_patient_list_query_count_is_pinned(
    client: Client, clinic: Clinic, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    _list_queries(client, clinic, django_assert_num_queries, 3)


def test_patient_list_query_count_does_not_grow_with_patients(
    client: Client, clinic: Clinic, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    _list_queries(client, clinic, django_assert_num_queries, 12)


def test_create_goes_to_the_chart(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.intake)
    response = client.post(
        reverse("patients:create"),
        {
            "site": clinic.site.pk,
            "legal_first_name": "Ottoline",
            "legal_last_name": "Brambleworth",
            "date_of_birth": "03/15/1988",
            "sex": "female",
            "language": "English",
        },
    )
    patient = Patient.objects.get(legal_last_name="Brambleworth")
    assert patient.mrn == "PG000001"
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:chart", kwargs={"patient_id": patient.pk})


def test_create_keeps_the_input_and_shows_the_error_beside_the_field(
    client: Client, clinic: Clinic
) -> None:
    client.force_login(clinic.intake)
    response = client.post(
        reverse("patients:create"),
        {
            "site": clinic.site.pk,
            "legal_first_name": "Ottoline",
            "legal_last_name": "Brambleworth",
            "date_of_birth": "2999-01-01",
            "sex": "female",
            "language": "English",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Brambleworth"' in body
    assert "A date of birth must be between 1900-01-01 and" in body
    assert not Patient.objects.exists()


def test_create_page_refused_for_clinician(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.clinician)
    assert client.get(reverse("patients:create")).status_code == 403


def test_chart_renders_for_clinician_of_the_same_site(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    episode = make_episode(zeph, focus="substance_use")
    Alert.objects.create(
        patient=zeph, episode=episode, kind="below_hours", message="Only 4.5 h", dedupe_key="w"
    )
    client.force_login(clinic.clinician)
    body = client.get(reverse("patients:chart", kwargs={"patient_id": zeph.pk})).content.decode()
    assert "Quillfeather" in body
    assert "42 CFR Part 2" in body
    assert 'data-section="clinical"' in body
    assert "Only 4.5 h" in body
    assert f"/attendance/patients/{zeph.pk}/hours/" in body


def test_chart_is_refused_to_a_clinician_of_another_site(
    client: Client, clinic: Clinic, far: Patient
) -> None:
    client.force_login(clinic.clinician)
    response = client.get(reverse("patients:chart", kwargs={"patient_id": far.pk}))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(patient_id=far.pk, outcome="denied").exists()


def test_chart_of_an_unknown_patient_is_404(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.clinician)
    assert client.get(reverse("patients:chart", kwargs={"patient_id": 987654})).status_code == 404


@pytest.mark.parametrize("role", ["intake", "billing"])
def test_intake_and_billing_see_demographics_but_no_clinical_section(
    client: Client, clinic: Clinic, zeph: Patient, role: str
) -> None:
    episode = make_episode(zeph)
    Alert.objects.create(
        patient=zeph, episode=episode, kind="below_hours", message="Only 4.5 h", dedupe_key="w"
    )
    client.force_login(getattr(clinic, role))
    body = client.get(reverse("patients:chart", kwargs={"patient_id": zeph.pk})).content.decode()
    assert zeph.mrn in body
    assert 'data-section="demographics"' in body
    assert 'data-section="clinical"' not in body
    assert "Only 4.5 h" not in body


def test_chart_shows_links_to_manage_the_open_episode(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    episode = make_episode(zeph)
    client.force_login(clinic.case_manager)
    body = client.get(reverse("patients:chart", kwargs={"patient_id": zeph.pk})).content.decode()
    assert reverse("episodes:discharge", kwargs={"episode_id": episode.pk}) in body
    assert reverse("episodes:change_level", kwargs={"episode_id": episode.pk}) in body
    assert f"/programs/episodes/{episode.pk}/enroll/" in body
    assert reverse("episodes:open", kwargs={"patient_id": zeph.pk}) not in body


def test_edit_saves_and_a_stale_version_is_shown_as_a_form_error(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    url = reverse("patients:edit", kwargs={"patient_id": zeph.pk})
    form = {
        "legal_first_name": "Zephyrine",
        "legal_last_name": "Quillfeather",
        "preferred_name": "Zeph",
        "date_of_birth": "1991-04-12",
        "sex": "female",
        "language": "English",
        "version": 1,
    }
    assert client.post(url, form).status_code == 302
    zeph.refresh_from_db()
    assert (zeph.preferred_name, zeph.version) == ("Zeph", 2)
    response = client.post(url, {**form, "preferred_name": "Zephie"})
    body = response.content.decode()
    assert response.status_code == 409
    assert "changed by someone else" in body
    assert 'value="Zephie"' in body
    zeph.refresh_from_db()
    assert zeph.preferred_name == "Zeph"


def test_saving_the_edit_form_unchanged_says_nothing_was_saved(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    """Submitting the form as it was shown writes nothing and says so, rather than announcing
    a save; the version stays, so another editor's open form is not made stale."""
    client.force_login(clinic.intake)
    url = reverse("patients:edit", kwargs={"patient_id": zeph.pk})
    from django.forms.models import model_to_dict

    from openiop.patients.services import PATIENT_FIELDS

    shown = model_to_dict(zeph, fields=list(PATIENT_FIELDS))
    posted = {**{k: ("" if v is None else v) for k, v in shown.items()}, "version": 1}
    body = client.post(url, posted, follow=True).content.decode()
    assert "Nothing was changed, so nothing was saved." in body
    assert "Demographics saved." not in body
    zeph.refresh_from_db()
    assert zeph.version == 1


def test_edit_form_is_prefilled_with_the_version(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    body = client.get(reverse("patients:edit", kwargs={"patient_id": zeph.pk})).content.decode()
    assert 'name="version" value="1"' in body
    assert 'value="Quillfeather"' in body


def test_contact_is_added_then_removed_after_confirmation(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    client.post(
        reverse("patients:contact_add", kwargs={"patient_id": zeph.pk}),
        {"name": "Ophelia Quillfeather", "relationship": "parent", "is_legal_guardian": "on"},
    )
    contact = zeph.contacts.get()
    assert contact.is_legal_guardian
    url = reverse(
        "patients:contact_remove", kwargs={"patient_id": zeph.pk, "contact_id": contact.pk}
    )
    confirm = client.get(url).content.decode()
    assert "Remove Ophelia Quillfeather?" in confirm
    assert zeph.contacts.exists()
    assert client.post(url).status_code == 302
    assert not zeph.contacts.exists()


def test_contact_form_keeps_input_on_error(client: Client, clinic: Clinic, zeph: Patient) -> None:
    client.force_login(clinic.intake)
    response = client.post(
        reverse("patients:contact_add", kwargs={"patient_id": zeph.pk}),
        {"name": "Ophelia Quillfeather", "relationship": "", "phone": "555-0142"},
    )
    body = response.content.decode()
    assert 'value="555-0142"' in body
    assert "field-error" in body


# session with user and sites, patient, contacts, episodes with their level history and enrollments
# (two prefetches), open alerts, open safety alerts of any episode (listed until acknowledged, also
# after the episode closed), the audit entry, and the header's risk level (open safety alerts,
# latest C-SSRS screen and clinician risk judgements in one query; was 3), and the header's care
# facts (issue 18.5: the open MAT episode, the last drug test's day; one query each, was 10)
CHART_QUERIES = 12


def test_chart_query_count_is_pinned_and_does_not_grow_with_history(
    client: Client, clinic: Clinic, zeph: Patient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    from openiop.measures.models import SafetyAlert
    from openiop.patients.models import PatientContact

    client.force_login(clinic.clinician)
    make_episode(zeph, status="discharged", discharge_date=dt.date(2026, 1, 5))
    url = reverse("patients:chart", kwargs={"patient_id": zeph.pk})
    client.get(url)  # warm the session
    with django_assert_num_queries(CHART_QUERIES):
        client.get(url)
    for i in range(3):
        make_episode(zeph, status="discharged", discharge_date=dt.date(2026, 2, 1 + i))
        PatientContact.objects.create(patient=zeph, name=f"Contact {i}", relationship="friend")
        episode = zeph.episodes.first()
        assert episode is not None
        Alert.objects.create(
            patient=zeph,
            episode=episode,
            kind="consecutive_absences",
            message="missed",
            dedupe_key=f"c{i}",
        )
        SafetyAlert.objects.create(
            patient=zeph,
            episode=episode,
            reason="clinician_flag",
            risk_level="moderate",
            message=f"Flagged {i}",
        )
    with django_assert_num_queries(CHART_QUERIES):
        body = client.get(url).content.decode()
    assert "Contact 2" in body and "Flagged 2" in body


# --- likely duplicates (issue 13.5) ------------------------------------------------------------
def _register(client: Client, clinic: Clinic, **changes: str) -> Response:
    data: dict[str, Any] = {
        "site": clinic.site.pk,
        "legal_first_name": "zephyrine",  # any case: the name is compared case-insensitively
        "legal_last_name": "QUILLFEATHER",
        "date_of_birth": "04/12/1991",
        "sex": "female",
        "language": "English",
    }
    data.update(changes)
    return client.post(reverse("patients:create"), data)


def test_registering_a_likely_duplicate_shows_it_first_and_saves_nothing(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    response = _register(client, clinic)
    body = response.content.decode()
    assert response.status_code == 200
    assert Patient.objects.count() == 1
    assert reverse("patients:chart", kwargs={"patient_id": zeph.pk}) in body
    assert "PG000101" in body and "same name and date of birth" in body
    assert 'name="different_person"' in body and "Register anyway" in body
    assert 'value="QUILLFEATHER"' in body  # what was typed is kept
    entry = AuditEntry.objects.get(object_type="patient_duplicates")
    assert entry.action == "search"
    assert list(entry.patients.values_list("patient_id", flat=True)) == [zeph.pk]


def test_a_likely_duplicate_is_registered_after_the_user_confirms_a_different_person(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    unticked = _register(client, clinic, different_person="")
    assert unticked.status_code == 200 and Patient.objects.count() == 1
    response = _register(client, clinic, different_person="on")
    assert response.status_code == 302
    assert Patient.objects.filter(legal_last_name__iexact="quillfeather").count() == 2


def test_another_name_or_birth_date_is_registered_without_asking(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    assert _register(client, clinic, date_of_birth="04/13/1991").status_code == 302
    assert _register(client, clinic, legal_first_name="Zinnia").status_code == 302
    assert not AuditEntry.objects.filter(object_type="patient_duplicates").exists()


def test_a_likely_duplicate_at_another_site_is_told_but_not_shown(
    client: Client, clinic: Clinic
) -> None:
    hidden = make_patient(
        clinic.other_site,
        legal_first_name="Ignatius",
        legal_last_name="Farawayson",
        date_of_birth=dt.date(1979, 9, 30),
        mrn="PG000777",
    )
    client.force_login(clinic.intake)
    response = _register(
        client,
        clinic,
        legal_first_name="Ignatius",
        legal_last_name="Farawayson",
        date_of_birth="1979-09-30",
        sex="male",
    )
    body = response.content.decode()
    assert response.status_code == 200 and Patient.objects.count() == 1
    assert "A possible match is registered at a site you do not work at" in body
    assert "PG000777" not in body and f"/patients/{hidden.pk}/" not in body
    assert "Pinecone Annex" not in body
    entry = AuditEntry.objects.get(object_type="patient_duplicates")
    assert list(entry.patients.values_list("patient_id", flat=True)) == [hidden.pk]
    assert entry.detail == {"not_shown": 1}
    confirmed = _register(
        client,
        clinic,
        legal_first_name="Ignatius",
        legal_last_name="Farawayson",
        date_of_birth="1979-09-30",
        sex="male",
        different_person="on",
    )
    assert confirmed.status_code == 302 and Patient.objects.count() == 2


def test_a_tampered_version_on_the_edit_form_is_shown_and_nothing_is_saved(
    client: Client, clinic: Clinic, zeph: Patient
) -> None:
    client.force_login(clinic.intake)
    url = reverse("patients:edit", kwargs={"patient_id": zeph.pk})
    form = {
        "legal_first_name": "Zephyrine",
        "legal_last_name": "Quillfeather",
        "preferred_name": "Tampered",
        "date_of_birth": "1991-04-12",
        "sex": "female",
        "language": "English",
        "version": "1; drop",
    }
    response = client.post(url, form)
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'class="error-box" role="alert">.*sent without a valid version', body, re.S)
    assert 'value="Tampered"' in body
    zeph.refresh_from_db()
    assert zeph.preferred_name != "Tampered" and zeph.version == 1
