"""Charges from attendance without a database. Payers, programs and rates are fictional; each rule's
source is in the test's docstring (../shared/domain.md sections 2 and 3 unless said otherwise)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.billing.domain.charges import (
    CMS_PSYCHOTHERAPY_TIME_BANDS,
    MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES,
    MEDICARE_IOP_CONDITION_CODE,
    MEDICATION_MANAGEMENT_REASON,
    NGS_GROUP_PSYCHOTHERAPY_MAX_PARTICIPANTS,
    AdjustmentKind,
    AttendedService,
    BillingMode,
    ClaimForm,
    FeeSchedule,
    FeeScheduleEntry,
    MedicareDayTier,
    PayerBillingRules,
    ServiceKind,
    TimeBand,
    adjustments_for,
    charges_for_day,
    charges_for_period,
    charges_for_week,
    duration_words,
)
from openiop.core.dates import IsoWeek

D = Decimal
MON = dt.date(2026, 3, 2)  # Monday of ISO week 2026-W10
WEEK = IsoWeek(2026, 10)
START = dt.date(2026, 1, 1)

PAYER = "acme"
PROGRAM = "sud"

FEES = FeeSchedule(
    [
        FeeScheduleEntry(PAYER, PROGRAM, "H0015", D("250.00"), START, revenue_code="0906"),
        FeeScheduleEntry(PAYER, PROGRAM, "S9480", D("300.00"), START, revenue_code="0905"),
        FeeScheduleEntry(PAYER, PROGRAM, "90832", D("60.00"), START, revenue_code="0914"),
        FeeScheduleEntry(PAYER, PROGRAM, "90834", D("90.00"), START, revenue_code="0914"),
        FeeScheduleEntry(PAYER, PROGRAM, "90837", D("120.00"), START, revenue_code="0914"),
        FeeScheduleEntry(PAYER, PROGRAM, "90846", D("100.00"), START, revenue_code="0916"),
        FeeScheduleEntry(PAYER, PROGRAM, "90847", D("110.00"), START, revenue_code="0916"),
        FeeScheduleEntry(PAYER, PROGRAM, "90853", D("40.00"), START, revenue_code="0915"),
        FeeScheduleEntry(PAYER, PROGRAM, "G0410", D("45.00"), START, revenue_code="0905"),
        FeeScheduleEntry(PAYER, PROGRAM, "G0177", D("35.00"), START, revenue_code="0905"),
    ]
)

# Fictional payer configurations: the thresholds are the payer's, passed in as each test needs.
ITEMIZED_CODES = {
    ServiceKind.INDIVIDUAL: CMS_PSYCHOTHERAPY_TIME_BANDS,
    ServiceKind.FAMILY_WITH_PATIENT: (TimeBand("90847", 26),),
    ServiceKind.FAMILY_WITHOUT_PATIENT: (TimeBand("90846", 26),),
    ServiceKind.GROUP: (TimeBand("90853", 1),),
}
MEDICARE_CODES = {
    ServiceKind.INDIVIDUAL: CMS_PSYCHOTHERAPY_TIME_BANDS,
    ServiceKind.GROUP: (TimeBand("G0410", 1),),
    ServiceKind.EDUCATION: (TimeBand("G0177", 1),),
}


def h0015(**overrides: object) -> PayerBillingRules:
    values: dict[str, object] = {
        "payer": PAYER,
        "program": PROGRAM,
        "mode": BillingMode.PER_DIEM,
        "claim_form": ClaimForm.INSTITUTIONAL,
        "per_diem_code": "H0015",
        "min_minutes_per_day": 180,
    }
    values.update(overrides)
    return PayerBillingRules(**values)  # type: ignore[arg-type]


def itemized(**overrides: object) -> PayerBillingRules:
    values: dict[str, object] = {
        "payer": PAYER,
        "program": PROGRAM,
        "mode": BillingMode.ITEMIZED,
        "claim_form": ClaimForm.PROFESSIONAL,
        "codes": ITEMIZED_CODES,
    }
    values.update(overrides)
    return PayerBillingRules(**values)  # type: ignore[arg-type]


def medicare(**overrides: object) -> PayerBillingRules:
    values: dict[str, object] = {
        "payer": PAYER,
        "program": PROGRAM,
        "mode": BillingMode.MEDICARE_IOP,
        "claim_form": ClaimForm.INSTITUTIONAL,
        "codes": MEDICARE_CODES,
    }
    values.update(overrides)
    return PayerBillingRules(**values)  # type: ignore[arg-type]


def svc(
    sid: str,
    minutes: int,
    kind: ServiceKind = ServiceKind.GROUP,
    day: dt.date = MON,
    participants: int | None = 8,
) -> AttendedService:
    return AttendedService(sid, day, kind, minutes, participants)


# --- per diem ---------------------------------------------------------------------------------


def test_h0015_bills_one_unit_for_a_day_of_three_hours() -> None:
    """H0015: >=3 h/day [domain.md 2.3, Carepatron]; commercial per diem is one revenue code, one
    unit per attended day [domain.md 2.2, BCBS Nebraska RP-PI-002]; 0906 IOP-chemical dependency on
    837I [domain.md 2.2, 3]."""
    result = charges_for_day([svc("a", 90), svc("b", 90)], h0015(), FEES)
    assert result.not_billed == []
    (charge,) = result.charges
    assert (charge.code, charge.units, charge.amount, charge.revenue_code) == (
        "H0015",
        1,
        D("250.00"),
        "0906",
    )
    assert charge.service_ids == ("a", "b")
    assert charge.claim_form == ClaimForm.INSTITUTIONAL
    assert charge.condition_codes == ()


def test_h0015_short_day_is_listed_with_its_reason_in_words() -> None:
    """Issue 16 point 2: every attended day that produces no charge is listed with its reason, e.g.
    "2 h 40 min attended; this payer bills H0015 from 3 h" (H0015 >=3 h/day, domain.md 2.3)."""
    result = charges_for_day([svc("a", 90), svc("b", 70)], h0015(), FEES)
    assert result.charges == []
    (missed,) = result.not_billed
    assert missed.reason == "2 h 40 min attended; this payer bills H0015 from 3 h"
    assert missed.service_ids == ("a", "b")
    assert missed.service_date == MON


def test_the_daily_minimum_is_the_payers_configuration() -> None:
    """The payer's thresholds are configuration (issue 16; domain.md 2.3 "make per-payer config"):
    a payer without a daily minimum bills the day; one with 2 h bills 2 h 40 min."""
    services = [svc("a", 90), svc("b", 70)]
    assert len(charges_for_day(services, h0015(min_minutes_per_day=None), FEES).charges) == 1
    assert len(charges_for_day(services, h0015(min_minutes_per_day=120), FEES).charges) == 1


def test_s9480_on_837p_has_no_revenue_code() -> None:
    """S9480 IOP psychiatric per diem [domain.md 2.3, Pabau]; 837P (CMS-1500) lines carry no revenue
    code, 837I lines do (SV201) [domain.md 3]."""
    rules = h0015(per_diem_code="S9480", claim_form=ClaimForm.PROFESSIONAL)
    (charge,) = charges_for_day([svc("a", 180)], rules, FEES).charges
    assert (charge.code, charge.revenue_code, charge.amount) == ("S9480", None, D("300.00"))


def test_837i_line_without_a_revenue_code_is_not_billed() -> None:
    """837I: SV201 revenue code on every line [domain.md 3]; 0905-0907 stay payer-configurable
    [domain.md 2.2], so a missing one is a configuration gap, reported in words."""
    fees = FeeSchedule([FeeScheduleEntry(PAYER, PROGRAM, "H0015", D("250.00"), START)])
    result = charges_for_day([svc("a", 200)], h0015(), fees)
    assert result.charges == []
    assert result.not_billed[0].reason == (
        "no revenue code for H0015 in this payer's fee schedule; an 837I line needs one"
    )


def test_no_fee_on_the_date_is_listed() -> None:
    """Fee schedules have effective dates (issue 16 point 2): a day outside every entry is listed."""
    fees = FeeSchedule(
        [
            FeeScheduleEntry(
                PAYER,
                PROGRAM,
                "H0015",
                D("250.00"),
                START,
                dt.date(2026, 2, 28),
                revenue_code="0906",
            )
        ]
    )
    result = charges_for_day([svc("a", 200)], h0015(), fees)
    assert result.not_billed[0].reason == (
        "no fee for H0015 on 2026-03-02 in this payer's fee schedule"
    )


def test_rate_follows_the_effective_dates() -> None:
    """Fee schedules have effective dates (issue 16 point 2)."""
    fees = FeeSchedule(
        [
            FeeScheduleEntry(
                PAYER,
                PROGRAM,
                "H0015",
                D("250.00"),
                START,
                dt.date(2026, 3, 1),
                revenue_code="0906",
            ),
            FeeScheduleEntry(
                PAYER, PROGRAM, "H0015", D("275.50"), dt.date(2026, 3, 2), revenue_code="0906"
            ),
        ]
    )
    before = charges_for_day([svc("a", 200, day=dt.date(2026, 3, 1))], h0015(), fees)
    after = charges_for_day([svc("a", 200)], h0015(), fees)
    assert before.charges[0].amount == D("250.00")
    assert after.charges[0].amount == D("275.50")


def test_overlapping_fees_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        FeeSchedule(
            [
                FeeScheduleEntry(PAYER, PROGRAM, "H0015", D("250.00"), START),
                FeeScheduleEntry(PAYER, PROGRAM, "H0015", D("260.00"), dt.date(2026, 6, 1)),
            ]
        )


def test_short_day_billed_as_discrete_services_where_the_payer_says_so() -> None:
    """NY OASAS IOS: billed daily if >=3 h attended; <3 h days billed as discrete services
    [domain.md 2.3, WCH]."""
    rules = h0015(per_diem_code="S9480", codes=ITEMIZED_CODES, short_day_as_services=True)
    services = [svc("a", 60), svc("b", 50, ServiceKind.INDIVIDUAL, participants=None)]
    result = charges_for_day(services, rules, FEES)
    assert result.not_billed == []
    assert sorted(c.code for c in result.charges) == ["90834", "90853"]


def test_weekly_minimum_refuses_the_week_with_words() -> None:
    """AZ AHCCCS S9480: >=9 h/wk [domain.md 2.3, azcompletehealth 2024]; a payer's hours a week are
    configuration (issue 16)."""
    rules = h0015(per_diem_code="S9480", min_minutes_per_week=540)
    services = [svc(f"d{i}", 180, day=MON + dt.timedelta(days=i)) for i in range(2)]
    result = charges_for_week(WEEK, services, rules, FEES)
    assert result.charges == []
    assert [n.reason for n in result.not_billed] == [
        "6 h attended that week; this payer bills from 9 h a week"
    ] * 2
    services.append(svc("d2", 180, day=MON + dt.timedelta(days=2)))
    assert len(charges_for_week(WEEK, services, rules, FEES).charges) == 3


def test_days_a_week_minimum() -> None:
    """H0015: >=3 days/wk [domain.md 2.3, Carepatron], as the payer's configuration."""
    rules = h0015(min_days_per_week=3)
    services = [svc(f"d{i}", 200, day=MON + dt.timedelta(days=i)) for i in range(2)]
    result = charges_for_week(WEEK, services, rules, FEES)
    assert (
        result.not_billed[0].reason
        == "2 days attended that week; this payer bills from 3 days a week"
    )


