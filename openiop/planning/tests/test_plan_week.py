"""The planning core: known optima, reasons, fallback, determinism, the checker, hard rules on
random instances (Hypothesis). Pure: no database."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.planning.domain import cpsat
from openiop.planning.domain import plan as plan_module
from openiop.planning.domain.check import check_solution
from openiop.planning.domain.cpsat import PartResult, solve_part, split
from openiop.planning.domain.eligibility import eligible
from openiop.planning.domain.generate import BlockShape, TrackShape, generate_week
from openiop.planning.domain.greedy import greedy_plan
from openiop.planning.domain.model import (
    Fixed,
    Instance,
    Patient,
    Requirement,
    Room,
    Session,
    Staff,
    Window,
)
from openiop.planning.domain.objective import W_PEAK_CASELOAD, W_SHORTFALL, terms_of, weigh
from openiop.planning.domain.plan import plan_week
from openiop.planning.tests.factories import (
    GROUP,
    INDIVIDUAL,
    at,
    group,
    patient,
    week,
    whole_days,
)

QUICK: dict[str, Any] = {"time_limit_seconds": 2.0, "seed": 0, "workers": 1}


def test_three_single_seats_for_two_patients_needing_two_hours_leave_one_hour_short() -> None:
    # Three one-seat hours, Monday 9 and 10 and Tuesday 9; Ada is free all week, Bo only on
    # Monday; each needs 2 h. 3 h of seats for 4 h of need: 60 minutes short at best, all three
    # sessions run with the one clinician (peak caseload 180 minutes).
    sessions = (
        group("mon-9", 0, 9, 60, capacity=1),
        group("mon-10", 0, 10, 60, capacity=1),
        group("tue-9", 1, 9, 60, capacity=1),
    )
    instance = week((patient("ada", 0, 1), patient("bo", 0)), sessions)

    solution = plan_week(instance, **QUICK)

    assert solution.status == "OPTIMAL"
    assert solution.objective == 60 * W_SHORTFALL + 180 * W_PEAK_CASELOAD == 6_180
    assert solution.bound == solution.objective
    assert solution.gap == 0
    assert check_solution(instance, solution) == []
    [short] = solution.shortfalls
    assert short.planned_minutes == 60
    assert "the plan reaches 1 h of 2 h" in short.reason


def test_patients_who_cannot_reach_their_hours_are_told_why() -> None:
    # Three 90-minute groups Monday to Wednesday. Cy is free those days (4 h 30 min of 9 h); Di is
    # free only on Saturday, when nothing meets.
    sessions = tuple(group(f"g{d}", d, 9, 90) for d in range(3))
    instance = week(
        (patient("cy", 0, 1, 2, required=540), patient("di", 5, required=540)), sessions
    )

    solution = plan_week(instance, **QUICK)

    assert solution.status == "OPTIMAL"
    reasons = {s.patient: s.reason for s in solution.shortfalls}
    assert reasons == {
        "cy": "available 4 h 30 min in sessions of their track this week; needs 9 h",
        "di": "no session of their track fits their availability this week; needs 9 h",
    }
    assert solution.objective == solution.bound == (270 + 540) * W_SHORTFALL + 270


def test_a_missing_individual_session_is_reported_with_its_reason() -> None:
    need_one = (Requirement("individual", 1),)
    one_slot = Session(
        "ind-mon-13", "individual", at(0, 13), at(0, 13) + 50, 1, ("dr-quill",), needs_room=False
    )
    instance = dataclasses.replace(
        week(
            (
                patient("eli", 0, required=0, requirements=need_one),
                patient("fay", 0, required=0, requirements=need_one),
                patient("gus", 3, required=0, requirements=need_one),
            ),
            (one_slot,),
        ),
        session_types=(GROUP, INDIVIDUAL),
    )

    solution = plan_week(instance, **QUICK)

    reasons = {s.patient: s.reason for s in solution.shortfalls}
    assert reasons["gus"] == "no individual session fits their availability this week"
    assert (
        reasons.get("eli", reasons.get("fay"))
        == "every individual session that fits their availability is taken or cannot be staffed"
    )
    assert len(reasons) == 2


def test_group_size_limit_is_configuration_per_session_type() -> None:
    # Fifteen patients, one group whose session seats 20 and room seats 20: the type's limit of 12
    # (90853, domain.md) caps it.
    people = tuple(patient(f"p{i:02d}", 0, required=60) for i in range(15))
    instance = week(people, (group("big", 0, 9, 60, capacity=20),), rooms=(Room("hall", 20),))

    solution = plan_week(instance, **QUICK)

    assert len(solution.patient_sessions) == 12
    assert check_solution(instance, solution) == []
    loose = dataclasses.replace(
        instance, session_types=(dataclasses.replace(GROUP, max_patients=None), INDIVIDUAL)
    )
    assert len(plan_week(loose, **QUICK).patient_sessions) == 15


def test_when_cp_sat_finds_nothing_the_greedy_plan_is_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = small_network()

    def nothing(parts: list[Instance], *args: object, **kwargs: object) -> list[PartResult]:
        return [PartResult(None, None, 0, "UNKNOWN", 0.0) for _ in parts]

    monkeypatch.setattr(plan_module, "solve_parts", nothing)
    solution = plan_week(instance, **QUICK)

    assert solution.status == "FALLBACK"
    assert solution.solver == "greedy"
    assert solution.patient_sessions  # a plan exists
    assert check_solution(instance, solution) == []
    assert solution.objective == weigh(solution.terms)


def test_the_same_seed_and_workers_give_the_same_plan() -> None:
    instance = small_network(12)
    runs = [
        plan_week(instance, time_limit_seconds=0.5, seed=7, workers=2, deterministic=True)
        for _ in range(2)
    ]
    first, second = (dataclasses.replace(r, wall_seconds=0.0) for r in runs)
    assert first == second


def test_cp_sat_improves_on_the_greedy_plan_and_keeps_every_rule() -> None:
    instance = small_network(12)
    solution = plan_week(instance, time_limit_seconds=0.5, seed=0, workers=1)
    greedy = plan_week(instance, use_cpsat=False)
    assert check_solution(instance, solution) == []
    assert check_solution(instance, greedy) == []
    assert solution.objective <= greedy.objective
    assert solution.bound <= solution.objective


def test_fixed_assignments_are_kept_and_closed_sessions_take_no_one_new() -> None:
    # The make-up planner's shape: Monday happened (Ada came to mon-9); plan from Tuesday on.
    sessions = (
        group("mon-9", 0, 9, 60),
        group("tue-9", 1, 9, 60),
        group("wed-9", 2, 9, 60),
    )
    base = week((patient("ada", 0, 1, 2, required=180), patient("bo", 0, 1, 2)), sessions)
    instance = dataclasses.replace(
        base,
        fixed=Fixed(
            patient_sessions=(("ada", "mon-9"),),
            facilitators=(("mon-9", "dr-quill"),),
            rooms=(("mon-9", "room-otter"),),
            closed_before_minute=at(1, 0),
        ),
    )

    solution = plan_week(instance, **QUICK)

    assert check_solution(instance, solution) == []
    assert ("ada", "mon-9") in solution.patient_sessions
    assert ("bo", "mon-9") not in solution.patient_sessions
    assert {s for p, s in solution.patient_sessions if p == "bo"} == {"tue-9", "wed-9"}


def test_the_checker_reports_each_broken_rule() -> None:
    sessions = (group("a", 0, 9, 60, capacity=1), group("b", 0, 9.5, 60))
    instance = week((patient("ada", 0), patient("bo", 3)), sessions)
    ok = plan_week(instance, **QUICK)
    assert check_solution(instance, ok) == []

    broken = dataclasses.replace(
        ok,
        patient_sessions=(("ada", "a"), ("ada", "b"), ("bo", "a")),
        facilitators=(("a", "dr-quill"), ("b", "dr-quill")),
        rooms=(("a", "room-otter"),),
    )
    rules = {v.rule for v in check_solution(instance, broken)}
    assert rules >= {"double_booked", "capacity", "availability", "room"}


# --- Hypothesis: every solution keeps the hard rules, on random small weeks -----------------


@st.composite
def small_weeks(draw: st.DrawFn) -> Instance:
    n_staff = draw(st.integers(1, 3))
    staff = tuple(
        Staff(
            f"k{i}",
            tuple(draw(st.sets(st.sampled_from(["licensed", "peer"]), max_size=2))),
            tuple(
                Window(at(d, draw(st.sampled_from([7, 9, 12]))), at(d, 21))
                for d in draw(st.sets(st.integers(0, 4), min_size=1))
            ),
            draw(st.integers(0, 600)),
            f"site{i % 2}",
        )
        for i in range(n_staff)
    )
    rooms = tuple(Room(f"r{i}", draw(st.integers(0, 6))) for i in range(draw(st.integers(1, 2))))
    sessions = []
    for i in range(draw(st.integers(1, 7))):
        start = at(draw(st.integers(0, 4)), draw(st.sampled_from([9, 9.5, 10, 13, 17])))
        individual = draw(st.booleans())
        sessions.append(
            Session(
                f"s{i}",
                "individual" if individual else "group_therapy",
                start,
                start + draw(st.sampled_from([45, 60, 90])),
                1 if individual else draw(st.integers(1, 14)),
                tuple(draw(st.sets(st.sampled_from([k.id for k in staff]), min_size=1))),
                tracks=tuple(draw(st.sets(st.sampled_from(["T", "U"]), max_size=2))),
                needs_room=not individual,
                series=draw(st.sampled_from(["", "x", "y"])),
                block=draw(st.sampled_from(["", "b"])),
            )
        )
    patients = tuple(
        Patient(
            f"p{i}",
            draw(st.sampled_from(["T", "U"])),
            tuple(
                Window(at(d, 8), at(d, draw(st.sampled_from([11, 15, 21]))))
                for d in draw(st.sets(st.integers(0, 4)))
            ),
            draw(st.sampled_from([0, 60, 120, 540])),
            (Requirement("individual", 1),) if draw(st.booleans()) else (),
            draw(st.sampled_from([None, 90, 300])),
        )
        for i in range(draw(st.integers(0, 6)))
    )
    return Instance(
        "2026-03-02",
        "America/Chicago",
        (GROUP, INDIVIDUAL),
        patients,
        tuple(sessions),
        staff,
        rooms,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_weeks())
def test_every_plan_keeps_the_hard_rules(instance: Instance) -> None:
    solution = plan_week(instance, time_limit_seconds=0.3, seed=1, workers=1)
    assert check_solution(instance, solution) == []
    assert 0 <= solution.bound <= solution.objective == weigh(solution.terms)
    greedy = plan_week(instance, use_cpsat=False)
    assert check_solution(instance, greedy) == []
    assert solution.objective <= greedy.objective
    shorts = {s.patient for s in solution.shortfalls}
    assert shorts == {
        p.id
        for p in instance.patients
        if sum(
            s.duration_minutes
            for s in instance.sessions
            if (p.id, s.id) in solution.patient_sessions
        )
        < p.required_minutes
        or any(
            sum(
                1
                for s in instance.sessions
                if s.session_type == r.session_type and (p.id, s.id) in solution.patient_sessions
            )
            < r.count
            for r in p.requirements
        )
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_weeks())
def test_the_model_objective_is_the_documented_objective(instance: Instance) -> None:
    pairs = eligible(instance)
    hint = greedy_plan(instance, pairs)
    for part in split(instance, pairs):
        result = solve_part(part, pairs, hint, seconds=0.3, seed=0, workers=1, deterministic=True)
        assert result.plan is not None
        terms = terms_of(
            part, result.plan.patient_sessions(), result.plan.facilitators(), result.plan.rooms()
        )
        assert result.objective == weigh(terms)
        assert result.bound <= result.objective


# --- a generated network ----------------------------------------------------------------------

SHAPES = (
    TrackShape(
        "Day",
        "adult",
        (0, 1, 2, 3, 4),
        (BlockShape(9 * 60, 60, "group_therapy"), BlockShape(10 * 60, 60, "group_therapy")),
        0.6,
    ),
    TrackShape(
        "Evening", "adolescent", (0, 1, 3), (BlockShape(16 * 60, 90, "group_therapy"),), 0.4
    ),
)


def small_network(patients: int = 30) -> Instance:
    return generate_week(
        patients=patients,
        seed=5,
        tracks=SHAPES,
        minimum_minutes={"adult": 540, "adolescent": 360},
        session_types=(GROUP, INDIVIDUAL),
        individual_type="individual",
        patients_per_site=15,
    )


def test_the_generator_splits_the_network_into_sites_solved_apart() -> None:
    instance = small_network()
    parts = split(instance, eligible(instance))
    assert len(parts) == 2
    assert {k.site for k in parts[0].staff} == {"S01"}
    assert generate_week.__name__ and small_network() == instance  # same seed, same week


def test_the_weekly_minimum_comes_from_the_configuration_passed_in() -> None:
    instance = small_network()
    assert {p.required_minutes for p in instance.patients} == {540, 360}
    other = generate_week(
        patients=30,
        seed=5,
        tracks=SHAPES,
        minimum_minutes={"adult": 600, "adolescent": 420},
        session_types=(GROUP, INDIVIDUAL),
        individual_type="individual",
        patients_per_site=15,
    )
    assert {p.required_minutes for p in other.patients} == {600, 420}


def test_whole_days_helper_is_inclusive_of_the_clinic_day() -> None:
    assert whole_days(0)[0].covers(at(0, 9), at(0, 10))
    assert cpsat.split.__doc__
