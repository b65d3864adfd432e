"""score_summary_for_episode: first and latest per instrument, for the discharge summary."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted
from openiop.episodes.models import Episode
from openiop.measures.domain import REGISTRY
from openiop.measures.models import Response
from openiop.measures.selectors import score_summary_for_episode
from openiop.testing import make_episode, make_org, make_patient, make_site, make_user

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries


def _response(episode: Episode, key: str, answers: list[int], day: int) -> Response:
    result = REGISTRY[key].score(answers)
    return Response.objects.create(
        patient=episode.patient,
        episode=episode,
        instrument=key,
        instrument_version="1",
        answers=list(answers),
        mode="staff",
        administered_at=dt.datetime(2026, 1, day, 15, 0, tzinfo=dt.UTC),
        total=result.total,
        band=result.band or "",
        flags=list(result.flags),
        subscales=dict(result.subscales),
    )


@pytest.fixture
def episode(db: None) -> Episode:
    site = make_site(make_org())
    return make_episode(make_patient(site))


def test_first_and_latest_per_instrument(
    episode: Episode, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    _response(episode, "phq9", [2] * 9, 5)
    _response(episode, "phq9", [1] * 9, 12)
    _response(episode, "phq9", [0, 0, 1, 1, 0, 0, 1, 0, 0], 19)
    _response(episode, "gad7", [2] * 7, 5)
    _response(episode, "bam", [1] * 17, 6)
    with django_assert_num_queries(1):  # the responses (the site is cached on the episode)
        summaries = score_summary_for_episode(episode=episode)
    by = {s.instrument: s for s in summaries}
    assert [s.instrument for s in summaries] == ["phq9", "gad7", "bam"]
    phq = by["phq9"]
    assert (phq.first_total, phq.first_band, phq.first_date) == (
        18,
        "moderately_severe",
        dt.date(2026, 1, 5),
    )
    assert (phq.latest_total, phq.latest_band, phq.latest_date) == (
        3,
        "minimal",
        dt.date(2026, 1, 19),
    )
    assert phq.count == 3 and phq.change == -15
    assert by["gad7"].count == 1 and by["gad7"].change == 0
    assert by["bam"].change is None and by["bam"].latest_subscales["use"] == 3


def test_empty_episode_has_no_rows(episode: Episode) -> None:
    assert score_summary_for_episode(episode=episode) == []


def test_with_an_actor_access_is_checked_and_audited(episode: Episode) -> None:
    site = episode.site
    clinician = make_user(Role.CLINICIAN, sites=[site])
    billing_elsewhere = make_user(Role.INTAKE, sites=[site])
    score_summary_for_episode(episode=episode, actor=Actor(user=clinician))
    assert AuditEntry.objects.filter(
        patient_id=episode.patient_id, object_type="measure_scores", outcome="ok"
    ).exists()
    with pytest.raises(NotPermitted):
        score_summary_for_episode(episode=episode, actor=Actor(user=billing_elsewhere))
