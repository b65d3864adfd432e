"""Claims (billing.services.claims): building from posted charges for a per-diem commercial payer
and a Medicare sequential episode, scrub edits that block ready, the 837 export validated by
pyx12, replacement and void as new claims, access (another organization, intake), the job and the
command. Every person, payer and number is fictional; NPIs carry a valid check digit."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.audit.models import AuditEntry
from openiop.billing import services, tasks
from openiop.billing.models import (
    BillingProvider,
    Charge,
    ChargeAdjustment,
    Claim,
    ClaimEvent,
    ClaimExport,
    ClaimLine,
    Coverage,
    Payer,
    PayerClaimSetup,
    TrackClaimSetup,
)
from openiop.billing.selectors_authorizations import charge_lines
from openiop.billing.selectors_claims import claims_aging
from openiop.billing.services import claims as claim_services
from openiop.billing.tests.x12_validation import assert_valid, npi_with_check_digit, segments
from openiop.core import jobs
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.core.models import JobStatus
from openiop.episodes.models import Episode
from openiop.patients.models import Patient
from openiop.programs.models import Site, Track
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_site,
    make_tpo_consent,
    make_track,
    make_user,
)
from openiop.treatment.models import PlanProblem, TreatmentPlan

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
WEEK = [dt.date(2026, 10, 5) + dt.timedelta(days=n) for n in range(5)]  # Mon Oct 5 to Fri Oct 9
BILLING_NPI = npi_with_check_digit("123456789")


@dataclass
class Office:
    site: Site
    other_site: Site
    track: Track
    users: dict[str, Any]
    commercial: Payer
    medicare: Payer

    def actor(self, who: str = "billing") -> Actor:
        return Actor(user=self.users[who], client_addr="198.51.100.7", path="/test")

    def patient(
        self, first: str, payer: Payer, *, dx: tuple[str, ...] = ("F10.20",)
    ) -> tuple[Patient, Episode, Coverage]:
        patient = make_patient(
            self.site,
            legal_first_name=first,
            legal_last_name="Testperson",
            address_line="1 Fictional Way",
            city="Springfield",
            state="IL",
            postal_code="62701",
        )
        episode = make_episode(patient, admission_date=dt.date(2026, 9, 28))
        # The intake packet's single TPO consent (42 CFR Part 2): claims to payers may go.
        make_tpo_consent(patient, self.users["director"])
        inquiry = Inquiry.objects.create(
            organization=self.site.organization,
            site=self.site,
            received_at=NOW,
            channel="call",
            referral_source="self",
            first_name=first,
            last_name="Testperson",
            concerns="co_occurring",
            stage_entered_on=dt.date(2026, 9, 1),
            patient=patient,
        )
        coverage = Coverage.objects.create(
            inquiry=inquiry,
            patient=patient,
            payer=payer,
            rank="primary",
            member_id="ZZ0001",
            start_date=dt.date(2026, 1, 1),
        )
        if dx:
            plan = TreatmentPlan.objects.create(
                episode=episode,
                patient=patient,
                number=1,
                status="signed",
                created_by=self.users["clinician"],
            )
            for position, code in enumerate(dx, start=1):
                PlanProblem.objects.create(
                    plan=plan,
                    position=position,
                    description="Fictional problem",
                    icd10_code=code,
                    patient_words="fictional",
                )
        return patient, episode, coverage

    def charge(
        self,
        patient: Patient,
        episode: Episode,
        coverage: Coverage,
        day: dt.date,
        *,
        code: str = "H0015",
        amount: str = "250.00",
        form: str = "837I",
        condition_codes: str = "",
    ) -> Charge:
        return Charge.objects.create(
            patient=patient,
            site=self.site,
            episode=episode,
            track=self.track,
            payer=coverage.payer,
            coverage=coverage,
            service_date=day,
            code=code,
            revenue_code="0906" if form == "837I" else "",
            units=1,
            rate=Decimal(amount),
            amount=Decimal(amount),
            claim_form=form,
            condition_codes=condition_codes,
            posted_by=self.users["billing"],
        )

    def build(self, who: str = "billing", **kw: Any) -> claim_services.ClaimBuildResult:
        kw.setdefault("site", self.site)
        return services.claims_build(
            by=self.actor(who), period_start=OCTOBER[0], period_end=OCTOBER[1], **kw
        )


def _payer_setup(payer: Payer, **kw: Any) -> PayerClaimSetup:
    values: dict[str, Any] = {
        "period": "month",
        "sequential": False,
        "authorization_required": False,
        "certification_required": False,
        "patient_status": "01",
        "claim_filing_indicator": "CI",
        "receiver_name": "TEST CLEARINGHOUSE",
        "receiver_id": "TESTRECEIVER",
        "receiver_qualifier": "ZZ",
        "receiver_interchange_id": "TESTRECEIVER",
        "application_receiver_code": "TESTRECEIVER",
        "assignment": "A",
        "benefits_assignment": "Y",
        "release_of_information": "Y",
        "provider_signature_on_file": True,
    }
    values.update(kw)
    return PayerClaimSetup.objects.create(payer=payer, **values)


@pytest.fixture
def office(monkeypatch: pytest.MonkeyPatch) -> Office:
    monkeypatch.setattr("openiop.core.clock.now", lambda: NOW)
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="UTC")
    elsewhere = make_org()
    other = make_site(elsewhere, name="Far Away (fictional)", timezone="UTC")
    users = {
        "billing": make_user(Role.BILLING, sites=[site], org=org),
        "director": make_user(Role.DIRECTOR, sites=[site], org=org),
        "clinician": make_user(Role.CLINICIAN, sites=[site], org=org),
        "intake": make_user(Role.INTAKE, sites=[site], org=org),
        "other_billing": make_user(Role.BILLING, sites=[other], org=elsewhere),
    }
    track = make_track(site, name="Adult Day IOP (fictional)")
    director = Actor(user=users["director"])
    commercial = services.payer_create(
        organization_id=org.pk,
        name="Bluebell Mutual (fictional)",
        payer_id="BBM01",
        payer_type="commercial",
        by=director,
    )
    medicare = services.payer_create(
        organization_id=org.pk,
        name="Medicare Test Contractor (fictional)",
        payer_id="MCR01",
        payer_type="medicare",
        by=director,
    )
    _payer_setup(commercial)
    # Medicare: sequential claims, a claim a week (one of "daily/weekly/monthly" [domain.md 2.1]).
    _payer_setup(
        medicare,
        period="week",
        sequential=True,
        certification_required=False,
        patient_status="",
        claim_filing_indicator="MA",
    )
    TrackClaimSetup.objects.create(
        track=track, claim_form="837I", facility_code="13", rendering_npi_required=False
    )
    services.billing_provider_save(
        by=Actor(user=users["billing"]),
        site=site,
        values={
            "name": "TEST IOP CLINIC",
            "npi": BILLING_NPI,
            "ein": "990000001",
            "address_line": "2 Fictional Plaza",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "627010001",
            "submitter_name": "TEST IOP CLINIC",
            "submitter_id": "TESTSUBMITTER",
            "contact_name": "Testy McTestface",
            "contact_phone": "5555550100",
            "sender_qualifier": "ZZ",
            "sender_id": "TESTSUBMITTER",
            "application_sender_code": "TESTSUBMITTER",
            "production": False,
        },
    )
    return Office(site, other, track, users, commercial, medicare)


def test_a_per_diem_month_becomes_one_draft_claim_with_dated_lines(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    charges = [office.charge(patient, episode, coverage, day) for day in WEEK]

    result = office.build()

    assert (result.claims, result.charges, result.with_errors) == (1, 5, 0)
    claim = Claim.objects.get()
    assert claim.state == "draft" and claim.frequency == "1" and claim.bill_type == "131"
    assert claim.total == Decimal("1250.00") and claim.patient_status == "01"
    assert claim.diagnoses == ["F10.20"]
    assert (claim.statement_from, claim.statement_to) == (WEEK[0], WEEK[-1])
    assert len(claim.patient_control_number) <= 20
    lines = list(claim.lines.order_by("number"))
    assert [line.service_date for line in lines] == WEEK
    assert len({line.line_control_number for line in lines}) == 5
    assert not claim.edits.exists()
    assert {c.status for c in Charge.objects.filter(pk__in=[c.pk for c in charges])} == {"on_claim"}
    # Building again finds nothing open: no charge goes on two claims.
    again = office.build()
    assert again.claims == 0 and Claim.objects.count() == 1
    entry = AuditEntry.objects.get(object_type="claim_build", outcome="ok", detail__claims=1)
    # One patient: named on the entry itself (PostgreSQL writes no separate link for it).
    assert AuditEntry.objects.filter(
        Q(patient_id=patient.pk) | Q(patients__pk=patient.pk), pk=entry.pk
    ).exists()


def test_a_medicare_sequential_episode_gets_interim_claims_by_week(office: Office) -> None:
    patient, episode, coverage = office.patient("Quillon", office.medicare)
    for day in [*WEEK, dt.date(2026, 10, 12), dt.date(2026, 10, 13)]:
        office.charge(patient, episode, coverage, day, condition_codes="92")

    result = office.build()

    assert result.claims == 2
    first, second = Claim.objects.order_by("statement_from")
    assert (first.frequency, first.bill_type, first.patient_status) == ("2", "132", "30")
    assert (second.frequency, second.bill_type, second.patient_status) == ("3", "133", "30")
    assert first.condition_codes == "92"
    # The second waits for the first's remittance [domain.md 2.1].
    assert second.edits.filter(code="prior_claim_not_remitted", severity="error").exists()


def test_a_discharged_sequential_episode_is_left_unbuilt_with_why(office: Office) -> None:
    patient, episode, coverage = office.patient("Quillon", office.medicare)
    office.charge(patient, episode, coverage, WEEK[0])
    Episode.objects.filter(pk=episode.pk).update(
        discharge_date=WEEK[1], status="discharged", discharge_reason="completed"
    )

    result = office.build()

    assert result.claims == 0
    assert result.not_built and "NUBC discharge status" in result.not_built[0][1]
    assert Charge.objects.get().status == "open"


def test_scrub_errors_block_ready_until_fixed(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial, dx=())
    office.charge(patient, episode, coverage, WEEK[0])
    office.build()
    claim = Claim.objects.get()
    assert claim.edits.filter(code="no_diagnosis", severity="error").exists()

    with pytest.raises(RuleViolation) as refused:
        services.claim_mark_ready(
            by=office.actor(), claim_id=claim.pk, expected_version=claim.version
        )
    assert "1 error(s)" in refused.value.message
    claim.refresh_from_db()
    assert claim.state == "draft"

    # The diagnosis cannot come from a rescrub of the same claim (diagnoses are kept with the
    # claim); the missing billing provider, though, is found at a rescrub.
    BillingProvider.objects.all().delete()
    services.claim_scrub(by=office.actor(), claim_id=claim.pk)
    assert claim.edits.filter(code="billing_provider_missing").exists()


def _ready(office: Office, claim: Claim) -> Claim:
    return services.claim_mark_ready(
        by=office.actor(), claim_id=claim.pk, expected_version=claim.version
    )


def test_export_writes_a_valid_837i_and_submits_the_claims(office: Office, tmp_path: Path) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    for day in WEEK:
        office.charge(patient, episode, coverage, day)
    office.build()
    claim = _ready(office, Claim.objects.get())
    assert claim.state == "ready"

    result = services.claims_export(by=office.actor(), site=office.site, out_dir=tmp_path)

    assert result.claims == 1 and len(result.exports) == 1
    export = ClaimExport.objects.get()
    assert_valid(export.content)
    assert (tmp_path / export.file_name).read_text() == export.content
    segs = segments(export.content)
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[1] == claim.patient_control_number and clm[2] == "1250" and clm[5] == "13:A:1"
    refs = [s[2] for s in segs if s[:2] == ["REF", "6R"]]
    assert refs == list(
        claim.lines.order_by("number").values_list("line_control_number", flat=True)
    )
    claim.refresh_from_db()
    assert claim.state == "submitted"
    assert list(claim.events.values_list("to_state", flat=True)) == [
        "draft",
        "ready",
        "submitted",
    ]
    assert list(export.claims.all()) == [claim]
    # A second export finds nothing ready and takes the next control number when there is.
    assert services.claims_export(by=office.actor(), site=office.site).claims == 0


def test_replacement_and_void_are_new_claims_and_the_sent_one_is_untouched(
    office: Office,
) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    for day in WEEK:
        office.charge(patient, episode, coverage, day)
    office.build()
    original = _ready(office, Claim.objects.get())
    services.claims_export(by=office.actor(), claim_ids=[original.pk])
    original.refresh_from_db()

    # Not yet acknowledged: the payer holds nothing to correct.
    with pytest.raises(RuleViolation):
        services.claim_correct(
            by=office.actor(),
            claim_id=original.pk,
            kind="replacement",
            expected_version=original.version,
        )
    Claim.objects.filter(pk=original.pk).update(
        state="accepted", payer_claim_control_number="TESTICN1"
    )
    original.refresh_from_db()
    before = (original.version, original.total, original.frequency, original.state)

    replacement = services.claim_correct(
        by=office.actor(),
        claim_id=original.pk,
        kind="replacement",
        expected_version=original.version,
    )

    assert replacement.pk != original.pk and replacement.replaces_id == original.pk
    assert replacement.frequency == "7" and replacement.bill_type == "137"
    assert replacement.state == "draft" and replacement.lines.count() == 5
    original.refresh_from_db()
    assert (original.version, original.total, original.frequency, original.state) == before
    # The replacement is exported with REF*F8 quoting the original.
    _ready(office, replacement)
    services.claims_export(by=office.actor(), claim_ids=[replacement.pk])
    export = ClaimExport.objects.get(claims=replacement)
    assert_valid(export.content)
    assert ["REF", "F8", "TESTICN1"] in segments(export.content)
    # Once replaced, the original cannot be corrected again.
    with pytest.raises(RuleViolation):
        services.claim_correct(
            by=office.actor(), claim_id=original.pk, kind="void", expected_version=original.version
        )
    Claim.objects.filter(pk=replacement.pk).update(
        state="accepted", payer_claim_control_number="TESTICN2"
    )
    replacement.refresh_from_db()
    void = services.claim_correct(
        by=office.actor(),
        claim_id=replacement.pk,
        kind="void",
        expected_version=replacement.version,
    )
    assert void.frequency == "8" and void.replaces_id == replacement.pk
    assert ClaimEvent.objects.filter(claim=void, event="create").exists()


def test_another_organizations_billing_user_is_refused_and_audited(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    office.charge(patient, episode, coverage, WEEK[0])

    with pytest.raises(NotPermitted):
        office.build("other_billing")
    assert not Claim.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", object_type="claim_build").exists()

    office.build()
    claim = Claim.objects.get()
    with pytest.raises(NotPermitted):
        services.claim_mark_ready(
            by=office.actor("other_billing"), claim_id=claim.pk, expected_version=claim.version
        )
    denied = AuditEntry.objects.get(outcome="denied", object_type="claim")
    assert denied.user_id == office.users["other_billing"].pk
    claim.refresh_from_db()
    assert claim.state == "draft"


def test_intake_may_not_build_claims(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    office.charge(patient, episode, coverage, WEEK[0])
    with pytest.raises(NotPermitted):
        office.build("intake")
    assert not Claim.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", object_type="claim_build").exists()


def test_the_job_builds_with_progress(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    office.charge(patient, episode, coverage, WEEK[0])
    job = jobs.enqueue(
        tasks.build_claims, "2026-10-01", "2026-10-31", office.users["billing"].pk, office.site.pk
    )
    jobs.run_queued()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total) == (1, 1)
    assert job.outcome.startswith("Built 1 claim(s) from 1 charge(s)")
    assert "Zephyrine" not in job.outcome


def test_the_command_builds_and_exports(office: Office, tmp_path: Path) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    office.charge(patient, episode, coverage, WEEK[0])
    user = office.users["billing"].username
    out = io.StringIO()
    call_command("claims", "build", "--period", "2026-10", "--as", user, stdout=out)
    assert "Built 1 claim(s)" in out.getvalue()
    claim = Claim.objects.get()
    _ready(office, claim)
    out = io.StringIO()
    call_command(
        "claims", "export", "--format", "x12", "--out", str(tmp_path), "--as", user, stdout=out
    )
    assert "Wrote 1 interchange(s) with 1 claim(s)" in out.getvalue()
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--period", "2026-13"], "is not a month"),
        (["build", "--period", "2026-10", "--site", "Nowhere (fictional)"], "No site is named"),
        (["export", "--format", "csv", "--out", "/tmp"], "x12"),
        (["export", "--format", "x12", "--out", "/nonexistent-fictional-dir"], "not a directory"),
    ],
)
def test_the_command_refuses_bad_input_with_exit_code_2(
    office: Office, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("claims", *args, "--as", office.users["billing"].username)
    assert refused.value.returncode == 2
    assert message in str(refused.value)


def test_aging_puts_each_payers_open_claims_in_buckets_by_days_since_sent(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    for day in WEEK:
        office.charge(patient, episode, coverage, day)
    office.build()
    claim = _ready(office, Claim.objects.get())
    services.claims_export(by=office.actor(), claim_ids=[claim.pk])
    sent = NOW.date()

    # 30 days after sending: still 0-30; 31 days: 31-60 (ledger.AgingBucket's bounds).
    at_30 = claims_aging(
        actor=office.actor(), site_id=office.site.pk, as_of=sent + dt.timedelta(30)
    )
    at_31 = claims_aging(
        actor=office.actor(), site_id=office.site.pk, as_of=sent + dt.timedelta(31)
    )
    (row30,) = at_30.aging.rows
    (row31,) = at_31.aging.rows
    assert row30.payer == "Bluebell Mutual (fictional)"
    assert (row30.amounts.days_0_30, row30.amounts.days_31_60) == (Decimal("1250.00"), Decimal(0))
    assert (row31.amounts.days_0_30, row31.amounts.days_31_60) == (Decimal(0), Decimal("1250.00"))
    # A rejected claim never reached the payer's books (a paid one leaves A/R by what its
    # remittance posted: test_ledger_remittances).
    Claim.objects.filter(pk=claim.pk).update(state="rejected")
    assert claims_aging(actor=office.actor(), site_id=office.site.pk, as_of=sent).claims == 0
    with pytest.raises(NotPermitted):
        claims_aging(actor=office.actor("other_billing"), site_id=office.site.pk, as_of=sent)


def _build_selects(office: Office) -> int:
    with CaptureQueriesContext(connection) as ctx:
        office.build()
    return sum(1 for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT"))


def test_building_reads_each_table_once_whatever_the_number_of_patients(office: Office) -> None:
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    office.charge(patient, episode, coverage, WEEK[0])
    one = _build_selects(office)
    for name in ("Quillon", "Bartholomew", "Ottoline"):
        patient, episode, coverage = office.patient(name, office.commercial)
        for day in WEEK:
            office.charge(patient, episode, coverage, day)
    assert _build_selects(office) == one
    assert Claim.objects.count() == 4


# --- 42 CFR Part 2: a claim discloses SUD treatment to the payer (consents.domain) ------------


def _week_claim(office: Office, first: str) -> tuple[Patient, Claim]:
    patient, episode, coverage = office.patient(first, office.commercial)
    for day in WEEK:
        office.charge(patient, episode, coverage, day)
    office.build()
    return patient, Claim.objects.get(patient=patient)


def test_a_claim_for_an_sud_patient_without_consent_gets_the_part2_edit_and_is_not_sent(
    office: Office,
) -> None:
    from openiop.consents.models import Consent, Disclosure

    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    Consent.objects.filter(patient=patient).delete()  # no consent on file
    for day in WEEK:
        office.charge(patient, episode, coverage, day)
    office.build()
    claim = Claim.objects.get()
    edit = claim.edits.get(code=claim_services.PART2_CONSENT_MISSING)
    assert edit.severity == "error"
    assert "No Part 2 consent covering Bluebell Mutual (fictional) for payment" in edit.message
    with pytest.raises(RuleViolation):
        _ready(office, claim)
    assert services.claims_export(by=office.actor(), site=office.site).claims == 0
    assert not ClaimExport.objects.exists() and not Disclosure.objects.exists()


def test_a_mental_health_claim_needs_no_part2_consent(office: Office) -> None:
    _, claim = _week_claim(office, "Zephyrine")
    Episode.objects.filter(pk=claim.episode_id).update(part2_protected=False, focus="mental_health")
    from openiop.consents.models import Consent

    Consent.objects.all().delete()
    services.claim_scrub(by=office.actor(), claim_id=claim.pk)
    assert not claim.edits.filter(code=claim_services.PART2_CONSENT_MISSING).exists()


def test_the_sent_claim_is_in_the_accounting_of_disclosures(office: Office) -> None:
    from openiop.consents.models import Consent, Disclosure

    patient, claim = _week_claim(office, "Zephyrine")
    _ready(office, claim)
    services.claims_export(by=office.actor(), site=office.site)
    disclosure = Disclosure.objects.get()
    assert disclosure.patient_id == patient.pk
    assert disclosure.recipient_identifier == f"payer:{office.commercial.pk}"
    assert (disclosure.purpose, disclosure.channel) == ("payment", "claim_export")
    assert disclosure.consent_id == Consent.objects.get(patient=patient).pk
    assert disclosure.resources == [{"type": "Claim", "id": str(claim.pk)}]


def test_revoking_the_consent_stops_a_ready_claim_at_once(office: Office) -> None:
    from openiop.consents.models import Consent
    from openiop.consents.services import consent_revoke

    patient, claim = _week_claim(office, "Zephyrine")
    _ready(office, claim)
    consent_revoke(consent=Consent.objects.get(patient=patient), by=office.actor("director"))
    with pytest.raises(RuleViolation) as refused:
        services.claims_export(by=office.actor(), claim_ids=[claim.pk])
    assert refused.value.code == "part2_consent_missing"
    result = services.claims_export(by=office.actor(), site=office.site)
    assert result.claims == 0 and result.withheld == (claim.patient_control_number,)
    assert "not sent: no 42 CFR Part 2 consent" in result.sentence
    claim.refresh_from_db()
    assert claim.state == "ready"


def _build_queries(office: Office) -> int:
    with CaptureQueriesContext(connection) as ctx:
        office.build()
    return len(ctx.captured_queries)


def _authorized_week_patients(office: Office, names: tuple[str, ...]) -> None:
    """For each name: a commercial patient with an authorization and a Medicare (sequential)
    patient, each with a week of charges."""
    for name in names:
        patient, episode, coverage = office.patient(name, office.commercial)
        services.authorization_create(
            coverage=coverage,
            by=office.actor(),
            reference_number=f"AUTH-{name.upper()}",
            unit_kind="days",
            quantity=20,
            start_date=OCTOBER[0],
            end_date=OCTOBER[1],
            service_codes=["H0015"],
        )
        medicare_patient, medicare_episode, medicare_coverage = office.patient(
            f"{name}-Mcr", office.medicare
        )
        for day in WEEK:
            office.charge(patient, episode, coverage, day)
            office.charge(medicare_patient, medicare_episode, medicare_coverage, day)


def _adjust(office: Office, charge: Charge, units: int, amount: str, minutes: int) -> None:
    ChargeAdjustment.objects.create(
        charge=charge,
        kind="change",
        previous_units=charge.units,
        new_units=units,
        previous_amount=charge.amount,
        new_amount=Decimal(amount),
        amount=Decimal(amount) - charge.amount,
        reason="Fictional attendance correction",
        created_by=office.users["billing"],
        created_at=NOW + dt.timedelta(minutes=minutes),
    )


def test_a_line_bills_its_charge_as_its_last_adjustment_left_it(office: Office) -> None:
    """The builder reads each charge as it stands now: its last adjustment's units and amount
    (by time, whatever order they were written in), else its own; an adjustment of a charge at
    another site or outside the period changes nothing here."""
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    adjusted, plain = (office.charge(patient, episode, coverage, day) for day in WEEK[:2])
    _adjust(office, adjusted, 3, "750.00", minutes=20)
    _adjust(office, adjusted, 2, "500.00", minutes=10)  # written later, happened earlier
    elsewhere = office.charge(patient, episode, coverage, WEEK[2])
    Charge.objects.filter(pk=elsewhere.pk).update(site=office.other_site)
    _adjust(office, elsewhere, 4, "1000.00", minutes=5)
    november = office.charge(patient, episode, coverage, dt.date(2026, 11, 2))
    _adjust(office, november, 4, "1000.00", minutes=5)
    office.build()
    claim = Claim.objects.get()
    assert [(line.charge_id, line.units, line.amount) for line in claim.lines.all()] == [
        (adjusted.pk, 3, Decimal("750.00")),
        (plain.pk, 1, Decimal("250.00")),
    ]
    assert claim.total == Decimal("1000.00")


def test_an_authorizations_use_counts_each_live_charge_as_adjusted(office: Office) -> None:
    """charge_lines (what each authorization has used): the coverages' charges that are not
    voided, each with its last adjustment's units."""
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    adjusted, plain, voided = (office.charge(patient, episode, coverage, day) for day in WEEK[:3])
    _adjust(office, adjusted, 3, "750.00", minutes=20)
    _adjust(office, adjusted, 2, "500.00", minutes=10)
    _adjust(office, voided, 5, "1250.00", minutes=10)
    Charge.objects.filter(pk=voided.pk).update(status="voided")
    other, other_episode, other_coverage = office.patient("Quillon", office.commercial)
    _adjust(office, office.charge(other, other_episode, other_coverage, WEEK[0]), 6, "1500.00", 1)
    lines = charge_lines([coverage.pk])
    assert list(lines) == [coverage.pk]
    assert sorted((line.charge_id, line.units) for line in lines[coverage.pk]) == [
        (adjusted.pk, 3),
        (plain.pk, 1),
    ]