def test_weekly_minimum_needs_the_weeks_minutes() -> None:
    with pytest.raises(ValueError, match="minutes attended that week"):
        charges_for_day([svc("a", 200)], h0015(min_minutes_per_week=540), FEES)


# --- itemized CPT -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837"), (90, "90837")],
)
def test_individual_psychotherapy_code_by_minutes(minutes: int, code: str) -> None:
    """90832/90834/90837 are 30/45/60 min [domain.md 2.3]; the time ranges 16-37, 38-52, 53+ are
    the Medicare contractor's [Novitas Solutions JL, citing LCD L35101 Psychiatric Codes]."""
    service = svc("a", minutes, ServiceKind.INDIVIDUAL, participants=None)
    (charge,) = charges_for_day([service], itemized(), FEES).charges
    assert (charge.code, charge.units) == (code, 1)


def test_individual_under_16_minutes_is_not_billed() -> None:
    """ "Do not report psychotherapy codes for any session lasting less than 16 minutes" [Novitas
    Solutions JL, LCD L35101]."""
    service = svc("a", 15, ServiceKind.INDIVIDUAL, participants=None)
    result = charges_for_day([service], itemized(), FEES)
    assert result.charges == []
    assert result.not_billed[0].reason == "15 min attended; this payer bills 90832 from 16 min"


