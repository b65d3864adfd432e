"""An independent checker of the hard rules (model.py's list), for any planner's solution.

Written apart from the CP-SAT model on purpose: it reads the instance and the assignments and tests
each rule directly (pairwise overlaps, sums, set membership), so a mistake in the model's encoding
cannot hide in both places.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass

from openiop.planning.domain.model import Instance, Solution


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    message: str


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _double_booked(
    rule: str, who: str, session_ids: list[str], spans: dict[str, tuple[int, int]]
) -> list[Violation]:
    out: list[Violation] = []
    ordered = sorted(set(session_ids))
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if _overlap(spans[first], spans[second]):
                out.append(Violation(rule, who, f"{who} is in {first} and {second} at once"))
    return out


def check_solution(instance: Instance, solution: Solution) -> list[Violation]:
    """Every hard rule `solution` breaks in `instance` (empty: none). Never raises for a
    well-formed solution; unknown ids are reported as violations."""
    v: list[Violation] = []
    sessions = {s.id: s for s in instance.sessions}
    patients = {p.id: p for p in instance.patients}
    staff = {k.id: k for k in instance.staff}
    rooms = {r.id: r for r in instance.rooms}
    types = {t.name: t for t in instance.session_types}
    spans = {s.id: (s.start_minute, s.end_minute) for s in instance.sessions}

    def known(kind: str, ident: str, table: Container[str]) -> bool:
        if ident not in table:
            v.append(Violation("unknown", ident, f"unknown {kind} {ident}"))
            return False
        return True

    members: dict[str, list[str]] = defaultdict(list)
    by_patient: dict[str, list[str]] = defaultdict(list)
    seen_pairs: set[tuple[str, str]] = set()
    for patient_id, session_id in solution.patient_sessions:
        if not (known("patient", patient_id, patients) and known("session", session_id, sessions)):
            continue
        if (patient_id, session_id) in seen_pairs:
            v.append(Violation("duplicate", patient_id, f"{patient_id} twice in {session_id}"))
            continue
        seen_pairs.add((patient_id, session_id))
        p, s = patients[patient_id], sessions[session_id]
        members[session_id].append(patient_id)
        by_patient[patient_id].append(session_id)
        if s.tracks and p.track not in s.tracks:
            v.append(Violation("track", patient_id, f"{session_id} is not open to {p.track}"))
        if not any(
            w.start_minute <= s.start_minute and s.end_minute <= w.end_minute
            for w in p.availability
        ):
            v.append(
                Violation("availability", patient_id, f"{patient_id} unavailable for {session_id}")
            )
        if (
            s.start_minute < instance.fixed.closed_before_minute
            and (patient_id, session_id) not in instance.fixed.patient_sessions
        ):
            v.append(Violation("closed", patient_id, f"{session_id} is closed to new patients"))

    staff_of: dict[str, list[str]] = defaultdict(list)
    by_staff: dict[str, list[str]] = defaultdict(list)
    for session_id, staff_id in solution.facilitators:
        if not (known("session", session_id, sessions) and known("staff", staff_id, staff)):
            continue
        s, k = sessions[session_id], staff[staff_id]
        if staff_id in staff_of[session_id]:
            v.append(Violation("duplicate", staff_id, f"{staff_id} twice on {session_id}"))
            continue
        staff_of[session_id].append(staff_id)
        by_staff[staff_id].append(session_id)
        if staff_id not in s.allowed_facilitators:
            v.append(Violation("facilitator", staff_id, f"{staff_id} may not run {session_id}"))
        lacking = set(types[s.session_type].required_credentials) - set(k.credentials)
        if lacking:
            v.append(
                Violation(
                    "credentials",
                    staff_id,
                    f"{staff_id} lacks {', '.join(sorted(lacking))} for {session_id}",
                )
            )
        if not any(
            w.start_minute <= s.start_minute and s.end_minute <= w.end_minute
            for w in k.availability
        ):
            v.append(
                Violation("availability", staff_id, f"{staff_id} unavailable for {session_id}")
            )

    room_of: dict[str, list[str]] = defaultdict(list)
    by_room: dict[str, list[str]] = defaultdict(list)
    for session_id, room_id in solution.rooms:
        if not (known("session", session_id, sessions) and known("room", room_id, rooms)):
            continue
        s = sessions[session_id]
        room_of[session_id].append(room_id)
        by_room[room_id].append(session_id)
        if s.allowed_rooms and room_id not in s.allowed_rooms:
            v.append(Violation("room", room_id, f"{room_id} is not allowed for {session_id}"))
        if not s.needs_room:
            v.append(Violation("room", room_id, f"{session_id} needs no room"))

    for s in instance.sessions:
        t = types[s.session_type]
        count = len(members[s.id])
        if count > s.capacity:
            v.append(Violation("capacity", s.id, f"{count} patients, capacity {s.capacity}"))
        if t.max_patients is not None and count > t.max_patients:
            v.append(
                Violation(
                    "group_size",
                    s.id,
                    f"{count} patients; {t.name} groups hold at most {t.max_patients}",
                )
            )
        if count == 0:
            if staff_of[s.id] or room_of[s.id]:
                v.append(Violation("cancelled", s.id, f"{s.id} has no patient but holds staff"))
            continue
        if len(staff_of[s.id]) != t.facilitators:
            v.append(
                Violation(
                    "facilitators",
                    s.id,
                    f"{s.id} has {len(staff_of[s.id])} facilitators; needs {t.facilitators}",
                )
            )
        if s.needs_room and len(room_of[s.id]) != 1:
            v.append(Violation("room", s.id, f"{s.id} has {len(room_of[s.id])} rooms; needs 1"))
        for room_id in room_of[s.id]:
            if room_id in rooms and count > rooms[room_id].capacity:
                v.append(
                    Violation(
                        "room_capacity",
                        s.id,
                        f"{count} patients in {room_id}, which seats {rooms[room_id].capacity}",
                    )
                )

    for patient_id, mine in by_patient.items():
        v.extend(_double_booked("double_booked", patient_id, mine, spans))
        per_type: dict[str, int] = defaultdict(int)
        for session_id in mine:
            per_type[sessions[session_id].session_type] += 1
        for type_name, n in sorted(per_type.items()):
            most = types[type_name].max_per_patient
            if most is not None and n > most:
                v.append(
                    Violation(
                        "per_patient", patient_id, f"{n} {type_name} sessions; at most {most}"
                    )
                )
        p = patients[patient_id]
        if p.max_minutes is not None:
            total = sum(sessions[s].duration_minutes for s in mine)
            if total > p.max_minutes:
                v.append(Violation("max_minutes", patient_id, f"{total} > {p.max_minutes}"))
    for staff_id, mine in by_staff.items():
        v.extend(_double_booked("double_booked", staff_id, mine, spans))
        total = sum(sessions[s].duration_minutes for s in mine)
        if total > staff[staff_id].max_minutes:
            v.append(
                Violation(
                    "max_minutes", staff_id, f"{total} minutes > {staff[staff_id].max_minutes}"
                )
            )
    for room_id, mine in by_room.items():
        v.extend(_double_booked("double_booked", room_id, mine, spans))

    fixed = instance.fixed
    given = set(solution.patient_sessions)
    for pair in fixed.patient_sessions:
        if pair not in given:
            v.append(Violation("fixed", pair[0], f"{pair[0]} was fixed in {pair[1]}"))
    given_staff = set(solution.facilitators)
    for pair in fixed.facilitators:
        if pair not in given_staff:
            v.append(Violation("fixed", pair[1], f"{pair[1]} was fixed on {pair[0]}"))
    given_rooms = set(solution.rooms)
    for pair in fixed.rooms:
        if pair not in given_rooms:
            v.append(Violation("fixed", pair[1], f"{pair[1]} was fixed for {pair[0]}"))
    return v
