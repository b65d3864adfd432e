"""A small fictional clinic shared by the cross-app tests (permission matrix, audit coverage)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.episodes.models import Alert, LevelOfCareChange
from openiop.notes.models import NoteSection, ProgressNote
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import (
    make_block,
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_site,
    make_tpo_consent,
    make_track,
    make_user,
)
from openiop.treatment.models import TreatmentPlan


@dataclass
class World:
    users: dict[str, Any]
    other_site_clinician: Any
    patient: Any
    other_site_patient: Any
    ids: dict[str, Any]


@pytest.fixture
def world(db: Any) -> World:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)")
    other = make_site(org, name="Far Away (fictional)")
    room = make_room(site, capacity=12)
    users = {role.value: make_user(role, sites=[site], org=org) for role in Role}
    other_clinician = make_user(Role.CLINICIAN, sites=[other], org=org)
    patient = make_patient(site, legal_first_name="Quintessa", legal_last_name="Moonwhistle")
    contact = patient.contacts.create(
        name="Orsino Moonwhistle", relationship="parent", is_emergency_contact=True
    )
    episode = make_episode(patient, primary_clinician=users["clinician"])
    LevelOfCareChange.objects.create(
        episode=episode, to_level="2.1", effective_date=episode.admission_date, reason="Admission"
    )
    track = make_track(site)
    today = timezone.localdate(timezone=site.tz)  # the clinic's date, as the pages compute it
    block = make_block(track, users["clinician"], room, weekday=today.weekday())
    enrollment = Enrollment.objects.create(
        episode=episode, track=track, start_date=dt.date(2026, 1, 5)
    )
    starts = dt.datetime.combine(today, dt.time(9, 0), tzinfo=site.tz)
    session = GroupSession.objects.create(
        site=site,
        track=track,
        block=block,
        kind="group_therapy",
        title="Process group",
        date=today,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        facilitator=users["clinician"],
        room=room,
    )
    attendance = Attendance.objects.create(
        session=session,
        episode=episode,
        patient=patient,
        status="present",
        minutes_attended=180,
        recorded_by=users["clinician"],
    )
    alert = Alert.objects.create(
        patient=patient,
        episode=episode,
        kind="consecutive_absences",
        message="2 unexcused absences in a row",
        dedupe_key="test",
    )
    # An individual session this week, so the schedule shows (and audits) the patient's name.
    GroupSession.objects.create(
        site=site,
        kind="individual",
        title="Individual therapy",
        date=today,
        episode=episode,
        starts_at=starts + dt.timedelta(hours=4),
        ends_at=starts + dt.timedelta(hours=5),
        facilitator=users["clinician"],
        room=room,
    )
    # Clinical documentation (issue 5): a treatment plan and a signed group note with one section.
    treatment_plan = TreatmentPlan.objects.create(
        episode=episode, patient=patient, number=1, created_by=users["clinician"]
    )
    note = ProgressNote.objects.create(
        kind="group",
        note_format="dap",
        site=site,
        session=session,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        topic="Coping with cravings",
        author=users["clinician"],
        status="signed",
        signed_at=session.ends_at,
    )
    section = NoteSection.objects.create(
        note=note,
        episode=episode,
        patient=patient,
        attendance=attendance,
        body={"participation": "Shared a coping plan.", "plan": "Continue."},
    )
    late = ProgressNote.objects.create(  # a draft two days after its session: on the late list
        kind="individual",
        note_format="soap",
        site=site,
        starts_at=starts - dt.timedelta(days=2),
        ends_at=starts - dt.timedelta(days=2, minutes=-50),
        author=users["clinician"],
    )
    NoteSection.objects.create(note=late, episode=episode, patient=patient)
    from openiop.measures.models import MeasurementSchedule, Response, SafetyAlert, SafetyPlan

    MeasurementSchedule.objects.create(track=track, instrument="gad7", every_days=7)

    phq = Response.objects.create(
        patient=patient,
        episode=episode,
        instrument="phq9",
        instrument_version="1",
        answers=[0, 0, 0, 0, 0, 0, 0, 0, 1],
        mode="staff",
        administered_at=timezone.now(),
        total=1,
        band="minimal",
        flags=["item9_positive"],
    )
    safety_alert = SafetyAlert.objects.create(
        patient=patient,
        episode=episode,
        reason="item9",
        risk_level="unassessed",
        message="PHQ-9 item 9 at 1",
        response=phq,
        owner=users["clinician"],
    )
    plan = SafetyPlan.objects.create(
        patient=patient, episode=episode, number=1, created_by=users["clinician"]
    )
    # The single TPO consent of 42 CFR Part 2 (the consents pages; claims to payers may go).
    consent = make_tpo_consent(patient, users["director"])
    other_patient = make_patient(other, legal_first_name="Xanthe", legal_last_name="Farberry")
    make_episode(other_patient)
    admissions_ids = _admissions_world(org, site, patient, episode, track, users)
    from openiop.billing.tests.remittance_books import world_remittance_ids

    admissions_ids.update(world_remittance_ids(site, patient, episode, track, users["billing"]))
    from openiop.imports.tests.world import world_import_ids

    admissions_ids.update(world_import_ids(site, patient, users["intake"]))
    from openiop.planning.tests.world import world_plan_ids

    admissions_ids.update(world_plan_ids(site, today, users["director"]))
    from openiop.drugtests.tests.world import world_medication_ids

    admissions_ids.update(world_medication_ids(patient, episode, users))
    from openiop.casemgmt.tests.world import world_casemgmt_ids

    admissions_ids.update(world_casemgmt_ids(site, patient, episode, session, users))
    ids = {
        **admissions_ids,
        "patient_id": patient.pk,
        "episode_id": episode.pk,
        "session_id": session.pk,
        "track_id": track.pk,
        "block_id": block.pk,
        "enrollment_id": enrollment.pk,
        "contact_id": contact.pk,
        "alert_id": alert.pk,
        "attendance_id": attendance.pk,
        "site_id": site.pk,
        "room_id": room.pk,
        "treatment_plan_id": treatment_plan.pk,
        "note_id": note.pk,
        "section_id": section.pk,
        "safety_alert_id": safety_alert.pk,
        "plan_id": plan.pk,
        "instrument": "phq9",
        "consent_id": consent.pk,
    }
    return World(
        users=users,
        other_site_clinician=other_clinician,
        patient=patient,
        other_site_patient=other_patient,
        ids=ids,
    )


def _admissions_world(
    org: Any, site: Any, patient: Any, episode: Any, track: Any, users: Any
) -> dict[str, int]:
    """An inquiry about the world's patient with each admissions record its pages show."""
    from decimal import Decimal

    from openiop.admissions.models import (
        AdmissionTask,
        Assessment,
        Inquiry,
        IntakeDocument,
        WaitlistEntry,
    )
    from openiop.billing.models import (
        Authorization,
        CostEstimate,
        Coverage,
        Payer,
        PhysicianCertification,
        Statement,
    )

    inquiry = Inquiry.objects.create(
        organization=org,
        site=site,
        received_at=timezone.now(),
        channel="call",
        referral_source="therapist",
        first_name="Quintessa",
        last_name="Moonwhistle",
        phone="555-010-9999",
        concerns="co_occurring",
        stage="admitted",
        stage_entered_on=timezone.localdate(),
        patient=patient,
        episode=episode,
    )
    assessment = Assessment.objects.create(
        inquiry=inquiry,
        edition="3",
        ratings=[{"dimension": d, "rating": 1, "notes": ""} for d in range(1, 7)],
        recommended_level="1",
        reasons=["r"],
        why_not_lower="l",
        why_not_higher="h",
        assessed_by=users["clinician"],
    )
    task = AdmissionTask.objects.create(inquiry=inquiry, urgent=True, title="Urgent test task")
    payer = Payer.objects.create(organization=org, name="Test Payer", payer_type="commercial")
    coverage = Coverage.objects.create(
        inquiry=inquiry, patient=patient, payer=payer, rank="primary"
    )
    estimate = CostEstimate.objects.create(
        inquiry=inquiry,
        guideline_year=2026,
        household_size=1,
        annual_income=Decimal(1000),
        percent_of_poverty=Decimal(10),
        share_percent=Decimal(10),
        planned_days=10,
        daily_rate=Decimal(100),
        total_amount=Decimal(1000),
        patient_amount=Decimal(100),
        prepared_by=users["billing"],
    )
    document = IntakeDocument.objects.create(
        episode=episode, patient=patient, kind="patient_rights", document_version="2026-01"
    )
    entry = WaitlistEntry.objects.create(
        track=track, episode=episode, joined_at=timezone.now(), status="offered"
    )
    statement = Statement.objects.create(
        patient=patient,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        opening_balance=Decimal(0),
        closing_balance=Decimal(0),
        insurance_balance=Decimal(0),
        amount_due_now=Decimal(0),
        generated_by=users["billing"],
        generated_at=timezone.now(),
    )
    authorization = Authorization.objects.create(
        coverage=coverage,
        reference_number="AUTH-TEST-1",
        unit_kind="days",
        quantity=20,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 3, 31),
        service_codes=["S9480"],
        created_by=users["billing"],
    )
    certification = PhysicianCertification.objects.create(
        episode=episode,
        physician_name="Dr. Testy McCertify (fictional)",
        physician_npi="1234567893",
        signed_on=dt.date(2026, 1, 1),
        start_date=dt.date(2026, 1, 1),
        certified_weekly_minutes=540,
        interval="every_other_month",
        created_by=users["billing"],
    )
    claim_ids = _claims_world(site, patient, episode, track, coverage, users)
    return {
        **claim_ids,
        "authorization_id": authorization.pk,
        "certification_id": certification.pk,
        "inquiry_id": inquiry.pk,
        "assessment_id": assessment.pk,
        "task_id": task.pk,
        "coverage_id": coverage.pk,
        "estimate_id": estimate.pk,
        "document_id": document.pk,
        "entry_id": entry.pk,
        "statement_id": statement.pk,
    }


