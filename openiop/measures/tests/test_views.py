"""Pages: patient links end to end over HTTP, entry, acknowledgement, safety plans and PDFs,
the due list and the program view (query counts pinned), allowed and denied roles."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.episodes.models import Episode
from openiop.measures import services
from openiop.measures.models import (
    MeasurementSchedule,
    PatientLink,
    Response,
    SafetyAlert,
    SafetyPlan,
)
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_site,
    make_user,
    page_query_count,
)

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries

    from openiop.episodes.models import Episode
    from openiop.measures.models import SafetyPlan
    from openiop.measures.services import IssuedLink
    from openiop.measures.tests.conftest import Clinic
    from openiop.patients.models import Patient


@pytest.fixture
def logged_in(client: Client, clinic: Clinic) -> Client:
    client.force_login(clinic.clinician)
    return client


def _issue(clinic: Clinic, instrument: str = "phq9") -> IssuedLink:
    return services.patient_link_create(
        episode=clinic.episode,
        purpose="questionnaire",
        instrument=instrument,
        by=clinic.actor(clinic.clinician),
    )


def _answers(values: list[int]) -> dict[str, str]:
    return {f"item_{n}": str(v) for n, v in enumerate(values, start=1)}


def test_patient_link_shows_only_the_questionnaire_and_crisis_resources(
    client: Client, clinic: Clinic
) -> None:
    issued = _issue(clinic)
    url = reverse("measures:patient_link", kwargs={"token": issued.token})
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "same-origin"
    # Nothing from the chart: no name, no MRN, no clinic or site name, no staff navigation.
    for secret in (
        clinic.patient.legal_last_name,
        clinic.patient.mrn,
        clinic.site.name,
        "Lantern Hill",
        "Log out",
    ):
        assert secret not in body
    assert "data-crisis-item" in body and "measures/crisis.js" in body
    assert 'id="crisis" class="crisis" role="alert" aria-live="assertive" hidden' in body
    assert "988" in body and "555-0100" in body


def test_patient_submits_item9_and_sees_crisis_resources_then_the_link_is_spent(
    client: Client, clinic: Clinic
) -> None:
    issued = _issue(clinic)
    url = reverse("measures:patient_link", kwargs={"token": issued.token})
    response = client.post(url, _answers([0, 0, 0, 0, 0, 0, 0, 0, 1]))
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "988" in body and "555-0100" in body and " hidden" not in body.split('id="crisis"')[1][:80]
    )
    assert Response.objects.get().mode == "patient_link"
    assert SafetyAlert.objects.get().owner == clinic.clinician
    again = client.get(url)
    assert again.status_code == 404 and "expired or was already used" in again.content.decode()


def test_patient_without_item9_gets_a_plain_thank_you(client: Client, clinic: Clinic) -> None:
    issued = _issue(clinic, "gad7")
    body = client.post(
        reverse("measures:patient_link", kwargs={"token": issued.token}), _answers([1] * 7)
    ).content.decode()
    assert "your answers were sent" in body and 'id="crisis"' not in body


@pytest.mark.parametrize(
    ("answers", "crisis"),
    [
        ([1, 0, 0, 0, 0, 0, 0], True),  # wish to be dead only: low tier, no alert, still 988
        ([1, 1, 1, 0, 0, 0, 0], True),  # method: moderate
        ([0, 0, 0, 0, 0, 0, 0], False),
    ],
)
def test_patient_answering_a_cssrs_at_any_tier_sees_the_crisis_resources(
    client: Client, clinic: Clinic, answers: list[int], crisis: bool
) -> None:
    issued = _issue(clinic, "cssrs")
    body = client.post(
        reverse("measures:patient_link", kwargs={"token": issued.token}), _answers(answers)
    ).content.decode()
    assert "your answers were sent" in body
    assert ('id="crisis"' in body and "555-0100" in body) is crisis


def test_patient_missing_an_answer_keeps_the_others(client: Client, clinic: Clinic) -> None:
    issued = _issue(clinic)
    data = _answers([2, 1, 0, 0, 0, 0, 0, 0, 0])
    del data["item_5"]
    response = client.post(reverse("measures:patient_link", kwargs={"token": issued.token}), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Answer question 5." in body
    assert re.search(r'name="item_1" value="2" required checked', body)
    assert not Response.objects.exists()


def test_unknown_token_is_a_plain_404(client: Client, db: None) -> None:
    response = client.get(reverse("measures:patient_link", kwargs={"token": "guess"}))
    assert response.status_code == 404


def test_staff_entry_keeps_answers_on_error_and_saves(logged_in: Client, clinic: Clinic) -> None:
    url = reverse("measures:enter", kwargs={"episode_id": clinic.episode.pk, "instrument": "gad7"})
    bad = logged_in.post(url, _answers([3, 3, 3, 3, 3, 3]))
    assert bad.status_code == 400 and "Answer question 7." in bad.content.decode()
    ok = logged_in.post(url, _answers([3, 3, 3, 3, 3, 3, 3]))
    assert ok.status_code == 302
    assert Response.objects.get().total == 21


def test_staff_entry_denied_to_intake(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.intake)
    url = reverse("measures:enter", kwargs={"episode_id": clinic.episode.pk, "instrument": "gad7"})
    assert client.get(url).status_code == 403


def test_episode_page_shows_risk_trend_and_alert(logged_in: Client, clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    services.response_record(
        episode=clinic.episode, instrument="phq9", answers=[3] * 8 + [1], by=by
    )
    body = logged_in.get(
        reverse("measures:episode", kwargs={"episode_id": clinic.episode.pk})
    ).content.decode()
    assert 'data-risk="unassessed"' in body
    assert "<svg" in body and "item 9" in body
    chart = logged_in.get(
        reverse("patients:chart", kwargs={"patient_id": clinic.patient.pk})
    ).content.decode()
    assert 'data-risk="unassessed"' in chart


def test_acknowledge_from_the_alert_page(logged_in: Client, clinic: Clinic) -> None:
    alert = services.safety_alert_flag(
        episode=clinic.episode,
        risk_level="high",
        note="Disclosed a plan.",
        by=clinic.actor(clinic.clinician),
    )
    url = reverse("measures:alert", kwargs={"safety_alert_id": alert.pk})
    missing = logged_in.post(url, {"note": "called"})
    assert missing.status_code == 400
    done = logged_in.post(url, {"action": "safety_plan_reviewed", "note": "Reviewed together"})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.action_taken) == ("acknowledged", "safety_plan_reviewed")


def test_today_lists_open_safety_alerts(logged_in: Client, clinic: Clinic) -> None:
    services.safety_alert_flag(
        episode=clinic.episode,
        risk_level="moderate",
        note="Hopeless talk.",
        by=clinic.actor(clinic.clinician),
    )
    body = logged_in.get(reverse("web:today")).content.decode()
    assert (
        "Safety alerts" in body and clinic.patient.display_name in body and "Hopeless talk." in body
    )


def _signed_plan(clinic: Clinic) -> SafetyPlan:
    by = clinic.actor(clinic.clinician)
    plan = services.safety_plan_start(episode=clinic.episode, by=by)
    values = {f: f"Line for {f}" for f in services.PLAN_FIELDS}
    values["safe_environment"] = "Brother keeps the rifle at his place. Pharmacy blister packs."
    services.safety_plan_update(plan=plan, values=values, expected_version=plan.version, by=by)
    return services.safety_plan_sign(
        plan=plan, patient_agreed=True, expected_version=plan.version, by=by
    )


def test_safety_plan_edit_sign_and_lock_over_http(logged_in: Client, clinic: Clinic) -> None:
    start = logged_in.post(reverse("measures:plan_start", kwargs={"episode_id": clinic.episode.pk}))
    plan = SafetyPlan.objects.get()
    assert start.status_code == 302 and start["Location"].endswith(f"/safety-plans/{plan.pk}/")
    url = reverse("measures:plan", kwargs={"plan_id": plan.pk})
    data = {f: f"Words {f}" for f in services.PLAN_FIELDS} | {"version": plan.version}
    assert logged_in.post(url, data).status_code == 302
    stale = logged_in.post(url, data)  # the old version again
    assert "changed by someone else" in stale.content.decode()
    plan.refresh_from_db()
    logged_in.post(
        reverse("measures:plan_sign", kwargs={"plan_id": plan.pk}),
        {"version": plan.version, "patient_agreed": "on"},
    )
    plan.refresh_from_db()
    assert plan.status == "signed"
    body = logged_in.get(url).content.decode()
    assert "<textarea" not in body and "Words warning_signs" in body


def test_safety_plan_pdf_is_one_page_with_988_and_the_clinic_line(
    logged_in: Client, clinic: Clinic
) -> None:
    plan = _signed_plan(clinic)
    response = logged_in.get(reverse("measures:plan_pdf", kwargs={"plan_id": plan.pk}))
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "988" in text and "555-0100" in text and "reasons for living" in text.lower()
    assert "Brother keeps the rifle" in text


def _plan_of_lines(clinic: Clinic, lines_per_step: tuple[int, ...]) -> SafetyPlan:
    """A draft whose seven texts have the given numbers of 80-character lines of ordinary words."""
    by = clinic.actor(clinic.clinician)
    plan = services.safety_plan_start(episode=clinic.episode, by=by)
    line = ("When cravings start after payday I call my sister and walk the dog in the park. " * 2)[
        :80
    ]
    values = {
        f: "\n".join([line] * n) for f, n in zip(services.PLAN_FIELDS, lines_per_step, strict=True)
    }
    return services.safety_plan_update(
        plan=plan, values=values, expected_version=plan.version, by=by
    )


@pytest.mark.parametrize(
    "lines_per_step",
    [(6, 6, 6, 6, 6, 3, 3), (30, 1, 1, 1, 1, 1, 1), (1, 1, 1, 1, 1, 1, 30)],
    ids=["even", "long_first_step", "long_reasons"],
)
def test_the_longest_plan_that_may_be_signed_prints_on_one_page(
    logged_in: Client, clinic: Clinic, lines_per_step: tuple[int, int, int, int, int, int, int]
) -> None:
    assert sum(lines_per_step) == 36
    plan = _plan_of_lines(clinic, lines_per_step)
    services.safety_plan_sign(
        plan=plan,
        patient_agreed=True,
        expected_version=plan.version,
        by=clinic.actor(clinic.clinician),
    )
    response = logged_in.get(reverse("measures:plan_pdf", kwargs={"plan_id": plan.pk}))
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    assert "988" in reader.pages[0].extract_text()


def test_a_plan_too_long_for_one_page_is_refused_naming_the_longest_step(
    logged_in: Client, clinic: Clinic
) -> None:
    plan = _plan_of_lines(clinic, (5, 5, 5, 5, 5, 5, 7))
    response = logged_in.post(
        reverse("measures:plan_sign", kwargs={"plan_id": plan.pk}),
        {"version": plan.version, "patient_agreed": "on"},
        follow=True,
    )
    assert "must print on one page" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == "draft"
    with pytest.raises(RuleViolation) as refused:
        services.safety_plan_sign(
            plan=plan,
            patient_agreed=True,
            expected_version=plan.version,
            by=clinic.actor(clinic.clinician),
        )
    assert refused.value.field == "reasons_for_living"
    assert "37 lines" in str(refused.value)


def test_patient_opens_their_safety_plan_by_link(client: Client, clinic: Clinic) -> None:
    plan = _signed_plan(clinic)
    issued = services.patient_link_create(
        episode=clinic.episode, purpose="safety_plan", by=clinic.actor(clinic.clinician)
    )
    url = reverse("measures:patient_link", kwargs={"token": issued.token})
    for _ in range(2):  # may be opened again until it expires
        body = client.get(url).content.decode()
        assert "My safety plan" in body and "Brother keeps the rifle" in body and "988" in body
        assert clinic.patient.mrn not in body
    assert (
        AuditEntry.objects.filter(
            channel="patient", object_type="safety_plan", object_id=str(plan.pk)
        ).count()
        == 2
    )


def test_trends_pdf_has_the_chart(logged_in: Client, clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    for answers in ([3] * 9, [1] * 9):
        services.response_record(
            episode=clinic.episode, instrument="phq9", answers=[*answers[:8], 0], by=by
        )
    response = logged_in.get(
        reverse("measures:trends_pdf", kwargs={"episode_id": clinic.episode.pk})
    )
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Patient Health Questionnaire-9" in text or "PHQ-9" in text
    assert "moderately severe" in text


def _add_patients(clinic: Clinic, n: int, start: int = 0) -> list[Episode]:
    episodes = []
    for i in range(n):
        patient = make_patient(
            clinic.site, legal_first_name="Odalys", legal_last_name=f"Quillfeather{start + i}"
        )
        ep = make_episode(
            patient, primary_clinician=clinic.clinician, admission_date=dt.date(2026, 1, 5)
        )
        clinic.track.enrollments.create(episode=ep, start_date=ep.admission_date)
        for day, total in ((5, 18), (26, 16)):
            Response.objects.create(
                patient=patient,
                episode=ep,
                instrument="phq9",
                instrument_version="1",
                answers=[2] * 9,
                mode="staff",
                total=total,
                band="moderately_severe",
                administered_at=dt.datetime(2026, 1, day, 16, tzinfo=dt.UTC),
            )
        episodes.append(ep)
    return episodes


def _count(
    client: Client, url: str, django_assert_num_queries: DjangoAssertNumQueries | None
) -> int:
    return page_query_count(client, url)


def test_program_view_flags_nonresponders_and_pins_queries(
    logged_in: Client, clinic: Clinic, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    _add_patients(clinic, 2)
    url = reverse("measures:program")
    small = _count(logged_in, url, django_assert_num_queries)
    _add_patients(clinic, 10, start=10)
    large = _count(logged_in, url, django_assert_num_queries)
    assert small == large
    body = logged_in.get(url).content.decode()
    assert "Non-responder" in body and "Quillfeather0" in body and "-2" in body
    found = logged_in.get(url + "?q=quillfeather11").content.decode()
    assert "Quillfeather11" in found and "Quillfeather0<" not in found
    mrn = Episode.objects.get(patient__legal_last_name="Quillfeather10").patient.mrn
    by_mrn = logged_in.get(url, {"q": mrn.lower()}).content.decode()
    assert "Quillfeather10" in by_mrn and "Quillfeather11" not in by_mrn


def test_due_list_shows_overdue_and_pins_queries(
    logged_in: Client, clinic: Clinic, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    MeasurementSchedule.objects.create(
        track=clinic.track, instrument="gad7", at_admission=True, every_days=7
    )
    url = reverse("measures:due")
    _add_patients(clinic, 1)
    small = _count(logged_in, url, django_assert_num_queries)
    _add_patients(clinic, 8, start=10)
    large = _count(logged_in, url, django_assert_num_queries)
    assert small == large
    body = logged_in.get(url).content.decode()
    assert "Overdue" in body and "GAD-7" in body


def test_due_list_searches_by_name_and_pages(logged_in: Client, clinic: Clinic) -> None:
    MeasurementSchedule.objects.create(
        track=clinic.track, instrument="gad7", at_admission=True, every_days=7
    )
    _add_patients(clinic, 27)  # and the clinic's own patient: 28 due

    def rows(body: str) -> int:
        return body.count('<tr><td><a href="/measures/episodes/')

    url = reverse("measures:due")
    first = logged_in.get(url).content.decode()
    assert "Page 1 of 2 · 28 in all" in first and rows(first) == 25
    assert rows(logged_in.get(url, {"page": 2}).content.decode()) == 3
    found = logged_in.get(url, {"q": "quillfeather12"}).content.decode()
    assert rows(found) == 1 and "Quillfeather12" in found
    assert 'value="quillfeather12"' in found  # the search keeps what was typed
    mrn = Episode.objects.get(patient__legal_last_name="Quillfeather13").patient.mrn
    by_mrn = logged_in.get(url, {"q": mrn}).content.decode()
    assert rows(by_mrn) == 1 and "Quillfeather13" in by_mrn
    none = logged_in.get(url, {"q": "Nobodyhere"}).content.decode()
    assert rows(none) == 0 and "No patient with something due matches" in none


def test_due_list_empty_state(logged_in: Client, clinic: Clinic) -> None:
    assert "Nothing due" in logged_in.get(reverse("measures:due")).content.decode()


def test_schedule_page_allowed_to_director_and_read_only_to_clinician(
    client: Client, clinic: Clinic, mfa_passed: None
) -> None:
    url = reverse("measures:schedule", kwargs={"track_id": clinic.track.pk})
    client.force_login(clinic.clinician)
    assert (
        client.post(
            url, {"instrument": "phq9", "at_admission": "on", "every_days": "7"}
        ).status_code
        == 403
    )
    client.force_login(clinic.director)
    assert (
        client.post(
            url, {"instrument": "phq9", "at_admission": "on", "every_days": "7"}
        ).status_code
        == 302
    )
    assert MeasurementSchedule.objects.get().every_days == 7


def test_another_organizations_director_can_neither_see_nor_set_a_tracks_schedule(
    client: Client, clinic: Clinic, mfa_passed: None
) -> None:
    elsewhere = make_org()
    stranger = make_user(
        Role.DIRECTOR, sites=[make_site(elsewhere, name="Elsewhere (fictional)")], org=elsewhere
    )
    url = reverse("measures:schedule", kwargs={"track_id": clinic.track.pk})
    client.force_login(stranger)

    assert client.get(url).status_code == 404
    assert client.post(url, {"instrument": "phq9", "every_days": "7"}).status_code == 404
    assert not MeasurementSchedule.objects.exists()
    with pytest.raises(NotPermitted):
        services.schedule_set(
            track=clinic.track,
            instrument="phq9",
            at_admission=True,
            every_days=7,
            at_discharge=False,
            by=Actor(user=stranger),
        )
    assert not MeasurementSchedule.objects.exists()
    assert AuditEntry.objects.filter(
        object_type="measurement_schedule", outcome="denied", user_id=stranger.pk
    ).exists()


def test_other_site_clinician_is_refused_the_episode_page(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.other_clinician)
    response = client.get(reverse("measures:episode", kwargs={"episode_id": clinic.episode.pk}))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(patient_id=clinic.patient.pk, outcome="denied").exists()


def test_clinician_makes_a_link_and_sees_it_once(logged_in: Client, clinic: Clinic) -> None:
    response = logged_in.post(
        reverse("measures:link_create", kwargs={"episode_id": clinic.episode.pk}),
        {
            "purpose": "questionnaire",
            "instrument": "phq9",
            "mode": "patient_link",
            "hours_valid": "24",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    found = re.search(r"/measures/p/([^/\"]+)/", body)
    assert found is not None
    token = found.group(1)
    assert token not in "".join(PatientLink.objects.values_list("token_hash", flat=True))
    assert (
        logged_in.get(reverse("measures:patient_link", kwargs={"token": token})).status_code == 200
    )


def test_record_a_risk_level_page(logged_in: Client, clinic: Clinic) -> None:
    url = reverse("measures:flag", kwargs={"episode_id": clinic.episode.pk})
    bad = logged_in.post(url, {"risk_level": "high", "note": ""})
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()
    assert (
        logged_in.post(url, {"risk_level": "high", "note": "Gave away belongings."}).status_code
        == 302
    )
    assert SafetyAlert.objects.get().reason == "clinician_flag"
    body = logged_in.get(
        reverse("measures:episode", kwargs={"episode_id": clinic.episode.pk})
    ).content.decode()
    assert 'data-risk="high"' in body and "Gave away belongings." in body


def test_alerts_list_puts_mine_first_and_pins_queries(logged_in: Client, clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    url = reverse("measures:alerts")
    episodes = _add_patients(clinic, 2)
    for ep in episodes:
        services.risk_assess(episode=ep, risk_level="moderate", note="Worried.", by=by)
    small = _count(logged_in, url, None)
    for ep in _add_patients(clinic, 6, start=20):
        services.risk_assess(episode=ep, risk_level="high", note="Worried.", by=by)
    large = _count(logged_in, url, None)
    assert small == large
    other = make_patient(clinic.site, legal_first_name="Ysolde", legal_last_name="Notmine")
    ep = make_episode(other, primary_clinician=clinic.on_call)
    services.risk_assess(
        episode=ep, risk_level="high", note="Theirs.", by=clinic.actor(clinic.on_call)
    )
    body = logged_in.get(url).content.decode()
    assert body.index("Quillfeather") < body.index("Notmine")


def _last_audited(object_type: str) -> set[int]:
    entry = AuditEntry.objects.filter(object_type=object_type).order_by("-id").first()
    assert entry is not None
    return set(entry.patients.values_list("patient_id", flat=True))


def _alert_for(clinic: Clinic, first: str, last: str, level: str = "high") -> Patient:
    patient = make_patient(clinic.site, legal_first_name=first, legal_last_name=last)
    ep = make_episode(patient, primary_clinician=clinic.clinician)
    services.risk_assess(
        episode=ep, risk_level=level, note="Worried.", by=clinic.actor(clinic.clinician)
    )
    return patient


def test_alerts_list_searches_by_name_and_mrn_and_audits_only_the_shown(
    logged_in: Client, clinic: Clinic
) -> None:
    url = reverse("measures:alerts")
    wren = _alert_for(clinic, "Wrenna", "Pebblecroft")
    other = _alert_for(clinic, "Odalys", "Marrowgate")
    body = logged_in.get(url, {"q": "PEBBLE"}).content.decode()
    assert "Pebblecroft" in body and "Marrowgate" not in body
    assert 'name="q"' in body and 'value="PEBBLE"' in body
    by_mrn = logged_in.get(url, {"q": other.mrn}).content.decode()
    assert "Marrowgate" in by_mrn and "Pebblecroft" not in by_mrn
    digits = str(int(wren.mrn[-6:]))  # the MRN number without its prefix
    assert "Pebblecroft" in logged_in.get(url, {"q": digits}).content.decode()
    shown = _last_audited("safety_alerts")
    assert wren.pk in shown and other.pk not in shown


def test_alerts_list_search_with_no_match_says_so(logged_in: Client, clinic: Clinic) -> None:
    _alert_for(clinic, "Wrenna", "Pebblecroft")
    url = reverse("measures:alerts")
    body = logged_in.get(url, {"q": "nobodyhere"}).content.decode()
    assert "No open safety alert for a patient matching" in body and "nobodyhere" in body
    assert "Pebblecroft" not in body
    assert "Pebblecroft" in logged_in.get(url).content.decode()


def test_alerts_list_without_alerts_says_when_they_open(logged_in: Client, clinic: Clinic) -> None:
    empty = logged_in.get(reverse("measures:alerts")).content.decode()
    assert "No open safety alerts." in empty and "matching" not in empty


def test_alerts_list_pages_and_search_keeps_queries_flat(logged_in: Client, clinic: Clinic) -> None:
    url = reverse("measures:alerts")
    for i in range(2):
        _alert_for(clinic, "Odalys", f"Quillpage{i}")
    small = page_query_count(logged_in, url + "?q=quillpage")
    for i in range(2, 27):
        _alert_for(clinic, "Odalys", f"Quillpage{i}")
    assert page_query_count(logged_in, url + "?q=quillpage") == small
    assert page_query_count(logged_in, url + "?q=quillpage&page=2") == small
    first = logged_in.get(url, {"q": "quillpage"}).content.decode()
    assert "Page 1 of 2 · 27 in all" in first and "page=2" in first and "q=quillpage" in first
    second = logged_in.get(url, {"q": "quillpage", "page": "2"}).content.decode()
    assert second.count("Quillpage") == 2  # 27 alerts, 25 a page
    assert len(_last_audited("safety_alerts")) == 2


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("patients:chart", "patient"),
        ("patients:edit", "patient"),
        ("episodes:detail", "episode"),
        ("programs:enroll", "episode"),
        ("attendance:patient_hours", "patient"),
    ],
)
def test_patient_pages_show_the_risk_level(
    client: Client, clinic: Clinic, name: str, kwargs: str
) -> None:
    from openiop.accounts.domain import Role
    from openiop.testing import make_user

    services.risk_assess(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    client.force_login(make_user(Role.CASE_MANAGER, sites=[clinic.site]))
    key = {
        "patient": ("patient_id", clinic.patient.pk),
        "episode": ("episode_id", clinic.episode.pk),
    }[kwargs]
    body = client.get(reverse(name, kwargs=dict([key]))).content.decode()
    assert 'data-risk="high"' in body


def test_intake_sees_no_risk_badge(client: Client, clinic: Clinic, mfa_passed: None) -> None:
    client.force_login(clinic.intake)
    body = client.get(
        reverse("patients:chart", kwargs={"patient_id": clinic.patient.pk})
    ).content.decode()
    assert "data-risk" not in body


def test_program_view_uses_first_and_latest_not_a_middle_response(
    logged_in: Client, clinic: Clinic
) -> None:
    (ep,) = _add_patients(clinic, 1, start=40)
    # A middle response far below both must not count as the first or the latest.
    Response.objects.create(
        patient=ep.patient,
        episode=ep,
        instrument="phq9",
        instrument_version="1",
        answers=[0] * 9,
        mode="staff",
        total=0,
        band="minimal",
        administered_at=dt.datetime(2026, 1, 12, 16, tzinfo=dt.UTC),
    )
    from openiop.measures.selectors import first_and_latest_responses

    first, latest = first_and_latest_responses([ep.pk], ["phq9", "gad7"])[ep.pk]
    assert (first["phq9"].total, latest["phq9"].total) == (18, 16)
    assert "gad7" not in first
    body = logged_in.get(reverse("measures:program") + "?q=quillfeather40").content.decode()
    assert "Non-responder" in body and "-2" in body
    only = logged_in.get(reverse("measures:program") + "?nonresponders=on").content.decode()
    assert "Quillfeather40" in only
