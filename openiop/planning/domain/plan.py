"""`plan_week`: the week's plan from plain data, with CP-SAT and a greedy fallback."""

from __future__ import annotations

import time

from openiop.planning.domain.bounds import floor_bound
from openiop.planning.domain.cpsat import solve_parts, split
from openiop.planning.domain.eligibility import eligible as eligible_pairs
from openiop.planning.domain.greedy import Plan, greedy_plan
from openiop.planning.domain.model import Instance, Solution
from openiop.planning.domain.objective import terms_of, weigh
from openiop.planning.domain.reasons import shortfalls

SOLVER_CPSAT = "cp-sat"
SOLVER_GREEDY = "greedy"

# Wall-clock kept back from the search for what follows it (the plan's objective, the shortfalls'
# reasons): a fixed part and a part per patient; measured at 0.15 s for 1,000 patients on a quiet
# machine and 0.5 s with its two cores shared, hence 0.9 s kept for 1,000.
RESERVE_SECONDS = 0.3
RESERVE_SECONDS_PER_PATIENT = 0.0006


def search_seconds(limit: float, elapsed: float, patients: int) -> float:
    """Wall-clock seconds the parts' search may take so that the whole call ends within `limit`:
    what is left after `elapsed` (eligibility, greedy plan, split) less the reserve for the work
    after the search. Never negative; never more than a quarter of `limit` is reserved."""
    reserve = min(limit / 4, RESERVE_SECONDS + RESERVE_SECONDS_PER_PATIENT * patients)
    return max(0.0, limit - elapsed - reserve)


def plan_week(
    instance: Instance,
    *,
    time_limit_seconds: float = 30.0,
    seed: int = 0,
    workers: int = 2,
    deterministic: bool = True,
    use_cpsat: bool = True,
) -> Solution:
    """The week's assignments for `instance`, with each shortfall's reason.

    Builds the greedy plan first (always possible, every hard rule kept), then hands it to CP-SAT
    as a hint, part by part (cpsat.py). A part where CP-SAT finds nothing in its time keeps the
    greedy plan. `deterministic`: limit each part by CP-SAT's deterministic time (the same
    `seed` and `workers` then give the same plan on any machine load); False: by wall-clock time
    for the whole call, eligibility and greedy plan included (what a benchmark at "30 s" means).
    Deterministic seconds are not wall seconds: with 2 workers on 2 cores shared at load 9-10,
    30 deterministic seconds took 100-180 s of wall-clock (bench/results/plan-det.md); a caller
    that must answer within a wall-clock limit passes deterministic=False.
    `use_cpsat=False`: the greedy plan alone.

    A part where CP-SAT stopped with a plan worse than the greedy one keeps the greedy plan.
    Returns a Solution whose objective is objective.weigh(terms_of(...)) of its assignments and
    whose bound adds, for each part, the larger of CP-SAT's proven lower bound and
    bounds.floor_bound (what no plan avoids, for a part CP-SAT did not bound). Status: OPTIMAL
    when every part is proven optimal, FEASIBLE when CP-SAT planned every part, FALLBACK when at
    least one part is the greedy plan.
    """
    started = time.monotonic()
    eligible = eligible_pairs(instance)
    greedy = greedy_plan(instance, eligible)
    plan = Plan()
    bound = 0
    statuses: list[str] = []
    solvers: set[str] = set()
    if use_cpsat:
        parts = split(instance, eligible)
        floors = [floor_bound(part, eligible) for part in parts]
        budget = time_limit_seconds
        if not deterministic:
            budget = search_seconds(
                time_limit_seconds, time.monotonic() - started, len(instance.patients)
            )
        results = solve_parts(
            parts,
            eligible,
            greedy,
            time_limit_seconds=budget,
            seed=seed,
            workers=workers,
            deterministic=deterministic,
        )
        for part, result, floor in zip(parts, results, floors, strict=True):
            chosen = result.plan
            fallback = _restrict(greedy, part)
            if chosen is not None and _value(part, fallback) < _value(part, chosen):
                chosen = None  # stopped before reaching its own hint: keep the better plan
            if chosen is None:
                chosen = fallback
                statuses.append("FALLBACK")
                solvers.add(SOLVER_GREEDY)
            else:
                statuses.append(result.status)
                solvers.add(SOLVER_CPSAT)
            bound += max(result.bound, floor)
            for s_id, people in chosen.members.items():
                plan.members[s_id].extend(people)
            for s_id, staff in chosen.staff.items():
                plan.staff[s_id].extend(staff)
            plan.room.update(chosen.room)
    else:
        plan = greedy
        bound = floor_bound(instance, eligible)
        statuses.append("FALLBACK")
        solvers.add(SOLVER_GREEDY)

    patient_sessions = plan.patient_sessions()
    facilitators = plan.facilitators()
    rooms = plan.rooms()
    terms = terms_of(instance, patient_sessions, facilitators, rooms)
    value = weigh(terms)
    bound = min(bound, value)
    if "FALLBACK" in statuses:
        status = "FALLBACK"
    elif statuses and all(s == "OPTIMAL" for s in statuses):
        status = "OPTIMAL"
    else:
        status = "FEASIBLE" if statuses else "OPTIMAL"
    if not statuses:  # nothing to plan: the empty plan is optimal
        bound = value
    return Solution(
        patient_sessions=patient_sessions,
        facilitators=facilitators,
        rooms=rooms,
        shortfalls=shortfalls(instance, eligible, patient_sessions),
        objective=value,
        bound=bound,
        gap=gap(value, bound),
        status=status,
        solver="+".join(sorted(solvers)) or SOLVER_CPSAT,
        terms=terms,
        wall_seconds=round(time.monotonic() - started, 3),
    )


def gap(value: int, bound: int) -> float:
    """(objective - bound) / max(1, objective), rounded to 6 places."""
    return round((value - bound) / max(1, abs(value)), 6)


def _value(part: Instance, plan: Plan) -> int:
    return weigh(terms_of(part, plan.patient_sessions(), plan.facilitators(), plan.rooms()))


def _restrict(plan: Plan, part: Instance) -> Plan:
    """The assignments of `plan` that belong to `part`'s sessions."""
    ids = {s.id for s in part.sessions}
    out = Plan()
    for s_id in sorted(ids):
        if plan.members.get(s_id):
            out.members[s_id] = list(plan.members[s_id])
        if plan.staff.get(s_id):
            out.staff[s_id] = list(plan.staff[s_id])
        if s_id in plan.room:
            out.room[s_id] = plan.room[s_id]
    return out