def test_family_codes_with_and_without_the_patient() -> None:
    """90846 family without patient, 90847 with patient [domain.md 2.3]; the minutes are the
    payer's configuration here (26 min in this fictional payer)."""
    services = [
        svc("with", 50, ServiceKind.FAMILY_WITH_PATIENT, participants=None),
        svc("without", 50, ServiceKind.FAMILY_WITHOUT_PATIENT, participants=None),
    ]
    result = charges_for_day(services, itemized(), FEES)
    assert {c.service_ids[0]: c.code for c in result.charges} == {
        "with": "90847",
        "without": "90846",
    }


def test_a_kind_the_payer_has_no_code_for_is_listed() -> None:
    service = svc("a", 60, ServiceKind.EDUCATION, participants=None)
    result = charges_for_day([service], itemized(), FEES)
    assert result.not_billed[0].reason == "this payer has no code for education sessions"


def test_group_of_more_than_twelve_is_not_billed() -> None:
    """90853: <=12 participants [domain.md 2.3, NGS LCD L33632]."""
    rules = itemized(max_group_size=NGS_GROUP_PSYCHOTHERAPY_MAX_PARTICIPANTS)
    ok = charges_for_day([svc("a", 60, participants=12)], rules, FEES)
    too_big = charges_for_day([svc("a", 60, participants=13)], rules, FEES)
    assert ok.charges[0].code == "90853"
    assert too_big.charges == []
    assert too_big.not_billed[0].reason == (
        "13 participants in the group; this payer bills groups of at most 12"
    )


