"""Pure rules of the safety workflow and measurement-based care (no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from openiop.measures.chart import ChartPoint, trend_svg
from openiop.measures.domain import cssrs, gad7, phq9
from openiop.measures.domain.care import (
    ClinicHours,
    RiskEvent,
    ScheduleRule,
    alert_owner,
    alert_triggers,
    current_risk,
    drop_pct,
    escalation_due,
    is_nonresponder,
    measurements_due,
    outcome_markers,
    plan_print_lines,
)

CHICAGO = ZoneInfo("America/Chicago")
HOURS = ClinicHours(dt.time(8), dt.time(18), frozenset({0, 1, 2, 3, 4}), CHICAGO)


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 1], [("item9", "unassessed")]),
        ([3, 3, 3, 3, 3, 3, 3, 3, 0], []),
    ],
)
def test_phq9_item9_opens_an_alert_whatever_the_total(
    answers: list[int], expected: list[tuple[str, str]]
) -> None:
    assert alert_triggers(phq9.score(answers)) == expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((1, 0, 0, 0, 0, 0, 0), []),
        ((1, 1, 1, 0, 0, 0, 0), [("cssrs", "moderate")]),
        ((1, 1, 0, 1, 0, 0, 0), [("cssrs", "high")]),
    ],
)
def test_cssrs_moderate_or_high_opens_an_alert(
    answers: tuple[int, int, int, int, int, int, int], expected: list[tuple[str, str]]
) -> None:
    assert alert_triggers(cssrs.score(answers)) == expected


def test_gad7_never_opens_a_safety_alert() -> None:
    assert alert_triggers(gad7.score([3] * 7)) == []


@pytest.mark.parametrize(
    ("at", "owner"),
    [
        (local(2026, 3, 2, 9), (1, "primary clinician")),  # Monday morning
        (local(2026, 3, 2, 17, 59), (1, "primary clinician")),
        (local(2026, 3, 2, 18, 0), (2, "on call")),  # closing time
        (local(2026, 3, 2, 7, 59), (2, "on call")),
        (local(2026, 3, 7, 11), (2, "on call")),  # Saturday
    ],
)
def test_alert_owner_is_the_clinician_in_hours_and_on_call_after(
    at: dt.datetime, owner: tuple[int, str]
) -> None:
    assert alert_owner(at=at, hours=HOURS, primary_clinician_id=1, on_call_id=2) == owner


def test_alert_owner_falls_back_when_no_one_is_on_call() -> None:
    at = local(2026, 3, 7, 11)
    assert alert_owner(at=at, hours=HOURS, primary_clinician_id=1, on_call_id=None) == (
        1,
        "primary clinician",
    )
    assert alert_owner(at=at, hours=HOURS, primary_clinician_id=None, on_call_id=None) == (
        None,
        "unassigned",
    )


def test_clinic_hours_use_the_clinic_time_zone() -> None:
    utc_evening = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)  # 5:30 pm in Chicago
    assert HOURS.is_open(utc_evening)


@pytest.mark.parametrize(("minutes_open", "due"), [(59, False), (60, True), (200, True)])
def test_escalation_after_the_configured_minutes(minutes_open: int, due: bool) -> None:
    opened = local(2026, 3, 2, 9)
    now = opened + dt.timedelta(minutes=minutes_open)
    assert escalation_due(opened_at=opened, now=now, minutes=60) is due


@pytest.mark.parametrize(
    ("events", "level"),
    [
        ([], "none"),
        ([RiskEvent(local(2026, 3, 1, 9), "low")], "low"),
        # item 9 after a low C-SSRS: a new positive screen needs assessing
        (
            [RiskEvent(local(2026, 3, 1, 9), "low"), RiskEvent(local(2026, 3, 2, 9), "unassessed")],
            "unassessed",
        ),
        # a C-SSRS after the item 9 settles it
        (
            [RiskEvent(local(2026, 3, 1, 9), "unassessed"), RiskEvent(local(2026, 3, 2, 9), "low")],
            "low",
        ),
        # a high assessment is not hidden by a later unassessed screen
        (
            [
                RiskEvent(local(2026, 3, 1, 9), "high"),
                RiskEvent(local(2026, 3, 2, 9), "unassessed"),
            ],
            "high",
        ),
        # an open high alert shows until acknowledged, even after a lower assessment
        (
            [
                RiskEvent(local(2026, 3, 1, 9), "high", open_alert=True),
                RiskEvent(local(2026, 3, 2, 9), "none"),
            ],
            "high",
        ),
        (
            [RiskEvent(local(2026, 3, 1, 9), "high"), RiskEvent(local(2026, 3, 2, 9), "none")],
            "none",
        ),
    ],
)
def test_current_risk(events: list[RiskEvent], level: str) -> None:
    assert current_risk(events) == level


WEEKLY = ScheduleRule("phq9", at_admission=True, every_days=7, at_discharge=True)
ADMIT = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("today", "done", "expected"),
    [
        (ADMIT, [], [("phq9", ADMIT, "admission", False)]),
        (ADMIT + dt.timedelta(days=2), [], [("phq9", ADMIT, "admission", False)]),
        (ADMIT + dt.timedelta(days=3), [], [("phq9", ADMIT, "admission", True)]),
        (ADMIT + dt.timedelta(days=6), [ADMIT], []),
        (
            ADMIT + dt.timedelta(days=7),
            [ADMIT],
            [("phq9", ADMIT + dt.timedelta(days=7), "repeat", False)],
        ),
        (
            ADMIT + dt.timedelta(days=11),
            [ADMIT],
            [("phq9", ADMIT + dt.timedelta(days=7), "repeat", True)],
        ),
        (ADMIT + dt.timedelta(days=11), [ADMIT, ADMIT + dt.timedelta(days=8)], []),
    ],
)
def test_measurements_due(
    today: dt.date, done: list[dt.date], expected: list[tuple[str, dt.date, str, bool]]
) -> None:
    due = measurements_due(
        rules=[WEEKLY], admission_date=ADMIT, today=today, done={"phq9": done}, grace_days=2
    )
    assert [(d.instrument, d.due_date, d.reason, d.overdue) for d in due] == expected


def test_discharge_measure_due_on_the_discharge_date() -> None:
    rule = ScheduleRule("gad7", at_admission=False, every_days=None, at_discharge=True)
    discharge = ADMIT + dt.timedelta(days=30)
    due = measurements_due(
        rules=[rule],
        admission_date=ADMIT,
        today=discharge,
        done={"gad7": [ADMIT]},
        grace_days=2,
        discharge_date=discharge,
    )
    assert [(d.reason, d.due_date) for d in due] == [("discharge", discharge)]
    none_due = measurements_due(
        rules=[rule],
        admission_date=ADMIT,
        today=discharge,
        done={"gad7": [discharge - dt.timedelta(days=1)]},
        grace_days=2,
        discharge_date=discharge,
    )
    assert none_due == []


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "response", "remission", "reliable"),
    [
        ("phq9", 20, 10, True, False, True),  # exactly 50%
        ("phq9", 20, 11, False, False, True),
        ("phq9", 10, 4, True, True, True),  # below 5
        ("phq9", 10, 5, True, False, False),  # 5 is not below 5; down 5 < 6
        ("phq9", 12, 6, True, False, True),  # down 6 exactly
        ("gad7", 12, 8, False, False, True),  # down 4
        ("gad7", 12, 9, False, False, False),
        ("gad7", 12, 2, True, False, True),  # no remission rule for GAD-7
        ("phq9", 0, 0, False, True, False),
        ("audit", 20, 2, False, False, False),  # not a response instrument
    ],
)
def test_outcome_markers(
    instrument: str, baseline: int, current: int, response: bool, remission: bool, reliable: bool
) -> None:
    m = outcome_markers(instrument, baseline, current)
    assert (m.response, m.remission, m.reliable_improvement) == (response, remission, reliable)


@pytest.mark.parametrize(
    ("baseline", "latest", "days", "nonresponder"),
    [
        (20, 17, 21, True),  # 15% drop
        (20, 16, 21, False),  # 20% drop
        (20, 20, 20, False),  # too early
        (20, 25, 30, True),  # worse
        (0, 0, 30, False),
        (3, 3, 30, False),  # minimal at baseline: nothing to respond to
        (9, 9, 30, False),  # below the PHQ-9 caseness cut-off of 10
        (10, 10, 30, True),  # at the cut-off and unchanged
    ],
)
def test_nonresponder_at_week_3(baseline: int, latest: int, days: int, nonresponder: bool) -> None:
    assert (
        is_nonresponder(baseline=baseline, latest=latest, days_since_admission=days) is nonresponder
    )


def test_drop_pct() -> None:
    assert str(drop_pct(15, 10)) == "33.3"
    assert drop_pct(0, 3) is None


def test_trend_svg_draws_bands_points_and_markers() -> None:
    svg = trend_svg(
        title="PHQ-9 for a test patient",
        points=[
            ChartPoint(ADMIT, 20, "severe"),
            ChartPoint(ADMIT + dt.timedelta(days=7), 14, "moderate", reliable=True),
            ChartPoint(
                ADMIT + dt.timedelta(days=14),
                4,
                "minimal",
                response=True,
                remission=True,
                reliable=True,
            ),
        ],
        bands=phq9.BANDS,
        max_total=27,
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="point"') == 3
    assert svg.count('data-marker="response"') == 1
    assert svg.count('data-marker="remission"') == 1
    assert svg.count('data-marker="reliable"') == 2
    assert "moderately severe" in svg and 'role="img"' in svg


def test_trend_svg_without_points_says_so() -> None:
    assert "No scores yet" in trend_svg(title="x", points=[], bands=phq9.BANDS, max_total=27)


def test_trend_svg_escapes_the_title() -> None:
    assert "<script>" not in trend_svg(title="<script>", points=[], bands=(), max_total=10)


@pytest.mark.parametrize(
    ("texts", "lines"),
    [
        ([""], 1),  # an empty step still prints a dash
        (["short"], 1),
        (["x" * 80], 1),
        (["x" * 81], 2),
        (["one\ntwo\nthree"], 3),
        (["one\n\nthree"], 3),  # a blank line the writer left is a printed line
        (["x" * 161 + "\nok"], 4),
        (["a", "b", "c"], 3),
        (["  padded  \n"], 1),
    ],
)
def test_plan_print_lines(texts: list[str], lines: int) -> None:
    assert plan_print_lines(texts) == lines