# A statement naming charges one by one: `"billing_charge"."id" IN (1, 2, ...)` or
# `"..."."charge_id" IN (1, 2, ...)`, a literal list of ids.
_CHARGE_ID_LIST = re.compile(r'"(?:billing_charge"\."id|charge_id)" IN \(\d')


def test_a_build_reaches_the_charges_by_join_not_by_a_list_of_their_ids(office: Office) -> None:
    """Issue 16 point 8: the adjustments the build reads (the charges' current units and amounts,
    and the authorizations' use) and the update that puts the charges on their claims reach the
    charges through their site and period, their coverages and the new claims' lines, never
    through a literal list of every charge id (a thousand parameters a site at 20,000 patients,
    each sent, parsed and planned). The inserts carry each line's charge, as they must."""
    _authorized_week_patients(office, ("Zephyrine", "Quillon"))
    patient, episode, coverage = office.patient("Bartholomew", office.commercial)
    charge = office.charge(patient, episode, coverage, WEEK[0])
    with CaptureQueriesContext(connection) as ctx:
        office.build()
    assert Claim.objects.count() == 5
    assert Charge.objects.filter(status="on_claim").count() == 21
    listed = [
        q["sql"][:120]
        for q in ctx.captured_queries
        if not q["sql"].lstrip().upper().startswith("INSERT") and _CHARGE_ID_LIST.search(q["sql"])
    ]
    assert listed == []
    assert ClaimLine.objects.filter(charge=charge).exists()


def test_a_build_takes_the_same_queries_for_three_times_the_claims(office: Office) -> None:
    """Issue 16 point 8: every statement of a build, reads and writes (claims, lines, events,
    edits, the charges' status, the audit entry), is per site, never per claim or charge."""
    _authorized_week_patients(office, ("Zephyrine",))
    few = _build_queries(office)
    assert Claim.objects.count() == 2
    _authorized_week_patients(office, ("Quillon", "Bartholomew", "Ottoline"))
    many = _build_queries(office)
    assert Claim.objects.count() == 8
    assert many == few
    # What the writes in bulk wrote: each built claim has its lines, creation event and edits.
    for claim in Claim.objects.prefetch_related("lines", "events"):
        assert [line.number for line in claim.lines.all()] == [1, 2, 3, 4, 5]
        assert [(e.event, e.to_state) for e in claim.events.all()] == [("create", "draft")]
        if claim.payer_id == office.commercial.pk:
            assert claim.authorization.startswith("AUTH-")
    assert Charge.objects.filter(status="on_claim").count() == 40
