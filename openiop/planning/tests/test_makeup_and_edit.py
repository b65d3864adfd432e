"""The make-up planner and a director's edits of a plan, on hand-made weeks. Pure: no database."""

from __future__ import annotations

import dataclasses

from openiop.planning.domain.check import check_solution
from openiop.planning.domain.edit import EDITED, Edit, apply_edit
from openiop.planning.domain.makeup import Need, makeup_proposals
from openiop.planning.domain.model import Fixed, Instance, Solution, Window
from openiop.planning.domain.plan import plan_week
from openiop.planning.tests.factories import at, group, patient, week


def _rest_of_week() -> Instance:
    sessions = (
        group("mon-9", 0, 9, 180),
        group("wed-9", 2, 9, 180, capacity=1),
        group("wed-10", 2, 10, 60),  # overlaps wed-9
        group("thu-9", 3, 9, 120),
        group("thu-18", 3, 18, 120),
        group("fri-9", 4, 9, 180, capacity=2),
    )
    ada = patient("ada", 0, 1, 2, 3, 4, required=540)
    bo = dataclasses.replace(
        patient("bo", 0, 1, 2, 3, 4, required=540),
        availability=tuple(Window(at(d, 7), at(d, 13)) for d in range(5)),
    )
    cy = patient("cy", 0, 1, 2, 3, 4, required=540)
    inst = week((ada, bo, cy), sessions)
    fixed = Fixed(
        patient_sessions=(("ada", "mon-9"), ("bo", "mon-9"), ("cy", "mon-9"), ("cy", "fri-9")),
    )
    return dataclasses.replace(inst, fixed=fixed)


def test_makeup_offers_only_later_sessions_that_fit_and_have_seats() -> None:
    inst = _rest_of_week()
    found = makeup_proposals(inst, [Need("bo", 360)], from_minute=at(1, 12))
    offered = [m.session for m in found]
    # mon-9 is in the past; thu-18 is outside bo's 7:00-13:00 availability
    assert offered == ["wed-9", "wed-10", "thu-9", "fri-9"]
    suggested = [m.session for m in found if m.suggested]
    # earliest first, no two overlapping, until 6 h are covered: wed-9 (3 h), thu-9 (2 h), fri-9
    assert suggested == ["wed-9", "thu-9", "fri-9"]
    assert {m.session: m.seats_left for m in found}["fri-9"] == 1  # cy holds one of 2


def test_makeup_never_offers_a_session_the_patient_is_on_or_one_overlapping_it() -> None:
    inst = _rest_of_week()
    found = makeup_proposals(inst, [Need("cy", 120)], from_minute=at(1, 12))
    offered = [m.session for m in found]
    assert "fri-9" not in offered  # already on it
    assert [m.session for m in found if m.suggested] == ["wed-9"]


def test_makeup_shares_the_last_seat_with_the_largest_need_first() -> None:
    inst = _rest_of_week()
    found = makeup_proposals(inst, [Need("ada", 60), Need("bo", 360)], from_minute=at(1, 12))
    by = {(m.patient, m.session): m for m in found}
    assert by[("bo", "wed-9")].suggested  # bo needs more and is served first
    # ada is still offered wed-10 (the one-seat wed-9 went to bo)
    assert ("ada", "wed-9") not in by
    assert by[("ada", "wed-10")].suggested


def test_makeup_ignores_patients_with_nothing_to_make_up() -> None:
    inst = _rest_of_week()
    assert makeup_proposals(inst, [Need("ada", 0)], from_minute=0) == ()


def test_makeup_nothing_left_after_the_last_session_starts() -> None:
    inst = _rest_of_week()
    assert makeup_proposals(inst, [Need("bo", 360)], from_minute=at(4, 10)) == ()


def _planned() -> tuple[Instance, Solution]:
    inst = week(
        (patient("ada", 0, 1, required=120), patient("bo", 0, required=120)),
        (group("mon-9", 0, 9, 60, capacity=1), group("tue-9", 1, 9, 60, capacity=2)),
    )
    return inst, plan_week(inst, time_limit_seconds=2)


def test_a_move_within_the_rules_is_kept_and_checked_clean() -> None:
    inst, sol = _planned()
    assert ("ada", "tue-9") in sol.patient_sessions
    edited = apply_edit(inst, sol, Edit("remove", "ada", from_session="tue-9"))
    assert edited.violations == ()
    assert ("ada", "tue-9") not in edited.solution.patient_sessions
    assert edited.solution.status == EDITED
    assert any(s.patient == "ada" for s in edited.solution.shortfalls)
    assert check_solution(inst, edited.solution) == []


def test_a_move_beyond_capacity_is_reported_by_the_checker() -> None:
    inst, sol = _planned()
    who = next(p for p, s in sol.patient_sessions if s == "mon-9")
    other = "bo" if who == "ada" else "ada"
    edited = apply_edit(inst, sol, Edit("add", other, to_session="mon-9"))
    assert {v.rule for v in edited.violations} >= {"capacity"}


def test_a_move_outside_availability_is_reported() -> None:
    inst, sol = _planned()
    # bo is available on Monday only
    edited = apply_edit(inst, sol, Edit("move", "bo", from_session="mon-9", to_session="tue-9"))
    if ("bo", "mon-9") not in sol.patient_sessions:
        edited = apply_edit(inst, sol, Edit("add", "bo", to_session="tue-9"))
    assert "availability" in {v.rule for v in edited.violations}


def test_an_edit_of_an_assignment_that_is_not_there_is_refused_without_change() -> None:
    inst, sol = _planned()
    edited = apply_edit(inst, sol, Edit("remove", "bo", from_session="nope"))
    assert edited.problem
    assert edited.solution == sol


def test_removing_a_fixed_assignment_breaks_the_fixed_rule() -> None:
    inst, _ = _planned()
    inst = dataclasses.replace(inst, fixed=Fixed(patient_sessions=(("ada", "tue-9"),)))
    sol = plan_week(inst, time_limit_seconds=2)
    edited = apply_edit(inst, sol, Edit("remove", "ada", from_session="tue-9"))
    assert "fixed" in {v.rule for v in edited.violations}


def test_a_session_left_empty_gives_up_its_facilitator_and_room() -> None:
    inst, sol = _planned()
    members = [p for p, s in sol.patient_sessions if s == "mon-9"]
    edited = sol
    for p in members:
        edited = apply_edit(inst, edited, Edit("remove", p, from_session="mon-9")).solution
    assert not any(s == "mon-9" for s, _ in edited.facilitators)
    assert not any(s == "mon-9" for s, _ in edited.rooms)
    assert check_solution(inst, edited) == []