def test_group_count_must_be_documented() -> None:
    """90853: document the participant count [domain.md 2.3, NGS LCD L33632]."""
    rules = itemized(max_group_size=12, group_count_required=True)
    result = charges_for_day([svc("a", 60, participants=None)], rules, FEES)
    assert result.not_billed[0].reason == (
        "the number of participants is not documented; this payer needs it for group sessions"
    )
    assert len(charges_for_day([svc("a", 60, participants=None)], itemized(), FEES).charges) == 1


def test_oversized_group_does_not_count_towards_a_per_diem_day() -> None:
    """AZ AHCCCS S9480: groups <=8 [domain.md 2.3]; a group over the payer's limit is listed, and
    the day's other minutes are judged alone."""
    rules = h0015(per_diem_code="S9480", max_group_size=8)
    result = charges_for_day([svc("a", 120, participants=10), svc("b", 120)], rules, FEES)
    assert result.charges == []
    assert [n.reason for n in result.not_billed] == [
        "10 participants in the group; this payer bills groups of at most 8",
        "2 h attended; this payer bills S9480 from 3 h",
    ]


# --- Medicare IOP -----------------------------------------------------------------------------


def medicare_day(count: int, day: dt.date = MON) -> list[AttendedService]:
    return [svc(f"{day.isoformat()}-{i}", 60, day=day) for i in range(count)]


@pytest.mark.parametrize(
    ("count", "tier"),
    [
        (3, MedicareDayTier.THREE_SERVICES),
        (4, MedicareDayTier.FOUR_OR_MORE_SERVICES),
        (6, MedicareDayTier.FOUR_OR_MORE_SERVICES),
    ],
)
def test_medicare_day_tier_by_services(count: int, tier: MedicareDayTier) -> None:
    """Medicare IOP per diem: two APCs, days with 3 services and days with 4 or more [domain.md 2.1,
    CMS fact sheet; FCSO]; a revenue-code line and charge per covered service, condition code 92
    [domain.md 2.1, CGS; MM13222/MM13496]."""
    result = charges_for_day(medicare_day(count), medicare(), FEES)
    assert len(result.charges) == count
    assert {c.medicare_tier for c in result.charges} == {tier}
    assert all(c.condition_codes == (MEDICARE_IOP_CONDITION_CODE,) for c in result.charges)
    assert all(c.revenue_code == "0905" for c in result.charges)
    assert all(c.claim_form == ClaimForm.INSTITUTIONAL for c in result.charges)


