"""Admissions services: every write, its rule, its permission and its audit entry."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from openiop.admissions import selectors, services
from openiop.admissions.models import AdmissionTask, IntakeDocument, StageChange, WaitlistEntry
from openiop.admissions.tests.conftest import FITS, HIGH_RISK, IOP_RATINGS, NO_RISK
from openiop.audit.models import AuditEntry
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_discharge
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment
from openiop.testing import make_episode, make_patient

if TYPE_CHECKING:
    from openiop.admissions.models import WaitlistEntry
    from openiop.admissions.services import AdmissionResult
    from openiop.admissions.tests.conftest import Clinic
    from openiop.programs.models import Enrollment

pytestmark = pytest.mark.django_db(transaction=True)


# --- inquiries -----------------------------------------------------------------------------------
def test_inquiry_create_records_stage_and_audit(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    assert inquiry.stage == "inquiry"
    assert inquiry.stage_entered_on == timezone.localdate()
    assert StageChange.objects.filter(inquiry=inquiry, to_stage="inquiry").count() == 1
    entry = AuditEntry.objects.get(object_type="inquiry", action="create")
    assert entry.object_id == str(inquiry.pk)
    assert entry.client_addr == "198.51.100.7"


def test_inquiry_needs_a_way_to_call_back(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as exc:
        clinic.inquiry(phone="", email="")
    assert exc.value.field == "phone"


@pytest.mark.parametrize(
    ("field", "value"),
    [("channel", "pigeon"), ("referral_source", "oracle"), ("first_name", "x" * 101)],
)
def test_inquiry_refuses_invalid_fields(clinic: Clinic, field: str, value: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        clinic.inquiry(**{field: value})
    assert exc.value.field == field


def test_inquiry_at_another_site_is_refused_and_audited(clinic: Clinic) -> None:
    with pytest.raises(NotPermitted):
        services.inquiry_create(
            site=clinic.site,
            by=clinic.actor("other_intake"),
            channel="call",
            referral_source="self",
            first_name="A",
            last_name="B",
            phone="5550100000",
            concerns="mental_health",
        )
    assert AuditEntry.objects.filter(outcome="denied").exists()


@pytest.mark.parametrize("role", ["clinician", "billing", "auditor", "admin"])
def test_roles_that_may_not_record_inquiries(clinic: Clinic, role: str) -> None:
    with pytest.raises(NotPermitted):
        services.inquiry_create(
            site=clinic.site,
            by=clinic.actor(role),
            channel="call",
            referral_source="self",
            first_name="A",
            last_name="B",
            phone="5550100000",
            concerns="mental_health",
        )


def test_follow_up_update_is_versioned(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    stale = inquiry.version
    services.inquiry_update(
        inquiry=inquiry,
        expected_version=stale,
        by=clinic.actor("intake"),
        owner=clinic.users["intake"],
        next_action="Call back",
        next_action_date=dt.date(2026, 3, 1),
    )
    with pytest.raises(Conflict):
        services.inquiry_update(
            inquiry=inquiry, expected_version=stale, by=clinic.actor("intake"), next_action="x"
        )


def test_only_staff_who_work_inquiries_at_its_site_may_own_one(clinic: Clinic) -> None:
    """Owners follow the inquiry up (Cap.ADMISSIONS_MANAGE) where it is: intake and case
    managers at its site, the director everywhere; the owner list offers exactly them."""
    from openiop.testing import make_user

    inquiry = clinic.inquiry()
    retired = make_user("intake", sites=[clinic.site], org=clinic.org, is_active=False)
    owners = set(services.inquiry_owner_choices(inquiry))
    assert owners == {clinic.users[r] for r in ("intake", "case_manager", "director")}
    for user in (
        clinic.users["clinician"],
        clinic.users["billing"],
        clinic.users["other_intake"],  # works at another site
        retired,
    ):
        with pytest.raises(RuleViolation) as exc:
            services.inquiry_update(
                inquiry=inquiry,
                expected_version=inquiry.version,
                by=clinic.actor("intake"),
                owner=user,
            )
        assert exc.value.field == "owner"
    inquiry.refresh_from_db()
    assert inquiry.owner is None


def test_public_submission_is_a_web_form_inquiry(clinic: Clinic) -> None:
    from openiop.core.actor import Actor

    inquiry = services.inquiry_submit_public(
        site=clinic.site,
        by=Actor(user=None, client_addr="203.0.113.9"),
        for_whom="someone_else",
        first_name="Tamsin",
        last_name="Quarrelwood",
        phone="555 010 2222",
        concerns="substance_use",
        age_group="adolescent",
    )
    assert inquiry.channel == "web_form"
    assert inquiry.referral_source == "family"
    assert AuditEntry.objects.filter(object_type="inquiry", client_addr="203.0.113.9").exists()


# --- duplicates ----------------------------------------------------------------------------------
def test_likely_duplicates_by_name_and_dob_or_phone_and_link(clinic: Clinic) -> None:
    same = make_patient(
        clinic.site,
        legal_first_name="Wren",
        legal_last_name="Pemberbottom",
        date_of_birth=dt.date(1991, 4, 2),
    )
    phone = make_patient(clinic.site, legal_first_name="Other", phone="(555) 010-7788")
    make_patient(clinic.site, legal_first_name="Wren", legal_last_name="Pemberbottom")  # other DOB
    make_patient(
        clinic.other_site,
        legal_first_name="Wren",
        legal_last_name="Pemberbottom",
        date_of_birth=dt.date(1991, 4, 2),
    )  # not one of intake's sites
    inquiry = clinic.inquiry()
    found = selectors.likely_duplicates(actor=clinic.actor("intake"), inquiry=inquiry)
    assert {d.patient.pk: d.reasons for d in found} == {
        same.pk: ["same name and date of birth"],
        phone.pk: ["same phone number"],
    }
    services.inquiry_link_patient(inquiry=inquiry, patient=same, by=clinic.actor("intake"))
    inquiry.refresh_from_db()
    assert inquiry.patient_id == same.pk


# --- pipeline moves ------------------------------------------------------------------------------
def test_close_needs_a_note_and_reopen_works(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    with pytest.raises(RuleViolation):
        services.inquiry_move(
            inquiry=inquiry, to_stage="declined", note="", by=clinic.actor("intake")
        )
    services.inquiry_move(
        inquiry=inquiry, to_stage="referred_elsewhere", note="Needs PHP", by=clinic.actor("intake")
    )
    assert inquiry.stage == "referred_elsewhere"
    with pytest.raises(RuleViolation):
        services.inquiry_move(
            inquiry=inquiry, to_stage="assessed", note="", by=clinic.actor("intake")
        )
    services.inquiry_move(inquiry=inquiry, to_stage="inquiry", note="", by=clinic.actor("intake"))
    assert inquiry.stage == "inquiry"


def test_admitted_cannot_be_moved_by_hand(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    with pytest.raises(RuleViolation):
        services.inquiry_move(
            inquiry=inquiry, to_stage="admitted", note="", by=clinic.actor("intake")
        )


# --- pre-screen ----------------------------------------------------------------------------------
def test_prescreen_moves_to_prescreen_stage(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    screen = services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor("clinician")
    )
    assert screen.outcome == "fits"
    assert screen.cssrs_tier == "none"
    assert inquiry.stage == "prescreen"
    assert not AdmissionTask.objects.exists()


def test_high_risk_creates_urgent_task_and_blocks_the_flow_until_done(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    screen = services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("clinician")
    )
    assert screen.outcome == "higher_level_now"
    assert screen.cssrs_tier == "high"
    task = AdmissionTask.objects.get(inquiry=inquiry)
    assert task.urgent and task.status == "open"
    inquiry.refresh_from_db()
    assert inquiry.high_risk
    with pytest.raises(RuleViolation) as exc:
        services.assessment_schedule(
            inquiry=inquiry, on=timezone.localdate(), by=clinic.actor("clinician")
        )
    assert exc.value.code == "urgent_task_open"
    with pytest.raises(RuleViolation):
        services.assessment_save(
            inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=clinic.actor("clinician")
        )
    with pytest.raises(RuleViolation):
        services.task_complete(task=task, outcome="  ", by=clinic.actor("clinician"))
    with pytest.raises(NotPermitted):
        services.task_complete(task=task, outcome="done", by=clinic.actor("intake"))
    services.task_complete(
        task=task, outcome="Same-day evaluation; safe to continue", by=clinic.actor("clinician")
    )
    services.assessment_schedule(
        inquiry=inquiry, on=timezone.localdate(), by=clinic.actor("clinician")
    )
    assert inquiry.stage == "assessment_scheduled"


def test_prescreen_uses_cssrs_rules_and_refuses_invalid_answers(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    with pytest.raises(RuleViolation) as exc:
        services.prescreen_record(
            inquiry=inquiry,
            answers=FITS,
            cssrs_answers=[0, 0, 1, 0, 0, 0, 0],  # Q3 without Q2
            by=clinic.actor("clinician"),
        )
    assert exc.value.field == "cssrs_3"


def test_intake_runs_the_prescreen_and_the_cssrs_screener(clinic: Clinic) -> None:
    """The front desk takes the first call; the screener's screen version is for non-clinicians."""
    inquiry = clinic.inquiry()
    screen = services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor("intake")
    )
    assert screen.outcome == "fits" and screen.screened_by == clinic.users["intake"]
    assert inquiry.stage == "prescreen"


