"""The rules of case management, as plain functions (no Django, no clock: today is an argument).

- A referral moves forward through proposed → sent → accepted → completed; it may be declined by
  the resource or the patient while it is proposed, sent or accepted, and cancelled by staff at any
  point before it ends. Declined, completed and cancelled referrals are closed for good.
- A task is done, overdue (open and its due date is before today at the clinic), or open.
- A ride or childcare request shows on the roster of the session it serves while it is requested
  or booked; a cancelled one does not.
"""

from __future__ import annotations

import datetime as dt

# Referral statuses (choices.ReferralStatus holds the labels).
PROPOSED = "proposed"
SENT = "sent"
ACCEPTED = "accepted"
DECLINED = "declined"
COMPLETED = "completed"
CANCELLED = "cancelled"

REFERRAL_NEXT: dict[str, frozenset[str]] = {
    PROPOSED: frozenset({SENT, ACCEPTED, DECLINED, CANCELLED}),
    SENT: frozenset({ACCEPTED, DECLINED, CANCELLED}),
    ACCEPTED: frozenset({COMPLETED, DECLINED, CANCELLED}),
    DECLINED: frozenset(),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
}
OPEN_REFERRAL_STATUSES = frozenset({PROPOSED, SENT, ACCEPTED})
# What an aftercare plan lists: the referrals still under way and those that were completed.
AFTERCARE_REFERRAL_STATUSES = OPEN_REFERRAL_STATUSES | {COMPLETED}

# Ride and childcare requests.
REQUESTED = "requested"
BOOKED = "booked"
REQUEST_NEXT: dict[str, frozenset[str]] = {
    REQUESTED: frozenset({BOOKED, CANCELLED}),
    BOOKED: frozenset({REQUESTED, CANCELLED}),  # back to requested: the booking fell through
    CANCELLED: frozenset(),
}
ROSTER_REQUEST_STATUSES = frozenset({REQUESTED, BOOKED})


def referral_can_move(current: str, new: str) -> bool:
    """Whether a referral in status `current` may move to `new` (REFERRAL_NEXT)."""
    return new in REFERRAL_NEXT.get(current, frozenset())


def referral_is_open(status: str) -> bool:
    """Whether a referral is still under way (proposed, sent or accepted)."""
    return status in OPEN_REFERRAL_STATUSES


def referral_in_aftercare(status: str) -> bool:
    """Whether a referral belongs in the aftercare plan: open or completed (not declined or
    cancelled, which were not taken up)."""
    return status in AFTERCARE_REFERRAL_STATUSES


def request_can_move(current: str, new: str) -> bool:
    """Whether a ride or childcare request in status `current` may move to `new`."""
    return new in REQUEST_NEXT.get(current, frozenset())


def shows_on_roster(status: str) -> bool:
    """Whether a ride or childcare request is shown on its session's roster: requested or booked.
    A cancelled one is not (the patient is not coming that way)."""
    return status in ROSTER_REQUEST_STATUSES


# Task states (choices.TaskView holds the labels).
OPEN = "open"
OVERDUE = "overdue"
DONE = "done"


def task_state(*, due_on: dt.date, done: bool, today: dt.date) -> str:
    """A task's state on `today` (the clinic's local date): done, overdue when open and due before
    today, else open. A task due today is open, not overdue."""
    if done:
        return DONE
    return OVERDUE if due_on < today else OPEN


def roster_label(*, kind: str, status: str, pickup: str = "") -> str:
    """The label a roster row shows for a request: 'Van (booked) · pickup 8:15 AM CST',
    'Childcare (requested)'. `pickup` is the clinic-local pickup time already formatted (empty
    when none was given)."""
    what = "Van" if kind == "transportation" else "Childcare"
    label = f"{what} ({status})"
    if kind == "transportation" and pickup:
        label += f" · pickup {pickup}"
    return label
