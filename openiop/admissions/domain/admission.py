"""Admission rules: which session starts a new patient, and places on a waitlist. No Django."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class UpcomingSession:
    date: dt.date
    starts_at: dt.datetime
    cancelled: bool = False


def first_session_on_or_after(
    sessions: Iterable[UpcomingSession], day: dt.date
) -> UpcomingSession | None:
    """The earliest session that is not cancelled on `day` or later (None when none is scheduled)."""
    candidates = [s for s in sessions if not s.cancelled and s.date >= day]
    return min(candidates, key=lambda s: s.starts_at, default=None)


def free_seats(capacity: int, enrolled: int, offered: int) -> int:
    """Seats that can be offered now: capacity less enrolled patients and outstanding offers."""
    return max(0, capacity - enrolled - offered)


def waitlist_positions(joined: Iterable[tuple[int, dt.datetime]]) -> dict[int, int]:
    """Position (1 = next) of each waiting entry id, first come first served by join time then id."""
    ordered = sorted(joined, key=lambda item: (item[1], item[0]))
    return {entry_id: n for n, (entry_id, _) in enumerate(ordered, start=1)}
