"""The measures part of the demo clinic: schedules, weekly scores, one open safety alert, plans.

Called at the end of `openiop demo` with the clinic it built; writes through the services, so the
scores are computed and audited as in real use. Fictional people only.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from openiop.accounts.models import User
from openiop.core.actor import Actor
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.measures import services
from openiop.measures.models import SiteSafetySettings
from openiop.programs.models import Track


def _answers(rng: random.Random, items: int, top: int, total: int) -> list[int]:
    """`items` answers from 0 to `top` adding up to about `total` (item 9 left at 0)."""
    answers = [0] * items
    scored = items - 1 if items == 9 else items
    for _ in range(max(0, min(total, scored * top))):
        choices = [i for i in range(scored) if answers[i] < top]
        if not choices:
            break
        answers[rng.choice(choices)] += 1
    return answers


def load_demo_measures(
    *,
    tracks: Sequence[Track],
    staff: dict[str, User],
    actor: Actor,
    rng: random.Random,
    today: dt.date,
    out: Any,
) -> None:
    for track in tracks:
        depression = "phqa" if track.age_band == "adolescent" else "phq9"
        services.schedule_set(
            track=track,
            instrument=depression,
            at_admission=True,
            every_days=7,
            at_discharge=True,
            by=actor,
        )
        services.schedule_set(
            track=track,
            instrument="gad7",
            at_admission=True,
            every_days=7,
            at_discharge=True,
            by=actor,
        )
        if track.age_band != "adolescent":
            services.schedule_set(
                track=track,
                instrument="bam",
                at_admission=True,
                every_days=14,
                at_discharge=False,
                by=actor,
            )
    for site in {t.site for t in tracks}:
        SiteSafetySettings.objects.get_or_create(
            site=site,
            defaults={
                "on_call": staff.get("clinician2"),
                "director": staff.get("director"),
                "escalation_minutes": 60,
            },
        )
    episodes = list(
        Episode.objects.filter(status=EpisodeStatus.ACTIVE, site__in={t.site_id for t in tracks})
        .select_related("patient", "site")
        .prefetch_related("enrollments__track")
        .order_by("id")
    )
    count = 0
    for n, episode in enumerate(episodes):
        adolescent = any(e.track.age_band == "adolescent" for e in episode.enrollments.all())
        key = "phqa" if adolescent else "phq9"
        baseline = rng.randint(10, 22)
        improves = n % 4 != 1  # every fourth patient does not improve: a non-responder to find
        day = episode.admission_date
        week = 0
        while day < today - dt.timedelta(days=1):
            at = dt.datetime.combine(day, dt.time(15, 30), tzinfo=episode.site.tz)
            drop = week * rng.randint(2, 4) if improves else rng.randint(-1, 1)
            total = max(0, min(27, baseline - drop))
            services.response_record(
                episode=episode,
                instrument=key,
                answers=_answers(rng, 9, 3, total),
                administered_at=at,
                by=actor,
            )
            gad = max(0, min(21, baseline - 3 - (drop if improves else 0)))
            services.response_record(
                episode=episode,
                instrument="gad7",
                answers=_answers(rng, 7, 3, gad),
                administered_at=at,
                by=actor,
            )
            count += 2
            day += dt.timedelta(days=7)
            week += 1
    if episodes:
        # One patient answered item 9 at 1 yesterday: an open alert on Today, and a signed plan.
        flagged = episodes[0]
        at = dt.datetime.combine(
            today - dt.timedelta(days=1), dt.time(16, 0), tzinfo=flagged.site.tz
        )
        services.response_record(
            episode=flagged,
            instrument="phq9",
            answers=[1, 1, 1, 1, 0, 1, 0, 0, 1],
            administered_at=at,
            by=actor,
        )
        plan = services.safety_plan_start(episode=flagged, by=actor)
        services.safety_plan_update(
            plan=plan,
            values={
                "warning_signs": "Staying in bed past noon; skipping meals; telling myself nobody would notice.",
                "internal_coping": "Walk around the block with headphones; cold water on my face; the breathing card from group.",
                "distractions": "The library on Elm Street (fictional); calling my cousin to talk about football.",
                "people_to_ask": "My sister (555-0199, fictional); my sponsor (555-0188, fictional).",
                "professionals": "My clinician at the program during the day; the program's 24/7 line after hours.",
                "safe_environment": "My brother keeps my hunting rifle at his house until my clinician and I agree otherwise; the pharmacy packs my medicines weekly.",
                "reasons_for_living": "My dog Biscuit; seeing my niece graduate; finishing the boat with my dad.",
            },
            expected_version=plan.version,
            by=actor,
        )
        plan.refresh_from_db()
        services.safety_plan_sign(
            plan=plan, patient_agreed=True, expected_version=plan.version, by=actor
        )
    out(
        f"  {count} questionnaire scores, measurement schedules on {len(tracks)} tracks, 1 safety plan"
    )
