"""Drug test and medication pages through Django's client: what each role sees, forms that keep
input, list pages whose query count does not grow with the rows."""

from __future__ import annotations

import datetime as dt
import io
import re

from django.test import Client
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.drugtests import domain, services
from openiop.drugtests.models import DrugTestOrder, ReconciliationFlag
from openiop.drugtests.tests.conftest import Clinic
from openiop.medications import services as med_services
from openiop.medications.models import DoseAdministration, MatEpisode, Medication
from openiop.testing import (
    audit_links_query,
    make_episode,
    make_patient,
    make_site,
    make_user,
    page_query_count,
)

COLLECTED = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def flagged_patient(clinic: Clinic, first: str = "Pimpernel") -> DrugTestOrder:
    episode = clinic.patient(first, focus="substance_use")
    med_services.medication_add(
        patient=episode.patient,
        catalog_key="buprenorphine_naloxone",
        name="",
        dose="8 mg/2 mg",
        route="sublingual",
        frequency="daily",
        source="here",
        start_date=dt.date(2026, 2, 1),
        by=clinic.actor(Role.PRESCRIBER),
    )
    order = services.order_create(
        patient=episode.patient, kind="poc_cup", reason="scheduled", by=clinic.actor(Role.CLINICIAN)
    )
    services.results_record(
        order=order,
        results=[domain.AnalyteResult(domain.Analyte.BUPRENORPHINE, domain.Outcome.NEGATIVE)],
        validity="valid",
        observed=False,
        collected_at=COLLECTED,
        by=clinic.actor(Role.CLINICIAN),
    )
    return order


def test_pages_by_role(clinic: Clinic, client: Client, mfa_passed: None) -> None:
    order = flagged_patient(clinic)
    patient = order.patient
    tests_url = reverse("drugtests:patient", kwargs={"patient_id": patient.pk})
    meds_url = reverse("medications:list", kwargs={"patient_id": patient.pk})
    expected = {
        Role.CLINICIAN: (200, 200),
        Role.PRESCRIBER: (200, 200),
        Role.DIRECTOR: (200, 200),
        Role.CASE_MANAGER: (403, 200),  # the medication list, not the results
        Role.BILLING: (403, 403),
        Role.INTAKE: (403, 403),
        Role.AUDITOR: (403, 403),
    }
    for role, (tests, meds) in expected.items():
        client.force_login(clinic.users[role])
        assert client.get(tests_url).status_code == tests, role
        assert client.get(meds_url).status_code == meds, role
    client.force_login(clinic.users[Role.PRESCRIBER])
    page = client.get(tests_url).content.decode()
    assert "not found" in page and "BAM use" in page
    page = client.get(meds_url).content.decode()
    assert "Buprenorphine/naloxone" in page and "Add a medication" in page
    client.force_login(clinic.users[Role.CLINICIAN])
    assert "Add a medication" not in client.get(meds_url).content.decode()


def test_result_entry_through_the_page_makes_a_flag_and_the_prescriber_answers(
    clinic: Clinic, client: Client
) -> None:
    order = flagged_patient(clinic)
    new = services.order_create(
        patient=order.patient, kind="poc_cup", reason="clinical", by=clinic.actor(Role.CLINICIAN)
    )
    client.force_login(clinic.users[Role.CLINICIAN])
    url = reverse("drugtests:test", kwargs={"drug_test_id": new.pk})
    # A bad time keeps what was typed.
    bad = client.post(
        url, {"collected_at": "nonsense", "validity": "valid", "a_cocaine": "positive"}
    )
    assert bad.status_code == 200 and 'value="positive" selected' in bad.content.decode()
    response = client.post(
        url,
        {"collected_at": "2026-03-03T09:30", "validity": "valid", "a_cocaine": "positive"},
    )
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.collected_at == dt.datetime(2026, 3, 3, 9, 30, tzinfo=clinic.site.tz)
    flag = ReconciliationFlag.objects.get(order=new)
    assert flag.kind == "unexpected"
    flag_url = reverse("drugtests:flag", kwargs={"drug_test_flag_id": flag.pk})
    assert "Record your response" not in client.get(flag_url).content.decode()
    client.force_login(clinic.users[Role.PRESCRIBER])
    assert "Record your response" in client.get(flag_url).content.decode()
    answer = client.post(flag_url, {"kind": "discussion", "text": "Talked it through; no change."})
    assert answer.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "responded" and flag.responded_by == clinic.users[Role.PRESCRIBER]


# The session with its user, the sites for the site filter, the count of flags for the pager, one
# page of flags with their patients, episodes, sites and staff (one query), the audit entry naming
# the patients on that page (plus its links on SQLite).
FLAG_LIST_QUERIES = 5 + audit_links_query()
# The session, the patient, the audit entry, allergies, MAT episodes, adherence notes, the count
# and the page of medications, and the patient header's alerts, current MAT and last test.
MEDICATION_LIST_QUERIES = 11