def test_medicare_fewer_than_three_services_follows_the_configuration() -> None:
    """The "<3 services = no IOP payment" edit is UNCONFIRMED [domain.md 2.1]: without the payer's
    `min_services_per_day` the lines are drafted with no tier; with it, the day is listed."""
    loose = charges_for_day(medicare_day(2), medicare(), FEES)
    assert [c.medicare_tier for c in loose.charges] == [None, None]
    strict = charges_for_day(medicare_day(2), medicare(min_services_per_day=3), FEES)
    assert strict.charges == []
    assert strict.not_billed[0].reason == (
        "2 services attended; this payer bills IOP days from 3 services"
    )


def test_medicare_week_under_nine_hours_where_the_payer_refuses_it() -> None:
    """Medicare IOP: the physician certifies need for >=9 h of IOP services a week [domain.md 2.1,
    CMS fact sheet via Coronis; 42 CFR 424.24]; a payer that bills only such weeks configures it."""
    rules = medicare(min_minutes_per_week=MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES)
    short = medicare_day(4) + medicare_day(4, MON + dt.timedelta(days=2))
    result = charges_for_week(WEEK, short, rules, FEES)
    assert result.charges == []
    assert result.not_billed[0].reason == (
        "8 h attended that week; this payer bills from 9 h a week"
    )
    enough = short + medicare_day(3, MON + dt.timedelta(days=4))
    result = charges_for_week(WEEK, enough, rules, FEES)
    assert len(result.charges) == 11
    assert result.not_billed == []


def test_medicare_requires_the_institutional_claim() -> None:
    """Medicare IOP bill types 13x/76x/... are institutional claims [domain.md 2.1 bill types; 3]."""
    with pytest.raises(ValueError, match="837I"):
        medicare(claim_form=ClaimForm.PROFESSIONAL)


# --- configuration checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "overrides", "message"),
    [
        (h0015, {"per_diem_code": "90853"}, "H0015 or S9480"),
        (h0015, {"min_minutes_per_day": 0}, "1 or more"),
        (h0015, {"min_days_per_week": 8}, "7 days"),
        (itemized, {"min_minutes_per_day": 180}, "per-diem"),
        (itemized, {"min_services_per_day": 3}, "Medicare"),
        (
            itemized,
            {"codes": {ServiceKind.INDIVIDUAL: (TimeBand("90832", 16, 40), TimeBand("90834", 38))}},
            "overlap",
        ),
    ],
)
def test_rules_refuse_inconsistent_configuration(
    make: Callable[..., PayerBillingRules],
    overrides: dict[str, str]
    | dict[str, int]
    | dict[str, dict[ServiceKind, tuple[TimeBand, TimeBand]]],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        make(**overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "9083"}, "five-character"),
        ({"modifiers": ("HQX",)}, "modifier"),
        ({"revenue_code": "905"}, "revenue code"),
        ({"rate": D("1.005")}, "cents"),
        ({"effective_to": dt.date(2025, 12, 31)}, "ends before"),
    ],
)
def test_fee_entries_refuse_bad_values(
    kwargs: dict[str, str] | dict[str, tuple[str]] | dict[str, D] | dict[str, dt.date], message: str
) -> None:
    values: dict[str, object] = {
        "payer": PAYER,
        "program": PROGRAM,
        "code": "H0015",
        "rate": D("1.00"),
        "effective_from": START,
    }
    values.update(kwargs)
    with pytest.raises(ValueError, match=message):
        FeeScheduleEntry(**values)  # type: ignore[arg-type]


def test_modifiers_are_carried_to_the_draft() -> None:
    fees = FeeSchedule(
        [
            FeeScheduleEntry(
                PAYER, PROGRAM, "H0015", D("250.00"), START, modifiers=("HF",), revenue_code="0906"
            )
        ]
    )
    (charge,) = charges_for_day([svc("a", 200)], h0015(), fees).charges
    assert charge.modifiers == ("HF",)


@pytest.mark.parametrize(
    ("minutes", "words"), [(160, "2 h 40 min"), (180, "3 h"), (40, "40 min"), (0, "0 min")]
)
def test_duration_words(minutes: int, words: str) -> None:
    assert duration_words(minutes) == words


