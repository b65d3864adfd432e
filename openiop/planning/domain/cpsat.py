"""The CP-SAT model of the week (OR-Tools), one independent part of the network at a time.

Variables, for the pairs eligibility.py allows: a[p,s] patient p in session s; run[s] the session
runs; f[s,k] staff k facilitates s; z[s,r] room r holds s. Constraints: a <= run <= sum_p a;
sum_p a <= capacity and type limit; sum_k f = facilitators * run; sum_r z = run (rooms needed);
sum_p a <= sum_r capacity_r z; at most one session of each overlapping set per patient, staff and
room (the sets alive at each start point); staff minutes <= max; fixed pairs equal 1. The objective
is objective.py's weighted sum, encoded with shortfall, missing, series and peak variables.

Parts of the network that share no patient, session, staff, room or site (in practice: sites) are
solved one after another, smallest first, each with a share of the time left in proportion to its
size (`share`); a part finished early leaves its time to the rest. Their objectives and proven
bounds add up. Each part starts from the greedy plan given as a complete hint (every variable,
the objective's counters included), so CP-SAT's first solution is the greedy plan itself and it
only improves on it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from openiop.planning.domain import objective as obj
from openiop.planning.domain.eligibility import (
    Eligible,
    effective_capacity,
    most_minutes,
    overlap_cliques,
)
from openiop.planning.domain.greedy import Plan
from openiop.planning.domain.model import Fixed, Instance


@dataclass(frozen=True)
class PartResult:
    """One part's outcome. `plan` is None when CP-SAT found no solution in its time."""

    plan: Plan | None
    objective: int | None
    bound: int
    status: str
    deterministic_seconds: float