@pytest.mark.parametrize("role", ["billing", "admin", "auditor"])
def test_roles_off_the_phone_may_not_prescreen(clinic: Clinic, role: str) -> None:
    with pytest.raises(NotPermitted):
        services.prescreen_record(
            inquiry=clinic.inquiry(), answers=FITS, cssrs_answers=NO_RISK, by=clinic.actor(role)
        )


def test_intake_may_not_do_the_level_of_care_assessment(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    with pytest.raises(NotPermitted):
        services.assessment_save(
            inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=clinic.actor("intake")
        )
    assert not inquiry.assessments.exists()


@pytest.mark.parametrize(
    ("owner", "assignee"),
    [("intake", None), ("case_manager", "case_manager"), (None, None)],
)
def test_the_urgent_task_intake_raises_goes_to_someone_who_may_close_it(
    clinic: Clinic, owner: str | None, assignee: str | None
) -> None:
    """A high C-SSRS makes a clinician-owned task: never assigned to the front desk, who cannot
    close it; the owner when they may, else any clinician picks it up."""
    inquiry = clinic.inquiry()
    if owner:
        services.inquiry_update(
            inquiry=inquiry,
            expected_version=inquiry.version,
            by=clinic.actor("intake"),
            owner=clinic.users[owner],
        )
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("intake")
    )
    task = AdmissionTask.objects.get(inquiry=inquiry, urgent=True)
    assert task.assigned_to == (clinic.users[assignee] if assignee else None)


