"""current_objectives: the plan whose objectives a note may link; two queries for any episodes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from openiop.treatment.models import (
    PlanGoal,
    PlanObjective,
    PlanProblem,
    PlanStatus,
    TreatmentPlan,
)
from openiop.treatment.selectors import current_objectives

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries

    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic


def _plan(
    episode: Episode, clinic: Clinic, number: int, status: str, objectives: int = 1
) -> list[int]:
    plan = TreatmentPlan.objects.create(
        episode=episode,
        patient=episode.patient,
        number=number,
        status=status,
        created_by=clinic.clinician,
    )
    problem = PlanProblem.objects.create(
        plan=plan, description="AUD", icd10_code="F10.20", patient_words="I drink to sleep"
    )
    goal = PlanGoal.objects.create(problem=problem, text="Sleep without alcohol")
    return [
        PlanObjective.objects.create(
            goal=goal, text=f"Plan {number} objective {i}", target_date=dt.date(2026, 4, 1 + i)
        ).pk
        for i in range(objectives)
    ]


@pytest.mark.parametrize(
    "plans,chosen",
    [
        ([("draft", 2)], 0),  # only a draft: its objectives
        ([("signed", 1), ("draft", 1)], 0),  # an update being drafted: still the signed plan's
        ([("draft", 1), ("signed", 1)], 1),  # a later signed version wins over an earlier draft
        ([("superseded", 1), ("signed", 2)], 1),  # superseded versions never
        ([("signed", 1), ("signed", 1)], 1),  # two signed: the latest
        ([("signed", 0), ("draft", 2)], None),  # the current (signed) plan has none: nothing
        ([("superseded", 2)], None),  # no current plan
    ],
)
def test_current_objectives_are_those_of_the_latest_signed_plan_else_the_first_draft(
    clinic: Clinic, plans: list[tuple[str, int]], chosen: int | None
) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    made = [
        _plan(episode, clinic, number, PlanStatus(status), objectives)
        for number, (status, objectives) in enumerate(plans, start=1)
    ]
    found = current_objectives([episode.pk]).get(episode.pk, [])
    assert [o.pk for o in found] == ([] if chosen is None else made[chosen])


def test_current_objectives_take_two_queries_for_many_episodes(
    clinic: Clinic, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    episodes = [clinic.patient(f"Member{i}", f"Fictionalson{i}") for i in range(4)]
    for e in episodes:
        _plan(e, clinic, 1, PlanStatus.SIGNED, objectives=2)
    with django_assert_num_queries(2):  # the current plans, their objectives
        found = current_objectives([e.pk for e in episodes])
    assert sorted(found) == sorted(e.pk for e in episodes)
    assert all(len(v) == 2 for v in found.values())
    assert [o.target_date for o in found[episodes[0].pk]] == sorted(
        o.target_date for o in found[episodes[0].pk]
    )