def test_flag_list_pins_its_queries(clinic: Clinic, client: Client) -> None:
    flagged_patient(clinic, "Ash")
    client.force_login(clinic.users[Role.PRESCRIBER])
    url = reverse("drugtests:flags")
    few = page_query_count(client, url)
    assert few == FLAG_LIST_QUERIES
    for name in ("Birch", "Cedar", "Damson"):
        flagged_patient(clinic, name)
    assert page_query_count(client, url) == few
    page = client.get(url + "?q=Cedar").content.decode()
    assert "Cedar" in page and "Birch" not in page


def test_flag_list_pages_and_audits_only_the_patients_shown(clinic: Clinic, client: Client) -> None:
    """26 flags: the first page lists 25 and its audit entry names those 25 patients; the second
    page lists the last one. A site filter keeps one site's flags."""
    orders = [flagged_patient(clinic, f"Moss{i:02d}") for i in range(26)]
    client.force_login(clinic.users[Role.PRESCRIBER])
    url = reverse("drugtests:flags")
    first = client.get(url).content.decode()
    assert "Page 1 of 2 · 26 in all" in first
    entry = AuditEntry.objects.filter(object_type="drug_test_flags").latest("id")
    assert entry.patients.count() == 25
    second = client.get(url + "?page=2").content.decode()
    assert orders[-1].patient.display_name in second
    assert (
        AuditEntry.objects.filter(object_type="drug_test_flags").latest("id").patients.count() == 1
    )
    other = make_site(clinic.org, name="Quillmoor (fictional)")
    clinic.users[Role.PRESCRIBER].sites.add(other)
    at_other = client.get(url + f"?site={other.pk}").content.decode()
    assert "Nothing to review at Quillmoor (fictional)" in at_other


def test_flag_list_shows_each_collection_in_its_sites_zone(clinic: Clinic, client: Client) -> None:
    """The list mixes sites: a time is shown in its own site's zone, not the reader's home zone
    (the prescriber works first at the Chicago site, the flagged patient is seen in Los Angeles)."""
    west = make_site(clinic.org, name="Westshore (fictional)", timezone="America/Los_Angeles")
    prescriber = make_user(Role.PRESCRIBER, sites=[clinic.site, west], org=clinic.org)
    by = Actor(user=prescriber, client_addr="127.0.0.1", path="/test")
    patient = make_patient(west, legal_first_name="Wisteria", legal_last_name="Seaward")
    make_episode(patient, focus="substance_use")
    med_services.medication_add(
        patient=patient,
        catalog_key="buprenorphine_naloxone",
        name="",
        dose="8 mg/2 mg",
        route="sublingual",
        frequency="daily",
        source="here",
        start_date=dt.date(2026, 2, 1),
        by=by,
    )
    order = services.order_create(patient=patient, kind="poc_cup", reason="scheduled", by=by)
    services.results_record(
        order=order,
        results=[domain.AnalyteResult(domain.Analyte.BUPRENORPHINE, domain.Outcome.NEGATIVE)],
        validity="valid",
        observed=False,
        collected_at=COLLECTED,  # 10:00 UTC: 2:00 AM in Los Angeles, 4:00 AM in Chicago
        by=by,
    )
    client.force_login(prescriber)
    page = client.get(reverse("drugtests:flags")).content.decode()
    assert "Wisteria" in page
    assert "Mar 3, 2026 2:00 AM PST" in page
    assert "4:00 AM CST" not in page


def test_patient_tests_page_pins_its_queries(clinic: Clinic, client: Client) -> None:
    order = flagged_patient(clinic)
    client.force_login(clinic.users[Role.PRESCRIBER])
    url = reverse("drugtests:patient", kwargs={"patient_id": order.patient_id})
    few = page_query_count(client, url)
    for _ in range(3):
        extra = services.order_create(
            patient=order.patient,
            kind="poc_cup",
            reason="clinical",
            by=clinic.actor(Role.PRESCRIBER),
        )
        services.results_record(
            order=extra,
            results=[domain.AnalyteResult(domain.Analyte.FENTANYL, domain.Outcome.POSITIVE)],
            validity="valid",
            observed=True,
            collected_at=COLLECTED,
            by=clinic.actor(Role.PRESCRIBER),
        )
    assert page_query_count(client, url) == few


def test_medication_list_pins_its_queries_and_searches(clinic: Clinic, client: Client) -> None:
    order = flagged_patient(clinic)
    client.force_login(clinic.users[Role.PRESCRIBER])
    url = reverse("medications:list", kwargs={"patient_id": order.patient_id})
    few = page_query_count(client, url)
    assert few == MEDICATION_LIST_QUERIES
    for name in ("Sertraline", "Trazodone", "Gabapentin"):
        med_services.medication_add(
            patient=order.patient,
            name=name,
            dose="50 mg",
            route="oral",
            frequency="daily",
            source="elsewhere",
            by=clinic.actor(Role.PRESCRIBER),
        )
    assert page_query_count(client, url) == few
    page = client.get(url + "?q=sertra").content.decode()
    assert "<td>Sertraline</td>" in page and "<td>Gabapentin</td>" not in page