def split(instance: Instance, eligible: Eligible) -> list[Instance]:
    """The independent parts of `instance` (connected by eligible pairs and sites), in a fixed
    order (by their first session or patient id)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for p in instance.patients:
        find("p:" + p.id)
        for s_id in eligible.sessions_of_patient[p.id]:
            union("p:" + p.id, "s:" + s_id)
    for session in instance.sessions:
        find("s:" + session.id)
        for k_id in eligible.staff_of_session[session.id]:
            union("s:" + session.id, "k:" + k_id)
        for r_id in eligible.rooms_of_session[session.id]:
            union("s:" + session.id, "r:" + r_id)
    for member in instance.staff:
        union("k:" + member.id, "site:" + member.site)
    for a, b in instance.fixed.patient_sessions:
        union("p:" + a, "s:" + b)
    for a, b in instance.fixed.facilitators:
        union("s:" + a, "k:" + b)
    for a, b in instance.fixed.rooms:
        union("s:" + a, "r:" + b)
    for room in instance.rooms:
        find("r:" + room.id)

    groups: dict[str, set[str]] = defaultdict(set)
    for key in list(parent):
        groups[find(key)].add(key)
    parts: list[Instance] = []
    for root in sorted(groups):
        keys = groups[root]
        if not any(k.startswith(("p:", "s:")) for k in keys):
            continue
        fixed = instance.fixed
        parts.append(
            replace(
                instance,
                patients=tuple(p for p in instance.patients if "p:" + p.id in keys),
                sessions=tuple(s for s in instance.sessions if "s:" + s.id in keys),
                staff=tuple(k for k in instance.staff if "k:" + k.id in keys),
                rooms=tuple(r for r in instance.rooms if "r:" + r.id in keys),
                fixed=Fixed(
                    tuple(x for x in fixed.patient_sessions if "p:" + x[0] in keys),
                    tuple(x for x in fixed.facilitators if "s:" + x[0] in keys),
                    tuple(x for x in fixed.rooms if "s:" + x[0] in keys),
                    fixed.closed_before_minute,
                ),
            )
        )
    return parts


@dataclass
class Built:
    """One part's model and the variables a plan is read from (`hinted`: how many variables got a
    hint; with a hint every variable gets one)."""

    model: cp_model.CpModel
    a: dict[tuple[str, str], cp_model.IntVar]
    f: dict[tuple[str, str], cp_model.IntVar]
    z: dict[tuple[str, str], cp_model.IntVar]
    hinted: int = 0


def build_model(part: Instance, eligible: Eligible, hint: Plan | None) -> Built:
    """The CP-SAT model of one part. With `hint`, every variable (assignments and the objective's
    auxiliary counters alike) is hinted with its value in that plan, so a hint that keeps the hard
    rules is a complete feasible solution CP-SAT starts from, with the hint plan's objective."""
    m = cp_model.CpModel()
    in_plan: set[tuple[str, str]] = set()  # the hint's pairs in this part's sessions
    staffed: set[tuple[str, str]] = set()
    roomed: set[tuple[str, str]] = set()
    if hint is not None:
        for s in part.sessions:
            in_plan.update((p_id, s.id) for p_id in hint.members.get(s.id, ()))
            staffed.update((s.id, k_id) for k_id in hint.staff.get(s.id, ()))
            if s.id in hint.room:
                roomed.add((s.id, hint.room[s.id]))

    hint_vars: list[int] = []
    hint_values: list[int] = []

    def h(var: cp_model.IntVar, value: int) -> None:
        # every variable here is a plain one (index >= 0); written to the proto in one go below
        if hint is not None:
            hint_vars.append(var.index)
            hint_values.append(int(value))

    sessions = {s.id: s for s in part.sessions}
    types = {t.name: t for t in part.session_types}
    rooms = {r.id: r for r in part.rooms}
    staff = {k.id: k for k in part.staff}
    fixed = part.fixed

    a: dict[tuple[str, str], cp_model.IntVar] = {}
    for p in part.patients:
        for s_id in eligible.sessions_of_patient[p.id]:
            a[p.id, s_id] = m.new_bool_var(f"a[{p.id},{s_id}]")
            h(a[p.id, s_id], (p.id, s_id) in in_plan)
    f: dict[tuple[str, str], cp_model.IntVar] = {}
    z: dict[tuple[str, str], cp_model.IntVar] = {}
    run: dict[str, cp_model.IntVar] = {}
    for s in part.sessions:
        run[s.id] = m.new_bool_var(f"run[{s.id}]")
        h(run[s.id], hint is not None and bool(hint.members.get(s.id)))
        for k in eligible.staff_of_session[s.id]:
            f[s.id, k] = m.new_bool_var(f"f[{s.id},{k}]")
            h(f[s.id, k], (s.id, k) in staffed)
        for r in eligible.rooms_of_session[s.id]:
            z[s.id, r] = m.new_bool_var(f"z[{s.id},{r}]")
            h(z[s.id, r], (s.id, r) in roomed)
    for s_id, k in fixed.facilitators:
        if (s_id, k) not in f:
            f[s_id, k] = m.new_bool_var(f"f[{s_id},{k}]")
            h(f[s_id, k], (s_id, k) in staffed)
        m.add(f[s_id, k] == 1)
    for s_id, r in fixed.rooms:
        if (s_id, r) not in z:
            z[s_id, r] = m.new_bool_var(f"z[{s_id},{r}]")
            h(z[s_id, r], (s_id, r) in roomed)
        m.add(z[s_id, r] == 1)
    for pair in fixed.patient_sessions:
        m.add(a[pair] == 1)

    members: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (_, s_id), var in a.items():
        members[s_id].append(var)
    f_of: dict[str, dict[str, cp_model.IntVar]] = defaultdict(dict)
    z_of: dict[str, dict[str, cp_model.IntVar]] = defaultdict(dict)
    for (s_id, k), var in f.items():
        f_of[s_id][k] = var
    for (s_id, r), var in z.items():
        z_of[s_id][r] = var

    for s in part.sessions:
        t = types[s.session_type]
        people = members[s.id]
        if not people:
            m.add(run[s.id] == 0)
            for var in (*f_of[s.id].values(), *z_of[s.id].values()):
                m.add(var == 0)
            continue
        for var in people:
            m.add_implication(var, run[s.id])
        m.add(sum(people) >= run[s.id])
        m.add(sum(people) <= effective_capacity(part, s))
        m.add(sum(f_of[s.id].values()) == t.facilitators * run[s.id])
        if s.needs_room:
            m.add(sum(z_of[s.id].values()) == run[s.id])
            m.add(sum(people) <= sum(rooms[r].capacity * var for r, var in z_of[s.id].items()))

    def no_overlap(vars_by_session: dict[str, cp_model.IntVar]) -> None:
        spans = [
            (s_id, sessions[s_id].start_minute, sessions[s_id].end_minute)
            for s_id in vars_by_session
        ]
        for clique in overlap_cliques(spans):
            m.add_at_most_one(vars_by_session[s_id] for s_id in clique)

    by_patient: dict[str, dict[str, cp_model.IntVar]] = defaultdict(dict)
    for (p_id, s_id), var in a.items():
        by_patient[p_id][s_id] = var
    by_staff: dict[str, dict[str, cp_model.IntVar]] = defaultdict(dict)
    for (s_id, k), var in f.items():
        by_staff[k][s_id] = var
    by_room: dict[str, dict[str, cp_model.IntVar]] = defaultdict(dict)
    for (s_id, r), var in z.items():
        by_room[r][s_id] = var
    for table in (by_patient, by_staff, by_room):
        for _, chosen in sorted(table.items()):
            no_overlap(chosen)

    def hinted_sum(weighted: list[tuple[int, tuple[str, str]]], pairs: set[tuple[str, str]]) -> int:
        return sum(w for w, pair in weighted if pair in pairs)

    load: dict[str, cp_model.LinearExprT] = {}
    load_hint: dict[str, int] = {}
    for k_id, chosen in sorted(by_staff.items()):
        load_hint[k_id] = hinted_sum(
            [(sessions[s_id].duration_minutes, (s_id, k_id)) for s_id in chosen], staffed
        )
        expr = sum(sessions[s_id].duration_minutes * var for s_id, var in chosen.items())
        m.add(expr <= staff[k_id].max_minutes)
        load[k_id] = expr

    terms: list[tuple[int, cp_model.LinearExprT]] = []
    for p in part.patients:
        chosen = by_patient[p.id]
        minutes = sum(sessions[s_id].duration_minutes * var for s_id, var in chosen.items())
        if p.max_minutes is not None:
            m.add(minutes <= p.max_minutes)
        for t in part.session_types:
            if t.max_per_patient is not None:
                of_type = [v for i, v in chosen.items() if sessions[i].session_type == t.name]
                if len(of_type) > t.max_per_patient:
                    m.add(sum(of_type) <= t.max_per_patient)
        if p.required_minutes > 0:
            # No plan gives more than the most non-overlapping minutes they could attend: a cut
            # that lets the bound see unavoidable shortfalls at once.
            possible = most_minutes(part, [sessions[i] for i in chosen])
            least = max(0, p.required_minutes - possible)
            short = m.new_int_var(least, p.required_minutes, f"short[{p.id}]")
            planned = hinted_sum(
                [(sessions[s_id].duration_minutes, (p.id, s_id)) for s_id in chosen], in_plan
            )
            h(short, max(least, p.required_minutes - planned))
            m.add(short >= p.required_minutes - minutes)
            terms.append((obj.W_SHORTFALL, short))
        for req in p.requirements:
            have = sum(
                var
                for s_id, var in chosen.items()
                if sessions[s_id].session_type == req.session_type
            )
            miss = m.new_int_var(0, req.count, f"miss[{p.id},{req.session_type}]")
            got = sum(
                1
                for s_id in chosen
                if sessions[s_id].session_type == req.session_type and (p.id, s_id) in in_plan
            )
            h(miss, max(0, req.count - got))
            m.add(miss >= req.count - have)
            terms.append((obj.W_MISSING, miss))
        series_by_block: dict[str, dict[str, list[tuple[str, cp_model.IntVar]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for s_id, var in chosen.items():
            s = sessions[s_id]
            if s.block:
                series_by_block[s.block][s.series or s.id].append((s_id, var))
        for block, series in sorted(series_by_block.items()):
            if len(series) < 2:
                continue
            used = []
            used_hint = 0
            for name, members_of_series in sorted(series.items()):
                v = m.new_bool_var(f"in[{p.id},{name}]")
                attends = any((p.id, s_id) in in_plan for s_id, _ in members_of_series)
                h(v, attends)
                used_hint += attends
                for _, one in members_of_series:
                    m.add_implication(one, v)
                used.append(v)
            changes = m.new_int_var(0, len(used) - 1, f"changes[{p.id},{block}]")
            h(changes, max(0, used_hint - 1))
            m.add(changes >= sum(used) - 1)
            terms.append((obj.W_GROUP_CHANGE, changes))

    for s in part.sessions:
        if not types[s.session_type].optional:
            terms.append((obj.W_CANCELLED, 1 - run[s.id]))

    series_sessions: dict[str, list[str]] = defaultdict(list)
    for s in part.sessions:
        if s.series:
            series_sessions[s.series].append(s.id)
    for name, ids in sorted(series_sessions.items()):
        needed = max(types[sessions[i].session_type].facilitators for i in ids)
        staff_in: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        rooms_in: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        staff_used = {k for i in ids for k in hint.staff.get(i, ())} if hint else set()
        rooms_used = {hint.room[i] for i in ids if i in hint.room} if hint else set()
        for i in ids:
            for k, var in f_of[i].items():
                staff_in[k].append(var)
            for r, var in z_of[i].items():
                rooms_in[r].append(var)
        if len(ids) > 1 and len(staff_in) > needed:
            ws = []
            for k, vs in sorted(staff_in.items()):
                w = m.new_bool_var(f"series_staff[{name},{k}]")
                h(w, k in staff_used)
                for var in vs:
                    m.add_implication(var, w)
                ws.append(w)
            extra = m.new_int_var(0, len(ws), f"series_staff_changes[{name}]")
            h(extra, max(0, len(staff_used & set(staff_in)) - needed))
            m.add(extra >= sum(ws) - needed)
            terms.append((obj.W_FACILITATOR_CHANGE, extra))
        if len(ids) > 1 and len(rooms_in) > 1:
            ws = []
            for r, vs in sorted(rooms_in.items()):
                w = m.new_bool_var(f"series_room[{name},{r}]")
                h(w, r in rooms_used)
                for var in vs:
                    m.add_implication(var, w)
                ws.append(w)
            extra = m.new_int_var(0, len(ws), f"series_room_changes[{name}]")
            h(extra, max(0, len(rooms_used & set(rooms_in)) - 1))
            m.add(extra >= sum(ws) - 1)
            terms.append((obj.W_ROOM_CHANGE, extra))

    by_site: dict[str, list[str]] = defaultdict(list)
    for member in part.staff:
        by_site[member.site].append(member.id)
    for site, ids in sorted(by_site.items()):
        top = max(x.max_minutes for x in part.staff if x.id in ids)
        peak = m.new_int_var(0, top, f"peak[{site}]")
        h(peak, max((load_hint[k_id] for k_id in ids if k_id in load_hint), default=0))
        for k_id in ids:
            if k_id in load:
                m.add(peak >= load[k_id])
        terms.append((obj.W_PEAK_CASELOAD, peak))

    m.minimize(sum(w * e for w, e in terms))
    m.proto.solution_hint.vars.extend(hint_vars)
    m.proto.solution_hint.values.extend(hint_values)
    return Built(m, a, f, z, len(hint_vars))


def solve_part(
    part: Instance,
    eligible: Eligible,
    hint: Plan | None,
    *,
    seconds: float,
    seed: int,
    workers: int,
    deterministic: bool,
) -> PartResult:
    """Build and solve the model of one part. Never raises for a well-formed instance.
    `seconds`: deterministic seconds of search when `deterministic`, else wall-clock seconds
    that include building the model (the search gets what building left)."""
    started = time.monotonic()
    built = build_model(part, eligible, hint)
    m, a, f, z = built.model, built.a, built.f, built.z
    if not deterministic:
        seconds = seconds - (time.monotonic() - started)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = seed
    params.num_workers = workers
    # Probing in presolve costs more than it gains on these models (measured on the bench's
    # sites: same or better objective and bound at 1 s and 3 s) and delays the first solution,
    # the hint, by ~0.4 s when the cores are shared.
    params.cp_model_probing_level = 0
    # The bound: with one or two workers the one full-problem worker keeps the LP with every
    # linearisation ("max_lp") instead of the default one (measured on the bench's sites at 1 s
    # and 2 s a site: the soft goals' part of the gap fell from ~2,400 to ~300 on five sites, the
    # plans as good or better). More workers run CP-SAT's own portfolio, max_lp included.
    if workers == 1:
        params.linearization_level = 2
    elif workers == 2:
        params.subsolvers.append("max_lp")
    if deterministic:
        params.interleave_search = workers > 1
        params.max_deterministic_time = max(0.05, seconds)
        params.max_time_in_seconds = max(1.0, seconds * 10)
    else:
        params.max_time_in_seconds = max(0.05, seconds)
    status = solver.solve(m)
    name = solver.status_name(status)
    det = solver.response_proto.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raw = solver.best_objective_bound
        bound = _ceil(raw) if status == cp_model.UNKNOWN and math.isfinite(raw) else 0
        return PartResult(None, None, max(0, bound), name, det)
    plan = Plan()
    for (p_id, s_id), var in a.items():
        if solver.value(var):
            plan.members[s_id].append(p_id)
    for (s_id, k), var in f.items():
        if solver.value(var):
            plan.staff[s_id].append(k)
    for (s_id, r), var in z.items():
        if solver.value(var):
            plan.room[s_id] = r
    value = round(solver.objective_value)
    bound = min(value, _ceil(solver.best_objective_bound))
    return PartResult(plan, value, bound, name, det)


def _ceil(x: float) -> int:
    """A lower bound on an integer objective: the float bound rounded up (with tolerance)."""
    r = round(x)
    return r if abs(x - r) < 1e-6 else int(x) + (1 if x > int(x) else 0)


def part_size(part: Instance, eligible: Eligible) -> int:
    """How much a part has to decide: its eligible patient-session pairs (at least 1)."""
    return max(1, sum(len(eligible.sessions_of_patient[p.id]) for p in part.patients))


def solving_order(sizes: Sequence[int]) -> list[int]:
    """The parts' indices, smallest first (ties in the parts' order): what a small part proven
    optimal early leaves goes to the larger ones after it."""
    return sorted(range(len(sizes)), key=lambda i: (sizes[i], i))


def share(seconds_left: float, sizes_left: Sequence[int]) -> float:
    """The next part's time: what is left in proportion to its size among the parts still to
    solve (`sizes_left[0]` is the next part's size). Never negative."""
    total = sum(sizes_left)
    if seconds_left <= 0 or not sizes_left or total <= 0:
        return 0.0
    return seconds_left * sizes_left[0] / total


def solve_parts(
    parts: list[Instance],
    eligible: Eligible,
    hint: Plan,
    *,
    time_limit_seconds: float,
    seed: int,
    workers: int,
    deterministic: bool,
) -> list[PartResult]:
    """Solve every part, smallest first, each with its `share` of the time left; results in the
    parts' order. `time_limit_seconds`: deterministic seconds of search in all when
    `deterministic` (the same plan on any machine load), else wall-clock seconds for building
    and solving them all (what a part does not use, the next ones get)."""
    sizes = [part_size(x, eligible) for x in parts]
    order = solving_order(sizes)
    left = time_limit_seconds
    deadline = time.monotonic() + time_limit_seconds
    results: dict[int, PartResult] = {}
    for n, i in enumerate(order):
        seconds = share(left, [sizes[j] for j in order[n:]])
        result = solve_part(
            parts[i],
            eligible,
            hint,
            seconds=seconds,
            seed=seed,
            workers=workers,
            deterministic=deterministic,
        )
        results[i] = result
        if deterministic:
            left = max(0.0, left - min(seconds, result.deterministic_seconds))
        else:
            left = max(0.0, deadline - time.monotonic())
    return [results[i] for i in range(len(parts))]
