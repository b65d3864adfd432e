"""Reads of questionnaire scores, alerts and safety plans: access checked and audited here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    CharField,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)

from openiop.accounts.access import check_for, get_for, require, require_site, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.errors import NotFound
from openiop.episodes.choices import OPEN_STATUSES, EpisodeStatus
from openiop.episodes.models import Episode
from openiop.measures.chart import ChartPoint, trend_svg
from openiop.measures.choices import AlertStatus, PlanStatus
from openiop.measures.domain import REGISTRY
from openiop.measures.domain.auditc import bands_for as auditc_bands
from openiop.measures.domain.base import Band
from openiop.measures.domain.care import (
    Due,
    OutcomeRules,
    RiskEvent,
    ScheduleRule,
    current_risk,
    is_nonresponder,
    measurements_due,
    outcome_markers,
    unassessed_screens,
)
from openiop.measures.models import (
    MeasurementSchedule,
    Response,
    RiskAssessment,
    SafetyAlert,
    SafetyPlan,
)
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_match
from openiop.programs.models import Enrollment, Site


@dataclass(frozen=True)
class ScoreSummary:
    """First and latest score of one instrument in one episode (for the discharge summary).

    `total` fields are None for instruments without a total (C-SSRS, BAM): read `band`/`subscales`.
    `change` is latest minus first total (negative = fewer symptoms), None without totals.
    """

    instrument: str
    label: str
    count: int
    first_total: int | None
    first_band: str
    first_date: dt.date
    latest_total: int | None
    latest_band: str
    latest_date: dt.date
    first_subscales: Mapping[str, int] = field(default_factory=dict)
    latest_subscales: Mapping[str, int] = field(default_factory=dict)

    @property
    def change(self) -> int | None:
        if self.first_total is None or self.latest_total is None:
            return None
        return self.latest_total - self.first_total


def score_summary_for_episode(
    *, episode: Episode, actor: Actor | None = None
) -> list[ScoreSummary]:
    """Per instrument given in `episode`: first and latest total, band and date, in registry order.

    One query. With `actor`, checks Cap.CLINICAL_VIEW for the patient (NotPermitted, audited) and
    writes a view entry; without it the caller (e.g. the discharge summary's own selector) must
    already have checked access and audited the read. Dates are in the episode site's time zone.
    """
    if actor is not None:
        check_for(
            actor,
            episode,
            cap=Cap.CLINICAL_VIEW,
            object_type="measure_scores",
            patient_of=lambda e: e.patient,
        )
    tz = episode.site.tz
    by_instrument: dict[str, list[Response]] = {}
    for response in Response.objects.filter(episode=episode).order_by("administered_at", "id"):
        by_instrument.setdefault(response.instrument, []).append(response)
    summaries: list[ScoreSummary] = []
    for key, instrument in REGISTRY.items():
        rows = by_instrument.get(key)
        if not rows:
            continue
        first, latest = rows[0], rows[-1]
        summaries.append(
            ScoreSummary(
                instrument=key,
                label=instrument.label,
                count=len(rows),
                first_total=first.total,
                first_band=first.band,
                first_date=first.administered_at.astimezone(tz).date(),
                latest_total=latest.total,
                latest_band=latest.band,
                latest_date=latest.administered_at.astimezone(tz).date(),
                first_subscales=dict(first.subscales),
                latest_subscales=dict(latest.subscales),
            )
        )
    return summaries


# --- configuration --------------------------------------------------------------------------------


def due_grace_days() -> int:
    """Days after its due date before a questionnaire shows as overdue (MEASURES_DUE_GRACE_DAYS, 2)."""
    from django.conf import settings

    return int(getattr(settings, "MEASURES_DUE_GRACE_DAYS", 2))


def outcome_rules() -> OutcomeRules:
    """Outcome definitions; non-response at week 3 is configurable (MEASURES_NONRESPONSE_DAYS, 21;
    MEASURES_NONRESPONSE_MIN_DROP_PCT, 20)."""
    from decimal import Decimal

    from django.conf import settings

    return OutcomeRules(
        nonresponse_after_days=int(getattr(settings, "MEASURES_NONRESPONSE_DAYS", 21)),
        nonresponse_min_drop_pct=Decimal(
            str(getattr(settings, "MEASURES_NONRESPONSE_MIN_DROP_PCT", 20))
        ),
    )


# --- risk in the header ---------------------------------------------------------------------------


def risk_events(
    alerts: list[SafetyAlert],
    cssrs: list[Response],
    assessments: list[RiskAssessment] | None = None,
) -> list[RiskEvent]:
    """Alerts, C-SSRS screens and clinicians' assessments as events for `current_risk`."""
    events = [
        RiskEvent(at=a.created_at, level=a.risk_level, open_alert=a.status == AlertStatus.OPEN)
        for a in alerts
    ]
    events.extend(RiskEvent(at=r.administered_at, level=r.band or "none") for r in cssrs)
    events.extend(RiskEvent(at=a.created_at, level=a.risk_level) for a in assessments or [])
    return events


def _open_episodes(patient_ids: list[int]) -> QuerySet[Episode, Any]:
    """The patients' open episodes, as a subquery: joining every open episode of the network to
    filter a few patients' rows read thousands of episodes per query."""
    return Episode.objects.filter(patient_id__in=patient_ids, status__in=OPEN_STATUSES).values("pk")


def patient_risk_level(patient_id: int) -> str:
    """The risk level the patient header shows (none, low, unassessed, moderate, high).

    One query. Not audited on its own: it is part of a page whose selector audits the view.
    """
    return patient_risk_levels([patient_id])[patient_id]


def _risk_events(qs: QuerySet[Any, Any], source: int, **columns: Any) -> QuerySet[Any, Any]:
    """One branch of patient_risk_levels' union: (source, patient_id, at, level, state) rows."""
    rows: QuerySet[Any, Any] = (
        qs.annotate(source=Value(source), **columns)
        .values_list("source", "patient_id", "at", "level", "state")
        .order_by()
    )
    return rows


def patient_risk_levels(patient_ids: list[int]) -> dict[int, str]:
    """patient_risk_level for several patients (a group's members) in one query: their alerts,
    latest C-SSRS screens and assessments in open episodes, and their open alerts of closed
    episodes, as one list of events."""
    episodes = _open_episodes(patient_ids)
    # Each open episode's latest screen (an index lookup per episode; a patient's latest is among
    # them, and an older one never changes current_risk).
    latest_cssrs = episodes.annotate(
        latest=Subquery(
            Response.objects.filter(episode_id=OuterRef("pk"), instrument="cssrs")
            .order_by("-administered_at", "-id")
            .values("id")[:1]
        )
    ).values("latest")
    text: CharField[str, str] = CharField()
    none = Value("", output_field=text)
    # An open alert counts whatever its episode: closing an episode never hides it.
    alerts = _risk_events(
        SafetyAlert.objects.filter(patient_id__in=patient_ids).filter(
            Q(episode__in=episodes) | Q(status=AlertStatus.OPEN)
        ),
        0,
        at=F("created_at"),
        level=F("risk_level"),
        state=F("status"),
    )
    cssrs = _risk_events(
        Response.objects.filter(
            patient_id__in=patient_ids, instrument="cssrs", episode__in=episodes
        ).filter(Q(pk__in=latest_cssrs) | Q(band="unassessed")),
        1,
        at=F("administered_at"),
        level=F("band"),
        state=none,
    )
    assessments = _risk_events(
        RiskAssessment.objects.filter(patient_id__in=patient_ids, episode__in=episodes),
        2,
        at=F("created_at"),
        level=F("risk_level"),
        state=none,
    )
    # In the order patient_risk_level lists them (alerts, screens, assessments): events at the
    # same instant keep that order through current_risk's stable sort.
    rows = sorted(alerts.union(cssrs, assessments, all=True), key=lambda r: r[0])
    events: dict[int, list[RiskEvent]] = defaultdict(list)
    for source, patient_id, at, level, state in rows:
        if source == 0:
            events[patient_id].append(
                RiskEvent(at=at, level=level, open_alert=state == AlertStatus.OPEN)
            )
        else:  # a screen without a band counts as "none", as in risk_events
            events[patient_id].append(
                RiskEvent(at=at, level=(level or "none") if source == 1 else level)
            )
    return {pid: current_risk(events[pid]) for pid in patient_ids}


# --- the measures page of an episode ---------------------------------------------------------------


@dataclass
class InstrumentTrend:
    key: str
    label: str
    responses: list[Response]
    svg: str
    baseline: int | None
    latest: int | None


@dataclass
class MeasuresPage:
    episode: Episode
    responses: list[Response]
    trends: list[InstrumentTrend]
    due: list[Due]
    alerts: list[SafetyAlert]
    assessments: list[RiskAssessment]
    plans: list[SafetyPlan]
    risk: str
    schedule: list[ScheduleRule]

    @property
    def draft_plan(self) -> SafetyPlan | None:
        return next((p for p in self.plans if p.status == PlanStatus.DRAFT), None)

    @property
    def signed_plan(self) -> SafetyPlan | None:
        return next((p for p in self.plans if p.status == PlanStatus.SIGNED), None)


def _bands_for(key: str, sex: str) -> tuple[Band, ...]:
    if key == "auditc":
        return auditc_bands(sex if sex in ("female", "male") else None)
    return REGISTRY[key].bands


def build_trend(
    key: str, responses: list[Response], *, patient: Patient, tz: object
) -> InstrumentTrend:
    """The chart and outcome markers of one instrument's responses (oldest first)."""
    definition = REGISTRY[key]
    totals = [r for r in responses if r.total is not None]
    baseline = totals[0].total if totals else None
    points: list[ChartPoint] = []
    for r in totals:
        assert r.total is not None
        marks = (
            outcome_markers(key, baseline or 0, r.total, flags=r.flags)
            if r is not totals[0]
            else None
        )
        points.append(
            ChartPoint(
                date=r.administered_at.astimezone(tz).date(),  # type: ignore[arg-type]
                total=r.total,
                band=r.band,
                response=bool(marks and marks.response),
                remission=bool(marks and marks.remission),
                reliable=bool(marks and marks.reliable_improvement),
            )
        )
    svg = ""
    if definition.max_total:
        svg = trend_svg(
            title=f"{definition.label} over time",
            points=points,
            bands=_bands_for(key, patient.sex),
            max_total=definition.max_total,
        )
    return InstrumentTrend(
        key=key,
        label=definition.label,
        responses=responses,
        svg=svg,
        baseline=baseline,
        latest=totals[-1].total if totals else None,
    )


def _schedule_rules(episode: Episode, today: object) -> list[ScheduleRule]:
    tracks = [
        e.track_id
        for e in Enrollment.objects.filter(episode=episode)
        if e.end_date is None or e.end_date >= today  # type: ignore[operator]
    ]
    rules: dict[str, ScheduleRule] = {}
    for s in MeasurementSchedule.objects.filter(track_id__in=tracks).order_by("instrument"):
        rules.setdefault(
            s.instrument,
            ScheduleRule(s.instrument, s.at_admission, s.every_days, s.at_discharge),
        )
    return list(rules.values())


def episode_measures(*, actor: Actor, episode_id: int) -> MeasuresPage:
    """Everything the measures page of an episode shows; audited as a view of its patient.

    Raises NotFound for an unknown episode; NotPermitted (audited) without Cap.CLINICAL_VIEW or for
    a patient at another site.
    """
    episode = get_for(
        actor,
        Episode.objects.select_related("patient", "site", "primary_clinician"),
        episode_id,
        cap=Cap.CLINICAL_VIEW,
        object_type="measures",
        missing=NotFound("There is no episode with this number.", code="episode_not_found"),
        patient_of=lambda e: e.patient,
    )
    tz = episode.site.tz
    today = local_today(tz)
    responses = list(
        Response.objects.filter(episode=episode)
        .select_related("entered_by")
        .order_by("administered_at", "id")
    )
    grouped: dict[str, list[Response]] = defaultdict(list)
    for r in responses:
        grouped[r.instrument].append(r)
    trends = [
        build_trend(key, grouped[key], patient=episode.patient, tz=tz)
        for key in REGISTRY
        if key in grouped
    ]
    rules = _schedule_rules(episode, today)
    done = {
        key: [r.administered_at.astimezone(tz).date() for r in rows]
        for key, rows in grouped.items()
    }
    due = (
        measurements_due(
            rules=rules,
            admission_date=episode.admission_date,
            today=today,
            done=done,
            grace_days=due_grace_days(),
            discharge_date=episode.discharge_date,
        )
        if episode.is_open
        else []
    )
    alerts = list(
        SafetyAlert.objects.filter(episode=episode).select_related(
            "owner", "acknowledged_by", "escalated_to"
        )
    )
    plans = list(SafetyPlan.objects.filter(patient_id=episode.patient_id).order_by("-number"))
    cssrs = [r for r in responses if r.instrument == "cssrs"]
    assessments = list(RiskAssessment.objects.filter(episode=episode).select_related("assessed_by"))
    # A closed episode's own screens no longer set a level; its open alerts still do.
    risk = current_risk(
        risk_events(alerts, cssrs, assessments)
        if episode.is_open
        else risk_events([a for a in alerts if a.status == AlertStatus.OPEN], [])
    )
    return MeasuresPage(
        episode=episode,
        responses=list(reversed(responses)),
        trends=trends,
        due=due,
        alerts=alerts,
        assessments=assessments,
        plans=plans,
        risk=risk,
        schedule=rules,
    )


def response_get(*, actor: Actor, response_id: int) -> Response:
    """One response with its raw answers; audited. NotFound / NotPermitted as usual."""
    return get_for(
        actor,
        Response.objects.select_related("patient", "episode__site", "entered_by"),
        response_id,
        cap=Cap.CLINICAL_VIEW,
        object_type="measure_response",
        missing=NotFound("There is no such questionnaire.", code="response_not_found"),
        patient_of=lambda r: r.patient,
    )


# --- safety alerts ----------------------------------------------------------------------------------


@dataclass
class TodayAlerts:
    at_site: list[SafetyAlert]  # open alerts at the chosen site, newest first
    mine: list[
        SafetyAlert
    ]  # open alerts the actor owns or that went to them, at any of their sites


def open_safety_alerts_for_today(*, actor: Actor, site: Site, limit: int = 50) -> TodayAlerts:
    """Open safety alerts at `site`, and those the actor owns or that were escalated to them at
    every site they may see, newest first; each with its site. One query; the caller audits.

    An alert stays listed until someone acknowledges it, also after its episode was closed.
    """
    user = actor.user
    mine = Q(owner=user) | Q(escalated_to=user) if user is not None else Q(pk__in=[])
    rows = list(
        SafetyAlert.objects.filter(site_scope(actor, "episode__site_id"), status=AlertStatus.OPEN)
        .filter(Q(episode__site=site) | mine)
        .select_related("patient", "owner", "escalated_to", "episode__site")
        .order_by("-created_at")[: limit * 2]
    )
    user_id = user.pk if user is not None else None
    return TodayAlerts(
        at_site=[a for a in rows if a.episode.site_id == site.pk][:limit],
        mine=[a for a in rows if user_id in (a.owner_id, a.escalated_to_id)][:limit],
    )


def cssrs_recorded_after(alert: SafetyAlert) -> bool:
    """Whether a C-SSRS of the alert's patient was recorded since the alert opened (the screen
    that opened the alert does not count). One query; not audited: part of the alert's page."""
    qs = Response.objects.filter(
        patient_id=alert.patient_id, instrument="cssrs", created_at__gte=alert.created_at
    )
    if alert.response_id is not None:
        qs = qs.exclude(pk=alert.response_id)
    return qs.exists()


@dataclass(frozen=True)
class SafetyAtClose:
    """What must be settled before an episode closes: its open safety alerts, and its positive
    screens (item 9) that no C-SSRS or clinician's risk level followed and whose alert is closed."""

    alerts: list[SafetyAlert]
    unassessed: list[Response]

    def __bool__(self) -> bool:
        return bool(self.alerts or self.unassessed)


def safety_at_close(episode: Episode) -> SafetyAtClose:
    """The open safety items of `episode` (see SafetyAtClose). Four queries whatever the history;
    not audited: the discharge page's episode read is."""
    alerts = list(
        SafetyAlert.objects.filter(episode=episode, status=AlertStatus.OPEN)
        .select_related("owner", "response")
        .order_by("created_at", "id")
    )
    screens = [
        r
        for r in Response.objects.filter(episode=episode, instrument__in=("phq9", "phqa"))
        .select_related("safety_alert")
        .order_by("administered_at", "id")
        if "item9_positive" in r.flags
    ]
    last_cssrs = Response.objects.filter(episode=episode, instrument="cssrs").aggregate(
        at=Max("administered_at")
    )["at"]
    last_judged = RiskAssessment.objects.filter(episode=episode).aggregate(at=Max("created_at"))[
        "at"
    ]
    last = max((t for t in (last_cssrs, last_judged) if t is not None), default=None)
    open_alert_responses = {a.response_id for a in alerts}
    left = set(unassessed_screens([(r.pk, r.administered_at) for r in screens], last))
    return SafetyAtClose(
        alerts=alerts,
        unassessed=[r for r in screens if r.pk in left and r.pk not in open_alert_responses],
    )


def safety_alert_get(*, actor: Actor, alert_id: int) -> SafetyAlert:
    """One safety alert with its response; audited. Needs Cap.CLINICAL_VIEW for the patient."""
    return get_for(
        actor,
        SafetyAlert.objects.select_related(
            "patient", "episode__site", "owner", "response", "acknowledged_by", "escalated_to"
        ),
        alert_id,
        cap=Cap.CLINICAL_VIEW,
        object_type="safety_alert",
        missing=NotFound("There is no such alert.", code="alert_not_found"),
        patient_of=lambda a: a.patient,
    )


def my_safety_alerts(*, actor: Actor, page: int | str | None = 1, q: str = "") -> Page[SafetyAlert]:
    """Open alerts the actor owns or that were escalated to them, then others at their sites.

    An alert stays here until someone acknowledges it, also after its episode was closed.

    `q` keeps the alerts of patients matching the search box (name words, MRN or date of birth).
    Fixed queries a page; one audit entry names the patients shown."""
    require(actor, Cap.CLINICAL_VIEW, object_type="safety_alerts")
    user = actor.user
    assert user is not None
    qs = (
        SafetyAlert.objects.filter(site_scope(actor, "episode__site_id"), status=AlertStatus.OPEN)
        .filter(patient_match(q))
        .select_related("patient", "owner", "escalated_to", "episode__site")
        .order_by("-created_at")
    )
    mine = Q(owner=user) | Q(escalated_to=user)
    rows = list(qs.filter(mine)) + list(qs.exclude(mine))
    result = Paginator(rows, 25).get_page(page)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="safety_alerts",
        patient_ids=[a.patient_id for a in result.object_list],
    )
    return result