def test_the_urgent_task_a_clinician_raises_on_an_intake_inquiry_is_theirs(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("clinician")
    )
    task = AdmissionTask.objects.get(inquiry=inquiry, urgent=True)
    assert task.assigned_to == clinic.users["clinician"]


# --- assessment ----------------------------------------------------------------------------------
def test_assessment_recommends_by_most_intensive_and_accept_moves_to_assessed(
    clinic: Clinic,
) -> None:
    inquiry = clinic.inquiry()
    a = services.assessment_save(
        inquiry=inquiry, edition="4", ratings=IOP_RATINGS, by=clinic.actor("clinician")
    )
    assert a.recommended_level == "2.1"
    assert a.why_not_lower and a.why_not_higher and a.reasons
    services.assessment_decide(
        assessment=a, chosen_level="2.1", expected_version=a.version, by=clinic.actor("clinician")
    )
    inquiry.refresh_from_db()
    assert inquiry.stage == "assessed"
    assert not a.is_override


def test_override_needs_justification_and_decided_is_fixed(clinic: Clinic) -> None:
    inquiry = clinic.inquiry()
    a = services.assessment_save(
        inquiry=inquiry, edition="3", ratings=IOP_RATINGS, by=clinic.actor("clinician")
    )
    with pytest.raises(RuleViolation) as exc:
        services.assessment_decide(
            assessment=a,
            chosen_level="2.5",
            expected_version=a.version,
            by=clinic.actor("clinician"),
        )
    assert exc.value.field == "justification"
    services.assessment_decide(
        assessment=a,
        chosen_level="2.5",
        justification="Unsafe evenings at home; PHP hours",
        expected_version=a.version,
        by=clinic.actor("clinician"),
    )
    assert a.is_override
    with pytest.raises(RuleViolation):
        services.assessment_save(
            inquiry=inquiry,
            edition="3",
            ratings=IOP_RATINGS,
            assessment=a,
            expected_version=a.version,
            by=clinic.actor("clinician"),
        )
    with pytest.raises(RuleViolation):
        services.assessment_decide(
            assessment=a,
            chosen_level="2.1",
            expected_version=a.version,
            by=clinic.actor("clinician"),
        )


