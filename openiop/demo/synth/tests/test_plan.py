"""The synthetic network's plan: sizes, stays inside the window, seeded, TEDS mix."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest

from openiop.demo.synth import plan

TODAY = dt.date(2026, 11, 24)  # a Tuesday


def small(seed: int = 3) -> plan.NetworkPlan:
    return plan.plan_network(sites=4, patients=1500, weeks=12, today=TODAY, capacity=15, seed=seed)


def test_the_window_starts_on_a_monday_weeks_back_and_ends_two_sundays_ahead() -> None:
    p = small()
    assert p.window_start == dt.date(2026, 9, 7) and p.window_start.weekday() == 0
    assert p.window_end == dt.date(2026, 12, 6) and p.window_end.weekday() == 6


def test_every_patient_is_seated_or_waiting_and_every_site_has_a_track() -> None:
    p = small()
    assert p.people + p.unseated == 1500
    assert {s.person for s in p.stays} == set(range(p.people))
    assert p.unseated >= round(1500 * plan.OPEN_NOT_SEATED_SHARE)
    assert {site for site, _ in p.tracks} == {0, 1, 2, 3}
    # No track is left empty, and the age bands all appear.
    assert {s.track_index for s in p.stays} == set(range(len(p.tracks)))
    assert {t.age_band for _, t in p.tracks} == {"adult", "adolescent"}


def test_a_readmitted_patient_returns_to_the_same_site_and_age_band_after_a_gap() -> None:
    p = small()
    by_person: dict[int, list[plan.Stay]] = {}
    for stay in p.stays:
        by_person.setdefault(stay.person, []).append(stay)
    returning = [stays for stays in by_person.values() if len(stays) > 1]
    assert p.readmissions == sum(len(s) - 1 for s in returning) > 0
    assert p.readmissions / len(p.stays) == pytest.approx(plan.READMISSION_SHARE, abs=0.06)
    for stays in returning:
        for before, after in itertools.pairwise(stays):
            assert before.discharge is not None
            gap = (after.admission - before.discharge).days
            assert gap >= plan.READMIT_GAP_DAYS
            a, b = p.tracks[before.track_index], p.tracks[after.track_index]
            assert a[0] == b[0] and a[1].age_band == b[1].age_band


def test_the_mean_stay_is_near_the_teds_mean_of_74_days() -> None:
    assert plan.mean_stay_days() == pytest.approx(74, abs=5)


def test_a_stay_has_weekly_individual_and_periodic_family_sessions_inside_it() -> None:
    template = plan.TRACK_TEMPLATES[0]
    stay = plan.Stay(0, dt.date(2026, 9, 9), dt.date(2026, 11, 4), "completed")
    found = plan.appointments(stay, template, 3, dt.date(2026, 9, 7), dt.date(2026, 12, 6))
    individual = [a.date for a in found if a.kind == "individual"]
    family = [a.date for a in found if a.kind == "family"]
    assert all(stay.admission <= d <= stay.discharge for d in individual + family)  # type: ignore[operator]
    assert all(d.weekday() in template.weekdays for d in individual + family)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(individual))
    assert len(individual) == 8
    assert len(family) == 2 and (family[1] - family[0]).days == 7 * template.family_every_weeks
    assert found == sorted(found, key=lambda a: a.date)
    # Outside the window nothing is booked; an active stay runs to the window's end.
    active = plan.Stay(0, dt.date(2026, 8, 3), None, "")
    booked = plan.appointments(active, template, 0, dt.date(2026, 9, 7), dt.date(2026, 12, 6))
    assert booked[0].date >= dt.date(2026, 9, 7) and booked[-1].date >= dt.date(2026, 11, 30)


def test_a_seat_never_holds_two_stays_at_once_and_only_the_last_is_active() -> None:
    p = small()
    for stay in p.stays:
        if stay.discharge is None:
            assert stay.reason == ""
        else:
            assert stay.admission < stay.discharge < TODAY
            assert stay.reason in dict(plan.DISCHARGE_MIX)
    # Per track, at most `capacity` stays overlap on any day.
    for track_index in range(len(p.tracks)):
        stays = [s for s in p.stays if s.track_index == track_index]
        for day in (p.window_start, TODAY - dt.timedelta(days=30), TODAY):
            on = [s for s in stays if s.admission <= day and (s.discharge or day) >= day]
            assert len(on) <= 15


def test_discharge_reasons_follow_the_teds_mix() -> None:
    p = plan.plan_network(sites=10, patients=8000, weeks=26, today=TODAY, capacity=15, seed=11)
    reasons = Counter(s.reason for s in p.stays if s.reason)
    total = sum(reasons.values())
    for reason, share in plan.DISCHARGE_MIX:
        assert reasons[reason] / total == pytest.approx(share, abs=0.03)


def test_completers_stay_longer_than_dropouts() -> None:
    p = plan.plan_network(sites=10, patients=8000, weeks=26, today=TODAY, capacity=15, seed=5)

    def median(reason: str) -> int:
        days = sorted(
            (s.discharge - s.admission).days for s in p.stays if s.reason == reason and s.discharge
        )
        return days[len(days) // 2]

    assert median("completed") > median("dropped_out")


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    assert small(3) == small(3)
    assert small(3).stays != small(4).stays


@pytest.mark.parametrize("field", ["sites", "patients", "weeks", "capacity"])
def test_sizes_below_one_are_refused(field: str) -> None:
    sizes = {"sites": 2, "patients": 10, "weeks": 2, "capacity": 15}
    sizes[field] = 0
    with pytest.raises(ValueError, match="1 or more"):
        plan.plan_network(today=TODAY, seed=1, **sizes)


def test_minutes_follow_the_status() -> None:
    import random

    rng = random.Random(1)
    assert plan.minutes_for("present", 60, rng) == 60
    assert 30 <= plan.minutes_for("late", 60, rng) < 60
    assert plan.minutes_for("absent_unexcused", 60, rng) == 0


@pytest.mark.parametrize(
    ("instrument", "levels"),
    [("audit", (0, 7, 15, 19, 27, 36)), ("dast10", (0, 1, 5, 10)), ("pcl5", (0, 33, 80))],
)
def test_screening_answers_score_to_the_level_they_were_drawn_for(
    instrument: str,
    levels: tuple[int, int, int, int, int, int] | tuple[int, int, int, int] | tuple[int, int, int],
) -> None:
    import random

    from openiop.demo.synth.clinical import Answers
    from openiop.measures.domain import REGISTRY

    answers = Answers(random.Random(3))
    for level in levels:
        drawn = answers._answers(instrument, level, 0)
        assert REGISTRY[instrument].score(drawn).total == level, (instrument, level, drawn)
