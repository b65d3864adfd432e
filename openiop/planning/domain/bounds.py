"""A lower bound on every plan's objective from what no plan can avoid, without a solver.

Each term of objective.py is at least what the instance alone forces:
- a patient's shortfall is at least their minimum less the most minutes they could be planned
  (eligibility.most_minutes, and their own `max_minutes`);
- a required session is missing at least `count` less the sessions of its type open to them
  (no more than the type's `max_per_patient`);
- a scheduled session that cannot run is cancelled: no patient may join it, fewer facilitators
  than its type needs may run it, it needs a room and none can hold it, or it holds no one;
- the soft goals count from zero.
CP-SAT proves better bounds when it has time; this one holds when it had none (plan.py takes the
larger of the two for each part), so the reported gap stays honest and small for a part CP-SAT
could not bound.
"""

from __future__ import annotations

from openiop.planning.domain.eligibility import Eligible, effective_capacity, most_minutes
from openiop.planning.domain.model import Instance, Terms
from openiop.planning.domain.objective import weigh


def forced_terms(instance: Instance, eligible: Eligible) -> Terms:
    """The least of each objective term over every plan of `instance` (see the module doc)."""
    sessions = {s.id: s for s in instance.sessions}
    types = {t.name: t for t in instance.session_types}
    rooms = {r.id: r for r in instance.rooms}
    shortfall = 0
    missing = 0
    for p in instance.patients:
        options = [sessions[i] for i in eligible.sessions_of_patient[p.id] if i in sessions]
        if p.required_minutes > 0:
            most = most_minutes(instance, options)
            if p.max_minutes is not None:
                most = min(most, p.max_minutes)
            shortfall += max(0, p.required_minutes - most)
        for req in p.requirements:
            open_ = sum(1 for s in options if s.session_type == req.session_type)
            limit = types[req.session_type].max_per_patient if req.session_type in types else None
            if limit is not None:
                open_ = min(open_, limit)
            missing += max(0, req.count - open_)
    can_join: set[str] = {i for ids in eligible.sessions_of_patient.values() for i in ids}
    can_join |= {s_id for _, s_id in instance.fixed.patient_sessions}
    fixed_staff: dict[str, set[str]] = {}
    for s_id, k in instance.fixed.facilitators:
        fixed_staff.setdefault(s_id, set()).add(k)
    fixed_room = {s_id for s_id, _ in instance.fixed.rooms}
    cancelled = 0
    for s in instance.sessions:
        t = types[s.session_type]
        if t.optional:
            continue
        staff = set(eligible.staff_of_session[s.id]) | fixed_staff.get(s.id, set())
        roomy = s.id in fixed_room or any(
            rooms[r].capacity >= 1 for r in eligible.rooms_of_session[s.id] if r in rooms
        )
        if (
            s.id not in can_join
            or effective_capacity(instance, s) < 1
            or len(staff) < t.facilitators
            or (s.needs_room and not roomy)
        ):
            cancelled += 1
    return Terms(
        shortfall_minutes=shortfall, missing_sessions=missing, cancelled_sessions=cancelled
    )


def floor_bound(instance: Instance, eligible: Eligible) -> int:
    """objective.weigh of `forced_terms`: no plan of `instance` costs less."""
    return weigh(forced_terms(instance, eligible))