# --- safety plans -----------------------------------------------------------------------------------


def safety_plan_get(*, actor: Actor, plan_id: int, purpose: str = "safety_plan") -> SafetyPlan:
    """One safety plan; audited. Needs Cap.CLINICAL_VIEW for the patient."""
    return get_for(
        actor,
        SafetyPlan.objects.select_related(
            "patient__organization", "episode__site", "signed_by", "created_by"
        ),
        plan_id,
        cap=Cap.CLINICAL_VIEW,
        object_type=purpose,
        missing=NotFound("There is no such safety plan.", code="plan_not_found"),
        patient_of=lambda p: p.patient,
    )


def latest_signed_plan(patient_id: int) -> SafetyPlan | None:
    """The patient's newest signed plan (for their link; the link view audits)."""
    return (
        SafetyPlan.objects.filter(patient_id=patient_id, status=PlanStatus.SIGNED)
        .select_related("patient__organization", "signed_by")
        .order_by("-number")
        .first()
    )


# --- lists across patients ----------------------------------------------------------------------------


@dataclass
class DueRow:
    episode: Episode
    due: list[Due]

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.due)


def due_list(*, actor: Actor, site: Site, everyone: bool = False, q: str = "") -> list[DueRow]:
    """Questionnaires due or overdue today for the actor's patients (primary clinician) at `site`.

    `everyone` lists every open episode at the site (for directors covering); `q` keeps patients
    matching the search box (name words, MRN or date of birth). Constant queries: episodes,
    enrollments, schedules, response dates.
    """
    require(actor, Cap.CLINICAL_VIEW, object_type="measures_due")
    require_site(actor, site, object_type="measures")
    tz = site.tz
    today = local_today(tz)
    episodes = Episode.objects.filter(site=site, status=EpisodeStatus.ACTIVE).select_related(
        "patient", "primary_clinician"
    )
    if not everyone:
        episodes = episodes.filter(primary_clinician=actor.user)
    episodes = episodes.filter(patient_match(q))
    episodes = episodes.prefetch_related(
        Prefetch(
            "enrollments", queryset=Enrollment.objects.only("episode_id", "track_id", "end_date")
        )
    ).order_by("patient__search_name")
    rows_e = list(episodes)
    track_ids = {e.track_id for ep in rows_e for e in ep.enrollments.all()}
    schedules: dict[int, list[ScheduleRule]] = defaultdict(list)
    for s in MeasurementSchedule.objects.filter(track_id__in=track_ids):
        schedules[s.track_id].append(
            ScheduleRule(s.instrument, s.at_admission, s.every_days, s.at_discharge)
        )
    done: dict[int, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    for episode_id, instrument, at in Response.objects.filter(
        episode__in=[e.pk for e in rows_e]
    ).values_list("episode_id", "instrument", "administered_at"):
        done[episode_id][instrument].append(at.astimezone(tz).date())
    result: list[DueRow] = []
    grace = due_grace_days()
    for ep in rows_e:
        rules: dict[str, ScheduleRule] = {}
        for enrollment in ep.enrollments.all():
            if enrollment.end_date is not None and enrollment.end_date < today:
                continue
            for rule in schedules.get(enrollment.track_id, []):
                rules.setdefault(rule.instrument, rule)
        due = measurements_due(
            rules=list(rules.values()),
            admission_date=ep.admission_date,
            today=today,
            done=done.get(ep.pk, {}),
            grace_days=grace,
        )
        if due:
            result.append(DueRow(episode=ep, due=due))
    result.sort(key=lambda r: (not r.overdue, r.due[0].due_date))
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="measures_due",
        patient_ids=[r.episode.patient_id for r in result],
    )
    return result


