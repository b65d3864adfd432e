"""A small fictional clinic for the FHIR API: two organizations, a Part 2 (substance-use) episode
and a mental-health one, a record of each kind the server serves, and tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.attendance.models import Attendance
from openiop.billing.models import Claim, ClaimLine, Coverage, Payer
from openiop.consents.models import Consent
from openiop.drugtests.models import DrugTestOrder, DrugTestResult
from openiop.episodes.choices import TreatmentFocus
from openiop.episodes.models import Episode
from openiop.fhir.models import FhirClient
from openiop.measures.models import Response
from openiop.medications.models import Allergy, DoseAdministration, MatEpisode, Medication
from openiop.patients.models import Patient
from openiop.programs.models import Organization, Site
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_session,
    make_site,
    make_track,
    make_user,
)
from openiop.treatment.models import PlanGoal, PlanProblem, TreatmentPlan


@dataclass
class World:
    org: Organization
    other_org: Organization
    site: Site
    other_site: Site
    director: User
    clinician: User
    other_clinician: User  # works at other_site only
    network_user: User  # no organization: sees every site (a network-wide service account)
    sud_patient: Patient
    mh_patient: Patient
    sud_episode: Episode
    mh_episode: Episode
    records: dict[str, list[int]]  # resource type -> ids served for the SUD and MH patients


def client_for(
    user: User,
    scopes: str = "system/*.read system/*.write",
    *,
    purpose: str = "treatment",
    outside_organization: str = "",
    name: str = "test client",
) -> tuple[str, str]:
    """A registered client that acts for `user` with `scopes` and its purpose of use (and the
    outside organization it serves, if any): its bearer token and its client id."""
    app = Application.objects.create(
        user=user,
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    FhirClient.objects.create(
        application=app,
        scopes=scopes,
        purpose=purpose,
        outside_organization=outside_organization,
        created_at=timezone.now(),
    )
    token = secrets.token_urlsafe(24)
    AccessToken.objects.create(
        application=app,
        token=token,
        scope=scopes,
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    return token, app.client_id


def token_for(user: User, scopes: str = "system/*.read system/*.write") -> str:
    """A bearer token of a registered client that acts for `user` with `scopes`."""
    return client_for(user, scopes)[0]


def client_credentials_token(client: Client, new: Any, scope: str = "") -> str:
    """The access token the token endpoint issues to the registered client `new` (a NewClient)
    for a client-credentials request with HTTP Basic (`scope` empty: its registered scopes)."""
    basic = base64.b64encode(f"{new.client_id}:{new.client_secret}".encode()).decode()
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    issued = client.post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert issued.status_code == 200, issued.content
    return str(issued.json()["access_token"])


def fhir_get(client: Client, path: str, token: str, **params: Any) -> Any:
    return client.get(f"/fhir/R4/{path}", params, HTTP_AUTHORIZATION=f"Bearer {token}")


def fhir_put(
    client: Client, path: str, body: dict[str, Any], token: str, etag: str | None = None
) -> Any:
    """PUT `body` as FHIR JSON to `path` with the bearer token and, when given, `etag` as
    If-Match (the version the client read): the response."""
    headers = {"authorization": f"Bearer {token}"}
    if etag is not None:
        headers["if-match"] = etag
    return client.put(
        f"/fhir/R4/{path}", json.dumps(body), content_type="application/fhir+json", headers=headers
    )


def appointment_next_week(world: World, episode: Episode | None = None) -> Any:
    """A 50-minute individual session a week from today at 10:00 at the world's site, for
    `episode` (the mental-health episode unless named): an Appointment a client may cancel."""
    from openiop.core import clock

    return make_session(
        world.site,
        world.clinician,
        clock.now().date() + dt.timedelta(days=7),
        kind="individual",
        title="Individual therapy",
        episode=episode or world.mh_episode,
        at=dt.time(10, 0),
        minutes=50,
    )


def _records_for(patient: Patient, episode: Episode, staff: User, track: Any) -> dict[str, int]:
    day = dt.date(2026, 1, 6)
    group = make_session(patient.site, staff, day, track=track)
    att = Attendance.objects.create(
        session=group,
        episode=episode,
        patient=patient,
        status="present",
        minutes_attended=180,
        recorded_by=staff,
    )
    appt = make_session(
        patient.site,
        staff,
        day,
        kind="individual",
        title="Individual therapy",
        episode=episode,
        at=dt.time(14, 0),
        minutes=50,
    )
    plan = TreatmentPlan.objects.create(
        episode=episode, patient=patient, number=1, created_by=staff, status="signed"
    )
    problem = PlanProblem.objects.create(
        plan=plan, description="Low mood", icd10_code="F33.1", patient_words="I feel stuck"
    )
    goal = PlanGoal.objects.create(problem=problem, text="Return to work part time")
    resp = Response.objects.create(
        patient=patient,
        episode=episode,
        instrument="phq9",
        instrument_version="1",
        answers=[1, 1, 1, 1, 1, 1, 1, 1, 0],
        mode="staff",
        administered_at=timezone.now() - dt.timedelta(days=1),
        total=8,
        band="mild",
    )
    payer = Payer.objects.get_or_create(
        organization=patient.organization,
        name="Fictional Mutual",
        defaults={"payer_type": "commercial"},
    )[0]
    from openiop.admissions.models import Inquiry

    inquiry = Inquiry.objects.create(**_inquiry_fields(patient))
    cov = Coverage.objects.create(
        inquiry=inquiry, patient=patient, payer=payer, rank="primary", member_id="ZZ123"
    )
    claim = Claim.objects.create(
        key=f"k{patient.pk}",
        patient=patient,
        site=patient.site,
        coverage=cov,
        payer=payer,
        episode=episode,
        track=track,
        claim_form="837P",
        frequency="1",
        diagnoses=["F33.1"],
        period_start=day,
        period_end=day,
        statement_from=day,
        statement_to=day,
        patient_control_number=f"PCN{patient.pk}",
        total="250.00",
        created_by=staff,
    )
    from openiop.billing.models import Charge

    charge = _charge(claim, staff)
    ClaimLine.objects.create(
        claim=claim,
        charge=charge,
        number=1,
        service_date=day,
        code="S9480",
        units=1,
        amount="250.00",
        line_control_number="L1",
    )
    # A consent that covers no API client: a relative, at the patient's request.
    consent = Consent.objects.create(
        patient=patient,
        discloser=patient.organization.name,
        information="Attendance dates",
        recipient_kind="person",
        recipient_name="Orsino Testrelative (fictional)",
        purpose="patient_request",
        effective_on=day,
        expires_on=dt.date(2099, 1, 1),
        signed_by_name=f"{patient.legal_first_name} {patient.legal_last_name}",
        signed_at=timezone.now(),
        source="paper",
        recorded_by=staff,
    )
    meds = _medication_records(patient, episode, staff)
    return {
        **meds,
        "Consent": consent.pk,
        "Patient": patient.pk,
        "EpisodeOfCare": episode.pk,
        "Encounter": att.pk,
        "Appointment": appt.pk,
        "CarePlan": plan.pk,
        "Condition": problem.pk,
        "Goal": goal.pk,
        "Observation": resp.pk,
        "QuestionnaireResponse": resp.pk,
        "Coverage": cov.pk,
        "Claim": claim.pk,
    }
    del Charge


def _medication_records(patient: Patient, episode: Episode, staff: User) -> dict[str, int]:
    """A medication (RxNorm-coded), a MAT episode with a dose given in the clinic (lot and
    injection site), an allergy and a resulted drug test with two analytes, each marked `part2`
    from its episode as the services mark them."""
    part2 = episode.part2_protected
    med = Medication.objects.create(
        patient=patient,
        episode=episode,
        catalog_key="naltrexone_xr",
        name="Naltrexone extended-release",
        rxnorm_code="7243",
        dose="380 mg",
        route="im",
        frequency="every 4 weeks",
        prescriber="Dr. Fictional Prescriber",
        source="here",
        start_date=dt.date(2026, 1, 5),
        recorded_by=staff,
        part2=part2,
    )
    mat = MatEpisode.objects.create(
        patient=patient,
        episode=episode,
        kind="naltrexone_xr",
        medication=med,
        started_on=dt.date(2026, 1, 5),
        started_by=staff,
        part2=part2,
    )
    dose = DoseAdministration.objects.create(
        mat=mat,
        given_at=timezone.now() - dt.timedelta(days=2),
        dose="380 mg",
        lot="LOT-FICT-1",
        injection_site="left_gluteal",
        given_by=staff,
        part2=part2,
    )
    allergy = Allergy.objects.create(
        patient=patient,
        episode=episode,
        substance="Penicillin",
        reaction="Hives",
        severity="moderate",
        recorded_by=staff,
        part2=part2,
    )
    order = DrugTestOrder.objects.create(
        patient=patient,
        episode=episode,
        kind="poc_cup",
        reason="scheduled",
        status="resulted",
        ordered_by=staff,
        ordered_at=timezone.now() - dt.timedelta(days=3),
        collected_at=timezone.now() - dt.timedelta(days=3),
        observed=True,
        validity="valid",
        resulted_at=timezone.now() - dt.timedelta(days=3),
        resulted_by=staff,
        part2=part2,
    )
    for analyte, outcome in (("buprenorphine", "negative"), ("fentanyl", "positive")):
        DrugTestResult.objects.create(order=order, analyte=analyte, outcome=outcome, part2=part2)
    return {
        "MedicationStatement": med.pk,
        "MedicationAdministration": dose.pk,
        "AllergyIntolerance": allergy.pk,
        "DiagnosticReport": order.pk,
    }


def _inquiry_fields(patient: Patient) -> dict[str, Any]:
    from openiop.admissions.models import Inquiry

    fields: dict[str, Any] = {}
    for f in Inquiry._meta.concrete_fields:
        if (
            f.primary_key
            or f.null
            or f.has_default()
            or (f.blank and not f.is_relation)
            or getattr(f, "auto_now_add", False)
            or getattr(f, "auto_now", False)
        ):
            continue
        if f.name == "site":
            fields["site"] = patient.site
        elif f.name == "organization":
            fields["organization"] = patient.organization
        elif f.get_internal_type() == "DateField":
            fields[f.name] = dt.date(2026, 1, 2)
        elif f.get_internal_type() == "DateTimeField":
            fields[f.name] = timezone.now()
        elif f.is_relation:
            raise AssertionError(f"inquiry needs {f.name}")
        else:
            fields[f.name] = "Fictional"
    return fields


def _charge(claim: Claim, staff: User) -> Any:
    from openiop.billing.models import Charge

    fields: dict[str, Any] = {}
    for f in Charge._meta.concrete_fields:
        if (
            f.primary_key
            or f.null
            or f.has_default()
            or (f.blank and not f.is_relation)
            or getattr(f, "auto_now_add", False)
            or getattr(f, "auto_now", False)
        ):
            continue
        if f.is_relation:
            target: Any = f.related_model
            for attr in ("patient", "site", "episode", "payer", "coverage", "track"):
                if target is type(getattr(claim, attr)):
                    fields[f.name] = getattr(claim, attr)
                    break
            else:
                if target is User:
                    fields[f.name] = staff
                elif target.__name__ == "Enrollment":
                    fields[f.name] = target.objects.get_or_create(
                        episode=claim.episode,
                        track=claim.track,
                        defaults={"start_date": claim.statement_from},
                    )[0]
                else:
                    raise AssertionError(f"charge needs {f.name} -> {target}")
        elif f.get_internal_type() == "DateField":
            fields[f.name] = claim.statement_from
        elif f.get_internal_type() in ("DecimalField",):
            fields[f.name] = "250.00"
        elif f.get_internal_type() in (
            "PositiveIntegerField",
            "IntegerField",
            "PositiveSmallIntegerField",
        ):
            fields[f.name] = 1
        elif f.get_internal_type() == "DateTimeField":
            fields[f.name] = timezone.now()
        else:
            fields[f.name] = "S9480" if "code" in f.name else "x"
    return Charge.objects.create(**fields)


@pytest.fixture
def world(db: None) -> World:
    org = make_org()
    other_org = make_org(name="Birchwood Behavioral (fictional)", mrn_prefix="BW")
    site = make_site(org, name="Lantern Hill North")
    other_site = make_site(org, name="Lantern Hill South")
    make_site(other_org, name="Birchwood Main")
    director = make_user(Role.DIRECTOR, org=org, sites=[site])
    clinician = make_user(Role.CLINICIAN, org=org, sites=[site])
    other_clinician = make_user(Role.CLINICIAN, org=org, sites=[other_site])
    network_user = make_user(Role.DIRECTOR, org=None)
    track = make_track(site)
    sud_patient = make_patient(site, legal_first_name="Quillon")
    mh_patient = make_patient(site, legal_first_name="Marigold")
    sud_episode = make_episode(
        sud_patient, focus=TreatmentFocus.SUBSTANCE_USE, primary_clinician=clinician
    )
    mh_episode = make_episode(mh_patient, focus=TreatmentFocus.MENTAL_HEALTH)
    sud = _records_for(sud_patient, sud_episode, clinician, track)
    mh = _records_for(mh_patient, mh_episode, clinician, track)
    records = {k: [sud[k], mh[k]] for k in sud}
    records["Practitioner"] = [clinician.pk]
    records["Organization"] = [org.pk]
    records["Location"] = [site.pk]
    assert sud_episode.part2_protected and not mh_episode.part2_protected
    return World(
        org,
        other_org,
        site,
        other_site,
        director,
        clinician,
        other_clinician,
        network_user,
        sud_patient,
        mh_patient,
        sud_episode,
        mh_episode,
        records,
    )