def _claims_world(
    site: Any, patient: Any, episode: Any, track: Any, coverage: Any, users: Any
) -> dict[str, int]:
    """A draft claim of the world's patient and an 837 file that carries it."""
    from decimal import Decimal

    from openiop.billing.models import Charge, Claim, ClaimExport, ClaimLine

    day = dt.date(2026, 1, 6)
    charge = Charge.objects.create(
        patient=patient,
        site=site,
        episode=episode,
        track=track,
        payer=coverage.payer,
        coverage=coverage,
        service_date=day,
        code="H0015",
        revenue_code="0906",
        units=1,
        rate=Decimal("250.00"),
        amount=Decimal("250.00"),
        claim_form="837I",
        status="on_claim",
        posted_by=users["billing"],
    )
    claim = Claim.objects.create(
        key="world",
        patient=patient,
        site=site,
        coverage=coverage,
        payer=coverage.payer,
        episode=episode,
        track=track,
        claim_form="837I",
        frequency="1",
        bill_type="131",
        facility_code="13",
        patient_status="01",
        period_start=day,
        period_end=day,
        statement_from=day,
        statement_to=day,
        patient_control_number="WORLDPCN1",
        total=Decimal("250.00"),
        created_by=users["billing"],
    )
    ClaimLine.objects.create(
        claim=claim,
        charge=charge,
        number=1,
        service_date=day,
        code="H0015",
        revenue_code="0906",
        units=1,
        amount=Decimal("250.00"),
        line_control_number="WORLDPCN1-1",
    )
    export = ClaimExport.objects.create(
        site=site,
        payer=coverage.payer,
        claim_form="837I",
        interchange_control_number=1,
        group_control_number=1,
        transaction_set_control_number=1,
        file_name="837I-world.x12",
        sha256="0" * 64,
        content="ISA*00~",
        created_by=users["billing"],
        created_at=timezone.now(),
    )
    export.claims.set([claim])
    return {"claim_id": claim.pk, "export_id": export.pk}
