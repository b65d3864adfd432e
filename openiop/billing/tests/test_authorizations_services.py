"""Authorizations and Medicare certifications (billing.services.authorizations and
billing.selectors_authorizations): who may write them, the field each refusal names, usage from
the coverage's live charges, the forecast over the patient's real schedule, the alerts job once
per key, and the plain data handed to the claim scrubber.

The clinic, its people and its payers are fictional."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.audit.models import AuditEntry
from openiop.billing import services, tasks
from openiop.billing.domain.claims import CertificationPeriod
from openiop.billing.models import Authorization, Charge, Coverage, Payer
from openiop.billing.selectors_authorizations import (
    authorization_list,
    patient_authorizations,
    scrub_extras_for,
)
from openiop.core import jobs
from openiop.core.actor import Actor
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.core.models import JobStatus
from openiop.episodes.models import Alert, Episode
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment, Site, Track
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_session,
    make_site,
    make_track,
    make_user,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 10, 12)  # a Monday
NOW = dt.datetime(2026, 10, 12, 12, 0, tzinfo=dt.UTC)
DISCHARGE = dt.date(2026, 11, 13)  # the enrollment's last day
CHARGED = [dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7, 8, 9)]
NPI = "1234567893"  # a fictional NPI with a valid check digit


@dataclass
class Ledger:
    site: Site
    track: Track
    users: dict[str, Any]
    payer: Payer
    medicare: Payer
    patient: Patient
    episode: Episode
    coverage: Coverage

    def actor(self, who: str) -> Actor:
        return Actor(user=self.users[who], client_addr="198.51.100.7", path="/test")

    def coverage_of(self, patient: Patient, payer: Payer) -> Coverage:
        return _coverage(self.site, patient, payer)

    def charge(self, day: dt.date, *, code: str = "H0015", status: str = "open") -> Charge:
        return Charge.objects.create(
            patient=self.patient,
            site=self.site,
            episode=self.episode,
            track=self.track,
            payer=self.payer,
            coverage=self.coverage,
            service_date=day,
            code=code,
            units=1,
            rate=Decimal("250.00"),
            amount=Decimal("250.00"),
            claim_form="837I",
            status=status,
            posted_by=self.users["billing"],
        )

    def authorize(self, who: str = "billing", **kw: Any) -> Authorization:
        fields: dict[str, Any] = {
            "reference_number": "AUTH-OCT",
            "unit_kind": "days",
            "quantity": 20,
            "start_date": dt.date(2026, 10, 1),
            "end_date": dt.date(2026, 10, 31),
            "service_codes": ["H0015"],
        }
        fields.update(kw)
        coverage = fields.pop("coverage", self.coverage)
        return services.authorization_create(coverage=coverage, by=self.actor(who), **fields)


def _coverage(site: Site, patient: Patient, payer: Payer) -> Coverage:
    inquiry = Inquiry.objects.create(
        organization=site.organization,
        site=site,
        received_at=timezone.now(),
        channel="call",
        referral_source="self",
        first_name=patient.legal_first_name,
        last_name=patient.legal_last_name,
        concerns="co_occurring",
        stage_entered_on=dt.date(2026, 9, 1),
        patient=patient,
    )
    return Coverage.objects.create(
        inquiry=inquiry,
        patient=patient,
        payer=payer,
        rank="primary",
        member_id="ZZ000",
        start_date=dt.date(2026, 1, 1),
    )


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.setattr("openiop.core.clock.now", lambda: NOW)
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="UTC")
    elsewhere = make_org()
    far = make_site(elsewhere, name="Far Away (fictional)", timezone="UTC")
    users = {
        "billing": make_user(Role.BILLING, sites=[site], org=org),
        "director": make_user(Role.DIRECTOR, sites=[site], org=org),
        "clinician": make_user(Role.CLINICIAN, sites=[site], org=org),
        "intake": make_user(Role.INTAKE, sites=[site], org=org),
        "other_billing": make_user(Role.BILLING, sites=[far], org=elsewhere),
    }
    track = make_track(site, name="Adult Day IOP (fictional)")
    director = Actor(user=users["director"])
    payer = services.payer_create(
        organization_id=org.pk,
        name="Bluebell Mutual (fictional)",
        payer_id="BBM01",
        payer_type="commercial",
        by=director,
    )
    medicare = services.payer_create(
        organization_id=org.pk,
        name="Medicare (fictional contractor)",
        payer_id="MCR01",
        payer_type="medicare",
        by=director,
    )
    patient = make_patient(site, legal_first_name="Testy", legal_last_name="McAuthface")
    episode = make_episode(patient, admission_date=dt.date(2026, 9, 28))
    Enrollment.objects.create(
        episode=episode, track=track, start_date=dt.date(2026, 9, 28), end_date=DISCHARGE
    )
    # The schedule: a group every weekday from today to past the discharge, one cancelled, and an
    # individual session booked for the patient on a Saturday.
    day = TODAY
    while day <= DISCHARGE + dt.timedelta(days=7):
        if day.weekday() < 5:
            make_session(
                site,
                users["clinician"],
                day,
                track=track,
                status="cancelled" if day == dt.date(2026, 10, 14) else "scheduled",
            )
        day += dt.timedelta(days=1)
    make_session(
        site,
        users["clinician"],
        dt.date(2026, 10, 17),
        kind="individual",
        title="Individual therapy",
        minutes=50,
        episode=episode,
    )
    coverage = _coverage(site, patient, payer)
    book = Ledger(site, track, users, payer, medicare, patient, episode, coverage)
    for day in CHARGED:
        book.charge(day)
    book.charge(dt.date(2026, 10, 3), status="voided")  # a voided line uses nothing
    return book


# --- usage and forecast -----------------------------------------------------------------------


def test_usage_counts_live_charges_and_the_forecast_runs_out_on_the_schedule(
    ledger: Ledger,
) -> None:
    auth = ledger.authorize()
    page = patient_authorizations(actor=ledger.actor("billing"), patient_id=ledger.patient.pk)
    (state,) = page.states
    assert state.row.pk == auth.pk
    assert state.used == 7  # seven charged days; the voided one uses nothing
    assert state.usage.remaining == 13
    forecast = state.forecast
    assert forecast is not None
    assert forecast.planned_discharge == DISCHARGE  # the enrollment's end
    # Planned from today: Oct 12, 13, (14 cancelled), 15, 16, Sat 17 (individual), 19-23, 26-28:
    # the 13th planned day is Wed Oct 28.
    assert forecast.run_out == dt.date(2026, 10, 28)
    assert state.runs_out_on == dt.date(2026, 10, 28)
    assert forecast.short_within_dates == 2  # Oct 29 and 30 are planned with nothing left
    assert state.before_discharge
    assert AuditEntry.objects.filter(object_type="authorizations", patient_id=ledger.patient.pk)


def test_an_amended_authorization_covers_the_plan_and_is_not_flagged(ledger: Ledger) -> None:
    auth = ledger.authorize()
    services.authorization_update(
        authorization=auth,
        expected_version=auth.version,
        by=ledger.actor("billing"),
        quantity=60,
        end_date=DISCHARGE,
    )
    (state,) = patient_authorizations(
        actor=ledger.actor("billing"), patient_id=ledger.patient.pk
    ).states
    assert state.forecast is not None and state.forecast.run_out is None
    assert state.runs_out_on == DISCHARGE
    assert not state.before_discharge
    entry = AuditEntry.objects.get(object_type="authorization", action="update")
    assert entry.detail["after"]["quantity"] == 60


def test_the_site_list_shows_usage_and_is_scoped_to_the_organization(ledger: Ledger) -> None:
    ledger.authorize()
    page = authorization_list(actor=ledger.actor("billing"), search="mcauthface")
    assert [s.used for s in page.object_list] == [7]
    assert authorization_list(actor=ledger.actor("billing"), search="nobody").object_list == []
    assert list(authorization_list(actor=ledger.actor("other_billing")).object_list) == []
    with pytest.raises(NotPermitted):
        authorization_list(actor=ledger.actor("clinician"))


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_billing", "intake", "clinician"])
def test_writes_are_refused_without_revenue_rights_at_the_patients_site(
    ledger: Ledger, who: str
) -> None:
    with pytest.raises(NotPermitted):
        ledger.authorize(who)
    assert not Authorization.objects.exists()
    with pytest.raises(NotPermitted):
        services.certification_create(
            episode=ledger.episode,
            by=ledger.actor(who),
            physician_name="Dr. Quill Testington",
            physician_npi=NPI,
            signed_on=dt.date(2026, 10, 1),
            start_date=dt.date(2026, 10, 1),
            certified_weekly_minutes=540,
            interval="every_other_month",
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service_codes": ["H15"]}, "service_codes"),
        ({"service_codes": []}, "service_codes"),
        ({"end_date": dt.date(2026, 9, 1)}, "end_date"),
        ({"quantity": 0}, "quantity"),
        ({"reference_number": "  "}, "reference_number"),
        ({"unit_kind": "weeks"}, "unit_kind"),
    ],
)
def test_invalid_authorizations_are_refused_on_the_field_to_fix(
    ledger: Ledger, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        ledger.authorize(**changes)
    assert caught.value.field == field


def test_a_reference_number_is_used_once_per_coverage(ledger: Ledger) -> None:
    ledger.authorize()
    with pytest.raises(RuleViolation) as caught:
        ledger.authorize(quantity=5)
    assert caught.value.field == "reference_number"


def test_a_stale_edit_conflicts_and_ending_checks_its_dates(ledger: Ledger) -> None:
    auth = ledger.authorize()
    billing = ledger.actor("billing")
    services.authorization_update(
        authorization=auth, expected_version=auth.version, by=billing, note="Called the payer"
    )
    with pytest.raises(Conflict):
        services.authorization_update(
            authorization=auth, expected_version=auth.version, by=billing, quantity=30
        )
    auth.refresh_from_db()
    with pytest.raises(RuleViolation) as caught:
        services.authorization_end(
            authorization=auth,
            end_date=dt.date(2026, 11, 30),
            reason="Payer withdrew",
            expected_version=auth.version,
            by=billing,
        )
    assert caught.value.field == "end_date"
    ended = services.authorization_end(
        authorization=auth,
        end_date=dt.date(2026, 10, 20),
        reason="Payer withdrew",
        expected_version=auth.version,
        by=billing,
    )
    assert ended.end_date == dt.date(2026, 10, 20) and ended.end_reason == "Payer withdrew"


def test_a_certification_needs_a_ten_digit_npi_and_an_interval(ledger: Ledger) -> None:
    fields: dict[str, Any] = {
        "physician_name": "Dr. Quill Testington",
        "physician_npi": "12345",
        "signed_on": dt.date(2026, 10, 1),
        "start_date": dt.date(2026, 10, 1),
        "certified_weekly_minutes": 540,
        "interval": "every_other_month",
    }
    with pytest.raises(RuleViolation) as caught:
        services.certification_create(episode=ledger.episode, by=ledger.actor("billing"), **fields)
    assert caught.value.field == "physician_npi"
    fields.update(physician_npi=NPI, interval="")
    with pytest.raises(RuleViolation) as caught:
        services.certification_create(episode=ledger.episode, by=ledger.actor("billing"), **fields)
    assert caught.value.field == "interval"


# --- alerts -----------------------------------------------------------------------------------


def _medicare_patient(ledger: Ledger, **cert: Any) -> Episode:
    patient = make_patient(ledger.site, legal_first_name="Medi", legal_last_name="Testcare")
    episode = make_episode(patient, admission_date=dt.date(2026, 8, 20))
    ledger.coverage_of(patient, ledger.medicare)
    if cert:
        services.certification_create(
            episode=episode,
            by=ledger.actor("billing"),
            physician_name="Dr. Quill Testington",
            physician_npi=NPI,
            certified_weekly_minutes=540,
            **cert,
        )
    return episode


def test_alerts_are_raised_once_per_key(ledger: Ledger, settings: Any) -> None:
    settings.RECERTIFICATION_WARN_DAYS = 10
    # Ends first, so the seven charged days draw on it: 7 of 8 used (87%), ending in 3 days.
    ledger.authorize(reference_number="AUTH-SHORT", quantity=8, end_date=dt.date(2026, 10, 15))
    ledger.authorize()
    # Signed Aug 20: every other month is due Oct 20, 8 days from today.
    certified = _medicare_patient(
        ledger,
        signed_on=dt.date(2026, 8, 20),
        start_date=dt.date(2026, 8, 20),
        interval="every_other_month",
    )
    system = Actor.system("test")
    first = services.authorization_alerts_raise(by=system)
    kinds = sorted(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["authorization_ending", "authorization_usage", "recertification_due"]
    assert first.raised == 3
    assert Alert.objects.get(kind="recertification_due").episode_id == certified.pk
    assert "AUTH-SHORT" in Alert.objects.get(kind="authorization_usage").message
    again = services.authorization_alerts_raise(by=system)
    assert again.raised == 0
    assert Alert.objects.count() == 3
    assert AuditEntry.objects.filter(object_type="alert", action="create").count() == 3


def test_without_warn_days_only_missing_or_lapsed_certifications_alert(
    ledger: Ledger, settings: Any
) -> None:
    settings.RECERTIFICATION_WARN_DAYS = None
    _medicare_patient(
        ledger,
        signed_on=dt.date(2026, 8, 20),
        start_date=dt.date(2026, 8, 20),
        interval="every_other_month",
    )
    uncertified = _medicare_patient(ledger)
    services.authorization_alerts_raise(by=Actor.system("test"))
    assert list(Alert.objects.values_list("kind", "episode_id")) == [
        ("certification_missing", uncertified.pk)
    ]


def test_the_daily_job_runs_the_same_service(ledger: Ledger) -> None:
    ledger.authorize(reference_number="AUTH-SHORT", quantity=8, end_date=dt.date(2026, 10, 15))
    job = jobs.enqueue(tasks.raise_authorization_alerts)
    jobs.run_queued()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert "2 new alert(s)" in job.outcome
    assert "raise_authorization_alerts" in {p.name for p in jobs.PERIODIC}


# --- the claim scrubber's data ----------------------------------------------------------------


def test_scrub_extras_give_units_left_and_certified_periods(ledger: Ledger) -> None:
    ledger.authorize()
    services.certification_create(
        episode=ledger.episode,
        by=ledger.actor("billing"),
        physician_name="Dr. Quill Testington",
        physician_npi=NPI,
        signed_on=dt.date(2026, 10, 1),
        start_date=dt.date(2026, 9, 28),
        certified_weekly_minutes=540,
        interval="sixty_days",
    )
    claim_charge = Charge.objects.filter(service_date=CHARGED[-1]).get()
    extras = scrub_extras_for(
        coverage_ids=[ledger.coverage.pk],
        patient_ids=[ledger.patient.pk],
        exclude_charge_ids=[claim_charge.pk],
    )
    (auth,) = extras.authorizations[ledger.coverage.pk]
    assert (auth.reference, auth.units_remaining, auth.codes) == ("AUTH-OCT", 14, ("H0015",))
    # Counted from the start (Sep 28), 60 days: due Nov 27; covered from the signature (Oct 1).
    assert extras.certifications[ledger.patient.pk] == (
        CertificationPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 26)),
    )


def test_a_secondary_coverage_counts_only_the_charges_billed_to_it(ledger: Ledger) -> None:
    secondary = ledger.coverage_of(ledger.patient, ledger.medicare)
    secondary.rank = "secondary"
    secondary.save()
    ledger.authorize(coverage=secondary, reference_number="AUTH-2ND")
    ledger.authorize()
    states = patient_authorizations(
        actor=ledger.actor("director"), patient_id=ledger.patient.pk
    ).states
    used = {s.row.reference_number: s.used for s in states}
    assert used == {"AUTH-2ND": 0, "AUTH-OCT": 7}