def test_assessment_refuses_missing_dimension(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.assessment_save(
            inquiry=clinic.inquiry(),
            edition="3",
            ratings=IOP_RATINGS[:5],
            by=clinic.actor("clinician"),
        )
    assert "Missing" in exc.value.message


# --- admission -----------------------------------------------------------------------------------
def test_admission_creates_patient_episode_enrollment_and_packet(clinic: Clinic) -> None:
    inquiry = clinic.assessed()
    result = services.admission_admit(
        inquiry=inquiry, track=clinic.track, sex="female", by=clinic.actor("intake")
    )
    patient = result.patient
    assert patient.legal_first_name == "Wren" and patient.date_of_birth == dt.date(1991, 4, 2)
    assert patient.mrn.startswith("LH")
    episode = result.episode
    assert episode.level_of_care == "2.1"
    assert episode.part2_protected  # co-occurring focus
    assert episode.referral_source == "therapist"
    assert result.start_date == clinic.session.date
    assert result.enrollment is not None
    assert result.enrollment.start_date == clinic.session.date
    assert episode.admission_date == clinic.session.date
    assert {d.kind for d in result.documents} == {
        "consent_to_treatment",
        "part2_consent",
        "release_of_information",
        "financial_agreement",
        "patient_rights",
        "privacy_notice",
    }
    inquiry.refresh_from_db()
    assert inquiry.stage == "admitted" and inquiry.episode_id == episode.pk
    from openiop.attendance.selectors import roster_episode_ids

    assert episode.pk in roster_episode_ids(clinic.session)
    assert AuditEntry.objects.filter(object_type="admission", patient_id=patient.pk).exists()


def test_only_assessed_inquiries_are_admitted(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.admission_admit(
            inquiry=clinic.inquiry(), track=clinic.track, by=clinic.actor("intake")
        )
    assert exc.value.code == "not_assessed"


def test_admission_is_all_or_nothing(clinic: Clinic) -> None:
    inquiry = clinic.assessed(date_of_birth=None)
    with pytest.raises(RuleViolation):
        services.admission_admit(inquiry=inquiry, track=clinic.track, by=clinic.actor("intake"))
    assert not Patient.objects.exists() and not Episode.objects.exists()


def test_clinician_may_not_admit(clinic: Clinic) -> None:
    with pytest.raises(NotPermitted):
        services.admission_admit(
            inquiry=clinic.assessed(), track=clinic.track, by=clinic.actor("clinician")
        )


def test_full_track_waitlists_with_position_then_offers_when_a_seat_frees(clinic: Clinic) -> None:
    for _n in range(2):  # capacity 2
        p = make_patient(clinic.site)
        e = make_episode(p, admission_date=timezone.localdate())
        Enrollment.objects.create(episode=e, track=clinic.track, start_date=timezone.localdate())
    first = services.admission_admit(
        inquiry=clinic.assessed(first_name="Ash", phone="5550101111"),
        track=clinic.track,
        by=clinic.actor("intake"),
    )
    second = services.admission_admit(
        inquiry=clinic.assessed(first_name="Birch", phone="5550102222"),
        track=clinic.track,
        by=clinic.actor("intake"),
    )
    assert first.enrollment is None and first.episode.status == "waitlisted"
    _, rows = selectors.track_waitlist(actor=clinic.actor("intake"), track_id=clinic.track.pk)
    assert [(r.entry.episode_id, r.position) for r in rows] == [
        (first.episode.pk, 1),
        (second.episode.pk, 2),
    ]
    leaving = Episode.objects.filter(status="active").first()
    assert leaving is not None
    episode_discharge(
        episode=leaving,
        discharge_date=timezone.localdate(),
        reason="completed",
        expected_version=leaving.version,
        by=clinic.actor("director"),
    )
    offered = WaitlistEntry.objects.get(episode=first.episode)
    assert offered.status == "offered"
    assert offered.offered_start_date == clinic.session.date
    assert WaitlistEntry.objects.get(episode=second.episode).status == "waiting"
    enrollment = services.waitlist_accept(entry=offered, by=clinic.actor("intake"))
    assert enrollment.start_date == clinic.session.date
    first.episode.refresh_from_db()
    assert first.episode.status == "active"
    with pytest.raises(RuleViolation):
        services.waitlist_accept(
            entry=WaitlistEntry.objects.get(episode=second.episode), by=clinic.actor("intake")
        )


def _full_track_with_one_waiting(clinic: Clinic) -> tuple[list[Enrollment], WaitlistEntry]:
    """The track full (capacity 2) and one admission on its waitlist; returns the two enrollments
    and the waiting entry."""
    enrollments = []
    for _n in range(2):
        episode = make_episode(make_patient(clinic.site), admission_date=timezone.localdate())
        enrollments.append(
            Enrollment.objects.create(
                episode=episode, track=clinic.track, start_date=timezone.localdate()
            )
        )
    waiting = services.admission_admit(
        inquiry=clinic.assessed(first_name="Ash", phone="5550101111"),
        track=clinic.track,
        by=clinic.actor("intake"),
    )
    entry = WaitlistEntry.objects.get(episode=waiting.episode)
    assert entry.status == "waiting"
    return enrollments, entry


def test_ending_an_enrollment_offers_its_seat_to_the_waitlist_as_the_system(clinic: Clinic) -> None:
    from openiop.programs.services import enrollment_end

    enrollments, entry = _full_track_with_one_waiting(clinic)
    enrollment_end(
        enrollment=enrollments[0],
        end_date=timezone.localdate(),
        reason="Moved away",
        by=clinic.actor("intake"),
    )
    entry.refresh_from_db()
    assert entry.status == "offered" and entry.offered_start_date == clinic.session.date
    offer = AuditEntry.objects.get(object_type="waitlist", object_id=str(entry.pk))
    assert offer.user_id is None and offer.path == f"waitlist: enrollment {enrollments[0].pk} ended"


def test_nothing_but_ending_an_enrollment_through_its_service_offers_a_seat(clinic: Clinic) -> None:
    """No signal: a row changed behind the services' back offers nothing (and is not a way in)."""
    enrollments, entry = _full_track_with_one_waiting(clinic)
    ended = enrollments[0]
    ended.end_date = timezone.localdate()
    ended.end_reason = "Typed in by hand"
    ended.save()
    entry.refresh_from_db()
    assert entry.status == "waiting"


def test_readmission_opens_a_new_episode_on_the_same_patient(clinic: Clinic) -> None:
    patient = make_patient(
        clinic.site,
        legal_first_name="Wren",
        legal_last_name="Pemberbottom",
        date_of_birth=dt.date(1991, 4, 2),
    )
    make_episode(
        patient,
        status="discharged",
        admission_date=dt.date(2025, 1, 6),
        discharge_date=dt.date(2025, 3, 1),
        discharge_reason="completed",
    )
    inquiry = clinic.assessed()
    services.inquiry_link_patient(inquiry=inquiry, patient=patient, by=clinic.actor("intake"))
    result = services.admission_admit(
        inquiry=inquiry, track=clinic.track, by=clinic.actor("intake")
    )
    assert result.patient.pk == patient.pk
    assert Patient.objects.count() == 1
    assert patient.episodes.count() == 2


def test_readmission_refused_while_an_episode_is_open(clinic: Clinic) -> None:
    patient = make_patient(clinic.site)
    make_episode(patient)
    inquiry = clinic.assessed()
    services.inquiry_link_patient(inquiry=inquiry, patient=patient, by=clinic.actor("intake"))
    with pytest.raises(RuleViolation) as exc:
        services.admission_admit(inquiry=inquiry, track=clinic.track, by=clinic.actor("intake"))
    assert exc.value.code == "open_episode_exists"


def test_no_upcoming_session_is_refused(clinic: Clinic) -> None:
    clinic.session.delete()
    with pytest.raises(RuleViolation) as exc:
        services.admission_admit(
            inquiry=clinic.assessed(), track=clinic.track, by=clinic.actor("intake")
        )
    assert exc.value.code == "no_sessions"


# --- packet --------------------------------------------------------------------------------------
def _admitted(clinic: Clinic) -> AdmissionResult:
    return services.admission_admit(
        inquiry=clinic.assessed(), track=clinic.track, by=clinic.actor("intake")
    )


PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def test_sign_keeps_name_time_address_version_and_text_then_never_changes(clinic: Clinic) -> None:
    result = _admitted(clinic)
    doc = next(d for d in result.documents if d.kind == "consent_to_treatment")
    services.document_sign(
        document=doc,
        signed_name=" Wren  Pemberbottom ",
        signature_png=PNG,
        expected_version=doc.version,
        by=clinic.actor("intake"),
    )
    doc.refresh_from_db()
    assert doc.signed_name == "Wren Pemberbottom"
    assert doc.signed_at is not None
    assert doc.signed_client_addr == "198.51.100.7"
    assert doc.document_version == "2026-01"
    assert doc.signature_png == PNG
    assert any("Wren Pemberbottom" in p for p in doc.text)
    with pytest.raises(RuleViolation):
        services.document_sign(
            document=doc,
            signed_name="Someone",
            expected_version=doc.version,
            by=clinic.actor("intake"),
        )


def test_release_needs_details_before_signing(clinic: Clinic) -> None:
    result = _admitted(clinic)
    doc = next(d for d in result.documents if d.kind == "release_of_information")
    with pytest.raises(RuleViolation) as exc:
        services.document_sign(
            document=doc,
            signed_name="Wren",
            expected_version=doc.version,
            by=clinic.actor("intake"),
        )
    assert exc.value.code == "details"
    services.document_fill(
        document=doc,
        details={
            "recipients": "Dr Fictional",
            "information": "attendance",
            "purpose": "coordination",
            "expiration": "2027-01-01",
        },
        expected_version=doc.version,
        by=clinic.actor("intake"),
    )
    services.document_sign(
        document=doc, signed_name="Wren", expected_version=doc.version, by=clinic.actor("intake")
    )
    with pytest.raises(RuleViolation):
        services.document_fill(
            document=doc,
            details={"recipients": "x"},
            expected_version=doc.version,
            by=clinic.actor("intake"),
        )


def test_part2_consent_comes_filled_for_tpo(clinic: Clinic) -> None:
    result = _admitted(clinic)
    doc = next(d for d in result.documents if d.kind == "part2_consent")
    services.document_sign(
        document=doc,
        signed_name="Wren Pemberbottom",
        expected_version=doc.version,
        by=clinic.actor("intake"),
    )
    doc.refresh_from_db()
    assert any("revoke" in p for p in doc.text)


@pytest.mark.parametrize(
    "bad",
    ["javascript:alert(1)", "data:image/svg+xml;base64,AAAA", "data:image/png;base64,<script>"],
)
def test_invalid_drawn_signature_is_refused(clinic: Clinic, bad: str) -> None:
    doc = _admitted(clinic).documents[0]
    with pytest.raises(RuleViolation) as exc:
        services.document_sign(
            document=doc,
            signed_name="Wren",
            signature_png=bad,
            expected_version=doc.version,
            by=clinic.actor("intake"),
        )
    assert exc.value.field == "signature_png"


def test_more_releases_can_be_added(clinic: Clinic) -> None:
    result = _admitted(clinic)
    services.release_add(episode=result.episode, by=clinic.actor("intake"))
    assert (
        IntakeDocument.objects.filter(episode=result.episode, kind="release_of_information").count()
        == 2
    )


def test_admission_refused_while_an_urgent_task_is_open(clinic: Clinic) -> None:
    inquiry = clinic.assessed()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("clinician")
    )
    with pytest.raises(RuleViolation) as exc:
        services.admission_admit(inquiry=inquiry, track=clinic.track, by=clinic.actor("intake"))
    assert exc.value.code == "urgent_task_open"
    assert not Episode.objects.exists()


def test_waitlist_offer_needs_a_free_seat_and_the_manage_capability(clinic: Clinic) -> None:
    for _ in range(2):
        e = make_episode(make_patient(clinic.site), admission_date=timezone.localdate())
        Enrollment.objects.create(episode=e, track=clinic.track, start_date=timezone.localdate())
    result = services.admission_admit(
        inquiry=clinic.assessed(), track=clinic.track, by=clinic.actor("intake")
    )
    assert services.waitlist_offer_seats(track=clinic.track, by=clinic.actor("intake")) == []
    with pytest.raises(NotPermitted):
        services.waitlist_offer_seats(track=clinic.track, by=clinic.actor("clinician"))
    clinic.track.capacity = 3
    clinic.track.save()
    offers = services.waitlist_offer_seats(track=clinic.track, by=clinic.actor("intake"))
    assert [o.episode_id for o in offers] == [result.episode.pk]


def test_admission_at_another_level_than_the_clinician_decided_is_refused(clinic: Clinic) -> None:
    """The level is decided on the assessment (an override there needs a justification); the
    admission cannot change it silently."""
    inquiry = clinic.assessed()  # decided Level 2.1
    with pytest.raises(RuleViolation) as exc:
        services.admission_admit(
            inquiry=inquiry, track=clinic.track, level_of_care="2.5", by=clinic.actor("intake")
        )
    assert exc.value.field == "level_of_care" and "2.1" in exc.value.message
    assert not Patient.objects.filter(legal_last_name="Pemberbottom").exists()
    result = services.admission_admit(
        inquiry=inquiry, track=clinic.track, level_of_care="2.1", by=clinic.actor("intake")
    )
    assert result.episode.level_of_care == "2.1"


def test_conversion_counts_an_inquiry_in_the_clinic_s_local_month(clinic: Clinic) -> None:
    """An evening call on Oct 31 in Chicago is 01:00 UTC on Nov 1: it belongs to October."""
    from zoneinfo import ZoneInfo

    from openiop.testing import make_site

    chicago = make_site(clinic.org, name="Lakeside (fictional)", timezone="America/Chicago")
    director = clinic.actor("director")
    services.inquiry_create(
        site=chicago,
        by=director,
        received_at=dt.datetime(2026, 10, 31, 20, 0, tzinfo=ZoneInfo("America/Chicago")),
        channel="call",
        referral_source="court",
        first_name="Hallow",
        last_name="Eveningstar",
        phone="555-010-3131",
        concerns="mental_health",
        age_group="adult",
        urgency="soon",
    )
    rows = selectors.conversion_report(
        actor=director, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)
    )
    assert [(r.month, r.referral_source, r.inquiries) for r in rows] == [("2026-10", "court", 1)]


@pytest.mark.parametrize("closing", ["lost_to_follow_up", "declined", "referred_elsewhere"])
def test_a_high_risk_inquiry_is_not_closed_while_its_urgent_task_is_open(
    clinic: Clinic, closing: str
) -> None:
    """Closing by hand must not end the contact silently: a clinician records what was done
    about the urgent task (e.g. 'sent to the emergency department') first."""
    inquiry = clinic.inquiry()
    services.prescreen_record(
        inquiry=inquiry, answers=FITS, cssrs_answers=HIGH_RISK, by=clinic.actor("clinician")
    )
    with pytest.raises(RuleViolation) as exc:
        services.inquiry_move(
            inquiry=inquiry, to_stage=closing, note="No answer", by=clinic.actor("intake")
        )
    assert exc.value.code == "urgent_task_open"
    inquiry.refresh_from_db()
    assert inquiry.stage == "prescreen"
    services.task_complete(
        task=inquiry.tasks.get(),
        outcome="Sent to the emergency department by ambulance",
        by=clinic.actor("clinician"),
    )
    services.inquiry_move(
        inquiry=inquiry, to_stage=closing, note="Emergency department", by=clinic.actor("intake")
    )
    inquiry.refresh_from_db()
    assert inquiry.stage == closing
