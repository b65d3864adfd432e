"""Posting charges from attendance (billing.services.charges_post): a week of a fictional clinic
billed to a per-diem payer (H0015 from 3 h a day) and to an itemized one; unbilled services with
their reasons; corrections to attendance as adjustments; a second run that changes nothing; the
site check; the gather step's query count; the job and the command."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.attendance.models import Attendance
from openiop.attendance.services import attendance_record
from openiop.audit.models import AuditEntry
from openiop.billing import selectors, services, tasks
from openiop.billing.domain.charges import CMS_PSYCHOTHERAPY_TIME_BANDS
from openiop.billing.models import (
    Charge,
    ChargeAdjustment,
    Coverage,
    Payer,
    PayerProgramBilling,
    UnbilledDay,
)
from openiop.billing.services.charges import gather
from openiop.billing.services.fee_schedules import session_kinds_of
from openiop.core import jobs
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.core.models import JobStatus
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_session,
    make_site,
    make_track,
    make_user,
)

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries

    from openiop.episodes.models import Episode
    from openiop.patients.models import Patient
    from openiop.programs.models import Site, Track

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 10, 5)  # the week billed: Mon Oct 5 to Fri Oct 9, 2026
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
H0015_RATE = Decimal("250.00")


@dataclass
class Books:
    site: Site
    other_site: Site
    track: Track
    users: dict[str, Any]
    per_diem: Payer
    itemized: Payer
    sessions: dict[tuple[dt.date, str], GroupSession]

    def actor(self, who: str) -> Actor:
        return Actor(user=self.users[who], client_addr="198.51.100.7", path="/test")

    def patient(self, first: str, last: str, payer: Payer | None) -> tuple[Patient, Episode]:
        patient = make_patient(self.site, legal_first_name=first, legal_last_name=last)
        episode = make_episode(patient, admission_date=dt.date(2026, 9, 28))
        Enrollment.objects.create(
            episode=episode, track=self.track, start_date=dt.date(2026, 9, 28)
        )
        if payer is not None:
            inquiry = Inquiry.objects.create(
                organization=self.site.organization,
                site=self.site,
                received_at=timezone.now(),
                channel="call",
                referral_source="self",
                first_name=first,
                last_name=last,
                concerns="co_occurring",
                stage_entered_on=dt.date(2026, 9, 1),
                patient=patient,
            )
            Coverage.objects.create(
                inquiry=inquiry,
                patient=patient,
                payer=payer,
                rank="primary",
                member_id="ZZ000",
                start_date=dt.date(2026, 1, 1),
            )
        return patient, episode

    def attend(
        self, episode: Episode, day: dt.date, title: str, minutes: int | None = None
    ) -> Attendance:
        status = "present" if minutes is None else "left_early"
        return attendance_record(
            session=self.sessions[(day, title)],
            episode=episode,
            status=status,
            minutes_attended=minutes,
            by=self.actor("clinician"),
        )

    def individual(self, episode: Episode, day: dt.date, minutes: int) -> GroupSession:
        session = make_session(
            self.site,
            self.users["clinician"],
            day,
            at=dt.time(13, 0),
            minutes=minutes,
            kind="individual",
            title="Individual therapy",
            episode=episode,
        )
        self.sessions[(day, f"individual {episode.pk} {minutes}")] = session
        return session

    def post(self, who: str = "billing", **kw: Any) -> services.ChargePosting:
        kw.setdefault("site", self.site)
        return services.charges_post(
            by=self.actor(who), period_start=OCTOBER[0], period_end=OCTOBER[1], **kw
        )


@pytest.fixture
def books(monkeypatch: pytest.MonkeyPatch) -> Books:
    monkeypatch.setattr("openiop.core.clock.now", lambda: NOW)
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="UTC")
    # Billing staff see every site of their own organization: the user of another site is one of
    # another organization.
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
    per_diem = services.payer_create(
        organization_id=org.pk,
        name="Bluebell Mutual (fictional)",
        payer_id="BBM01",
        payer_type="commercial",
        by=director,
    )
    itemized = services.payer_create(
        organization_id=org.pk,
        name="Hollyhock Health (fictional)",
        payer_id="HHH01",
        payer_type="medicaid",
        by=director,
    )
    # The per-diem payer: H0015 from 3 h a day [domain.md 2.3, Carepatron], on the 837I with
    # revenue code 0906 [domain.md 2.2] (all of it this fictional payer's configuration).
    services.payer_billing_create(
        payer=per_diem,
        track=track,
        mode="per_diem",
        claim_form="837I",
        per_diem_code="H0015",
        revenue_code="0906",
        min_minutes_per_day=180,
        by=director,
    )
    services.fee_entry_create(
        payer=per_diem,
        track=track,
        code="H0015",
        rate=H0015_RATE,
        effective_from=dt.date(2026, 1, 1),
        by=director,
    )
    # The itemized payer: CPT per session, the CMS contractor's psychotherapy minutes, groups of
    # at most 12 [domain.md 2.3, NGS LCD L33632].
    services.payer_billing_create(
        payer=itemized,
        track=track,
        mode="itemized",
        claim_form="837P",
        codes={
            "individual": [
                [b.code, b.min_minutes, b.max_minutes] for b in CMS_PSYCHOTHERAPY_TIME_BANDS
            ],
            "group": [["90853", 1, None]],
        },
        max_group_size=12,
        group_count_required=True,
        by=director,
    )
    for code, rate in (
        ("90832", "80.00"),
        ("90834", "110.00"),
        ("90837", "150.00"),
        ("90853", "45.00"),
    ):
        services.fee_entry_create(
            payer=itemized,
            track=track,
            code=code,
            rate=Decimal(rate),
            effective_from=dt.date(2026, 1, 1),
            by=director,
        )
    sessions: dict[tuple[dt.date, str], GroupSession] = {}
    for offset in range(4):  # Mon-Thu: a three-hour process group
        day = MONDAY + dt.timedelta(days=offset)
        sessions[(day, "group")] = make_session(site, users["clinician"], day, track=track)
    friday = MONDAY + dt.timedelta(days=4)  # Fri: two hours of psychoeducation
    sessions[(friday, "education")] = make_session(
        site,
        users["clinician"],
        friday,
        track=track,
        minutes=120,
        kind="psychoeducation",
        title="Relapse prevention",
    )
    return Books(site, other, track, users, per_diem, itemized, sessions)


def _week(books: Books, episode: Episode) -> dict[dt.date, Attendance]:
    """The whole week attended: Mon-Thu's groups (3 h each) and Friday's education (2 h)."""
    seen = {}
    for offset in range(4):
        day = MONDAY + dt.timedelta(days=offset)
        seen[day] = books.attend(episode, day, "group")
    friday = MONDAY + dt.timedelta(days=4)
    seen[friday] = books.attend(episode, friday, "education")
    return seen


def _unbilled(patient: Patient) -> list[tuple[dt.date, str]]:
    return list(
        UnbilledDay.objects.filter(patient=patient)
        .order_by("service_date", "reason")
        .values_list("service_date", "reason")
    )


def test_a_week_for_a_per_diem_payer_bills_h0015_for_each_day_of_three_hours(books: Books) -> None:
    patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    attended = _week(books, episode)

    result = books.post()

    charges = list(Charge.objects.filter(patient=patient).order_by("service_date"))
    assert [c.service_date for c in charges] == [MONDAY + dt.timedelta(days=d) for d in range(4)]
    for charge in charges:
        assert (charge.code, charge.revenue_code, charge.units, charge.amount) == (
            "H0015",
            "0906",
            1,
            H0015_RATE,
        )
        assert (charge.claim_form, charge.status, charge.payer) == ("837I", "open", books.per_diem)
        assert charge.attendance_ids == [attended[charge.service_date].pk]
        assert charge.session_ids == [books.sessions[(charge.service_date, "group")].pk]
        assert charge.episode == episode and charge.enrollment is not None
        assert charge.basis == "3 h attended; H0015 per diem, one unit for the day"
    friday = MONDAY + dt.timedelta(days=4)
    assert _unbilled(patient) == [(friday, "2 h attended; this payer bills H0015 from 3 h")]
    assert (result.charges, result.adjustments, result.unbilled, result.patients) == (4, 0, 1, 1)


def test_an_itemized_payer_bills_a_code_per_session_and_says_why_not_for_the_rest(
    books: Books,
) -> None:
    patient, episode = books.patient("Quentin", "McTestface", books.itemized)
    _week(books, episode)
    wednesday, thursday = MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=3)
    individual = books.individual(episode, wednesday, 45)
    attendance_record(
        session=individual, episode=episode, status="present", by=books.actor("clinician")
    )
    short = books.individual(episode, thursday, 10)
    attendance_record(session=short, episode=episode, status="present", by=books.actor("clinician"))

    books.post()

    lines = list(
        Charge.objects.filter(patient=patient)
        .order_by("service_date", "code")
        .values_list("service_date", "code", "revenue_code", "amount")
    )
    groups = [(MONDAY + dt.timedelta(days=d), "90853", "", Decimal("45.00")) for d in range(4)]
    assert lines == sorted([*groups, (wednesday, "90834", "", Decimal("110.00"))])
    friday = MONDAY + dt.timedelta(days=4)
    assert _unbilled(patient) == [
        (thursday, "10 min attended; this payer bills 90832 from 16 min"),
        (friday, "this payer has no code for education sessions"),
    ]


def test_services_that_cannot_be_placed_are_listed_with_why(books: Books) -> None:
    uninsured, episode = books.patient("Wilhelmina", "Fakename", None)
    books.attend(episode, MONDAY, "group")
    skills = make_session(
        books.site,
        books.users["clinician"],
        MONDAY + dt.timedelta(days=1),
        track=books.track,
        minutes=180,
        kind="skills",
        title="DBT skills",
    )
    books.sessions[(skills.date, "skills")] = skills
    insured, other = books.patient("Barnaby", "Placeholder", books.per_diem)
    books.attend(other, skills.date, "skills")

    books.post()

    assert not Charge.objects.exists()
    assert _unbilled(uninsured) == [
        (
            MONDAY,
            "no insurance coverage on this date, and no self-pay billing for Adult Day IOP "
            "(fictional)",
        )
    ]
    assert _unbilled(insured) == [
        (
            skills.date,
            "Bluebell Mutual (fictional)'s billing rules for Adult Day IOP (fictional) do not "
            "say how a skills workshop is billed",
        )
    ]


def test_a_corrected_attendance_voids_the_day_by_an_adjustment_leaving_the_charge_as_posted(
    books: Books,
) -> None:
    patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    attended = _week(books, episode)
    books.post()
    tuesday = MONDAY + dt.timedelta(days=1)
    charge = Charge.objects.get(patient=patient, service_date=tuesday)

    record = attended[tuesday]
    attendance_record(
        session=record.session,
        episode=episode,
        status="left_early",
        minutes_attended=160,
        expected_version=record.version,
        by=books.actor("clinician"),
    )
    result = books.post()

    after = Charge.objects.get(pk=charge.pk)
    assert (after.units, after.amount, after.code, after.attendance_ids) == (
        1,
        H0015_RATE,
        "H0015",
        [record.pk],
    )
    assert after.status == "voided"
    adjustment = ChargeAdjustment.objects.get(charge=charge)
    assert (adjustment.kind, adjustment.amount, adjustment.new_units) == (
        "void",
        Decimal("-250.00"),
        0,
    )
    assert adjustment.reason == (
        "Attendance corrected for Tue Oct 6, 2026: H0015 was 1 unit ($250.00), now not charged "
        "(-$250.00)."
    )
    assert adjustment.created_by == books.users["billing"]
    assert (tuesday, "2 h 40 min attended; this payer bills H0015 from 3 h") in _unbilled(patient)
    assert Charge.objects.filter(patient=patient).count() == 4  # no charge removed or added
    assert (result.charges, result.adjustments, result.voided) == (0, 1, 1)


def test_a_second_session_of_the_same_code_is_a_change_and_the_charge_stays_untouched(
    books: Books,
) -> None:
    patient, episode = books.patient("Quentin", "McTestface", books.itemized)
    wednesday = MONDAY + dt.timedelta(days=2)
    first = books.individual(episode, wednesday, 45)
    attendance_record(session=first, episode=episode, status="present", by=books.actor("clinician"))
    books.post()
    charge = Charge.objects.get(patient=patient)
    assert (charge.code, charge.units, charge.amount) == ("90834", 1, Decimal("110.00"))

    second = books.individual(episode, wednesday, 50)  # late-added: a second 90834 that day
    added = attendance_record(
        session=second, episode=episode, status="present", by=books.actor("clinician")
    )
    books.post()

    after = Charge.objects.get(pk=charge.pk)
    assert (after.units, after.amount, after.status, after.version) == (
        1,
        Decimal("110.00"),
        "open",
        charge.version,
    )
    adjustment = ChargeAdjustment.objects.get(charge=charge)
    assert (
        adjustment.kind,
        adjustment.previous_units,
        adjustment.new_units,
        adjustment.amount,
    ) == (
        "change",
        1,
        2,
        Decimal("110.00"),
    )
    assert sorted(adjustment.attendance_ids) == sorted(
        [Attendance.objects.get(session=first).pk, added.pk]
    )
    assert Charge.objects.filter(patient=patient).count() == 1


def test_a_line_newly_due_on_a_day_already_charged_is_posted_with_an_add_adjustment(
    books: Books,
) -> None:
    patient, episode = books.patient("Quentin", "McTestface", books.itemized)
    thursday = MONDAY + dt.timedelta(days=3)
    books.attend(episode, thursday, "group")
    short = books.individual(episode, thursday, 10)
    record = attendance_record(
        session=short, episode=episode, status="present", by=books.actor("clinician")
    )
    books.post()
    assert list(Charge.objects.values_list("code", flat=True)) == ["90853"]

    # The clinician corrects the minutes: it was a 40-minute session.
    GroupSession.objects.filter(pk=short.pk).update(
        ends_at=short.starts_at + dt.timedelta(minutes=40)
    )
    short.refresh_from_db()
    attendance_record(
        session=short,
        episode=episode,
        status="present",
        minutes_attended=40,
        expected_version=record.version,
        by=books.actor("clinician"),
    )
    books.post()

    added = Charge.objects.get(patient=patient, code="90834")
    adjustment = ChargeAdjustment.objects.get()
    assert (adjustment.charge, adjustment.kind, adjustment.amount) == (
        added,
        "add",
        Decimal("110.00"),
    )
    assert _unbilled(patient) == []


def test_posting_twice_changes_nothing(books: Books) -> None:
    _patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)
    books.post()
    charges = list(Charge.objects.values_list("id", "version", "status", "amount"))
    unbilled = list(UnbilledDay.objects.values_list("id", "reason"))

    again = books.post()

    assert list(Charge.objects.values_list("id", "version", "status", "amount")) == charges
    assert list(UnbilledDay.objects.values_list("id", "reason")) == unbilled
    assert not ChargeAdjustment.objects.exists()
    assert (again.charges, again.adjustments, again.voided, again.unbilled) == (0, 0, 0, 1)


def test_a_user_of_another_site_is_refused_and_the_attempt_audited(books: Books) -> None:
    _patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)

    with pytest.raises(NotPermitted):
        books.post("other_billing")

    assert not Charge.objects.exists() and not UnbilledDay.objects.exists()
    denied = AuditEntry.objects.get(outcome="denied", object_type="charge_posting")
    assert denied.user_id == books.users["other_billing"].pk
    # Without a site they post only where they work: nothing of Riverbend's.
    result = books.post("other_billing", site=None)
    assert (result.sites, result.charges) == (1, 0)
    assert not Charge.objects.exists()


def test_intake_may_not_post_charges(books: Books) -> None:
    _patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)

    with pytest.raises(NotPermitted):
        books.post("intake")

    assert not Charge.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", object_type="charge_posting").exists()


def test_the_posting_is_audited_naming_each_patient_read(books: Books) -> None:
    patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)
    books.post()
    entry = AuditEntry.objects.get(object_type="charge_posting", outcome="ok")
    assert entry.patient_id == patient.pk and entry.action == "create"
    assert entry.detail == {
        "period": ["2026-10-01", "2026-10-31"],
        "charges": 4,
        "adjustments": 0,
        "voided": 0,
        "unbilled": 1,
    }


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (dt.date(2026, 10, 31), dt.date(2026, 10, 1), "period"),
        (dt.date(2026, 6, 1), dt.date(2026, 10, 31), "period_too_long"),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 2), "period_not_over"),
    ],
)
def test_a_period_that_cannot_be_posted_is_refused(
    books: Books, start: dt.date, end: dt.date, code: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        services.charges_post(by=books.actor("billing"), period_start=start, period_end=end)
    assert refused.value.code == code


def test_gathering_reads_each_table_once_whatever_the_number_of_patients(
    books: Books, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    def count_queries() -> None:
        with django_assert_num_queries(9):
            gathered = gather(
                site=books.site,
                window_start=dt.date(2026, 9, 28),
                window_end=dt.date(2026, 11, 1),
                period_start=OCTOBER[0],
                period_end=OCTOBER[1],
            )
        assert gathered.attended

    _, first = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, first)
    books.post()
    count_queries()
    for name in ("Quentin", "Barnaby", "Wilhelmina"):
        _, episode = books.patient(name, "McTestface", books.itemized)
        _week(books, episode)
        books.individual(episode, MONDAY, 45)
    books.post()
    count_queries()


def test_the_group_count_is_the_number_attended(books: Books) -> None:
    episodes = [books.patient(f"Testy{n}", "Groupmember", books.itemized)[1] for n in range(3)]
    for episode in episodes:
        books.attend(episode, MONDAY, "group")
    gathered = gather(
        site=books.site,
        window_start=MONDAY,
        window_end=MONDAY,
        period_start=MONDAY,
        period_end=MONDAY,
    )
    assert gathered.participants == {books.sessions[(MONDAY, "group")].pk: 3}


def test_a_group_over_the_payers_limit_is_not_billed(books: Books) -> None:
    services.payer_billing_update(
        config=PayerProgramBilling.objects.get(payer=books.itemized),
        max_group_size=2,
        by=books.actor("director"),
    )
    patients = [books.patient(f"Testy{n}", "Groupmember", books.itemized) for n in range(3)]
    for _, episode in patients:
        books.attend(episode, MONDAY, "group")
    books.post()
    assert not Charge.objects.exists()
    assert _unbilled(patients[0][0]) == [
        (MONDAY, "3 participants in the group; this payer bills groups of at most 2")
    ]


def test_selectors_show_a_patients_charges_and_a_sites_unbilled_days_audited(
    books: Books,
) -> None:
    patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)
    books.post()

    charges = selectors.patient_charges(actor=books.actor("billing"), patient_id=patient.pk)
    assert [c.code for c in charges] == ["H0015"] * 4
    assert AuditEntry.objects.filter(object_type="charges", patient_id=patient.pk).exists()
    rows = selectors.site_unbilled_days(
        actor=books.actor("billing"),
        site_id=books.site.pk,
        period_start=OCTOBER[0],
        period_end=OCTOBER[1],
    )
    assert [(r.patient, r.reason) for r in rows] == [
        (patient, "2 h attended; this payer bills H0015 from 3 h")
    ]
    entry = AuditEntry.objects.get(object_type="unbilled_day")
    assert entry.patient_id == patient.pk
    with pytest.raises(NotPermitted):
        selectors.patient_charges(actor=books.actor("other_billing"), patient_id=patient.pk)
    with pytest.raises(NotPermitted):
        selectors.site_unbilled_days(
            actor=books.actor("other_billing"),
            site_id=books.site.pk,
            period_start=OCTOBER[0],
            period_end=OCTOBER[1],
        )


def test_the_job_posts_with_progress_and_says_what_it_did(books: Books) -> None:
    patient, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)

    job = jobs.enqueue(
        tasks.post_charges, "2026-10-01", "2026-10-31", books.users["billing"].pk, books.site.pk
    )
    jobs.run_queued()

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total) == (1, 1)
    assert job.outcome == (
        "Posted 2026-10-01 to 2026-10-31 at 1 site(s) for 1 patient(s): 4 new charge(s), "
        "0 adjustment(s) (0 voided), 1 unbilled service day(s) listed."
    )
    assert "Zephyrine" not in job.outcome
    assert Charge.objects.filter(patient=patient).count() == 4
    assert AuditEntry.objects.get(object_type="charge_posting").channel == "task"


def test_the_command_posts_a_month(books: Books) -> None:
    _, episode = books.patient("Zephyrine", "Testperson", books.per_diem)
    _week(books, episode)
    out = io.StringIO()
    call_command(
        "charges",
        "post",
        "--period",
        "2026-10",
        "--as",
        books.users["billing"].username,
        "--site",
        "Riverbend (fictional)",
        stdout=out,
    )
    assert "4 new charge(s)" in out.getvalue()
    assert AuditEntry.objects.get(object_type="charge_posting").channel == "cli"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "is not a month from 2000-01 to 2100-12"),
        (["--period", "October"], "is not a month (YYYY-MM"),
        (["--period", "2026-10", "--site", "Nowhere (fictional)"], "No site is named"),
        (["--period", "2026-12"], "Charges are posted for days that are over"),
    ],
)
def test_the_command_refuses_bad_input_with_exit_code_2(
    books: Books, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("charges", "post", "--as", books.users["billing"].username, *args)
    assert refused.value.returncode == 2
    assert message in str(refused.value)


def test_the_command_refuses_an_unknown_user(books: Books) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("charges", "post", "--period", "2026-10", "--as", "nobody-fictional")
    assert refused.value.returncode == 2


def test_an_attended_prescriber_visit_is_listed_unbilled_with_why(books: Books) -> None:
    """No code for a medication-management visit is in ../shared/domain.md: posting lists it."""
    prescriber = make_user(Role.PRESCRIBER, sites=[books.site], org=books.site.organization)
    patient, episode = books.patient("Ophelia", "Dosecheck", books.itemized)
    tuesday = MONDAY + dt.timedelta(days=1)
    visit = make_session(
        books.site,
        prescriber,
        tuesday,
        at=dt.time(11, 0),
        minutes=30,
        kind="medication_mgmt",
        title="Medication management",
        episode=episode,
    )
    attendance_record(session=visit, episode=episode, status="present", by=books.actor("clinician"))

    books.post()

    assert not Charge.objects.filter(patient=patient).exists()
    (row,) = _unbilled(patient)
    assert row[0] == tuesday
    assert row[1].startswith("medication-management visit (prescriber): no billing code")


def test_a_payer_cannot_map_medication_visits_to_another_service() -> None:
    with pytest.raises(ValueError, match="Medication-management visits are not billed"):
        session_kinds_of({"medication_mgmt": "individual"})