@dataclass
class ProgramRow:
    episode: Episode
    days: int
    latest: dict[str, Response]
    first: dict[str, Response]
    nonresponder: bool
    depression_key: str

    def change(self, key: str) -> int | None:
        f, last = self.first.get(key), self.latest.get(key)
        if f is None or last is None or f.total is None or last.total is None:
            return None
        return last.total - f.total


PROGRAM_INSTRUMENTS = ("phq9", "phqa", "gad7", "cssrs", "bam")


def first_and_latest_responses(
    episode_ids: Sequence[int], instruments: Sequence[str]
) -> dict[int, tuple[dict[str, Response], dict[str, Response]]]:
    """For each episode: (first, latest) response per instrument, keyed by instrument.

    Two queries whatever the number of responses: the first and last administration time per
    episode and instrument (an aggregate over the episode/instrument/time index), then only the
    responses given at those times. A daily C-SSRS check-in makes an episode hold hundreds of
    responses; loading them all to keep two was the program view's cost at scale.
    """
    if not episode_ids:
        return {}
    bounds = list(
        Response.objects.filter(episode_id__in=episode_ids, instrument__in=instruments)
        .values("episode_id", "instrument")
        .annotate(first_at=Min("administered_at"), last_at=Max("administered_at"))
    )
    times = {b["first_at"] for b in bounds} | {b["last_at"] for b in bounds}
    wanted = {(b["episode_id"], b["instrument"]): (b["first_at"], b["last_at"]) for b in bounds}
    result: dict[int, tuple[dict[str, Response], dict[str, Response]]] = {
        e: ({}, {}) for e in episode_ids
    }
    # Only the columns the lists show (raw answers are JSON to decode).
    for r in (
        Response.objects.filter(
            episode_id__in=episode_ids, instrument__in=instruments, administered_at__in=times
        )
        .only("episode_id", "instrument", "administered_at", "total", "band", "subscales")
        .order_by("administered_at", "id")
    ):
        first_at, last_at = wanted.get((r.episode_id, r.instrument), (None, None))
        first, latest = result[r.episode_id]
        if r.administered_at == first_at:
            first.setdefault(r.instrument, r)
        if r.administered_at == last_at:
            latest[r.instrument] = r
    return result


