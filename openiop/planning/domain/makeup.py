"""The make-up planner (issue 19 point 4): from mid-week, sessions later this week for each patient
still below their weekly minimum. Pure: the instance and the needs in, proposals out.

The instance is the current week as the builder reads it: `fixed.patient_sessions` are the
rosters as they stand (every patient on every session they are on), and a session starting before
`from_minute` (now, in minutes from Monday 00:00 of the week in the site's zone) is never proposed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from openiop.planning.domain.eligibility import effective_capacity, fits, open_to
from openiop.planning.domain.model import Instance, Session


@dataclass(frozen=True)
class Need:
    """`short_minutes`: what the patient still lacks after their attended minutes and the
    sessions still ahead of them on their rosters (the weekly ledger's "at risk" gap)."""

    patient: str
    short_minutes: int


@dataclass(frozen=True)
class MakeUp:
    """One session `patient` could join. `suggested`: part of the smallest set (earliest first,
    no two overlapping) that covers their need while seats last; the others are alternatives."""

    patient: str
    session: str
    minutes: int
    seats_left: int
    suggested: bool


def _overlaps(a: Session, b: Session) -> bool:
    return a.start_minute < b.end_minute and b.start_minute < a.end_minute


def seats_left(instance: Instance, session: Session, taken: int) -> int:
    """Seats still free: the session's capacity, its type's group size limit and the smallest
    room it may use, less the patients already on it (never below 0)."""
    limit = effective_capacity(instance, session)
    if session.needs_room:
        rooms = {r.id: r.capacity for r in instance.rooms}
        allowed = [rooms[r] for r in session.allowed_rooms if r in rooms] or list(rooms.values())
        if allowed:
            limit = min(limit, max(allowed))
    return max(0, limit - taken)


def makeup_proposals(
    instance: Instance, needs: Sequence[Need], *, from_minute: int
) -> tuple[MakeUp, ...]:
    """For each need with `short_minutes` > 0, every session that starts at or after
    `from_minute`, is open to the patient's track, lies inside one of their availability
    windows, overlaps none of the sessions they are already on, is not one of them, keeps the
    type's `max_per_patient`, and has a seat left. Patients are served largest need first (then
    by id), and the seats a suggestion takes are no longer offered as suggestions to the next
    patient. Returns the proposals by patient (in `needs` order), then by session start."""
    sessions = {s.id: s for s in instance.sessions}
    patients = {p.id: p for p in instance.patients}
    members: dict[str, set[str]] = defaultdict(set)
    mine: dict[str, list[Session]] = defaultdict(list)
    for p_id, s_id in instance.fixed.patient_sessions:
        if s_id in sessions:
            members[s_id].add(p_id)
            mine[p_id].append(sessions[s_id])
    left = {s.id: seats_left(instance, s, len(members[s.id])) for s in instance.sessions}
    limits = {t.name: t.max_per_patient for t in instance.session_types}

    found: dict[str, list[MakeUp]] = {}
    order = sorted(
        (n for n in needs if n.short_minutes > 0 and n.patient in patients),
        key=lambda n: (-n.short_minutes, n.patient),
    )
    for need in order:
        p = patients[need.patient]
        booked = list(mine[p.id])
        per_type: dict[str, int] = defaultdict(int)
        for s in booked:
            per_type[s.session_type] += 1
        candidates = [
            s
            for s in sorted(instance.sessions, key=lambda s: (s.start_minute, s.id))
            if s.start_minute >= from_minute
            and s.start_minute >= instance.fixed.closed_before_minute
            and p.id not in members[s.id]
            and open_to(p, s)
            and fits(p.availability, s)
            and not any(_overlaps(s, b) for b in booked)
            and left[s.id] > 0
        ]
        still = need.short_minutes
        chosen: list[Session] = []
        for s in candidates:
            most = limits.get(s.session_type)
            if most is not None and per_type[s.session_type] >= most:
                continue
            if still > 0 and left[s.id] > 0 and not any(_overlaps(s, c) for c in chosen):
                chosen.append(s)
                per_type[s.session_type] += 1
                still -= s.duration_minutes
        out: list[MakeUp] = []
        for s in candidates:
            most = limits.get(s.session_type)
            suggested = s in chosen
            if not suggested and most is not None and per_type[s.session_type] >= most:
                continue
            out.append(MakeUp(p.id, s.id, s.duration_minutes, left[s.id], suggested))
        for s in chosen:
            left[s.id] -= 1
        found[p.id] = out
    result: list[MakeUp] = []
    for need in needs:
        result.extend(found.get(need.patient, []))
    return tuple(result)
