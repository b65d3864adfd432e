"""A greedy plan that always exists: the fallback when CP-SAT finds nothing in time, and its hint.

Patients with the least slack (the most minutes they could attend minus their minimum) choose
first: first their required sessions (the individual session), then sessions until they reach
their minimum, keeping to one series per block; then every scheduled group still empty gets a
patient who can come. A session is staffed and given a room when its first patient joins; if no
facilitator or room is free, the patient looks further. Every step keeps the hard rules, so the
plan passes check.check_solution (the tests hold it to that).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from openiop.planning.domain.eligibility import (
    Eligible,
    effective_capacity,
    most_minutes,
)
from openiop.planning.domain.model import Instance, Session


@dataclass
class Plan:
    """Assignments under construction (also the shape the CP-SAT hint is read from)."""

    members: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    staff: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    room: dict[str, str] = field(default_factory=dict)

    def patient_sessions(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((p, s) for s, ps in self.members.items() for p in ps))

    def facilitators(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((s, k) for s, ks in self.staff.items() for k in ks))

    def rooms(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.room.items()))


class _Greedy:
    def __init__(self, instance: Instance, eligible: Eligible) -> None:
        self.instance = instance
        self.eligible = eligible
        self.sessions = {s.id: s for s in instance.sessions}
        self.rooms = {r.id: r for r in instance.rooms}
        self.staff = {k.id: k for k in instance.staff}
        self.plan = Plan()
        self.busy: dict[str, list[tuple[int, int]]] = defaultdict(list)  # patient/staff/room
        self.minutes: dict[str, int] = defaultdict(int)  # patient and staff minutes
        self.series_staff: dict[str, list[str]] = defaultdict(list)
        self.series_room: dict[str, str] = {}
        self.chosen_series: dict[tuple[str, str], str] = {}  # (patient, block) -> series
        self.capacity = {s.id: effective_capacity(instance, s) for s in instance.sessions}
        self.patient_max = {p.id: p.max_minutes for p in instance.patients}
        self.per_type: dict[tuple[str, str], int] = defaultdict(int)

    def _free(self, key: str, s: Session) -> bool:
        return all(not (a < s.end_minute and s.start_minute < b) for a, b in self.busy[key])

    def _book(self, key: str, s: Session) -> None:
        self.busy[key].append((s.start_minute, s.end_minute))

    def _open(self, s: Session) -> bool:
        """Staff and room the session; False (and nothing changed) when it cannot run."""
        needed = self.instance.session_type(s.session_type).facilitators
        usual = self.series_staff.get(s.series, []) if s.series else []
        candidates = [
            k
            for k in self.eligible.staff_of_session[s.id]
            if self._free("staff:" + k, s)
            and self.minutes["staff:" + k] + s.duration_minutes <= self.staff[k].max_minutes
        ]
        candidates.sort(key=lambda k: (k not in usual, self.minutes["staff:" + k], k))
        if len(candidates) < needed:
            return False
        room: str | None = None
        if s.needs_room:
            rooms = [
                r
                for r in self.eligible.rooms_of_session[s.id]
                if self.rooms[r].capacity >= 1 and self._free("room:" + r, s)
            ]
            if not rooms:
                return False
            want = self.capacity[s.id]
            usual_room = self.series_room.get(s.series) if s.series else None
            rooms.sort(
                key=lambda r: (
                    r != usual_room,
                    self.rooms[r].capacity < want,
                    abs(self.rooms[r].capacity - want),
                    r,
                )
            )
            room = rooms[0]
        for k in candidates[:needed]:
            self.plan.staff[s.id].append(k)
            self._book("staff:" + k, s)
            self.minutes["staff:" + k] += s.duration_minutes
            if s.series and k not in self.series_staff[s.series]:
                self.series_staff[s.series].append(k)
        if room is not None:
            self.plan.room[s.id] = room
            self._book("room:" + room, s)
            if s.series:
                self.series_room.setdefault(s.series, room)
        return True

    def _limit(self, s: Session) -> int:
        cap = self.capacity[s.id]
        if s.id in self.plan.room:
            cap = min(cap, self.rooms[self.plan.room[s.id]].capacity)
        return cap

    def try_join(self, patient: str, s: Session) -> bool:
        if patient in self.plan.members[s.id] or not self._free("patient:" + patient, s):
            return False
        most = self.patient_max[patient]
        if most is not None and self.minutes["patient:" + patient] + s.duration_minutes > most:
            return False
        most_of_type = self.instance.session_type(s.session_type).max_per_patient
        if most_of_type is not None and self.per_type[patient, s.session_type] >= most_of_type:
            return False
        running = bool(self.plan.members[s.id])
        if not running and self.capacity[s.id] < 1:
            return False
        if running and len(self.plan.members[s.id]) >= self._limit(s):
            return False
        if not running and not self._open(s):
            return False
        if len(self.plan.members[s.id]) >= self._limit(s):
            return False
        self.plan.members[s.id].append(patient)
        self._book("patient:" + patient, s)
        self.minutes["patient:" + patient] += s.duration_minutes
        self.per_type[patient, s.session_type] += 1
        if s.block:
            self.chosen_series.setdefault((patient, s.block), s.series or s.id)
        return True

    def seed_fixed(self) -> None:
        fixed = self.instance.fixed
        for session_id, staff_id in fixed.facilitators:
            s = self.sessions[session_id]
            self.plan.staff[session_id].append(staff_id)
            self._book("staff:" + staff_id, s)
            self.minutes["staff:" + staff_id] += s.duration_minutes
        for session_id, room_id in fixed.rooms:
            self.plan.room[session_id] = room_id
            self._book("room:" + room_id, self.sessions[session_id])
        for patient, session_id in fixed.patient_sessions:
            s = self.sessions[session_id]
            if not self.plan.members[session_id] and session_id not in self.plan.staff:
                self._open(s)
            self.plan.members[session_id].append(patient)
            self._book("patient:" + patient, s)
            self.minutes["patient:" + patient] += s.duration_minutes
            self.per_type[patient, s.session_type] += 1

    def order_key(self, patient: str, s: Session) -> tuple[int, int, str]:
        if s.block:
            chosen = self.chosen_series.get((patient, s.block))
            rank = 0 if chosen == (s.series or s.id) else (1 if chosen is None else 2)
        else:
            rank = 1
        return (rank, s.start_minute, s.id)

    def run(self) -> Plan:
        self.seed_fixed()
        patients = sorted(
            self.instance.patients,
            key=lambda p: (
                most_minutes(
                    self.instance,
                    [self.sessions[s] for s in self.eligible.sessions_of_patient[p.id]],
                )
                - p.required_minutes,
                p.id,
            ),
        )
        for p in patients:
            options = [self.sessions[s] for s in self.eligible.sessions_of_patient[p.id]]
            for req in p.requirements:
                have = sum(
                    1
                    for s in options
                    if s.session_type == req.session_type and p.id in self.plan.members[s.id]
                )
                for s in sorted(options, key=lambda s: (s.start_minute, s.id)):
                    if have >= req.count:
                        break
                    if s.session_type == req.session_type and self.try_join(p.id, s):
                        have += 1
        for p in patients:
            options = [self.sessions[s] for s in self.eligible.sessions_of_patient[p.id]]
            optional = {
                t.name for t in self.instance.session_types if t.optional
            }  # bookable slots are for requirements, not for hours
            for s in sorted(options, key=lambda s: self.order_key(p.id, s)):
                if self.minutes["patient:" + p.id] >= p.required_minutes:
                    break
                if s.session_type not in optional:
                    self.try_join(p.id, s)
        for s in sorted(self.instance.sessions, key=lambda s: (s.start_minute, s.id)):
            if self.plan.members[s.id] or self.instance.session_type(s.session_type).optional:
                continue
            for p in patients:
                if s.id in self.eligible.sessions_of_patient[p.id] and self.try_join(p.id, s):
                    break
        return self.plan


def greedy_plan(instance: Instance, eligible: Eligible) -> Plan:
    """A plan keeping every hard rule (deterministic: ties break on ids)."""
    return _Greedy(instance, eligible).run()
