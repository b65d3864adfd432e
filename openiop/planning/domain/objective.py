"""What a plan costs: the weighted goals every planner minimises, computed from the assignments.

Order of importance (the weights keep it; a minute of shortfall outweighs every soft goal a single
assignment can change):

1. `W_SHORTFALL` per minute a patient is planned below their weekly minimum (maximise the hours
   reached: the minimum is what the track or payer requires, domain.md s.1, s.2, s.6).
2. `W_MISSING` per required session a patient lacks (e.g. the week's individual session).
3. `W_CANCELLED` per scheduled (non-optional) session left without patients, hence cancelled.
4. Soft goals, smaller:
   - continuity of group, `W_GROUP_CHANGE` per extra series a patient attends within one block
     (moving between two sections of the morning process group during the week);
   - continuity of facilitator, `W_FACILITATOR_CHANGE` per facilitator of a series beyond the
     number one session needs (the same clinician runs the group all week);
   - fewest room changes, `W_ROOM_CHANGE` per room of a series beyond the first;
   - balanced caseloads, `W_PEAK_CASELOAD` per minute of the most loaded facilitator of each site
     (summed over sites): work is spread before anyone is loaded more than needed.

This module is the definition of the objective; the CP-SAT model (cpsat.py) encodes the same sums
and the tests check that both agree on every solution.
"""

from __future__ import annotations

from collections import defaultdict

from openiop.planning.domain.model import Instance, Terms

W_SHORTFALL = 100
W_MISSING = 3_000
W_CANCELLED = 2_000
W_GROUP_CHANGE = 60
W_FACILITATOR_CHANGE = 40
W_ROOM_CHANGE = 20
W_PEAK_CASELOAD = 1


def weigh(terms: Terms) -> int:
    """The objective of `terms` (smaller is better)."""
    return (
        W_SHORTFALL * terms.shortfall_minutes
        + W_MISSING * terms.missing_sessions
        + W_CANCELLED * terms.cancelled_sessions
        + W_GROUP_CHANGE * terms.group_changes
        + W_FACILITATOR_CHANGE * terms.facilitator_changes
        + W_ROOM_CHANGE * terms.room_changes
        + W_PEAK_CASELOAD * terms.peak_caseload_minutes
    )


def terms_of(
    instance: Instance,
    patient_sessions: tuple[tuple[str, str], ...],
    facilitators: tuple[tuple[str, str], ...],
    rooms: tuple[tuple[str, str], ...],
) -> Terms:
    """The unweighted goals of a set of assignments (does not check the hard rules)."""
    sessions = {s.id: s for s in instance.sessions}
    types = {t.name: t for t in instance.session_types}
    attended: dict[str, list[str]] = defaultdict(list)
    running: set[str] = set()
    for patient, session in patient_sessions:
        attended[patient].append(session)
        running.add(session)

    shortfall = 0
    missing = 0
    group_changes = 0
    for p in instance.patients:
        mine = [sessions[s] for s in attended[p.id]]
        shortfall += max(0, p.required_minutes - sum(s.duration_minutes for s in mine))
        for req in p.requirements:
            have = sum(1 for s in mine if s.session_type == req.session_type)
            missing += max(0, req.count - have)
        series_in_block: dict[str, set[str]] = defaultdict(set)
        for s in mine:
            if s.block:
                series_in_block[s.block].add(s.series or s.id)
        group_changes += sum(len(v) - 1 for v in series_in_block.values())

    cancelled = sum(
        1 for s in instance.sessions if s.id not in running and not types[s.session_type].optional
    )

    staff_of_series: dict[str, set[str]] = defaultdict(set)
    needed_in_series: dict[str, int] = defaultdict(int)
    load: dict[str, int] = defaultdict(int)
    for session_id, staff_id in facilitators:
        s = sessions[session_id]
        load[staff_id] += s.duration_minutes
        if s.series:
            staff_of_series[s.series].add(staff_id)
            needed_in_series[s.series] = max(
                needed_in_series[s.series], types[s.session_type].facilitators
            )
    facilitator_changes = sum(
        len(v) - needed_in_series[series] for series, v in staff_of_series.items()
    )
    rooms_of_series: dict[str, set[str]] = defaultdict(set)
    for session_id, room_id in rooms:
        s = sessions[session_id]
        if s.series:
            rooms_of_series[s.series].add(room_id)
    room_changes = sum(len(v) - 1 for v in rooms_of_series.values())

    peak: dict[str, int] = defaultdict(int)
    for k in instance.staff:
        peak[k.site] = max(peak[k.site], load[k.id])
    return Terms(
        shortfall_minutes=shortfall,
        missing_sessions=missing,
        cancelled_sessions=cancelled,
        group_changes=group_changes,
        facilitator_changes=facilitator_changes,
        room_changes=room_changes,
        peak_caseload_minutes=sum(peak.values()),
    )
