"""The services that create clinical records mark them from their episode, and an episode whose
focus becomes substance use marks what was already written (42 CFR Part 2, domain.md s.5)."""

from __future__ import annotations

from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.core.part2 import part2_marked_models, unmarked_part2_rows
from openiop.episodes import services as episode_services
from openiop.measures import services as measure_services
from openiop.testing import make_episode, make_org, make_patient, make_site, make_user
from openiop.treatment import services as plan_services

pytestmark = pytest.mark.django_db


def _chart(focus: str) -> tuple[Any, Actor, Any]:
    org = make_org()
    site = make_site(org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    patient = make_patient(site, legal_first_name="Peregrin", legal_last_name="Tumbleweed")
    episode = make_episode(patient, focus=focus, primary_clinician=director)
    by = Actor(user=director)
    plan = plan_services.plan_start(episode=episode, by=by)
    problem = plan_services.plan_add_problem(
        plan=plan,
        description="Drinks to sleep",
        icd10_code="F10.20",
        patient_words="I cannot sleep",
        by=by,
    )
    goal = plan_services.plan_add_goal(problem=problem, text="Sleep without alcohol", by=by)
    response = measure_services.response_record(
        episode=episode, instrument="phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 0], by=by
    )
    return episode, by, (plan, problem, goal, response)


def test_records_of_a_substance_use_episode_are_marked_by_their_services() -> None:
    episode, _, records = _chart("substance_use")
    assert episode.part2_protected
    for record in records:
        record.refresh_from_db()
        assert record.part2, type(record).__name__
    assert all(not unmarked_part2_rows(m).exists() for m in part2_marked_models())


def test_records_of_a_mental_health_episode_are_not_marked() -> None:
    _, _, records = _chart("mental_health")
    for record in records:
        record.refresh_from_db()
        assert not record.part2, type(record).__name__


def test_a_focus_change_to_substance_use_marks_what_was_written_and_never_unmarks() -> None:
    episode, by, records = _chart("mental_health")
    episode_services.episode_change_focus(
        episode=episode, focus="co_occurring", by=by, expected_version=episode.version
    )
    for record in records:
        record.refresh_from_db()
        assert record.part2, type(record).__name__
    episode_services.episode_change_focus(
        episode=episode, focus="mental_health", by=by, expected_version=episode.version
    )
    for record in records:
        record.refresh_from_db()
        assert record.part2, type(record).__name__