def test_add_and_stop_a_medication_and_dose_through_the_pages(
    clinic: Clinic, client: Client
) -> None:
    episode = clinic.patient()
    client.force_login(clinic.users[Role.PRESCRIBER])
    url = reverse("medications:list", kwargs={"patient_id": episode.patient_id})
    missing = client.post(url, {"action": "add", "med-name": "Sertraline", "med-route": "oral"})
    assert missing.status_code == 200 and 'value="Sertraline"' in missing.content.decode()
    added = client.post(
        url,
        {
            "action": "add",
            "med-catalog_key": "sertraline",
            "med-dose": "50 mg",
            "med-route": "oral",
            "med-frequency": "daily",
            "med-source": "here",
        },
    )
    assert added.status_code == 302
    med = Medication.objects.get()
    assert med.rxnorm_code == "36437"
    stop = reverse("medications:stop", kwargs={"medication_id": med.pk})
    assert (
        client.post(stop, {"stop_date": "2026-03-01", "reason": "Side effects"}).status_code == 302
    )
    med.refresh_from_db()
    assert med.stop_date == dt.date(2026, 3, 1)
    client.post(
        url,
        {"action": "mat", "mat-kind": "naltrexone_xr", "mat-started_on": "2026-03-01"},
    )
    mat = MatEpisode.objects.get(patient=episode.patient)
    mat_url = reverse("medications:mat", kwargs={"mat_id": mat.pk})
    no_site = client.post(mat_url, {"action": "dose", "dose-dose": "380 mg", "dose-lot": "L9"})
    body = no_site.content.decode()
    assert no_site.status_code == 200 and "Record the injection site." in body
    assert 'value="380 mg"' in body and 'value="L9"' in body
    assert not DoseAdministration.objects.exists()
    client.post(
        mat_url,
        {
            "action": "dose",
            "dose-dose": "380 mg",
            "dose-lot": "L9",
            "dose-injection_site": "right_gluteal",
        },
    )
    dose = DoseAdministration.objects.get()
    assert dose.given_by == clinic.users[Role.PRESCRIBER]
    client.force_login(clinic.users[Role.CLINICIAN])
    assert client.post(stop, {"stop_date": "2026-03-02", "reason": "x"}).status_code == 403


def test_lab_import_page_dry_run_reports_rows(clinic: Clinic, client: Client) -> None:
    episode = clinic.patient()
    client.force_login(clinic.users[Role.PRESCRIBER])
    text = (
        "mrn,accession,collected_on,validity,cocaine\n"
        f"{episode.patient.mrn},A1,2026-03-03,valid,neg\n"
        f"{episode.patient.mrn},A2,2026-03-03,cloudy,neg\n"
    )
    upload = io.BytesIO(text.encode())
    upload.name = "lab.csv"
    response = client.post(
        reverse("drugtests:import"), {"file": upload, "site": clinic.site.pk, "dry_run": "on"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 row would post, 1 refused" in page and "validity is not one of" in page
    assert not DrugTestOrder.objects.exists()


def test_a_lab_files_result_shows_the_day_of_collection_alone(
    clinic: Clinic, client: Client
) -> None:
    """A lab file gives the day a specimen was collected, not the hour: the pages show the day,
    never an invented "12:00 PM"; a result entered by staff keeps its time."""
    order = flagged_patient(clinic)  # entered by staff, with a time
    episode = clinic.patient("Quince", focus="substance_use")
    client.force_login(clinic.users[Role.PRESCRIBER])
    upload = io.BytesIO(
        (
            "mrn,accession,collected_on,validity,cocaine\n"
            f"{episode.patient.mrn},L77,2026-03-03,valid,pos\n"
        ).encode()
    )
    upload.name = "lab.csv"
    client.post(reverse("drugtests:import"), {"file": upload, "site": clinic.site.pk})
    imported = DrugTestOrder.objects.get(accession="L77")
    assert imported.collected_time_known is False
    page = client.get(reverse("drugtests:test", kwargs={"drug_test_id": imported.pk})).text
    assert "Tue Mar 3, 2026" in page and "12:00 PM" not in page
    flags = client.get(reverse("drugtests:flags")).text
    assert "Tue Mar 3, 2026</td>" in flags
    staff = client.get(reverse("drugtests:test", kwargs={"drug_test_id": order.pk})).text
    assert order.collected_time_known
    assert re.search(r"\d:\d\d [AP]M", staff)


def test_random_draw_page_draws_once_a_week(clinic: Clinic, client: Client) -> None:
    for name in ("Ash", "Birch", "Cedar", "Damson"):
        clinic.patient(name)
    client.force_login(clinic.users[Role.PRESCRIBER])
    url = reverse("drugtests:draw")
    assert client.get(url).status_code == 200
    first = client.post(url, {"site": clinic.site.pk, "rate": "50"})
    assert first.status_code == 302
    assert DrugTestOrder.objects.filter(reason="random").count() == 2
    again = client.post(url, {"site": clinic.site.pk, "rate": "50"})
    assert again.status_code == 422 and "already been made" in again.content.decode()
    client.force_login(clinic.users[Role.CASE_MANAGER])
    assert client.get(url).status_code == 403
