"""The authorization pages: the site list (search, pagination, empty state, pinned query count),
a patient's page with its burn-down and forms that keep what was typed on a refusal, the edit
and end forms, and the concurrent-review packet (who may print it, what it holds and what it
must not: note text)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from openiop.admissions.models import Assessment
from openiop.attendance.services import attendance_record
from openiop.audit.models import AuditEntry
from openiop.billing.models import Authorization, ConcurrentReview, PhysicianCertification
from openiop.billing.tests.test_authorizations_services import (  # noqa: F401 - the fixture
    NOW,
    Ledger,
    ledger,
)
from openiop.episodes.models import LevelOfCareChange
from openiop.measures.services import response_record
from openiop.notes.models import NoteSection, ProgressNote
from openiop.testing import make_patient, make_session, make_tpo_consent, page_query_count
from openiop.treatment import services as treatment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mfa_passed")]

NOTE_TEXT = "Zanzibar-porcupine-note-text"  # written in a progress note: never in the packet
NARRATIVE = "Quokka-assessment-narrative"  # the assessment's notes per dimension: not either


@pytest.fixture
def book(ledger: Ledger) -> Ledger:  # noqa: F811 - the services tests' fictional clinic
    # The patient's single TPO consent (42 CFR Part 2): the packet may go to the payer.
    make_tpo_consent(ledger.patient, ledger.users["director"])
    return ledger


def _client(book: Ledger, who: str) -> Client:
    client = Client()
    client.force_login(book.users[who])
    return client


def test_the_list_shows_usage_and_the_runs_out_flag(book: Ledger) -> None:
    book.authorize()
    response = _client(book, "billing").get(reverse("billing:authorizations"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "AUTH-OCT" in html and "7 / 20 days" in html
    assert "Oct 28, 2026" in html  # runs out on
    assert "<strong>Yes</strong>" in html  # before the planned discharge
    assert AuditEntry.objects.filter(object_type="authorization_list").exists()


def test_the_list_searches_and_says_when_nothing_matches(book: Ledger) -> None:
    book.authorize()
    client = _client(book, "billing")
    html = client.get(reverse("billing:authorizations") + "?q=zzznobody").content.decode()
    assert "No authorizations match" in html and "AUTH-OCT" not in html
    html = client.get(reverse("billing:authorizations") + "?q=bluebell").content.decode()
    assert "AUTH-OCT" in html


def test_the_list_is_empty_for_a_new_clinic_and_refused_to_clinicians(book: Ledger) -> None:
    html = _client(book, "billing").get(reverse("billing:authorizations")).content.decode()
    assert "No authorizations recorded yet" in html
    assert _client(book, "clinician").get(reverse("billing:authorizations")).status_code == 403


def test_the_list_query_count_does_not_grow_with_rows(book: Ledger) -> None:
    book.authorize()
    client = _client(book, "billing")
    url = reverse("billing:authorizations")
    one = page_query_count(client, url)
    for n in range(4):
        patient = make_patient(book.site, legal_first_name="Extra", legal_last_name=f"Testrow{n}")
        coverage = book.coverage_of(patient, book.payer)
        book.authorize(coverage=coverage, reference_number=f"AUTH-{n}")
    assert page_query_count(client, url) == one


def test_the_patient_page_draws_the_burn_down_and_keeps_input_on_a_refusal(
    book: Ledger,
) -> None:
    book.authorize()
    client = _client(book, "billing")
    url = reverse("billing:patient_authorizations", kwargs={"patient_id": book.patient.pk})
    html = client.get(url).content.decode()
    assert 'class="burndown-chart"' in html and "runs out on Wed Oct 28, 2026" in html
    response = client.post(
        url,
        {
            "action": "authorization",
            "auth-coverage": book.coverage.pk,
            "auth-reference_number": "AUTH-NOV",
            "auth-unit_kind": "units",
            "auth-quantity": "12",
            "auth-start_date": "2026-11-01",
            "auth-end_date": "2026-11-30",
            "auth-service_codes": "H0015, XYZ",
            "auth-note": "Typed by Testy",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "not a five-character procedure code" in html
    assert 'value="AUTH-NOV"' in html and "Typed by Testy" in html
    assert not Authorization.objects.filter(reference_number="AUTH-NOV").exists()


def test_a_certification_is_recorded_from_the_patient_page(book: Ledger) -> None:
    client = _client(book, "billing")
    url = reverse("billing:patient_authorizations", kwargs={"patient_id": book.patient.pk})
    fields = {
        "action": "certification",
        "cert-episode": book.episode.pk,
        "cert-physician_name": "Dr. Quill Testington",
        "cert-physician_npi": "1234567893",
        "cert-signed_on": "2026-10-01",
        "cert-start_date": "2026-10-01",
        "cert-certified_weekly_minutes": "540",
        "cert-interval": "",
    }
    response = client.post(url, fields)
    html = response.content.decode()
    assert response.status_code == 200 and "This field is required" in html  # no default
    assert 'value="Dr. Quill Testington"' in html
    assert not PhysicianCertification.objects.exists()
    response = client.post(url, fields | {"cert-interval": "sixty_days"})
    assert response.status_code == 302
    cert = PhysicianCertification.objects.get()
    assert cert.interval == "sixty_days"
    html = client.get(url).content.decode()
    assert "Recertification due by <strong>Mon Nov 30, 2026</strong>" in html


def test_ending_an_authorization_needs_a_reason_and_keeps_the_date(book: Ledger) -> None:
    auth = book.authorize()
    client = _client(book, "director")
    url = reverse("billing:authorization", kwargs={"authorization_id": auth.pk})
    assert "End it early" in client.get(url).content.decode()
    data = {"action": "end", "end-version": auth.version, "end-end_date": "2026-10-20"}
    response = client.post(url, data | {"end-end_reason": ""})
    assert response.status_code == 200 and 'value="2026-10-20"' in response.content.decode()
    response = client.post(url, data | {"end-end_reason": "Payer replaced it"})
    assert response.status_code == 302
    auth.refresh_from_db()
    assert auth.end_date == dt.date(2026, 10, 20)


# --- the concurrent-review packet -------------------------------------------------------------


def _clinical_record(book: Ledger) -> None:
    clinician = book.actor("clinician")
    past = make_session(book.site, book.users["clinician"], dt.date(2026, 10, 9), track=book.track)
    attendance_record(session=past, episode=book.episode, status="present", by=clinician)
    LevelOfCareChange.objects.create(
        episode=book.episode,
        from_level="",
        to_level="2.1",
        effective_date=dt.date(2026, 9, 28),
        reason="Admitted",
    )
    Assessment.objects.create(
        inquiry=book.coverage.inquiry,
        edition="3",
        ratings=[{"dimension": d, "rating": 2, "notes": NARRATIVE} for d in range(1, 7)],
        recommended_level="2.1",
        why_not_lower="-",
        why_not_higher="-",
        chosen_level="2.1",
        assessed_by=book.users["clinician"],
        decided_by=book.users["clinician"],
        decided_at=dt.datetime(2026, 9, 25, 15, 0, tzinfo=dt.UTC),
    )
    for day, answers in ((dt.date(2026, 9, 29), [2] * 9), (dt.date(2026, 10, 9), [1] * 9)):
        response_record(
            episode=book.episode,
            instrument="phq9",
            answers=[*answers[:8], 0],
            administered_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
            by=clinician,
        )
    plan = treatment.plan_start(episode=book.episode, by=clinician)
    problem = treatment.plan_add_problem(
        plan=plan,
        description="Depressed mood",
        icd10_code="F32.1",
        patient_words="I feel flat",
        by=clinician,
    )
    goal = treatment.plan_add_goal(problem=problem, text="Sleep through the night", by=clinician)
    treatment.plan_set_goal_status(goal=goal, status="partially_met", by=clinician)
    note = ProgressNote.objects.create(
        kind="individual",
        note_format="dap",
        site=book.site,
        starts_at=NOW - dt.timedelta(days=3),
        ends_at=NOW - dt.timedelta(days=3, hours=-1),
        topic="Check-in",
        interventions=NOTE_TEXT,
        author=book.users["clinician"],
    )
    NoteSection.objects.create(
        note=note, episode=book.episode, patient=book.patient, body={"data": NOTE_TEXT}
    )


def _print(client: Client, auth: Authorization, reason: str) -> Any:
    return client.post(
        reverse("billing:review_packet", kwargs={"authorization_id": auth.pk}),
        {"reason_to_continue": reason},
    )


def test_the_packet_holds_every_section_and_no_note_text(book: Ledger) -> None:
    auth = book.authorize()
    _clinical_record(book)
    response = _print(
        _client(book, "clinician"), auth, "Still unsafe sleeping; PHQ-9 falling, keep 3 weeks."
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    for heading in (
        "Concurrent review",
        "ASAM dimensions",
        "Level-of-care history",
        "Score trends",
        "Attendance",
        "Treatment goal progress",
        "Reason to continue",
    ):
        assert heading in flat, heading
    assert "AUTH-OCT" in flat and "7 used, 13 left" in flat
    assert "PHQ-9" in flat and "Sleep through the night" in flat and "Partially met" in flat
    assert "Still unsafe sleeping" in flat
    assert "Attendance rate: 100% of the time scheduled so far" in flat
    assert NOTE_TEXT not in flat and NARRATIVE not in flat and "I feel flat" not in flat
    review = ConcurrentReview.objects.get()
    assert review.reason_to_continue.startswith("Still unsafe")
    assert AuditEntry.objects.filter(
        object_type="concurrent_review", action="export", patient_id=book.patient.pk
    ).exists()


def test_billing_staff_cannot_print_the_packet_and_a_reason_is_required(book: Ledger) -> None:
    auth = book.authorize()
    assert _print(_client(book, "billing"), auth, "Because").status_code == 403
    response = _print(_client(book, "director"), auth, "")
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not ConcurrentReview.objects.exists()


def test_another_organizations_billing_cannot_open_the_patients_page(book: Ledger) -> None:
    auth = book.authorize()
    client = _client(book, "other_billing")
    url = reverse("billing:patient_authorizations", kwargs={"patient_id": book.patient.pk})
    assert client.get(url).status_code == 403
    edit = reverse("billing:authorization", kwargs={"authorization_id": auth.pk})
    assert client.get(edit).status_code == 403
    assert "AUTH-OCT" not in client.get(reverse("billing:authorizations")).content.decode()


def _pdf_text(response: Any) -> str:
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.content)).pages
    )


def test_the_packet_of_a_part2_patient_carries_the_notice_and_is_accounted(book: Ledger) -> None:
    from openiop.consents.models import Consent, Disclosure

    assert book.episode.part2_protected
    auth = book.authorize()
    response = _print(_client(book, "clinician"), auth, "Cravings daily; keep 2 weeks.")
    assert response.status_code == 200
    text = _pdf_text(response)
    assert "Notice accompanying this disclosure (42 CFR 2.32)" in text
    assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in text
    disclosure = Disclosure.objects.get()
    assert (disclosure.channel, disclosure.purpose) == ("review_packet", "payment")
    assert disclosure.consent_id == Consent.objects.get(patient=book.patient).pk
    assert disclosure.notice_attached


def test_the_packet_is_refused_without_a_consent_covering_the_payer(book: Ledger) -> None:
    from openiop.consents.models import Consent, Disclosure
    from openiop.consents.services import consent_revoke

    consent_revoke(consent=Consent.objects.get(patient=book.patient), by=book.actor("director"))
    auth = book.authorize()
    response = _print(_client(book, "clinician"), auth, "Cravings daily; keep 2 weeks.")
    assert response.status_code == 422
    assert "No Part 2 consent covering" in response.content.decode()
    assert not ConcurrentReview.objects.exists() and not Disclosure.objects.exists()
