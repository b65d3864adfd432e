"""The concurrent-review packet for a payer's reviewer (issue 16, point 3): what the reviewer
needs to decide whether to authorize more days, and nothing more (minimum necessary).

Sections: the authorization and what it has used; the ASAM dimension ratings of the latest
decided assessment and the episode's level-of-care history; score trends (each instrument's
totals over time); attendance (rate and hours per week over the last weeks); treatment goal
progress; the reason to continue entered when printing. It carries no note text: not progress
notes, not the assessment's narrative per dimension, not the patient's own words from the plan.

Read through the owning apps' selectors (admissions, episodes, measures, attendance, treatment),
after the caller checked Cap.CLINICAL_VIEW for the patient (billing.services.authorizations
records the print and audits it as an export).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from openiop.admissions.domain import asam
from openiop.admissions.selectors import latest_decided_assessment
from openiop.attendance.domain import WeekLine
from openiop.attendance.selectors import weekly_lines
from openiop.billing.models import Authorization, ConcurrentReview
from openiop.billing.selectors_authorizations import AuthorizationState, authorization_states
from openiop.core import clock
from openiop.core.dates import IsoWeek
from openiop.episodes.models import Episode
from openiop.episodes.selectors import episodes_with_history
from openiop.measures.selectors import InstrumentTrend, episode_trends
from openiop.treatment.selectors import current_goals

ATTENDANCE_WEEKS = 8


@dataclass(frozen=True)
class DimensionLine:
    dimension: int
    name: str
    rating: int


@dataclass(frozen=True)
class LevelLine:
    effective_date: dt.date
    level: str
    direction: str


@dataclass(frozen=True)
class GoalLine:
    problem: str
    goal: str
    status: str


@dataclass
class ReviewPacket:
    review: ConcurrentReview
    authorization: Authorization
    state: AuthorizationState
    episode: Episode
    today: dt.date
    assessment_date: dt.date | None
    assessment_level: str
    dimensions: list[DimensionLine]
    levels: list[LevelLine]
    trends: list[InstrumentTrend]
    weeks: list[WeekLine]
    goals: list[GoalLine]
    # The 42 CFR 2.32 notice when the packet discloses Part 2 records under a consent.
    disclosure_notice: str = ""

    @property
    def attendance_rate(self) -> Decimal | None:
        """Attended minutes over scheduled minutes of the weeks shown, in whole percent."""
        scheduled = sum(w.scheduled_minutes - w.remaining_minutes for w in self.weeks)
        if scheduled <= 0:
            return None
        attended = sum(w.attended_minutes for w in self.weeks)
        return (Decimal(attended * 100) / Decimal(scheduled)).quantize(Decimal("1"))


def packet_for(
    *, authorization: Authorization, episode: Episode, review: ConcurrentReview
) -> ReviewPacket:
    """The packet's sections for `episode` (the patient's open or latest episode)."""
    episode = episodes_with_history().get(pk=episode.pk)
    today = clock.local_today(episode.site.tz)
    patient_id = episode.patient_id
    (state,) = authorization_states([authorization], today_of={patient_id: today})
    assessment = latest_decided_assessment(patient_id=patient_id)
    dimensions: list[DimensionLine] = []
    if assessment is not None:
        for item in sorted(assessment.ratings, key=lambda r: int(r["dimension"])):
            number = int(item["dimension"])
            dimensions.append(
                DimensionLine(
                    number, asam.dimension_name(number, assessment.edition), int(item["rating"])
                )
            )
    levels = [
        LevelLine(c.effective_date, c.get_to_level_display(), c.direction)
        for c in episode.level_changes.all()
    ]
    weeks_wanted = [IsoWeek.of(today)]
    for _ in range(ATTENDANCE_WEEKS - 1):
        weeks_wanted.append(weeks_wanted[-1].previous())
    weeks_wanted = [w for w in weeks_wanted if w.sunday >= episode.admission_date]
    weeks = weekly_lines([episode], list(reversed(weeks_wanted)), today).get(episode.pk, [])
    goals = [
        GoalLine(g.problem.description, g.text, g.get_status_display())
        for g in current_goals(episode.pk)
    ]
    return ReviewPacket(
        review=review,
        authorization=authorization,
        state=state,
        episode=episode,
        today=today,
        assessment_date=assessment.decided_at.date()
        if assessment and assessment.decided_at
        else None,
        assessment_level=(
            assessment.chosen_level_name or assessment.recommended_level_name if assessment else ""
        ),
        dimensions=dimensions,
        levels=levels,
        trends=episode_trends(episode),
        weeks=weeks,
        goals=goals,
    )