def test_a_day_needs_its_services_on_one_date() -> None:
    with pytest.raises(ValueError, match="share its date"):
        charges_for_day([svc("a", 60), svc("b", 60, day=MON + dt.timedelta(days=1))], h0015(), FEES)
    with pytest.raises(ValueError, match="once"):
        charges_for_day([svc("a", 60), svc("a", 60)], h0015(), FEES)


# --- adjustments --------------------------------------------------------------------------------


def test_a_correction_after_a_charge_is_an_adjustment() -> None:
    """Issue 16 point 2: a correction to attendance after a charge exists creates an adjustment,
    never a silent change. Here a day corrected below the payer's 3 h voids its H0015."""
    before = charges_for_day([svc("a", 120), svc("b", 60)], h0015(), FEES).charges
    after = charges_for_day([svc("a", 120), svc("b", 40)], h0015(), FEES).charges
    (adjustment,) = adjustments_for(before, after)
    assert adjustment.kind == AdjustmentKind.VOID
    assert (adjustment.previous_amount, adjustment.new_amount, adjustment.delta) == (
        D("250.00"),
        D("0.00"),
        D("-250.00"),
    )
    assert adjustment.previous_service_ids == ("a", "b")
    assert adjustment.reason == (
        "Attendance corrected for Mon Mar 2, 2026: H0015 was 1 unit ($250.00), now not charged "
        "(-$250.00)."
    )


def test_individual_minutes_corrected_void_one_code_and_add_another() -> None:
    """90837 (53+ min) corrected to 45 min is 90834 (38-52) [Novitas JL, LCD L35101]."""
    before = charges_for_day([svc("a", 55, ServiceKind.INDIVIDUAL)], itemized(), FEES).charges
    after = charges_for_day([svc("a", 45, ServiceKind.INDIVIDUAL)], itemized(), FEES).charges
    adjustments = adjustments_for(before, after)
    assert [(a.kind, a.code, a.delta) for a in adjustments] == [
        (AdjustmentKind.ADD, "90834", D("90.00")),
        (AdjustmentKind.VOID, "90837", D("-120.00")),
    ]


def test_same_charges_need_no_adjustment() -> None:
    charges = charges_for_day([svc("a", 200)], h0015(), FEES).charges
    assert adjustments_for(charges, charges) == []


# --- properties -------------------------------------------------------------------------------

KINDS = st.sampled_from(list(ServiceKind))
RULES = st.sampled_from(
    [
        h0015(),
        h0015(per_diem_code="S9480", max_group_size=8, group_count_required=True),
        h0015(codes=ITEMIZED_CODES, short_day_as_services=True, min_minutes_per_week=540),
        h0015(min_days_per_week=3, claim_form=ClaimForm.PROFESSIONAL),
        itemized(max_group_size=12, group_count_required=True),
        itemized(),
        medicare(),
        medicare(min_services_per_day=3, min_minutes_per_week=540, max_group_size=12),
    ]
)


@st.composite
def services_strategy(draw: st.DrawFn) -> list[AttendedService]:
    count = draw(st.integers(min_value=0, max_value=14))
    return [
        AttendedService(
            service_id=f"s{i}",
            date=MON + dt.timedelta(days=draw(st.integers(min_value=0, max_value=13))),
            kind=draw(KINDS),
            minutes=draw(st.integers(min_value=0, max_value=240)),
            participants=draw(st.none() | st.integers(min_value=1, max_value=20)),
        )
        for i in range(count)
    ]


# No per-example deadline: a two-week period per example can pass 200 ms on the shared CI cores.
@settings(deadline=None)
@given(services_strategy(), RULES)
def test_every_service_is_charged_or_listed_never_both_never_dropped(
    services: list[AttendedService], rules: PayerBillingRules
) -> None:
    """Issue 16 point 2: every attended day that does not produce a charge is listed with its
    reason; nothing is dropped and nothing is both charged and listed."""
    result = charges_for_period(services, rules, FEES)
    charged = [sid for c in result.charges for sid in c.service_ids]
    listed = [sid for n in result.not_billed for sid in n.service_ids]
    assert sorted(charged + listed) == sorted(s.service_id for s in services)
    assert all(n.reason for n in result.not_billed)
    assert all(c.amount == c.rate * c.units for c in result.charges)
    if rules.mode == BillingMode.PER_DIEM and not rules.short_day_as_services:
        days = [c.service_date for c in result.charges]
        assert len(days) == len(set(days))  # one unit per attended day (domain.md 2.2)
    if rules.mode == BillingMode.MEDICARE_IOP:
        assert all(c.condition_codes == ("92",) for c in result.charges)
    if rules.claim_form == ClaimForm.PROFESSIONAL:
        assert all(c.revenue_code is None for c in result.charges)
    else:
        assert all(c.revenue_code is not None for c in result.charges)


