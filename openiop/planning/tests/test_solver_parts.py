"""The planner's parts and time (issue 19 points 2 and 5): the time each part gets, the order
they are solved in, the complete greedy hint, the solver-free lower bound and the faster
eligibility. Pure: no database."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from openiop.planning.domain import cpsat
from openiop.planning.domain import plan as plan_module
from openiop.planning.domain.bounds import floor_bound, forced_terms
from openiop.planning.domain.check import check_solution
from openiop.planning.domain.cpsat import (
    PartResult,
    build_model,
    share,
    solve_parts,
    solving_order,
    split,
)
from openiop.planning.domain.eligibility import (
    Eligible,
    eligible,
    fits,
    open_to,
    overlap_cliques,
)
from openiop.planning.domain.greedy import greedy_plan
from openiop.planning.domain.model import Fixed, Instance, Requirement, Session, Terms
from openiop.planning.domain.objective import (
    W_CANCELLED,
    W_MISSING,
    W_SHORTFALL,
    terms_of,
    weigh,
)
from openiop.planning.domain.plan import _restrict, plan_week, search_seconds
from openiop.planning.tests.factories import GROUP, INDIVIDUAL, at, group, patient, week
from openiop.planning.tests.test_plan_week import small_network, small_weeks

# --- time: shares, order, the wall-clock budget --------------------------------------------


def test_a_part_gets_the_time_left_in_proportion_to_its_size() -> None:
    assert share(30.0, [10, 20, 30]) == pytest.approx(5.0)
    assert share(12.0, [30]) == pytest.approx(12.0)  # the last part gets all that is left
    assert share(0.0, [1, 1]) == 0.0
    assert share(-1.0, [1, 1]) == 0.0
    assert share(5.0, []) == 0.0


def test_parts_are_solved_smallest_first_ties_in_order() -> None:
    assert solving_order([30, 10, 20, 10]) == [1, 3, 2, 0]
    assert solving_order([]) == []


def test_the_search_leaves_time_for_what_comes_before_and_after_it() -> None:
    whole = search_seconds(30.0, 0.0, 0)
    assert whole == pytest.approx(30.0 - plan_module.RESERVE_SECONDS)
    assert search_seconds(30.0, 2.0, 1000) == pytest.approx(
        30.0 - 2.0 - plan_module.RESERVE_SECONDS - 1000 * plan_module.RESERVE_SECONDS_PER_PATIENT
    )
    assert search_seconds(1.0, 0.0, 10**6) == pytest.approx(0.75)  # at most a quarter kept
    assert search_seconds(30.0, 31.0, 10) == 0.0


def test_time_unused_by_a_small_part_goes_to_the_larger_ones_and_results_keep_part_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = small_network(40)
    pairs = eligible(instance)
    parts = split(instance, pairs)
    # make the parts differ in size: drop most patients of the first one
    parts = [dataclasses.replace(parts[0], patients=parts[0].patients[:3]), *parts[1:]]
    calls: list[tuple[str, float]] = []

    def fake(part: Instance, *args: object, seconds: float, **kwargs: object) -> PartResult:
        calls.append((part.sessions[0].id, seconds))
        used = seconds / 2  # every part uses half of its time
        return PartResult(None, None, len(part.patients), "UNKNOWN", used)

    monkeypatch.setattr(cpsat, "solve_part", fake)
    results = solve_parts(
        parts,
        pairs,
        greedy_plan(instance, pairs),
        time_limit_seconds=10.0,
        seed=0,
        workers=1,
        deterministic=True,
    )

    sizes = [cpsat.part_size(p, pairs) for p in parts]
    order = solving_order(sizes)
    assert [c[0] for c in calls] == [parts[i].sessions[0].id for i in order]
    assert order[0] == 0  # the smallest part first
    first = 10.0 * sizes[order[0]] / sum(sizes)
    assert calls[0][1] == pytest.approx(first)
    # the second gets its share of everything not used by the first
    left = 10.0 - first / 2
    assert calls[1][1] == pytest.approx(left * sizes[order[1]] / sum(sizes[j] for j in order[1:]))
    assert [r.bound for r in results] == [len(p.patients) for p in parts]


# --- the greedy plan as a complete, feasible hint -------------------------------------------


def _solve_the_hint_alone(built: cpsat.Built) -> tuple[str, float]:
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    status = solver.solve(built.model)
    value = solver.objective_value if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else -1
    return solver.status_name(status), value


def _hint_is_the_greedy_plan(instance: Instance) -> None:
    pairs = eligible(instance)
    greedy = greedy_plan(instance, pairs)
    for part in split(instance, pairs):
        built = build_model(part, pairs, greedy)
        proto = built.model.proto
        free = {i for i, v in enumerate(proto.variables) if list(v.domain) != [v.domain[0]] * 2}
        hinted = set(proto.solution_hint.vars)
        assert free <= hinted  # every variable hinted (constants need none)
        assert built.hinted == len(hinted)
        status, value = _solve_the_hint_alone(built)
        mine = _restrict(greedy, part)
        expected = weigh(terms_of(part, mine.patient_sessions(), mine.facilitators(), mine.rooms()))
        assert (status, value) == ("OPTIMAL", expected)


def test_the_greedy_plan_is_a_complete_feasible_hint_with_its_own_objective() -> None:
    _hint_is_the_greedy_plan(small_network(40))


def test_the_hint_holds_with_fixed_assignments() -> None:
    sessions = (group("mon-9", 0, 9, 60), group("tue-9", 1, 9, 60), group("wed-9", 2, 9, 60))
    base = week((patient("ada", 0, 1, 2, required=180), patient("bo", 0, 1, 2)), sessions)
    _hint_is_the_greedy_plan(
        dataclasses.replace(
            base,
            fixed=Fixed(
                patient_sessions=(("ada", "mon-9"),),
                facilitators=(("mon-9", "dr-quill"),),
                rooms=(("mon-9", "room-otter"),),
                closed_before_minute=at(1, 0),
            ),
        )
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_weeks())
def test_the_hint_is_complete_and_feasible_on_random_weeks(instance: Instance) -> None:
    _hint_is_the_greedy_plan(instance)


def test_without_a_hint_nothing_is_hinted() -> None:
    instance = small_network(12)
    pairs = eligible(instance)
    assert build_model(split(instance, pairs)[0], pairs, None).hinted == 0


# --- the solver-free lower bound ------------------------------------------------------------


def test_the_floor_counts_what_no_plan_avoids() -> None:
    # Cy needs 2 h and can come only to Monday's hour; Di needs an individual session and no slot
    # is open to her; nobody can come to Thursday's group (scheduled, hence cancelled).
    instance = dataclasses.replace(
        week(
            (
                patient("cy", 0, required=120),
                patient("di", 0, required=0, requirements=(Requirement("individual", 1),)),
            ),
            (group("mon-9", 0, 9, 60), group("thu-9", 3, 9, 60)),
        ),
        session_types=(GROUP, INDIVIDUAL),
    )
    pairs = eligible(instance)
    assert forced_terms(instance, pairs) == Terms(
        shortfall_minutes=60, missing_sessions=1, cancelled_sessions=1
    )
    assert floor_bound(instance, pairs) == 60 * W_SHORTFALL + W_MISSING + W_CANCELLED
    solution = plan_week(instance, time_limit_seconds=2.0, workers=1)
    assert solution.bound >= floor_bound(instance, pairs)
    assert solution.objective >= floor_bound(instance, pairs)


def test_a_group_without_enough_facilitators_counts_as_cancelled() -> None:
    two = dataclasses.replace(GROUP, facilitators=2)  # only dr-quill exists
    instance = dataclasses.replace(
        week((patient("cy", 0, required=60),), (group("mon-9", 0, 9, 60),)),
        session_types=(two, INDIVIDUAL),
    )
    assert forced_terms(instance, eligible(instance)).cancelled_sessions == 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_weeks())
def test_the_floor_is_below_every_plan(instance: Instance) -> None:
    pairs = eligible(instance)
    floor = floor_bound(instance, pairs)
    greedy = plan_week(instance, use_cpsat=False)
    solved = plan_week(instance, time_limit_seconds=0.3, seed=1, workers=1)
    assert floor <= solved.objective <= greedy.objective
    assert floor <= solved.bound <= solved.objective
    assert greedy.bound == min(floor, greedy.objective)


def test_a_part_cp_sat_did_not_bound_keeps_the_floor_as_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = small_network()

    def nothing(parts: list[Instance], *args: object, **kwargs: object) -> list[PartResult]:
        return [PartResult(None, None, 0, "UNKNOWN", 0.0) for _ in parts]

    monkeypatch.setattr(plan_module, "solve_parts", nothing)
    solution = plan_week(instance, time_limit_seconds=1.0, workers=1)
    pairs = eligible(instance)
    assert solution.bound == min(
        solution.objective, sum(floor_bound(p, pairs) for p in split(instance, pairs))
    )
    assert solution.bound > 0


# --- eligibility by track is the pairwise definition -----------------------------------------


def _pairwise(instance: Instance) -> dict[str, tuple[str, ...]]:
    fixed = set(instance.fixed.patient_sessions)
    return {
        p.id: tuple(
            sorted(
                s.id
                for s in instance.sessions
                if (p.id, s.id) in fixed
                or (
                    s.start_minute >= instance.fixed.closed_before_minute
                    and open_to(p, s)
                    and fits(p.availability, s)
                )
            )
        )
        for p in instance.patients
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_weeks())
def test_eligibility_by_track_equals_the_pairwise_definition(instance: Instance) -> None:
    got: Eligible = eligible(instance)
    assert got.sessions_of_patient == _pairwise(instance)


def test_eligibility_keeps_fixed_pairs_of_closed_sessions_and_ignores_unknown_ones() -> None:
    sessions: tuple[Session, ...] = (group("mon-9", 0, 9, 60), group("tue-9", 1, 9, 60))
    base = week((patient("ada", 0, 1),), sessions)
    instance = dataclasses.replace(
        base,
        fixed=Fixed(
            patient_sessions=(("ada", "mon-9"), ("ada", "gone")), closed_before_minute=at(2, 0)
        ),
    )
    assert eligible(instance).sessions_of_patient == {"ada": ("mon-9",)}


# --- overlap cliques by a sweep are the definition's ----------------------------------------


def _cliques_by_definition(spans: list[tuple[str, int, int]]) -> list[tuple[str, ...]]:
    found = {tuple(sorted(i for i, s, e in spans if s <= start < e)) for _, start, _ in spans}
    found = {c for c in found if len(c) > 1}
    return sorted(c for c in found if not any(set(c) < set(k) for k in found))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 12)),
        max_size=12,
    )
)
def test_overlap_cliques_by_sweep_equal_the_definition(raw: list[tuple[int, int]]) -> None:
    spans = [(f"s{n}", start, start + length) for n, (start, length) in enumerate(raw)]
    assert overlap_cliques(spans) == _cliques_by_definition(spans)


def test_overlap_cliques_of_touching_sessions_are_none() -> None:
    assert overlap_cliques([("a", 0, 60), ("b", 60, 120)]) == []
    # c (59-61) overlaps a and b; a and b overlap; d touches b only
    assert overlap_cliques([("a", 0, 60), ("b", 30, 90), ("c", 59, 61), ("d", 90, 99)]) == [
        ("a", "b", "c")
    ]


def test_on_wall_clock_the_whole_call_keeps_to_its_limit_and_cp_sat_plans_every_part() -> None:
    instance = small_network(60)  # four sites
    solution = plan_week(instance, time_limit_seconds=3.0, workers=2, deterministic=False)
    assert check_solution(instance, solution) == []
    assert solution.status in ("OPTIMAL", "FEASIBLE")
    assert solution.solver == "cp-sat"
    assert solution.wall_seconds <= 3.0 * 1.25  # a little slack for a loaded machine
