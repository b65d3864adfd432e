"""`openiop synth` fills the clinical tables consistently: scores are the app's own, alerts follow the
answers, schedules exist per track, and the admissions board has cards at every open stage."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import F

from openiop.admissions.domain.pipeline import OPEN_STAGES
from openiop.admissions.models import Inquiry, StageChange
from openiop.measures.domain import REGISTRY
from openiop.measures.domain.care import alert_triggers
from openiop.measures.models import MeasurementSchedule, Response, SafetyAlert
from openiop.programs.models import Site, Track

pytestmark = pytest.mark.django_db

TODAY = "2026-11-24"


@pytest.fixture
def network() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "synth",
        *("--sites", "2", "--patients", "240", "--weeks", "8", "--seed", "5", "--today", TODAY),
        stdout=out,
        stderr=err,
    )
    return out.getvalue() + err.getvalue()


def test_every_response_stores_the_score_the_app_computes(network: str) -> None:
    responses = list(Response.objects.select_related("episode"))
    assert len(responses) > 2000
    assert "measures_response" in network
    for r in responses:
        score = REGISTRY[r.instrument].score(r.answers, sex=r.sex_used or None)
        assert (r.total, r.band, r.flags, r.subscales) == (
            score.total,
            score.band or "",
            list(score.flags),
            dict(score.subscales),
        ), r.pk
        assert r.instrument_version == REGISTRY[r.instrument].version
        # Answered while the stay was open, never from today on.
        day = r.administered_at.date()
        assert r.episode.admission_date <= day
        assert str(day) < TODAY
        if r.episode.discharge_date:
            assert day <= r.episode.discharge_date
        assert r.patient_id == r.episode.patient_id


def test_schedules_per_track_and_instruments_by_age_band(network: str) -> None:
    for track in Track.objects.all():
        instruments = set(
            MeasurementSchedule.objects.filter(track=track).values_list("instrument", flat=True)
        )
        if track.age_band == "adult":
            assert instruments == {"phq9", "gad7", "bam", "cssrs", "audit", "dast10", "pcl5"}
        else:
            assert instruments == {"phqa", "gad7", "bam", "cssrs"}
    adult = Response.objects.filter(episode__enrollments__track__age_band="adult")
    assert adult.filter(instrument="phq9").exists()
    assert not adult.filter(instrument="phqa").exists()
    teen = Response.objects.exclude(episode__enrollments__track__age_band="adult")
    assert teen.filter(instrument="phqa").exists()
    assert not teen.filter(instrument="phq9").exists()
    assert not teen.filter(instrument__in=("audit", "dast10", "pcl5")).exists()
    counts = Counter(Response.objects.values_list("instrument", flat=True))
    assert counts["cssrs"] > counts["gad7"] > counts["pcl5"] > counts["dast10"] > 0
    assert counts["bam"] > 0 and counts["audit"] > 0


def test_depression_mostly_improves_from_admission_to_latest(network: str) -> None:
    first: dict[int, int] = {}
    latest: dict[int, int] = {}
    for episode_id, total in (
        Response.objects.filter(instrument__in=("phq9", "phqa"))
        .order_by("administered_at", "id")
        .values_list("episode_id", "total")
    ):
        assert total is not None
        first.setdefault(episode_id, total)
        latest[episode_id] = total
    changes = [latest[e] - first[e] for e in first]
    assert len(changes) > 100
    better = sum(1 for c in changes if c < 0)
    worse = sum(1 for c in changes if c > 0)
    assert better > 2 * worse


def test_alerts_follow_the_answers(network: str) -> None:
    expected = 0
    for r in Response.objects.filter(instrument__in=("phq9", "phqa", "cssrs")):
        triggers = alert_triggers(REGISTRY[r.instrument].score(r.answers))
        expected += len(triggers)
        alert = SafetyAlert.objects.filter(response=r).first()
        if triggers:
            assert alert is not None and alert.reason == triggers[0][0]
            assert alert.patient_id == r.patient_id and alert.episode_id == r.episode_id
            assert alert.owner_id is not None
        else:
            assert alert is None
    assert SafetyAlert.objects.count() == expected > 0
    # Old alerts were acknowledged with an action; only recent ones on open stays are open.
    acknowledged = SafetyAlert.objects.filter(status="acknowledged")
    assert not acknowledged.filter(action_taken="").exists()
    assert not acknowledged.filter(acknowledged_by__isnull=True).exists()
    assert not SafetyAlert.objects.filter(status="open", episode__status="discharged").exists()
    assert SafetyAlert.objects.filter(status="open").count() < expected


def test_admissions_pipeline_per_site(network: str) -> None:
    for site in Site.objects.all():
        stages = set(Inquiry.objects.filter(site=site).values_list("stage", flat=True))
        assert set(OPEN_STAGES) <= stages
        assert {"admitted", "declined", "lost_to_follow_up"} <= stages
    admitted = Inquiry.objects.filter(stage="admitted")
    assert not admitted.filter(episode__isnull=True).exists()
    assert not admitted.exclude(patient_id=F("episode__patient_id")).exists()
    assert not admitted.exclude(last_name=F("patient__legal_last_name")).exists()
    assert not Inquiry.objects.filter(stage__in=OPEN_STAGES, next_action_date__isnull=True).exists()
    # Each inquiry's stage history starts at inquiry and ends at its current stage.
    for inquiry in Inquiry.objects.order_by("?")[:50]:
        history = list(inquiry.stage_changes.order_by("id").values_list("to_stage", flat=True))
        assert history[0] == "inquiry" and history[-1] == inquiry.stage
    assert StageChange.objects.count() >= Inquiry.objects.count()