def program_outcomes(
    *,
    actor: Actor,
    site: Site,
    q: str = "",
    nonresponders_only: bool = False,
    page: int | str | None = 1,
) -> Page[ProgramRow]:
    """Active patients at `site` with latest scores, change since admission and the week-3
    non-responder flag (see care.is_nonresponder and outcome_rules()).

    A fixed number of queries a page: the episodes, then first and latest responses for the
    shown page only (for the non-responder filter, for every active episode at the site, and only
    the depression measures that decide it).
    """
    require(actor, Cap.CLINICAL_VIEW, object_type="measures_program")
    require_site(actor, site, object_type="measures")
    tz = site.tz
    today = local_today(tz)
    episodes = Episode.objects.filter(site=site, status=EpisodeStatus.ACTIVE).select_related(
        "patient", "primary_clinician"
    )
    episodes = episodes.filter(patient_match(q))
    rules = outcome_rules()

    def rows_for(eps: Sequence[Episode], instruments: Sequence[str]) -> list[ProgramRow]:
        scores = first_and_latest_responses([e.pk for e in eps], instruments)
        rows: list[ProgramRow] = []
        for ep in eps:
            first, latest = scores[ep.pk]
            days = (today - ep.admission_date).days
            key = "phqa" if "phqa" in latest and "phq9" not in latest else "phq9"
            nonresponder = False
            f, last = first.get(key), latest.get(key)
            if f is not None and last is not None and f.pk != last.pk:
                assert f.total is not None and last.total is not None
                nonresponder = is_nonresponder(
                    baseline=f.total, latest=last.total, days_since_admission=days, rules=rules
                )
            rows.append(ProgramRow(ep, days, latest, first, nonresponder, key))
        return rows

    ordered = list(episodes.order_by("patient__search_name"))
    if nonresponders_only:
        ordered = [r.episode for r in rows_for(ordered, ("phq9", "phqa")) if r.nonresponder]
    shown = Paginator(ordered, 25).get_page(page)
    result: Page[ProgramRow] = Page(
        rows_for(list(shown.object_list), PROGRAM_INSTRUMENTS),
        shown.number,
        shown.paginator,  # type: ignore[arg-type]  # counts only
    )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="measures_program",
        patient_ids=[r.episode.patient_id for r in result.object_list],
    )
    return result


def episode_trends(episode: Episode) -> list[InstrumentTrend]:
    """The score trend of each instrument given in `episode` (totals over time, with the chart),
    in the registry's order. One query. No access check or audit: for a selector that checked the
    patient and audits what it shows (billing's concurrent-review packet)."""
    grouped: dict[str, list[Response]] = defaultdict(list)
    for r in Response.objects.filter(episode=episode).order_by("administered_at", "id"):
        grouped[r.instrument].append(r)
    return [
        build_trend(key, grouped[key], patient=episode.patient, tz=episode.site.tz)
        for key in REGISTRY
        if key in grouped
    ]