@settings(deadline=None)
@given(services_strategy(), services_strategy(), RULES)
def test_adjustments_sum_to_the_difference(
    first: list[AttendedService], second: list[AttendedService], rules: PayerBillingRules
) -> None:
    """A correction yields adjustments whose deltas add up to new total minus previous total."""
    before = charges_for_period(first, rules, FEES)
    after = charges_for_period(second, rules, FEES)
    adjustments = adjustments_for(before.charges, after.charges)
    assert sum((a.delta for a in adjustments), D(0)) == after.total - before.total
    assert all(a.delta != 0 or a.previous_units != a.new_units for a in adjustments)
    assert adjustments_for(after.charges, after.charges) == []


@given(st.integers(min_value=1, max_value=300))
def test_cms_time_bands_pick_at_most_one_code(minutes: int) -> None:
    fitting = [band.code for band in CMS_PSYCHOTHERAPY_TIME_BANDS if band.fits(minutes)]
    assert len(fitting) == (1 if minutes >= 16 else 0)


def test_same_line_with_another_amount_is_a_change() -> None:
    """Never a silent change (issue 16 point 2): the same line re-priced is a CHANGE adjustment."""
    before = charges_for_day([svc("a", 200)], h0015(), FEES).charges
    fees = FeeSchedule(
        [FeeScheduleEntry(PAYER, PROGRAM, "H0015", D("275.50"), START, revenue_code="0906")]
    )
    after = charges_for_day([svc("a", 200)], h0015(), fees).charges
    (adjustment,) = adjustments_for(before, after)
    assert (adjustment.kind, adjustment.previous_units, adjustment.new_units, adjustment.delta) == (
        AdjustmentKind.CHANGE,
        1,
        1,
        D("25.50"),
    )


# --- medication-management visits (issue 18.2) -------------------------------------------------


@pytest.mark.parametrize(
    "rules", [itemized(), h0015(), medicare()], ids=["itemized", "h0015", "medicare"]
)
def test_a_medication_management_visit_is_listed_not_billed_in_every_mode(
    rules: PayerBillingRules,
) -> None:
    """../shared/domain.md gives no code for a prescriber's medication-management visit, so none is
    invented: the attended visit is listed with why."""
    visit = svc("rx", 30, ServiceKind.MEDICATION_MANAGEMENT, participants=None)
    result = charges_for_day([visit], rules, FEES)
    assert result.charges == []
    (listed,) = result.not_billed
    assert listed.service_ids == ("rx",)
    assert listed.reason == MEDICATION_MANAGEMENT_REASON
    assert "no billing code" in listed.reason


def test_a_medication_visit_does_not_make_up_a_per_diem_day() -> None:
    """H0015 from 3 h a day [domain.md 2.3]: 2 h 40 min of groups and a 30-minute prescriber visit
    is not a billed day, and each is listed with its own reason."""
    group = svc("g", 160)
    visit = svc("rx", 30, ServiceKind.MEDICATION_MANAGEMENT, participants=None)
    result = charges_for_day([group, visit], h0015(), FEES)
    assert result.charges == []
    reasons = {n.service_ids: n.reason for n in result.not_billed}
    assert reasons == {
        ("rx",): MEDICATION_MANAGEMENT_REASON,
        ("g",): "2 h 40 min attended; this payer bills H0015 from 3 h",
    }


def test_a_payer_cannot_configure_a_code_for_medication_visits() -> None:
    with pytest.raises(ValueError, match="Medication-management visits are not billed"):
        itemized(
            codes={**ITEMIZED_CODES, ServiceKind.MEDICATION_MANAGEMENT: (TimeBand("90832", 1),)}
        )
