"""Consents and the accounting of disclosures through their services, selectors and pages
(42 CFR 2.31 consent, 2.25 accounting; ../shared/domain.md section 5)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.consents import domain, selectors, services
from openiop.consents.domain import Recipient
from openiop.consents.models import Consent, Disclosure
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_site,
    make_tpo_consent,
    make_user,
    page_query_count,
)

pytestmark = pytest.mark.django_db

PAYER = Recipient.payer(41, "Bluewhistle Health Plan (fictional)")
HIE = Recipient(kind=domain.API_CLIENT, identifier="hie-client-7", name="Fernhill HIE (fictional)")


@pytest.fixture
def clinic() -> Any:
    org = make_org()
    site = make_site(org)
    users = {r.value: make_user(r, sites=[site], org=org) for r in Role}
    patient = make_patient(site, legal_first_name="Quintessa", legal_last_name="Moonwhistle")
    make_episode(patient)  # co-occurring: Part 2

    class Clinic:
        pass

    c = Clinic()
    c.org, c.site, c.users, c.patient = org, site, users, patient  # type: ignore[attr-defined]
    return c


def _actor(clinic: Any, role: str = "intake") -> Actor:
    return Actor(user=clinic.users[role])


def _record(clinic: Any, **kw: Any) -> Consent:
    args: dict[str, Any] = {
        "patient": clinic.patient,
        "information": "Diagnosis, attendance and progress notes",
        "recipient_kind": "api_client",
        "recipient_identifier": "hie-client-7",
        "recipient_name": "Fernhill HIE (fictional)",
        "purpose": "treatment",
        "effective_on": dt.date(2026, 1, 5),
        "expires_on": dt.date(2099, 1, 1),
        "signed_by_name": "Quintessa Moonwhistle",
        "signed_at": timezone.now(),
        "by": _actor(clinic),
    }
    args.update(kw)
    return services.consent_record(**args)


def test_a_recorded_consent_covers_its_recipient_and_is_audited(clinic: Any) -> None:
    consent = _record(clinic)
    release = selectors.part2_release(
        patient_ids=[clinic.patient.pk], recipient=HIE, purpose="treatment"
    )
    assert release.consent_for(clinic.patient.pk) == consent.pk
    assert AuditEntry.objects.filter(
        object_type="consent", action="create", patient_id=clinic.patient.pk
    ).exists()


def test_revocation_takes_effect_at_once(clinic: Any) -> None:
    consent = _record(clinic)
    services.consent_revoke(consent=consent, note="Signed letter", by=_actor(clinic, "clinician"))
    release = selectors.part2_release(
        patient_ids=[clinic.patient.pk], recipient=HIE, purpose="treatment"
    )
    assert not release.allows(clinic.patient.pk)
    assert "revoked" in release.withheld[clinic.patient.pk].reason
    consent.refresh_from_db()
    assert consent.revocation_method == "written" and consent.revocation_note == "Signed letter"
    with pytest.raises(RuleViolation):
        services.consent_revoke(consent=consent, by=_actor(clinic))


def test_an_expired_consent_withholds(clinic: Any) -> None:
    _record(clinic, effective_on=dt.date(2025, 1, 1), expires_on=dt.date(2025, 12, 31))
    release = selectors.part2_release(
        patient_ids=[clinic.patient.pk], recipient=HIE, purpose="treatment"
    )
    assert not release.allows(clinic.patient.pk)
    assert "expired" in release.withheld[clinic.patient.pk].reason


def test_end_of_treatment_consent_ends_with_the_discharge(clinic: Any) -> None:
    _record(clinic, expires_on=None, expiry_event="end_of_treatment")
    args: dict[str, Any] = {
        "patient_ids": [clinic.patient.pk],
        "recipient": HIE,
        "purpose": "treatment",
    }
    assert selectors.part2_release(**args).allows(clinic.patient.pk)
    clinic.patient.episodes.update(
        status="discharged", discharge_date=dt.date(2026, 2, 1), discharge_reason="completed"
    )
    assert not selectors.part2_release(**args).allows(clinic.patient.pk)


def test_a_consent_is_refused_without_its_elements_or_the_role(clinic: Any) -> None:
    with pytest.raises(RuleViolation) as missing:
        _record(clinic, information=" ")
    assert missing.value.field == "information"
    with pytest.raises(NotPermitted):
        _record(clinic, by=_actor(clinic, "billing"))
    assert not Consent.objects.exists()


def test_a_search_over_many_patients_withholds_only_those_without_consent(
    clinic: Any, django_assert_num_queries: Any
) -> None:
    """The seam an API search calls: one query whatever the number of patients, and only the
    Part 2 records of patients without a covering consent are withheld (counts, not contents)."""
    patients = [clinic.patient]
    for n in range(7):
        p = make_patient(clinic.site, legal_first_name=f"Pip{n}", legal_last_name="Quillfeather")
        make_episode(p)
        patients.append(p)
    consented = {p.pk for p in patients[::2]}
    for p in patients[::2]:
        make_tpo_consent(p, clinic.users["director"])
    clinic_recipient = Recipient(
        kind=domain.ORGANIZATION,
        identifier="Pebblebrook Clinic (fictional)",
        name="Pebblebrook Clinic (fictional)",
        classes=frozenset({"treating_provider"}),
    )
    with django_assert_num_queries(1):
        release = selectors.part2_release(
            patient_ids=[p.pk for p in patients], recipient=clinic_recipient, purpose="treatment"
        )
    assert set(release.permitted) == consented
    assert set(release.withheld) == {p.pk for p in patients} - consented

    class Row:
        def __init__(self, patient_id: int, part2: bool) -> None:
            self.patient_id, self.part2 = patient_id, part2

    rows = [Row(p.pk, True) for p in patients] + [Row(p.pk, False) for p in patients]
    kept, withheld = selectors.split_part2(
        rows, release, patient_id_of=lambda r: r.patient_id, type_of=lambda r: "Observation"
    )
    assert len(kept) == len(patients) + len(consented)
    assert withheld.counts == {"Observation": len(patients) - len(consented)}
    assert "Withheld under 42 CFR Part 2" in withheld.sentence


def test_inside_the_program_nothing_is_asked(clinic: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        release = selectors.part2_release(
            patient_ids=[clinic.patient.pk],
            recipient=Recipient.program_staff(),
            purpose="treatment",
        )
    assert release.allows(clinic.patient.pk)


def test_the_accounting_is_append_only(clinic: Any) -> None:
    consent = make_tpo_consent(clinic.patient, clinic.users["director"])
    (row,) = services.disclosure_record(
        by=_actor(clinic, "billing"),
        recipient=PAYER,
        purpose="payment",
        channel="claim_export",
        items=[services.DisclosureItem(clinic.patient.pk, consent.pk, "837 claim X1")],
    )
    assert row.discloser == clinic.org.name
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        Disclosure.objects.all().delete()
    assert AuditEntry.objects.filter(object_type="disclosure", action="export").exists()


def test_nothing_is_accounted_inside_the_program(clinic: Any) -> None:
    assert (
        services.disclosure_record(
            by=_actor(clinic),
            recipient=Recipient.program_staff(),
            purpose="treatment",
            channel="print",
            items=[services.DisclosureItem(clinic.patient.pk, None, "note")],
        )
        == []
    )


def test_the_signed_intake_consent_becomes_a_consent(clinic: Any) -> None:
    from openiop.admissions.models import IntakeDocument
    from openiop.admissions.services.intake_packet import document_sign

    document = IntakeDocument.objects.create(
        episode=clinic.patient.episodes.get(),
        patient=clinic.patient,
        kind="part2_consent",
        document_version="2026-01",
        details={
            "recipients": "My treating providers, health plans, third-party payers",
            "information": "All records of my treatment here",
            "purpose": "for treatment, payment and health care operations",
            "expiration": "none",
        },
    )
    document_sign(
        document=document,
        signed_name="Quintessa Moonwhistle",
        by=_actor(clinic),
        expected_version=document.version,
    )
    consent = Consent.objects.get(intake_document=document)
    assert (consent.recipient_kind, consent.purpose, consent.source) == (
        "tpo_class",
        "tpo",
        "intake_packet",
    )
    assert selectors.part2_release(
        patient_ids=[clinic.patient.pk], recipient=PAYER, purpose="payment"
    ).allows(clinic.patient.pk)


# --- pages ------------------------------------------------------------------------------------


def _client(clinic: Any, role: str) -> Client:
    client = Client()
    client.force_login(clinic.users[role])
    return client


@pytest.mark.usefixtures("mfa_passed")
def test_the_consents_page_lists_and_its_query_count_does_not_grow(clinic: Any) -> None:
    url = reverse("consents:patient_consents", kwargs={"patient_id": clinic.patient.pk})
    client = _client(clinic, "clinician")
    assert "No Part 2 consent on file" in client.get(url).content.decode()
    _record(clinic)
    one = page_query_count(client, url)
    for _ in range(4):
        revoked = _record(clinic)
        services.consent_revoke(consent=revoked, by=_actor(clinic))
    assert page_query_count(client, url) == one
    page = client.get(url).content.decode()
    assert "Fernhill HIE (fictional)" in page and "Revoked" in page and "Revoke…" in page
    assert _client(clinic, "admin").get(url).status_code == 403


@pytest.mark.usefixtures("mfa_passed")
def test_recording_keeps_what_was_typed_on_a_refusal_and_revoking_asks_first(
    clinic: Any,
) -> None:
    client = _client(clinic, "intake")
    url = reverse("consents:add", kwargs={"patient_id": clinic.patient.pk})
    data = {
        "recipient_kind": "organization",
        "recipient_name": "Pebblebrook Clinic (fictional)",
        "purpose": "treatment",
        "information": "Discharge summary",
        "effective_on": "2026-01-05",
        "signed_by_name": "Quintessa Moonwhistle",
        "signed_by_relationship": "patient",
        "signed_on": "2026-01-05",
    }
    refused = client.post(url, data)  # no expiration: 2.31(a)(7)
    assert refused.status_code == 422
    assert "Pebblebrook Clinic (fictional)" in refused.content.decode()
    assert client.post(url, {**data, "expires_on": "2026-12-31"}).status_code == 302
    consent = Consent.objects.get()
    revoke = reverse("consents:revoke", kwargs={"consent_id": consent.pk})
    assert "takes effect at once" in client.get(revoke).content.decode()
    consent.refresh_from_db()
    assert consent.revoked_at is None  # the GET only asks
    response = client.post(revoke, {"note": "Letter of 2026-03-01", "version": consent.version})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None


@pytest.mark.usefixtures("mfa_passed")
def test_the_accounting_page_and_pdf_show_who_what_to_whom_when_why(clinic: Any) -> None:
    consent = make_tpo_consent(clinic.patient, clinic.users["director"])
    services.disclosure_record(
        by=_actor(clinic, "billing"),
        recipient=PAYER,
        purpose="payment",
        channel="claim_export",
        notice_attached=False,
        items=[services.DisclosureItem(clinic.patient.pk, consent.pk, "837 claim Z9 services")],
    )
    client = _client(clinic, "director")
    page = client.get(
        reverse("consents:disclosures", kwargs={"patient_id": clinic.patient.pk})
    ).content.decode()
    assert "Bluewhistle Health Plan (fictional)" in page and "837 claim Z9 services" in page
    response = client.get(
        reverse("consents:disclosures_pdf", kwargs={"patient_id": clinic.patient.pk})
    )
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.content)).pages
    )
    for words in (
        "Accounting of disclosures",
        "Bluewhistle Health Plan",
        "837 claim Z9",
        "Payment",
        f"consent {consent.pk}",
    ):
        assert words in text, words
    assert AuditEntry.objects.filter(
        object_type="disclosures_pdf", action="export", patient_id=clinic.patient.pk
    ).exists()
