"""Admissions pages over HTTP: the public form under abuse, the board, every page renders, PDFs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from openiop.admissions import services
from openiop.admissions.models import Inquiry
from openiop.admissions.tests.conftest import FITS, HIGH_RISK, IOP_RATINGS, NO_RISK
from openiop.audit.models import AuditEntry
from openiop.billing import services as billing_services
from openiop.testing import page_query_count

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
    from pytest_django import Settings

    from openiop.admissions.models import Assessment
    from openiop.admissions.services import AdmissionResult
    from openiop.admissions.tests.conftest import Clinic
    from openiop.billing.models import Payer
    from openiop.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _public(
    clinic: Clinic, client: Client, headers: Mapping[str, Any] | None = None, **data: Any
) -> Response:
    payload = {
        "for_whom": "self",
        "first_name": "Odalys",
        "last_name": "Fernwhistle",
        "phone": "555-010-4545",
        "concerns": "mental_health",
        "age_group": "adult",
        "website": "",
    }
    payload.update(data)
    return client.post(
        reverse("admissions:public_inquiry", kwargs={"site_id": clinic.site.pk}),
        payload,
        **(headers or {}),
    )


# --- public form ---------------------------------------------------------------------------------
def test_public_form_needs_no_login_and_shows_only_a_confirmation(
    clinic: Clinic, client: Client
) -> None:
    page = client.get(reverse("admissions:public_inquiry", kwargs={"site_id": clinic.site.pk}))
    assert page.status_code == 200
    assert b"988" in page.content
    response = _public(clinic, client)
    assert response.status_code == 302
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert b"Thank you" in thanks.content
    assert b"Odalys" not in thanks.content and b"Fernwhistle" not in thanks.content
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "web_form" and inquiry.first_name == "Odalys"


def test_public_form_is_csrf_protected(clinic: Clinic) -> None:
    client = Client(enforce_csrf_checks=True)
    response = _public(clinic, client)
    assert response.status_code == 403
    assert not Inquiry.objects.exists()


def test_bot_trap_stores_nothing_but_looks_like_success(clinic: Clinic, client: Client) -> None:
    response = _public(clinic, client, website="http://spam.example")
    assert response.status_code == 302
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "A" * 101),
        ("last_name", "B" * 5000),
        ("notes", "x" * 1001),
        ("phone", "9" * 31),
        ("email", "a" * 250 + "@example.com"),
        ("concerns", "world domination"),
    ],
)
def test_oversized_or_invalid_fields_store_nothing(
    clinic: Clinic, client: Client, field: str, value: str
) -> None:
    data: dict[str, Any] = {field: value}
    response = _public(clinic, client, **data)
    assert response.status_code == 200  # the form again, with the error
    assert not Inquiry.objects.exists()


SCRIPT = '<script>alert("x")</script>'


def test_script_tags_are_never_echoed_unescaped(clinic: Clinic, client: Client) -> None:
    response = _public(clinic, client, first_name=SCRIPT, last_name="L" * 101, notes=SCRIPT)
    assert response.status_code == 200
    assert SCRIPT.encode() not in response.content
    assert b"&lt;script&gt;" in response.content
    assert not Inquiry.objects.exists()


def test_script_in_a_valid_inquiry_is_stored_as_text_and_shown_escaped(
    clinic: Clinic, client: Client
) -> None:
    _public(clinic, client, notes=SCRIPT, first_name="<b>Bold</b>")
    inquiry = Inquiry.objects.get()
    assert inquiry.notes == SCRIPT
    client.force_login(clinic.users["intake"])
    for url in (
        reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk}),
        reverse("admissions:board"),
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert SCRIPT.encode() not in page.content
        assert b"<b>Bold</b>" not in page.content


def test_a_flood_of_posts_is_cut_off_per_client_address(
    clinic: Clinic, client: Client, settings: Settings
) -> None:
    settings.OPENIOP_PUBLIC_INQUIRY_LIMIT = 5
    codes = [_public(clinic, client, first_name=f"Flood{n}").status_code for n in range(12)]
    assert codes[:5] == [302] * 5
    assert set(codes[5:]) == {429}
    assert Inquiry.objects.count() == 5
    other = Client(REMOTE_ADDR="198.51.100.200")
    assert _public(clinic, other).status_code == 302
    # a forged X-Forwarded-For does not reset the limit
    assert _public(clinic, client, headers={"HTTP_X_FORWARDED_FOR": "10.9.9.9"}).status_code == 429


def test_the_limit_is_shared_by_every_worker_process(
    clinic: Clinic, client: Client, settings: Settings
) -> None:
    """Production runs several worker processes, each with its own in-memory cache: the count
    lives in the database, so a flood spread over the workers (here: the cache emptied before
    each post, as a fresh worker would see it) is still cut off at the limit."""
    settings.OPENIOP_PUBLIC_INQUIRY_LIMIT = 3
    codes = []
    for n in range(6):
        cache.clear()
        codes.append(_public(clinic, client, first_name=f"Spread{n}").status_code)
    assert codes == [302, 302, 302, 429, 429, 429]
    assert Inquiry.objects.count() == 3


def test_invalid_posts_count_towards_the_limit_too(
    clinic: Clinic, client: Client, settings: Settings
) -> None:
    settings.OPENIOP_PUBLIC_INQUIRY_LIMIT = 3
    for _ in range(3):
        _public(clinic, client, first_name="")
    assert _public(clinic, client).status_code == 429
    assert not Inquiry.objects.exists()


def test_unknown_clinic_is_404(client: Client) -> None:
    assert (
        client.get(reverse("admissions:public_inquiry", kwargs={"site_id": 999})).status_code == 404
    )


# --- staff pages ---------------------------------------------------------------------------------
def test_board_shows_days_in_stage_owner_and_overdue(
    clinic: Clinic, client: Client, mfa_passed: None
) -> None:
    inquiry = clinic.inquiry()
    services.inquiry_update(
        inquiry=inquiry,
        expected_version=inquiry.version,
        by=clinic.actor("intake"),
        owner=clinic.users["intake"],
        next_action="Call back",
        next_action_date=timezone.localdate() - dt.timedelta(days=1),
    )
    Inquiry.objects.filter(pk=inquiry.pk).update(
        stage_entered_on=timezone.localdate() - dt.timedelta(days=3)
    )
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:board")).content.decode()
    assert "3 days in stage" in page
    assert clinic.users["intake"].get_full_name() in page
    assert "pipeline-card overdue" in page


def test_board_query_count_does_not_grow_with_cards(clinic: Clinic, client: Client) -> None:
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:board")
    clinic.inquiry()
    Inquiry.objects.update(owner=clinic.users["intake"])
    small = page_query_count(client, url)
    for n in range(8):
        inquiry = clinic.inquiry(first_name=f"N{n}", phone=f"555010{n:04d}")
        services.prescreen_record(
            inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("clinician")
        )
    Inquiry.objects.update(owner=clinic.users["clinician"])
    assert page_query_count(client, url) == small


def test_board_search_and_empty_state(clinic: Clinic, client: Client) -> None:
    clinic.inquiry()
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:board"), {"q": "zzzz"}).content.decode()
    assert "No open inquiries" in page


def test_other_site_inquiry_is_refused(clinic: Clinic, client: Client) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["other_intake"])
    response = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk}))
    assert response.status_code == 403
    board = client.get(reverse("admissions:board")).content.decode()
    assert "Pemberbottom" not in board


@pytest.mark.parametrize(
    ("role", "status"),
    [("intake", 200), ("clinician", 200), ("billing", 200), ("auditor", 403), ("admin", 403)],
)
def test_board_roles(
    clinic: Clinic, client: Client, mfa_passed: None, role: str, status: int
) -> None:
    client.force_login(clinic.users[role])
    assert client.get(reverse("admissions:board")).status_code == status


def test_high_risk_prescreen_shows_the_banner_at_once(clinic: Clinic, client: Client) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["clinician"])
    data = {
        "needs_24h_supervision": "no",
        "needs_medical_withdrawal": "no",
        "safe_home": "yes",
        "substance_free_home": "yes",
        "outpatient_not_enough": "yes",
        "can_attend": "yes",
        "motivation": "ready",
    }
    for n, answer in enumerate(HIGH_RISK, start=1):
        data[f"cssrs_{n}"] = "yes" if answer else "no"
    response = client.post(
        reverse("admissions:prescreen", kwargs={"inquiry_id": inquiry.pk}), data, follow=True
    )
    page = response.content.decode()
    assert "Higher level of care now" in page
    assert "988" in page and "555-0100" in page  # the clinic's crisis line
    assert "Urgent task" in page


def test_conversion_table(clinic: Clinic, client: Client) -> None:
    clinic.inquiry()
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:conversion")).content.decode()
    assert "Outpatient therapist" in page and "0.0%" in page


def _walk(clinic: Clinic) -> tuple[Inquiry, Assessment, AdmissionResult]:
    """An admitted inquiry with a pre-screen and an assessment (billing pages: billing/tests)."""
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor("clinician")
    )
    assessment = services.assessment_save(
        inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=clinic.actor("clinician")
    )
    services.assessment_decide(
        assessment=assessment,
        chosen_level="2.1",
        expected_version=assessment.version,
        by=clinic.actor("clinician"),
    )
    result = services.admission_admit(
        inquiry=inquiry, track=clinic.track, by=clinic.actor("intake")
    )
    return inquiry, assessment, result


def test_every_staff_page_renders_for_the_director(
    clinic: Clinic, client: Client, mfa_passed: None
) -> None:
    inquiry, assessment, result = _walk(clinic)
    client.force_login(clinic.users["director"])
    doc = result.documents[0]
    urls = [
        reverse("admissions:board"),
        reverse("admissions:inquiry_new"),
        reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk}),
        reverse("admissions:prescreen", kwargs={"inquiry_id": inquiry.pk}),
        reverse("admissions:assessment_new", kwargs={"inquiry_id": inquiry.pk}) + "?edition=4",
        reverse("admissions:assessment", kwargs={"assessment_id": assessment.pk}),
        reverse("admissions:admit", kwargs={"inquiry_id": inquiry.pk}),
        reverse("admissions:packet", kwargs={"episode_id": result.episode.pk}),
        reverse("admissions:document", kwargs={"document_id": doc.pk}),
        reverse("admissions:waitlist", kwargs={"track_id": clinic.track.pk}),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(
        reverse("admissions:assessment_new", kwargs={"inquiry_id": inquiry.pk}) + "?edition=4"
    )
    assert "Person-centered considerations" in page.content.decode()


def _pdf_text(response: Response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(p.extract_text() for p in reader.pages)


def test_assessment_and_signed_document_print_as_pdf(
    clinic: Clinic, client: Client, mfa_passed: None
) -> None:
    _inquiry, assessment, result = _walk(clinic)
    doc = next(d for d in result.documents if d.kind == "consent_to_treatment")
    services.document_sign(
        document=doc,
        signed_name="Wren Pemberbottom",
        expected_version=doc.version,
        by=clinic.actor("intake"),
    )
    client.force_login(clinic.users["director"])
    text = _pdf_text(
        client.get(reverse("admissions:assessment_pdf", kwargs={"assessment_id": assessment.pk}))
    )
    assert "Recommendation: Level 2.1" in text and "Why not a lower level" in text
    text = _pdf_text(client.get(reverse("admissions:document_pdf", kwargs={"document_id": doc.pk})))
    assert "Signed electronically by" in text and "Wren Pemberbottom" in text and "2026-01" in text
    assert "42 CFR Part 2" in text  # a co-occurring episode's packet leaves with the notice


def test_signing_through_the_page_records_the_client_address(
    clinic: Clinic, client: Client
) -> None:
    *_, result = _walk(clinic)
    doc = next(d for d in result.documents if d.kind == "patient_rights")
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:document", kwargs={"document_id": doc.pk})
    response = client.post(
        url,
        {"step": "sign", "version": doc.version, "signed_name": "Wren P", "signature_png": ""},
        REMOTE_ADDR="192.0.2.55",
    )
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.signed_client_addr == "192.0.2.55"
    assert AuditEntry.objects.filter(
        object_type="intake_document", patient_id=doc.patient_id
    ).exists()


def test_board_lists_seats_offered_from_a_waitlist(clinic: Clinic, client: Client) -> None:
    from openiop.admissions.models import WaitlistEntry
    from openiop.testing import make_episode, make_patient

    patient = make_patient(clinic.site, legal_first_name="Offeria", legal_last_name="Seatwell")
    episode = make_episode(patient, status="waitlisted")
    WaitlistEntry.objects.create(
        track=clinic.track,
        episode=episode,
        joined_at=timezone.now(),
        status="offered",
        offered_start_date=clinic.session.date,
    )
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:board")).content.decode()
    assert "Offeria Seatwell" in page
    assert "Public form" in page
    assert AuditEntry.objects.filter(
        object_type="pipeline", patients__patient_id=patient.pk
    ).exists()


def test_inquiry_page_query_count_does_not_grow_with_coverages(
    clinic: Clinic, client: Client
) -> None:
    from openiop.billing.tests.test_services import VERIFIED

    inquiry = clinic.inquiry()
    payers = [
        billing_services.payer_create(
            organization_id=clinic.org.pk,
            name=f"Payer {n}",
            payer_id="",
            payer_type="commercial",
            by=clinic.actor("billing"),
        )
        for n in range(2)
    ]

    def add(rank: str, payer: Payer) -> None:
        coverage = billing_services.coverage_add(
            inquiry=inquiry, payer=payer, rank=rank, by=clinic.actor("billing")
        )
        billing_services.benefits_verify(coverage=coverage, by=clinic.actor("billing"), **VERIFIED)
        services.prescreen_record(
            inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor("clinician")
        )

    url = reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})
    client.force_login(clinic.users["intake"])
    add("primary", payers[0])
    small = page_query_count(client, url)
    add("secondary", payers[1])
    assert page_query_count(client, url) == small


@pytest.mark.parametrize(
    ("role", "sees_notes"),
    # Case managers read no clinical note text (issue 18.4, minimum necessary).
    [("clinician", True), ("case_manager", False), ("billing", False), ("intake", False)],
)
def test_assessment_notes_are_shown_only_to_roles_that_read_clinical_notes(
    clinic: Clinic, client: Client, role: str, sees_notes: bool
) -> None:
    """Billing and intake see the level and its reasons (for authorization and admission), never
    the clinician's free-text notes on the dimensions, on the page or in its PDF."""
    inquiry = clinic.assessed()
    assessment = inquiry.assessments.get()
    client.force_login(clinic.users[role])
    page = client.get(reverse("admissions:assessment", kwargs={"assessment_id": assessment.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Recommendation: Level 2.1" in html
    assert ("note 3" in html) is sees_notes
    text = _pdf_text(
        client.get(reverse("admissions:assessment_pdf", kwargs={"assessment_id": assessment.pk}))
    )
    assert "Recommendation: Level 2.1" in text
    assert ("note 3" in text) is sees_notes


def test_admit_page_takes_the_level_from_the_decided_assessment(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.assessed()  # decided Level 2.1
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:admit", kwargs={"inquiry_id": inquiry.pk})
    page = client.get(url).content.decode()
    assert "Level 2.1" in page and 'name="level_of_care"' not in page
    response = client.post(
        url, {"track": clinic.track.pk, "level_of_care": "3.1", "sex": "female"}, follow=True
    )
    assert response.status_code == 200
    inquiry.refresh_from_db()
    assert inquiry.episode is not None and inquiry.episode.level_of_care == "2.1"


def test_follow_up_with_an_error_keeps_what_was_typed(clinic: Clinic, client: Client) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["intake"])
    response = client.post(
        reverse("admissions:followup", kwargs={"inquiry_id": inquiry.pk}),
        {
            "version": inquiry.version,
            "owner": "",
            "next_action": "Call back Tuesday after work",
            "next_action_date": "2026-13-45",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="Call back Tuesday after work"' in page and 'value="2026-13-45"' in page
    inquiry.refresh_from_db()
    assert inquiry.next_action == ""


def test_closing_without_a_reason_keeps_the_choice_and_says_why(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["intake"])
    response = client.post(
        reverse("admissions:move", kwargs={"inquiry_id": inquiry.pk}),
        {"to_stage": "declined", "note": ""},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Say why the inquiry closes" in page
    assert '<option value="declined" selected>' in page
    inquiry.refresh_from_db()
    assert inquiry.stage == "inquiry"


@pytest.mark.parametrize(
    ("answers", "tier"), [([1, 0, 0, 0, 0, 0, 0], "low"), ([1, 1, 1, 0, 0, 0, 0], "moderate")]
)
def test_low_or_moderate_safety_screen_gives_988_and_the_crisis_line(
    clinic: Clinic, client: Client, answers: list[int], tier: str
) -> None:
    """Every positive C-SSRS tier gets 988 and the crisis resources (../shared/domain.md s.7);
    only high risk raises the banner and the urgent task."""
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=answers, by=clinic.actor("clinician")
    )
    client.force_login(clinic.users["clinician"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    assert f"C-SSRS screener: {tier}" in page
    assert "<strong>988</strong>" in page and "555-0100" in page  # the clinic's crisis line
    assert "Higher level of care now</h2>" not in page
    # the front desk, who may be on the phone with the person, is told to give them too
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    assert "<strong>988</strong>" in page and "555-0100" in page


@pytest.mark.parametrize(
    ("role", "sees_screen"), [("clinician", True), ("intake", False), ("billing", False)]
)
def test_pre_screen_answers_and_safety_tier_are_clinical(
    clinic: Clinic, client: Client, role: str, sees_screen: bool
) -> None:
    """Everyone working the inquiry sees the outcome (it routes the card); the C-SSRS tier and
    the reasons are clinical (Cap.CLINICAL_VIEW), hidden from intake and billing."""
    inquiry = clinic.inquiry()
    needs_withdrawal_care = dataclasses.replace(FITS, needs_medical_withdrawal=True)
    services.prescreen_record(
        inquiry=inquiry,
        answers=needs_withdrawal_care,
        cssrs_answers=[1, 1, 1, 0, 0, 0, 0],
        by=clinic.actor("clinician"),
    )
    client.force_login(clinic.users[role])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    assert "IOP does not fit" in page
    assert ("C-SSRS screener: moderate" in page) is sees_screen
    assert ("medically supervised withdrawal" in page) is sees_screen


def test_admitting_to_a_full_track_says_the_waitlist_position(
    clinic: Clinic, client: Client
) -> None:
    from openiop.programs.models import Enrollment
    from openiop.testing import make_episode, make_patient

    for _n in range(2):  # capacity 2
        episode = make_episode(make_patient(clinic.site), admission_date=timezone.localdate())
        Enrollment.objects.create(
            episode=episode, track=clinic.track, start_date=timezone.localdate()
        )
    services.admission_admit(
        inquiry=clinic.assessed(first_name="Ash", phone="5550101111"),
        track=clinic.track,
        by=clinic.actor("intake"),
    )
    inquiry = clinic.assessed(first_name="Birch", phone="5550102222")
    client.force_login(clinic.users["intake"])
    response = client.post(
        reverse("admissions:admit", kwargs={"inquiry_id": inquiry.pk}),
        {"track": clinic.track.pk, "sex": "female"},
        follow=True,
    )
    page = response.content.decode()
    assert "is on its waitlist at position 2" in page
    assert "Waiting, position 2" in page  # the packet page says it too


@pytest.mark.parametrize(
    ("role", "offered"), [("clinician", True), ("intake", False), ("billing", False)]
)
def test_only_roles_that_may_close_an_urgent_task_are_offered_the_form(
    clinic: Clinic, client: Client, role: str, offered: bool
) -> None:
    """Everyone sees the urgent task; only a clinician (Cap.ADMISSIONS_ASSESS) may record what
    was done, so only they get the form (others were offered a button that ended in a 403)."""
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("clinician")
    )
    client.force_login(clinic.users[role])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    assert "Urgent task:" in page
    assert ("Mark task done" in page) is offered


def test_a_fourth_edition_assessment_names_level_2_5_high_intensity_outpatient(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor("clinician")
    )
    assessment = services.assessment_save(
        inquiry=inquiry, edition="4", ratings=IOP_RATINGS, by=clinic.actor("clinician")
    )
    client.force_login(clinic.users["clinician"])
    url = reverse("admissions:assessment", kwargs={"assessment_id": assessment.pk})
    page = client.get(url).content.decode()
    assert "Recommendation: Level 2.1 · Intensive outpatient" in page
    assert "Level 2.5 · High-intensity outpatient" in page  # the decision's choices
    assert "Partial hospitalization" not in page
    services.assessment_decide(
        assessment=assessment,
        chosen_level="2.5",
        justification="Fictional: needs more structure than 2.1 this month",
        expected_version=assessment.version,
        by=clinic.actor("clinician"),
    )
    assert "Decision: Level 2.5 · High-intensity outpatient (override)" in client.get(url).text


def _wait(clinic: Clinic, first: str, last: str, minutes: int) -> Patient:
    from openiop.admissions.models import WaitlistEntry
    from openiop.testing import make_episode, make_patient

    patient = make_patient(clinic.site, legal_first_name=first, legal_last_name=last)
    episode = make_episode(patient, status="waitlisted")
    WaitlistEntry.objects.create(
        track=clinic.track,
        episode=episode,
        joined_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes),
    )
    return patient


def _waitlist_audited() -> set[int]:
    entry = AuditEntry.objects.filter(object_type="waitlist").order_by("-id").first()
    assert entry is not None
    return set(entry.patients.values_list("patient_id", flat=True))


def test_waitlist_searches_by_name_or_mrn_and_keeps_queue_positions(
    clinic: Clinic, client: Client
) -> None:
    first = _wait(clinic, "Odalys", "Marrowgate", 0)
    second = _wait(clinic, "Wrenna", "Pebblecroft", 1)
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:waitlist", kwargs={"track_id": clinic.track.pk})
    html = client.get(url, {"q": "pebble"}).content.decode()
    assert "Pebblecroft" in html and "Marrowgate" not in html and 'value="pebble"' in html
    assert "<tr><td>2</td>" in html  # still second in the queue, not renumbered by the search
    assert _waitlist_audited() == {second.pk}
    by_mrn = client.get(url, {"q": first.mrn}).content.decode()
    assert "Marrowgate" in by_mrn and "Pebblecroft" not in by_mrn
    assert _waitlist_audited() == {first.pk}


def test_waitlist_empty_states(clinic: Clinic, client: Client) -> None:
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:waitlist", kwargs={"track_id": clinic.track.pk})
    empty = client.get(url).content.decode()
    assert "Nobody is waiting for this track." in empty and "matches" not in empty
    _wait(clinic, "Wrenna", "Pebblecroft", 0)
    none = client.get(url, {"q": "nobodyhere"}).content.decode()
    assert "Nobody waiting for this track matches" in none and "Pebblecroft" not in none


def test_waitlist_pages_with_flat_queries(clinic: Clinic, client: Client) -> None:
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:waitlist", kwargs={"track_id": clinic.track.pk})
    for n in range(2):
        _wait(clinic, "Odalys", f"Queuer{n}", n)
    small = page_query_count(client, url)
    small_search = page_query_count(client, url + "?q=odalys")
    for n in range(2, 27):
        _wait(clinic, "Odalys", f"Queuer{n}", n)
    assert page_query_count(client, url) == small
    assert page_query_count(client, url + "?q=odalys&page=2") == small_search
    first = client.get(url, {"q": "odalys"}).content.decode()
    assert "Page 1 of 2 · 27 in all" in first and "q=odalys" in first and "page=2" in first
    second = client.get(url, {"q": "odalys", "page": "2"}).content.decode()
    assert second.count("Queuer") == 2 and "<tr><td>27</td>" in second
    assert len(_waitlist_audited()) == 2


@pytest.mark.parametrize(("concerns", "notice"), [("co_occurring", True), ("mental_health", False)])
def test_a_printed_assessment_of_a_substance_use_inquiry_carries_the_part2_notice(
    clinic: Clinic, client: Client, concerns: str, notice: bool
) -> None:
    inquiry = clinic.inquiry(concerns=concerns)
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor("clinician")
    )
    assessment = services.assessment_save(
        inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=clinic.actor("clinician")
    )
    client.force_login(clinic.users["clinician"])
    text = _pdf_text(
        client.get(reverse("admissions:assessment_pdf", kwargs={"assessment_id": assessment.pk}))
    )
    assert ("42 CFR Part 2" in text) is notice


# --- roles: what each is offered (issue 14) ------------------------------------------------------
def _options(page: str, name: str) -> list[tuple[str, bool]]:
    """The (value, selected) options of the page's <select name=...>."""
    import re

    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    return [
        (value, bool(selected))
        for value, selected in re.findall(r'<option value="([^"]*)"( selected)?', select.group(1))
    ]


def test_intake_runs_the_pre_screen_with_the_screener_and_sees_the_triage(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["intake"])
    detail = reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})
    page = client.get(detail).text
    assert reverse("admissions:prescreen", kwargs={"inquiry_id": inquiry.pk}) in page
    assert reverse("admissions:assessment_new", kwargs={"inquiry_id": inquiry.pk}) not in page
    url = reverse("admissions:prescreen", kwargs={"inquiry_id": inquiry.pk})
    form = client.get(url)
    assert form.status_code == 200 and "C-SSRS 1." in form.text and "C-SSRS 6." in form.text
    answers = {f"cssrs_{n}": "yes" if a else "no" for n, a in enumerate(HIGH_RISK, start=1)}
    response = client.post(
        url,
        {
            "needs_24h_supervision": "no",
            "needs_medical_withdrawal": "no",
            "safe_home": "yes",
            "substance_free_home": "yes",
            "outpatient_not_enough": "yes",
            "can_attend": "yes",
            "motivation": "ready",
            **answers,
        },
    )
    assert response.status_code == 302 and response["Location"] == detail
    page = client.get(detail).text
    assert "Higher level of care now</h2>" in page
    assert "<strong>988</strong>" in page and "555-0100" in page
    assert "<strong>Urgent task:</strong> C-SSRS high risk" in page
    assert "(assigned to any clinician)" in page  # not to the front desk, who cannot close it
    # the task is a clinician's: intake is told so and offered no button the service refuses
    task = inquiry.tasks.get(urgent=True)
    assert reverse("admissions:task_done", kwargs={"task_id": task.pk}) not in page
    assert "A clinician records what was done about it." in page


def test_intake_is_refused_the_level_of_care_assessment_page(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["intake"])
    url = reverse("admissions:assessment_new", kwargs={"inquiry_id": inquiry.pk})
    assert client.get(url).status_code == 403
    assert AuditEntry.objects.filter(user_id=clinic.users["intake"].pk, outcome="denied").exists()


def test_high_risk_keeps_the_crisis_resources_after_the_urgent_task_is_done(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("intake")
    )
    task = inquiry.tasks.get(urgent=True)
    services.task_complete(task=task, outcome="Same-day evaluation", by=clinic.actor("clinician"))
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    assert "Higher level of care now</h2>" not in page
    assert 'aria-label="Crisis resources"' in page and "<strong>988</strong>" in page


@pytest.mark.parametrize(
    ("stage", "offered"),
    [
        ("inquiry", ["referred_elsewhere", "declined", "lost_to_follow_up"]),
        (
            "assessment_scheduled",
            ["inquiry", "prescreen", "referred_elsewhere", "declined", "lost_to_follow_up"],
        ),
        ("declined", ["inquiry"]),
    ],
)
def test_move_list_offers_only_allowed_moves_and_defaults_to_none(
    clinic: Clinic, client: Client, stage: str, offered: list[str]
) -> None:
    inquiry = clinic.inquiry()
    Inquiry.objects.filter(pk=inquiry.pk).update(stage=stage)
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    options = _options(page, "to_stage")
    default = next((v for v, selected in options if selected), options[0][0])
    assert default == ""  # what the browser sends untouched: a prompt, never a closing stage
    assert [value for value, _ in options if value] == offered
    # a move that is not offered is refused as a form error, the card stays
    response = client.post(
        reverse("admissions:move", kwargs={"inquiry_id": inquiry.pk}),
        {"to_stage": "assessed", "note": "x"},
    )
    assert response.status_code == 400
    inquiry.refresh_from_db()
    assert inquiry.stage == stage


def test_an_admitted_inquiry_offers_no_move(clinic: Clinic, client: Client) -> None:
    inquiry = clinic.inquiry()
    Inquiry.objects.filter(pk=inquiry.pk).update(stage="admitted")
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    assert "Move the card" not in page and 'name="to_stage"' not in page


def test_owner_list_offers_only_staff_who_can_own_an_inquiry(
    clinic: Clinic, client: Client
) -> None:
    inquiry = clinic.inquiry()
    client.force_login(clinic.users["intake"])
    page = client.get(reverse("admissions:inquiry", kwargs={"inquiry_id": inquiry.pk})).text
    offered = {value for value, _ in _options(page, "owner")} - {""}
    assert offered == {str(clinic.users[r].pk) for r in ("intake", "case_manager", "director")}
    response = client.post(
        reverse("admissions:followup", kwargs={"inquiry_id": inquiry.pk}),
        {"version": inquiry.version, "owner": clinic.users["clinician"].pk},
    )
    assert response.status_code == 400
    inquiry.refresh_from_db()
    assert inquiry.owner is None
