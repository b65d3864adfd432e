"""Authorizations and Medicare IOP certification without a database. Reference numbers, coverages,
physicians and NPIs are fictional; every expected figure is counted by hand in the test. Sources:
issue 16 point 3 (authorizations, 80% / 7 days) and ../shared/domain.md 2.1 (certification)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.billing.domain.authorizations import (
    AUTHORIZATION_END_ALERT_DAYS,
    AUTHORIZATION_USAGE_ALERT_PERCENT,
    AlertKind,
    Authorization,
    BurnPoint,
    Certification,
    PlannedDay,
    RecertificationInterval,
    UnitKind,
    allocate,
    authorization_alerts,
    certification_alerts,
    forecast,
    recertification_due,
    uncertified_days,
    usage,
)
from openiop.billing.domain.charges import (
    MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES,
    ChargeDraft,
    ClaimForm,
)

D = dt.date
EOM = RecertificationInterval.EVERY_OTHER_MONTH
SIXTY = RecertificationInterval.SIXTY_DAYS
EARLIER = RecertificationInterval.EARLIER_OF_BOTH


def charge(day: dt.date, code: str = "H0015", units: int = 1) -> ChargeDraft:
    return ChargeDraft(
        payer="acme",
        program="sud",
        service_date=day,
        code=code,
        modifiers=(),
        revenue_code="0906",
        units=units,
        rate=Decimal("250.00"),
        amount=Decimal("250.00") * units,
        claim_form=ClaimForm.INSTITUTIONAL,
        service_ids=(f"svc-{day.isoformat()}-{code}",),
    )


AUTH = Authorization(
    reference_number="AUTH-1",
    coverage_key="primary",
    unit_kind=UnitKind.UNITS,
    authorized=20,
    start=D(2026, 3, 2),
    end=D(2026, 4, 10),
    service_codes=frozenset({"H0015"}),
)


def auth(**overrides: Any) -> Authorization:
    return replace(AUTH, **overrides)


CERT = Certification(
    signed=D(2026, 1, 15),
    physician_npi="1234567893",
    physician_name="Dr. Testy McTestface",
    start=D(2026, 1, 15),
    certified_weekly_minutes=MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES,
)


def cert(**overrides: Any) -> Certification:
    return replace(CERT, **overrides)


# --- the authorization itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_codes": frozenset()}, "must list the service codes"),
        ({"service_codes": frozenset({"h0015"})}, "five-character procedure code"),
        ({"authorized": 0}, "1 or more units"),
        ({"end": D(2026, 3, 1)}, "ends before it starts"),
        ({"reference_number": " "}, "reference number"),
        ({"coverage_key": ""}, "needs its coverage"),
    ],
)
def test_an_authorization_refuses_what_cannot_be_counted(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        auth(**overrides)


def test_words_name_the_quantity_and_the_dates() -> None:
    assert auth().words == "Authorization AUTH-1 (20 units, Mar 2 to Apr 10, 2026)"
    across = auth(unit_kind=UnitKind.DAYS, authorized=1, start=D(2025, 12, 29))
    assert across.words == "Authorization AUTH-1 (1 day, Dec 29, 2025 to Apr 10, 2026)"


# --- usage -----------------------------------------------------------------------------------


def test_units_count_from_charges_inside_the_dates_first_and_last_day_included() -> None:
    charges = [
        charge(D(2026, 3, 1)),  # the day before the start
        charge(D(2026, 3, 2)),  # the first day
        charge(D(2026, 3, 20), units=3),
        charge(D(2026, 4, 10)),  # the last day
        charge(D(2026, 4, 11)),  # the day after the end
        charge(D(2026, 3, 3), code="90853"),  # a code the authorization does not list
        charge(D(2026, 3, 4), units=0),  # a voided line uses nothing
    ]
    used = usage(auth(), charges)
    assert used.used == 1 + 3 + 1
    assert (used.remaining, used.over, used.percent_used) == (15, 0, 25)


def test_days_count_distinct_service_dates() -> None:
    days = auth(
        unit_kind=UnitKind.DAYS,
        authorized=12,
        service_codes=frozenset({"G0410", "G0177", "90834"}),
    )
    charges = [
        charge(D(2026, 3, 2), "G0410"),
        charge(D(2026, 3, 2), "G0177"),
        charge(D(2026, 3, 2), "90834", units=2),
        charge(D(2026, 3, 3), "G0410"),
        charge(D(2026, 3, 4), "90853"),  # not listed: the day is not used
    ]
    assert usage(days, charges).used == 2


def test_a_leap_day_inside_the_dates_counts() -> None:
    leap = auth(start=D(2028, 2, 1), end=D(2028, 2, 29), authorized=3)
    assert usage(leap, [charge(D(2028, 2, 29)), charge(D(2028, 3, 1))]).used == 1


def test_usage_past_the_authorized_quantity_is_over_not_negative() -> None:
    used = usage(auth(authorized=2), [charge(D(2026, 3, 2), units=3)])
    assert (used.used, used.remaining, used.over, used.percent_used) == (3, 0, 1, 150)


# --- several authorizations of one coverage ----------------------------------------------------


def test_overlapping_authorizations_use_the_one_ending_first_while_it_has_room() -> None:
    short = auth(reference_number="SHORT", authorized=3, start=D(2026, 3, 1), end=D(2026, 3, 15))
    # LONG started first, yet SHORT, ending first, is used first.
    long = auth(reference_number="LONG", authorized=10, start=D(2026, 2, 20), end=D(2026, 3, 31))
    charges = [charge(D(2026, 3, d)) for d in (2, 3, 4, 5, 20)]
    result = allocate([long, short], charges)
    assert [(d.charge.service_date.day, d.reference_number) for d in result.draws] == [
        (2, "SHORT"),
        (3, "SHORT"),
        (4, "SHORT"),
        (5, "LONG"),  # SHORT is used up
        (20, "LONG"),  # only LONG covers the 20th
    ]
    assert result.usage_of("SHORT").used == 3
    assert result.usage_of("LONG").used == 2
    assert result.uncovered == ()
    # the usages come in the order the authorizations were given
    assert [u.authorization.reference_number for u in result.usages] == ["LONG", "SHORT"]


def test_a_charge_goes_whole_to_an_authorization_with_room_for_it() -> None:
    small = auth(reference_number="SMALL", authorized=2, end=D(2026, 3, 20))
    big = auth(reference_number="BIG", authorized=5)
    result = allocate([small, big], [charge(D(2026, 3, 2), units=3)])
    assert [(d.reference_number, d.quantity, d.over) for d in result.draws] == [("BIG", 3, 0)]


def test_without_room_anywhere_the_excess_is_reported_as_over() -> None:
    small = auth(reference_number="SMALL", authorized=2, end=D(2026, 3, 20))
    result = allocate([small], [charge(D(2026, 3, 2)), charge(D(2026, 3, 3), units=3)])
    assert [(d.reference_number, d.quantity, d.over) for d in result.draws] == [
        ("SMALL", 1, 0),
        ("SMALL", 3, 2),  # 1 was left
    ]
    usage_ = result.usage_of("SMALL")
    assert (usage_.used, usage_.remaining, usage_.over) == (4, 0, 2)


def test_equal_end_dates_use_the_earlier_start_then_the_reference_number() -> None:
    later_start = auth(reference_number="A", start=D(2026, 3, 2))
    earlier_start = auth(reference_number="B", start=D(2026, 3, 1))
    assert (
        allocate([later_start, earlier_start], [charge(D(2026, 3, 2))]).draws[0].reference_number
        == "B"
    )
    first = auth(reference_number="X-1")
    second = auth(reference_number="X-2")
    assert allocate([second, first], [charge(D(2026, 3, 2))]).draws[0].reference_number == "X-1"


def test_a_days_authorization_that_counted_the_date_takes_that_days_other_charges_free() -> None:
    days = auth(
        reference_number="DAYS",
        unit_kind=UnitKind.DAYS,
        authorized=1,
        service_codes=frozenset({"G0410", "G0177"}),
    )
    result = allocate([days], [charge(D(2026, 3, 2), "G0410"), charge(D(2026, 3, 2), "G0177")])
    assert [(d.quantity, d.over) for d in result.draws] == [(1, 0), (0, 0)]
    assert result.usage_of("DAYS").used == 1


def test_charges_no_authorization_covers_are_listed_with_why() -> None:
    result = allocate(
        [auth()],
        [charge(D(2026, 3, 3), code="90853"), charge(D(2026, 4, 13))],
    )
    assert result.draws == ()
    assert [u.reason for u in result.uncovered] == [
        "90853 on Tue Mar 3, 2026: no authorization of this coverage lists 90853",
        "H0015 on Mon Apr 13, 2026: outside the dates of its authorizations "
        "(AUTH-1 covers Mar 2 to Apr 10, 2026)",
    ]
    assert allocate([], [charge(D(2026, 3, 3))]).uncovered[0].reason == (
        "H0015 on Tue Mar 3, 2026: this coverage has no authorization"
    )


def test_secondary_coverage_counts_its_own_authorization_for_the_same_charges() -> None:
    primary = auth(reference_number="P-1", authorized=10)
    secondary = auth(
        reference_number="S-1",
        coverage_key="secondary",
        unit_kind=UnitKind.DAYS,
        authorized=3,
    )
    charges = [charge(D(2026, 3, d)) for d in (2, 3, 4, 5)]
    with pytest.raises(ValueError, match="one coverage"):
        allocate([primary, secondary], charges)
    assert allocate([primary], charges).usage_of("P-1").used == 4
    on_secondary = allocate([secondary], charges)
    assert on_secondary.usage_of("S-1").used == 4
    assert on_secondary.usage_of("S-1").over == 1
    assert on_secondary.draws[-1].over == 1  # the 4th day, 5 Mar, is beyond the 3 authorized


def test_reference_numbers_are_unique_within_a_coverage() -> None:
    with pytest.raises(ValueError, match="own reference number"):
        allocate([auth(), auth()], [])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 45), st.sampled_from(["H0015", "90853"]), st.integers(0, 3)),
        max_size=25,
    ),
    st.integers(1, 8),
    st.integers(1, 8),
)
def test_every_charge_is_drawn_once_or_uncovered_and_the_draws_add_up(
    rows: list[tuple[int, str, int]], first_quantity: int, second_quantity: int
) -> None:
    base = D(2026, 3, 1)
    charges = [charge(base + dt.timedelta(days=day), code, units) for day, code, units in rows]
    first = auth(reference_number="F", authorized=first_quantity, end=D(2026, 3, 20))
    second = auth(reference_number="S", authorized=second_quantity, start=D(2026, 3, 10))
    result = allocate([first, second], charges)
    billed = [c for c in charges if c.units]
    assert len(result.draws) + len(result.uncovered) == len(billed)
    for usage_ in result.usages:
        ref = usage_.authorization.reference_number
        assert usage_.used == sum(d.quantity for d in result.draws if d.reference_number == ref)
        assert usage_.over == sum(d.over for d in result.draws if d.reference_number == ref)
    # one authorization alone: allocate agrees with usage
    assert allocate([second], charges).usage_of("S").used == usage(second, charges).used


# --- forecast ---------------------------------------------------------------------------------

# Mondays, Wednesdays and Fridays from Fri 20 Mar 2026 to Mon 13 Apr 2026, one unit each.
MWF = [
    PlannedDay(D(2026, 3, 20), 1),
    PlannedDay(D(2026, 3, 23), 1),
    PlannedDay(D(2026, 3, 25), 1),
    PlannedDay(D(2026, 3, 27), 1),
    PlannedDay(D(2026, 3, 30), 1),
    PlannedDay(D(2026, 4, 1), 1),
    PlannedDay(D(2026, 4, 3), 1),
    PlannedDay(D(2026, 4, 6), 1),
    PlannedDay(D(2026, 4, 8), 1),
    PlannedDay(D(2026, 4, 10), 1),
    PlannedDay(D(2026, 4, 13), 1),
]
TODAY = D(2026, 3, 20)


def test_the_units_run_out_before_the_planned_discharge() -> None:
    # 20 authorized, 12 used: 8 left for the 10 planned days from today to discharge on 10 Apr
    # (13 Apr is after it); the 8th of them, Mon 6 Apr, uses the last unit.
    result = forecast(auth(), 12, MWF, D(2026, 4, 10), TODAY)
    assert result.remaining == 8
    assert result.days_left == 22  # 20 Mar to 10 Apr, both included
    assert result.run_out == D(2026, 4, 6)
    assert (result.short_within_dates, result.after_end, result.shortfall) == (2, 0, 2)
    assert result.first_uncovered == D(2026, 4, 8)
    assert result.runs_out_before_discharge
    assert not result.ends_before_discharge
    assert not result.covers_plan
    assert result.remaining_after_plan == 0
    assert [p.balance for p in result.series] == [8, 7, 6, 5, 4, 3, 2, 1, 0, -1, -2]
    assert result.series[0] == BurnPoint(TODAY, 8)
    assert result.series[-1] == BurnPoint(D(2026, 4, 10), -2)


def test_the_last_unit_on_the_discharge_day_covers_the_plan() -> None:
    # 10 left for exactly the 10 planned days up to discharge.
    result = forecast(auth(), 10, MWF, D(2026, 4, 10), TODAY)
    assert result.run_out == D(2026, 4, 10)
    assert result.shortfall == 0
    assert result.covers_plan
    assert not result.runs_out_before_discharge
    assert result.first_uncovered is None


def test_the_end_date_comes_before_the_planned_discharge() -> None:
    # Plenty of units, but the authorization ends Fri 3 Apr: 6, 8 and 10 Apr are after it.
    ending = auth(authorized=30, end=D(2026, 4, 3))
    result = forecast(ending, 0, MWF, D(2026, 4, 10), TODAY)
    assert result.ends_before_discharge
    assert not result.runs_out_before_discharge
    assert result.run_out is None
    assert (result.short_within_dates, result.after_end) == (0, 3)
    assert result.first_uncovered == D(2026, 4, 6)
    assert result.remaining_after_plan == 30 - 7
    assert len(result.series) == 1 + 7  # today and the 7 planned days up to 3 Apr


def test_a_discharge_before_the_end_leaves_units_over() -> None:
    result = forecast(auth(), 0, MWF, D(2026, 3, 27), TODAY)
    assert result.covers_plan
    assert not result.ends_before_discharge
    assert result.run_out is None
    assert result.remaining_after_plan == 20 - 4  # 20, 23, 25 and 27 Mar


def test_nothing_left_today_makes_every_planned_day_short() -> None:
    result = forecast(auth(), 20, MWF, D(2026, 4, 10), TODAY)
    assert result.used_up
    assert result.remaining == 0
    assert result.run_out is None
    assert result.short_within_dates == 10
    assert result.first_uncovered == TODAY
    assert result.series[0].balance == 0
    over = forecast(auth(), 23, MWF, D(2026, 4, 10), TODAY)
    assert over.remaining == 0
    assert over.series[0].balance == -3  # already 3 over


def test_several_units_a_day_run_out_part_way_through_a_day() -> None:
    planned = [PlannedDay(D(2026, 3, d), 2) for d in (23, 24, 25)]
    result = forecast(auth(), 15, planned, None, TODAY)  # 5 left, 2 a day
    assert result.run_out == D(2026, 3, 25)  # 2, 2, then 1 of the 2
    assert result.short_within_dates == 1
    assert [p.balance for p in result.series] == [5, 3, 1, -1]


def test_a_days_authorization_uses_one_day_per_date_and_merges_entries() -> None:
    days = auth(unit_kind=UnitKind.DAYS, authorized=3)
    planned = [
        PlannedDay(D(2026, 3, 23), 3),
        PlannedDay(D(2026, 3, 23), 1),  # a second entry for the same date
        PlannedDay(D(2026, 3, 24), 4),
        PlannedDay(D(2026, 3, 25), 2),
    ]
    result = forecast(days, 0, planned, None, TODAY)
    assert result.run_out == D(2026, 3, 25)
    assert result.shortfall == 0
    assert [p.balance for p in result.series] == [3, 2, 1, 0]


def test_past_days_and_days_before_the_start_are_not_planned_use() -> None:
    later = auth(start=D(2026, 3, 25))
    planned = [PlannedDay(D(2026, 3, d), 1) for d in (18, 23, 25, 27)]
    result = forecast(later, 0, planned, None, TODAY)
    # 18 Mar is past, 23 Mar before the start: only 25 and 27 Mar count
    assert [p.day for p in result.series] == [TODAY, D(2026, 3, 25), D(2026, 3, 27)]


def test_after_the_end_date_there_are_no_days_left() -> None:
    result = forecast(auth(), 5, [PlannedDay(D(2026, 4, 13), 1)], None, D(2026, 4, 11))
    assert result.days_left == 0
    assert result.after_end == 1
    on_last_day = forecast(auth(), 5, [], None, D(2026, 4, 10))
    assert on_last_day.days_left == 1


def test_a_planned_day_needs_units() -> None:
    with pytest.raises(ValueError, match="1 or more units"):
        PlannedDay(TODAY, 0)


# --- authorization alerts ----------------------------------------------------------------------


def test_the_issue_sets_80_percent_and_7_days() -> None:
    assert (AUTHORIZATION_USAGE_ALERT_PERCENT, AUTHORIZATION_END_ALERT_DAYS) == (80, 7)


@pytest.mark.parametrize(
    ("authorized", "used", "alerted"),
    [(20, 15, False), (20, 16, True), (7, 5, False), (7, 6, True), (1, 0, False), (1, 1, True)],
)
def test_the_usage_alert_starts_at_80_percent(authorized: int, used: int, alerted: bool) -> None:
    # 16/20 = 80%; 5/7 = 71%, 6/7 = 85%.
    alerts = authorization_alerts(auth(authorized=authorized), used, TODAY)
    kinds = [a.kind for a in alerts]
    assert (AlertKind.AUTHORIZATION_USAGE in kinds) is alerted


def test_the_usage_alert_says_how_much_is_used_and_keeps_its_key() -> None:
    (at_80,) = authorization_alerts(auth(), 16, TODAY)
    assert at_80.message == (
        "Authorization AUTH-1: 16 of 20 units used (80%), 4 left; it ends on Fri Apr 10, 2026."
    )
    (at_85,) = authorization_alerts(auth(), 17, TODAY)
    assert at_85.dedupe_key == at_80.dedupe_key == "auth-used-80:primary:AUTH-1:20"
    (amended,) = authorization_alerts(auth(authorized=21), 17, TODAY)
    assert amended.dedupe_key != at_80.dedupe_key
    (all_used,) = authorization_alerts(auth(), 20, TODAY)
    assert "all 20 units used" in all_used.message
    (over,) = authorization_alerts(auth(unit_kind=UnitKind.DAYS), 22, TODAY)
    assert "22 days used of 20 authorized, 2 over" in over.message


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 4, 2), None),  # 8 days before
        (D(2026, 4, 3), "ends in 7 days"),
        (D(2026, 4, 9), "ends tomorrow"),
        (D(2026, 4, 10), "ends today"),  # the last day it covers
        (D(2026, 4, 11), None),  # ended
    ],
)
def test_the_ending_alert_starts_7_days_before_the_end(
    today: dt.date, expected: str | None
) -> None:
    alerts = [
        a
        for a in authorization_alerts(auth(), 3, today)
        if a.kind == AlertKind.AUTHORIZATION_ENDING
    ]
    if expected is None:
        assert alerts == []
    else:
        (alert,) = alerts
        assert expected in alert.message
        assert "17 units left" in alert.message
        assert alert.dedupe_key == "auth-ends:primary:AUTH-1:2026-04-10"


def test_both_alerts_at_once_and_other_thresholds() -> None:
    kinds = [a.kind for a in authorization_alerts(auth(), 19, D(2026, 4, 9))]
    assert kinds == [AlertKind.AUTHORIZATION_USAGE, AlertKind.AUTHORIZATION_ENDING]
    assert authorization_alerts(auth(), 10, TODAY, usage_percent=50)[0].dedupe_key.startswith(
        "auth-used-50:"
    )
    assert authorization_alerts(auth(), 0, D(2026, 3, 31), end_warning_days=10) != []


# --- Medicare certification: the clock ------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "anchor", "due"),
    [
        (EOM, D(2026, 1, 15), D(2026, 3, 15)),
        (EOM, D(2025, 12, 31), D(2026, 2, 28)),  # February lacks the 31st
        (EOM, D(2027, 12, 31), D(2028, 2, 29)),  # leap year
        (EOM, D(2027, 12, 30), D(2028, 2, 29)),
        (EOM, D(2026, 7, 31), D(2026, 9, 30)),
        (EOM, D(2026, 8, 31), D(2026, 10, 31)),
        (EOM, D(2026, 11, 30), D(2027, 1, 30)),  # into the next year
        (SIXTY, D(2026, 1, 1), D(2026, 3, 2)),  # 31 + 28 + 1
        (SIXTY, D(2028, 1, 1), D(2028, 3, 1)),  # 31 + 29
        (EARLIER, D(2026, 1, 1), D(2026, 3, 1)),  # 2 months (59 days) is earlier
        (EARLIER, D(2026, 7, 1), D(2026, 8, 30)),  # 60 days is earlier than 1 Sep (62)
    ],
)
def test_recertification_is_due_by_the_configured_interval(
    interval: RecertificationInterval, anchor: dt.date, due: dt.date
) -> None:
    assert recertification_due(cert(signed=anchor, start=anchor), interval=interval) == due


def test_the_clock_runs_from_the_earlier_of_signature_and_start() -> None:
    signed_first = cert(signed=D(2026, 1, 3), start=D(2026, 1, 5))
    assert recertification_due(signed_first, interval=EOM) == D(2026, 3, 3)
    signed_late = cert(signed=D(2026, 1, 7), start=D(2026, 1, 5))
    assert recertification_due(signed_late, interval=EOM) == D(2026, 3, 5)


def test_an_end_set_by_the_physician_brings_the_due_date_forward() -> None:
    assert recertification_due(cert(end=D(2026, 2, 10)), interval=EOM) == D(2026, 2, 11)
    assert recertification_due(cert(end=D(2026, 6, 30)), interval=EOM) == D(2026, 3, 15)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"physician_npi": "123456789"}, "10-digit NPI"),
        ({"physician_name": " "}, "names the physician"),
        ({"end": D(2026, 1, 14)}, "end before it starts"),
        ({"certified_weekly_minutes": -1}, "0 or more"),
    ],
)
def test_a_certification_refuses_bad_input(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cert(**overrides)


# --- Medicare certification: uncertified days -----------------------------------------------------


def test_days_outside_every_certification_are_uncertified_first_and_last_day_included() -> None:
    # Certified 15 Jan (due 15 Mar: covers 15 Jan to 14 Mar); recertified late, on 16 Mar.
    certs = [cert(), cert(signed=D(2026, 3, 16), start=D(2026, 3, 16))]
    days = [D(2026, 1, 14), D(2026, 1, 15), D(2026, 3, 14), D(2026, 3, 15), D(2026, 3, 16)]
    result = uncertified_days(days, certs, interval=EOM)
    assert [u.day for u in result] == [D(2026, 1, 14), D(2026, 3, 15)]
    assert result[0].reason == (
        "before the first certification: Dr. Testy McTestface's certification signed "
        "Thu Jan 15, 2026 covers days from Thu Jan 15, 2026"
    )
    assert result[1].reason == (
        "Dr. Testy McTestface's certification signed Thu Jan 15, 2026 covers Jan 15 to Mar 14, "
        "2026; no recertification covers Sun Mar 15, 2026"
    )


def test_a_recertification_signed_by_the_due_date_leaves_no_gap() -> None:
    certs = [cert(), cert(signed=D(2026, 3, 15), start=D(2026, 3, 15))]
    days = [D(2026, 1, 15) + dt.timedelta(days=n) for n in range(0, 120)]  # to 14 May
    assert uncertified_days(days, certs, interval=EOM) == []
    # the recertification of 15 Mar is due in turn on 15 May
    assert [u.day for u in uncertified_days([D(2026, 5, 15)], certs, interval=EOM)] == [
        D(2026, 5, 15)
    ]


def test_the_interval_chosen_changes_which_days_are_certified() -> None:
    # Certified 1 Jul 2026: two months reach 31 Aug, 60 days only 29 Aug.
    certs = [cert(signed=D(2026, 7, 1), start=D(2026, 7, 1))]
    days = [D(2026, 8, 29), D(2026, 8, 30), D(2026, 8, 31), D(2026, 9, 1)]
    assert [u.day for u in uncertified_days(days, certs, interval=EOM)] == [D(2026, 9, 1)]
    assert [u.day for u in uncertified_days(days, certs, interval=SIXTY)] == [
        D(2026, 8, 30),
        D(2026, 8, 31),
        D(2026, 9, 1),
    ]


def test_days_before_a_late_signature_are_uncertified() -> None:
    certs = [cert(signed=D(2026, 1, 7), start=D(2026, 1, 5))]
    days = [D(2026, 1, 5), D(2026, 1, 6), D(2026, 1, 7)]
    assert [u.day for u in uncertified_days(days, certs, interval=EOM)] == [
        D(2026, 1, 5),
        D(2026, 1, 6),
    ]


def test_a_certification_under_9_hours_a_week_covers_nothing() -> None:
    under = cert(certified_weekly_minutes=MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES - 1)
    (day,) = uncertified_days([D(2026, 2, 2)], [under], interval=EOM)
    assert day.reason == (
        "no physician certification is on file (the certification signed Thu Jan 15, 2026 "
        "states 8 h 59 min a week; Medicare IOP needs the physician to certify at least 9 h a "
        "week)"
    )
    assert uncertified_days([D(2026, 2, 2)], [cert()], interval=EOM) == []


def test_each_day_is_reported_once_in_order() -> None:
    days = [D(2026, 1, 2), D(2026, 1, 1), D(2026, 1, 2)]
    assert [u.day for u in uncertified_days(days, [], interval=EOM)] == [
        D(2026, 1, 1),
        D(2026, 1, 2),
    ]


# --- Medicare certification: alerts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "kind", "words"),
    [
        (D(2026, 2, 28), None, None),  # 15 days before 15 Mar
        (D(2026, 3, 1), AlertKind.RECERTIFICATION_DUE, "(in 14 days)"),
        (D(2026, 3, 14), AlertKind.RECERTIFICATION_DUE, "(tomorrow)"),
        (D(2026, 3, 15), AlertKind.CERTIFICATION_LAPSED, "lapsed on Sun Mar 15, 2026"),
    ],
)
def test_certification_alerts_before_and_at_the_lapse(
    today: dt.date, kind: AlertKind | None, words: str | None
) -> None:
    alerts = certification_alerts([cert()], today, 14, interval=EOM)
    if kind is None:
        assert alerts == []
        return
    (alert,) = alerts
    assert alert.kind == kind
    assert words is not None and words in alert.message
    assert "covers days through Sat Mar 14, 2026" in alert.message


def test_the_due_alert_keeps_its_key_and_a_recertification_silences_it() -> None:
    first = certification_alerts([cert()], D(2026, 3, 1), 14, interval=EOM)
    later = certification_alerts([cert()], D(2026, 3, 10), 14, interval=EOM)
    assert first[0].dedupe_key == later[0].dedupe_key == "recert-due:2026-03-15"
    recertified = [cert(), cert(signed=D(2026, 3, 10), start=D(2026, 3, 15))]
    assert certification_alerts(recertified, D(2026, 3, 15), 14, interval=EOM) == []
    # the recertification's own clock runs from its signature: due 10 May
    (due,) = certification_alerts(recertified, D(2026, 4, 30), 14, interval=EOM)
    assert due.dedupe_key == "recert-due:2026-05-10"


def test_no_valid_certification_is_an_alert() -> None:
    (missing,) = certification_alerts([], D(2026, 3, 1), 14, interval=EOM)
    assert missing.kind == AlertKind.CERTIFICATION_MISSING
    under = cert(certified_weekly_minutes=6 * 60)
    (invalid,) = certification_alerts([under], D(2026, 3, 1), 14, interval=EOM)
    assert invalid.kind == AlertKind.CERTIFICATION_MISSING
    assert "states 6 h a week" in invalid.message


def test_warn_days_must_be_a_whole_number() -> None:
    with pytest.raises(ValueError, match="days of warning"):
        certification_alerts([cert()], D(2026, 3, 1), -1, interval=EOM)
