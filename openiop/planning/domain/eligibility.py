"""Who may be where: the pairs a planner may choose from (used by the greedy planner, the CP-SAT
model and the shortfall reasons; the checker tests the same rules on its own)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openiop.planning.domain.model import Instance, Patient, Session, Staff, Window


def fits(windows: Iterable[Window], session: Session) -> bool:
    """True when one window holds the whole session."""
    return any(w.covers(session.start_minute, session.end_minute) for w in windows)


def open_to(patient: Patient, session: Session) -> bool:
    """The session is open to the patient's track (availability aside)."""
    return not session.tracks or patient.track in session.tracks


def effective_capacity(instance: Instance, session: Session) -> int:
    """The most patients the session may hold before its room is chosen."""
    limit = instance.session_type(session.session_type).max_patients
    return min(session.capacity, limit) if limit is not None else session.capacity


@dataclass(frozen=True)
class Eligible:
    """Sorted candidate lists, keyed by id."""

    sessions_of_patient: dict[str, tuple[str, ...]]
    staff_of_session: dict[str, tuple[str, ...]]
    rooms_of_session: dict[str, tuple[str, ...]]


def staff_can_run(instance: Instance, staff: Staff, session: Session) -> bool:
    required = instance.session_type(session.session_type).required_credentials
    return (
        staff.id in session.allowed_facilitators
        and set(required) <= set(staff.credentials)
        and fits(staff.availability, session)
        and session.duration_minutes <= staff.max_minutes
    )


def eligible(instance: Instance) -> Eligible:
    """Every allowed (patient, session), (session, staff) and (session, room) pair."""
    fixed = instance.fixed
    fixed_pairs = set(fixed.patient_sessions)
    # Sessions by the tracks they are open to (empty: every track), so a patient looks only at
    # the sessions of their own track: linear in the network's size, not patients x sessions.
    open_to_all: list[Session] = []
    by_track: dict[str, list[Session]] = defaultdict(list)
    for s in instance.sessions:
        if not s.tracks:
            open_to_all.append(s)
        for track in set(s.tracks):
            by_track[track].append(s)
    fixed_of: dict[str, set[str]] = defaultdict(set)
    known = {s.id for s in instance.sessions}
    for p_id, s_id in fixed_pairs:
        if s_id in known:
            fixed_of[p_id].add(s_id)
    by_patient: dict[str, list[str]] = defaultdict(list)
    for p in instance.patients:
        chosen = set(fixed_of[p.id])
        for s in (*open_to_all, *by_track.get(p.track, ())):
            if s.start_minute >= fixed.closed_before_minute and fits(p.availability, s):
                chosen.add(s.id)
        by_patient[p.id] = list(chosen)
    staff_of: dict[str, list[str]] = defaultdict(list)
    rooms_of: dict[str, list[str]] = defaultdict(list)
    staff_by_id = {k.id: k for k in instance.staff}
    room_ids = [r.id for r in instance.rooms]
    for s in instance.sessions:
        for k_id in s.allowed_facilitators:
            k = staff_by_id.get(k_id)
            if k is not None and staff_can_run(instance, k, s):
                staff_of[s.id].append(k_id)
        if s.needs_room:
            rooms_of[s.id] = [r for r in room_ids if not s.allowed_rooms or r in s.allowed_rooms]
    return Eligible(
        {p.id: tuple(sorted(by_patient[p.id])) for p in instance.patients},
        {s.id: tuple(sorted(set(staff_of[s.id]))) for s in instance.sessions},
        {s.id: tuple(sorted(rooms_of[s.id])) for s in instance.sessions},
    )


def max_nonoverlapping_minutes(sessions: Sequence[Session]) -> int:
    """The most minutes one person can spend in `sessions` without two overlapping (weighted
    interval scheduling, exact)."""
    ordered = sorted(sessions, key=lambda s: (s.end_minute, s.start_minute, s.id))
    best = [0] * (len(ordered) + 1)
    ends = [s.end_minute for s in ordered]
    for i, s in enumerate(ordered):
        # the last session ending at or before s starts
        lo, hi = 0, i
        while lo < hi:
            mid = (lo + hi) // 2
            if ends[mid] <= s.start_minute:
                lo = mid + 1
            else:
                hi = mid
        best[i + 1] = max(best[i], best[lo] + s.duration_minutes)
    return best[-1]


def overlap_cliques(spans: Sequence[tuple[str, int, int]]) -> list[tuple[str, ...]]:
    """Maximal sets of mutually overlapping intervals (id, start, end), each of two or more: for
    intervals, the sets alive at each start point cover every overlapping pair.

    One sweep over the starts and ends (an end at t before a start at t: the intervals are
    half-open): the set alive after a run of starts, just before the next end, is a maximal one,
    and every maximal set is such a set. Sorted, each sorted: the same list as taking the sets
    alive at every start and keeping those in no other."""
    events: list[tuple[int, int, str]] = []
    for i, start, end in spans:
        if start < end:  # an empty interval overlaps nothing
            events.append((start, 1, i))
            events.append((end, 0, i))
    events.sort(key=lambda e: (e[0], e[1]))
    alive: dict[str, int] = {}
    cliques: set[tuple[str, ...]] = set()
    started = False
    for _, kind, i in events:
        if kind == 1:
            alive[i] = alive.get(i, 0) + 1
            started = True
            continue
        if started and sum(alive.values()) > 1:
            cliques.add(tuple(sorted(k for k, n in alive.items() for _ in range(n))))
        started = False
        alive[i] -= 1
        if not alive[i]:
            del alive[i]
    return sorted(cliques)


def most_minutes(instance: Instance, sessions: Sequence[Session]) -> int:
    """An upper bound on the minutes one patient can be planned in `sessions`: no two overlapping,
    and no more of a type than its `max_per_patient` (exact when no type has a limit)."""
    limits = {t.name: t.max_per_patient for t in instance.session_types}
    free = [s for s in sessions if limits.get(s.session_type) is None]
    capped = 0
    for name, most in limits.items():
        if most is not None:
            durations = sorted(
                (s.duration_minutes for s in sessions if s.session_type == name), reverse=True
            )
            capped += sum(durations[:most])
    return min(max_nonoverlapping_minutes(sessions), max_nonoverlapping_minutes(free) + capped)
