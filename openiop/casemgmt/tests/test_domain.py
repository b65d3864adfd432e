"""The rules of case management, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.casemgmt import domain
from openiop.casemgmt.choices import ReferralStatus, SupportStatus

D = dt.date(2026, 3, 10)


@pytest.mark.parametrize(
    ("due_on", "done", "expected"),
    [
        (D - dt.timedelta(days=1), False, "overdue"),
        (D, False, "open"),  # due today is not overdue yet
        (D + dt.timedelta(days=3), False, "open"),
        (D - dt.timedelta(days=30), True, "done"),  # done wins over late
        (D + dt.timedelta(days=1), True, "done"),
    ],
)
def test_task_state(due_on: dt.date, done: bool, expected: str) -> None:
    assert domain.task_state(due_on=due_on, done=done, today=D) == expected


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("proposed", "sent", True),
        ("proposed", "accepted", True),
        ("sent", "accepted", True),
        ("accepted", "completed", True),
        ("sent", "declined", True),
        ("accepted", "cancelled", True),
        ("proposed", "completed", False),  # completed only once accepted
        ("sent", "proposed", False),
        ("completed", "accepted", False),
        ("declined", "sent", False),
        ("cancelled", "proposed", False),
    ],
)
def test_referral_moves(current: str, new: str, allowed: bool) -> None:
    assert domain.referral_can_move(current, new) is allowed


def test_every_referral_status_has_a_rule_and_closed_ones_go_nowhere() -> None:
    assert set(domain.REFERRAL_NEXT) == set(ReferralStatus.values)
    for status in ReferralStatus.values:
        assert domain.referral_is_open(status) == bool(domain.REFERRAL_NEXT[status])


@pytest.mark.parametrize(
    ("status", "in_aftercare"),
    [
        ("proposed", True),
        ("sent", True),
        ("accepted", True),
        ("completed", True),
        ("declined", False),
        ("cancelled", False),
    ],
)
def test_aftercare_lists_open_and_completed_referrals(status: str, in_aftercare: bool) -> None:
    assert domain.referral_in_aftercare(status) is in_aftercare


@pytest.mark.parametrize(
    ("status", "shown"), [("requested", True), ("booked", True), ("cancelled", False)]
)
def test_which_requests_show_on_a_roster(status: str, shown: bool) -> None:
    assert domain.shows_on_roster(status) is shown


def test_request_moves_and_a_cancelled_request_stays_cancelled() -> None:
    assert set(domain.REQUEST_NEXT) == set(SupportStatus.values)
    assert domain.request_can_move("requested", "booked")
    assert domain.request_can_move("booked", "requested")
    assert domain.request_can_move("booked", "cancelled")
    assert not domain.request_can_move("cancelled", "booked")
    assert not domain.request_can_move("cancelled", "requested")


def test_roster_labels() -> None:
    assert (
        domain.roster_label(kind="transportation", status="booked", pickup="8:15 AM CST")
        == "Van (booked) · pickup 8:15 AM CST"
    )
    assert domain.roster_label(kind="transportation", status="requested") == "Van (requested)"
    assert domain.roster_label(kind="childcare", status="booked", pickup="ignored") == (
        "Childcare (booked)"
    )
