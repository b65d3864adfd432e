"""Reads of tracks, schedules and sessions. Pages that show patients write one audit entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from openiop.accounts.access import check_for, get_for, require, require_site, site_scope
from openiop.accounts.access import visible_sites as access_visible_sites
from openiop.accounts.domain import ROLE_CAPS, Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.models import Episode
from openiop.programs import domain
from openiop.programs.choices import SessionStatus
from openiop.programs.models import (
    Closure,
    CurriculumTopic,
    Enrollment,
    GroupSession,
    Organization,
    Room,
    Site,
    Track,
    TrackBlock,
    enrolled_q,
)


def visible_sites(*, actor: Actor, for_new_work: bool = False) -> QuerySet[Site]:
    """The sites the actor may see: accounts.access.visible_sites, the one definition."""
    return access_visible_sites(actor, for_new_work=for_new_work)


def active_sites_in_scope(*, actor: Actor, organization_id: int | None = None) -> QuerySet[Site]:
    """The active sites the actor works at (site_scope), of one organization when given: the
    choices of a form that starts work at a site (registering a patient, opening an episode)."""
    sites = Site.objects.active().filter(site_scope(actor, field="id"))
    if organization_id is not None:
        sites = sites.filter(organization_id=organization_id)
    return sites


def site_for_public_inquiry(*, site_id: int) -> Site | None:
    """The site a public inquiry form names, with its organization (the crisis line), or None.

    No access check: the public form needs no login and shows only the clinic and its crisis
    lines; inquiry_submit_public refuses a site that takes no new work.
    """
    return Site.objects.select_related("organization").filter(pk=site_id).first()


def actor_organization(*, actor: Actor) -> Organization | None:
    user = actor.user
    if user is None:
        return None
    if user.organization_id:
        return user.organization
    site = visible_sites(actor=actor).first()
    return site.organization if site else None


def clinical_staff(*, site: Site) -> QuerySet[User]:
    """Active staff who may facilitate at `site` (a clinical role, working there or at all sites)."""
    clinical = [r.value for r, caps in ROLE_CAPS.items() if Cap.CLINICAL_VIEW in caps]
    all_sites = [r.value for r, caps in ROLE_CAPS.items() if Cap.ALL_SITES in caps]
    return (
        User.objects.filter(is_active=True, role__in=clinical)
        .filter(Q(sites=site) | Q(role__in=all_sites, organization_id=site.organization_id))
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


# --- tracks ---------------------------------------------------------------------------------


def _enrolled_on(today_by_tz: dict[str, dt.date]) -> Q:
    """Enrollments open on each site's local today (`track__site__timezone` -> date)."""
    cond = Q(pk__in=[])
    for tz_name, today in today_by_tz.items():
        cond |= Q(site__timezone=tz_name) & enrolled_q(today, via="enrollments__")
    return cond


def _today_by_tz(sites: QuerySet[Site]) -> dict[str, dt.date]:
    from zoneinfo import ZoneInfo

    return {
        tz: clock.local_today(ZoneInfo(tz)) for tz in set(sites.values_list("timezone", flat=True))
    }


def track_search(
    *, actor: Actor, query: str = "", include_inactive: bool = False
) -> QuerySet[Track]:
    """Tracks at the actor's sites whose name or site matches `query`, with `enrolled_today`.

    Raises NotPermitted (audited) without Cap.SCHEDULE_VIEW.
    """
    require(actor, Cap.SCHEDULE_VIEW, object_type="track_list")
    sites = visible_sites(actor=actor)
    qs = Track.objects.filter(site__in=sites).select_related("site")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query)
            | Q(site__name__icontains=query)
            | Q(description__icontains=query)
        )
    return qs.annotate(
        enrolled_today=Count("enrollments", filter=_enrolled_on(_today_by_tz(sites)), distinct=True)
    ).order_by("site__name", "name", "id")


def active_tracks_at(*, site_id: int) -> QuerySet[Track]:
    """The active tracks of a site by name; none when the site takes no new work (Site.active)."""
    return Track.objects.filter(
        site_id=site_id, is_active=True, site__in=Site.objects.active()
    ).order_by("name")


def track_in_scope(*, actor: Actor, track_id: int) -> Track | None:
    """The track if it is at one of the actor's sites (site_scope), else None. Not audited: a
    track holds no patient data."""
    return (
        Track.objects.filter(site_scope(actor)).select_related("site").filter(pk=track_id).first()
    )


@dataclass
class TrackDetail:
    track: Track
    today: dt.date
    blocks: list[TrackBlock]
    past_blocks: list[TrackBlock]
    curriculum: list[CurriculumTopic]
    enrolled_today: int
    current_week: int | None
    upcoming_sessions: int
    last_generated: dt.date | None
    extra: dict[str, Any] = field(default_factory=dict)


def track_detail(*, actor: Actor, track_id: int) -> TrackDetail:
    """One track with its blocks (current and future, and ended ones apart), curriculum, enrolled
    count today and how far sessions have been generated.

    Raises NotFound, or NotPermitted (audited) without Cap.SCHEDULE_VIEW or for another site's track.
    """
    require(actor, Cap.SCHEDULE_VIEW, object_type="track")
    track = get_for(
        actor,
        Track.objects.select_related("site"),
        track_id,
        cap=Cap.SCHEDULE_VIEW,
        object_type="track",
        missing=NotFound("There is no such track."),
        site_of=lambda t: t.site,
        action=None,  # no patient data
    )
    today = clock.local_today(track.site.tz)
    blocks = list(
        track.blocks.select_related("facilitator", "room").order_by(
            "weekday", "start_time", "valid_from"
        )
    )
    current = [b for b in blocks if b.valid_until is None or b.valid_until >= today]
    past = [b for b in blocks if b.valid_until is not None and b.valid_until < today]
    curriculum = list(track.curriculum.order_by("week_number"))
    enrolled = Enrollment.objects.on(today).filter(track=track).count()
    week = None
    if curriculum and blocks:
        from openiop.programs.domain import curriculum_week

        anchor = min(b.valid_from for b in blocks)
        week = curriculum_week(today, anchor, max(c.week_number for c in curriculum))
    sessions = GroupSession.objects.filter(track=track)
    return TrackDetail(
        track=track,
        today=today,
        blocks=current,
        past_blocks=past,
        curriculum=curriculum,
        enrolled_today=enrolled,
        current_week=week,
        upcoming_sessions=sessions.filter(date__gte=today, status="scheduled").count(),
        last_generated=sessions.order_by("-date").values_list("date", flat=True).first(),
    )


def block_get(*, actor: Actor, block_id: int) -> TrackBlock:
    """One block for the series edit page. Raises NotFound or NotPermitted (audited)."""
    require(actor, Cap.SCHEDULE_MANAGE, object_type="track_block")
    return get_for(
        actor,
        TrackBlock.objects.select_related("track__site", "facilitator", "room"),
        block_id,
        cap=Cap.SCHEDULE_MANAGE,
        object_type="track_block",
        missing=NotFound("There is no such block."),
        site_of=lambda b: b.track.site,
        action=None,  # no patient data
    )


# --- schedule -------------------------------------------------------------------------------


@dataclass
class ScheduleDay:
    date: dt.date
    sessions: list[GroupSession]


@dataclass
class Schedule:
    site: Site
    start: dt.date
    end: dt.date
    today: dt.date
    days: list[ScheduleDay]
    show_patients: bool


def schedule_for_site(*, actor: Actor, site: Site, start: dt.date, end: dt.date) -> Schedule:
    """The sessions at `site` from start to end (both included), grouped by day, in a fixed number
    of queries. Patients of individual and family sessions are named only to staff who may see
    demographics, and then one audit entry lists them.

    Raises NotPermitted (audited) without Cap.SCHEDULE_VIEW or for another site.
    """
    require(actor, Cap.SCHEDULE_VIEW, object_type="schedule")
    require_site(actor, site, object_type="schedule")
    user = actor.user
    assert user is not None
    show_patients = user.can(Cap.PATIENT_DEMOGRAPHICS)
    related = ["track", "room", "facilitator"]
    if show_patients:
        related.append("episode__patient")
    sessions = list(
        GroupSession.objects.filter(site=site, date__range=(start, end))
        .select_related(*related)
        .order_by("starts_at", "id")
    )
    by_day: dict[dt.date, list[GroupSession]] = {}
    for s in sessions:
        by_day.setdefault(s.date, []).append(s)
    days = []
    day = start
    while day <= end:
        days.append(ScheduleDay(date=day, sessions=by_day.get(day, [])))
        day += dt.timedelta(days=1)
    patient_ids = (
        [s.episode.patient_id for s in sessions if s.episode is not None] if show_patients else []
    )
    if patient_ids:
        audit_record_many(
            actor,
            action=AuditAction.VIEW,
            object_type="schedule",
            patient_ids=patient_ids,
            object_id=site.pk,
            detail={"start": start.isoformat(), "end": end.isoformat()},
        )
    return Schedule(
        site=site,
        start=start,
        end=end,
        today=clock.local_today(site.tz),
        days=days,
        show_patients=show_patients,
    )


def session_manage_cap(session: GroupSession) -> Cap:
    """The capability that changes this session: appointments need APPOINTMENT_BOOK."""
    return Cap.APPOINTMENT_BOOK if session.episode_id else Cap.SCHEDULE_MANAGE


def session_for_edit(*, actor: Actor, session_id: int) -> GroupSession:
    """One session for its edit page. Group sessions need Cap.SCHEDULE_MANAGE; individual and
    family sessions need Cap.APPOINTMENT_BOOK and are audited as a view of their patient.

    Raises NotFound or NotPermitted (audited).
    """
    session = (
        GroupSession.objects.select_related(
            "site", "track", "block", "room", "facilitator", "episode__patient"
        )
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise NotFound("There is no such session.")
    cap = session_manage_cap(session)
    if session.episode is not None:
        patient = session.episode.patient
        return check_for(
            actor, session, cap=cap, object_type="appointment", patient_of=lambda _: patient
        )
    return check_for(
        actor,
        session,
        cap=cap,
        object_type="group_session",
        site_of=lambda s: s.site,
        action=None,  # no patient data
    )


def episode_appointment(*, episode: Episode, session_id: int) -> GroupSession | None:
    """The episode's own appointment (individual, family or medication-management session) with
    this id, or None (a group session, or another episode's). No access check or audit: the caller
    has read `episode` through a selector that did both."""
    return GroupSession.objects.filter(
        pk=session_id, episode=episode, kind__in=list(domain.APPOINTMENT_KINDS)
    ).first()


def rooms_at(*, site: Site) -> QuerySet[Room]:
    return Room.objects.filter(site=site).order_by("name")


# --- closures -------------------------------------------------------------------------------


def closures_list(*, actor: Actor, organization: Organization) -> QuerySet[Closure]:
    """The organization's closures, latest first. Raises NotPermitted (audited)."""
    require(actor, Cap.SCHEDULE_VIEW, object_type="closures")
    return (
        Closure.objects.filter(organization=organization)
        .select_related("site")
        .order_by("-date", "id")
    )


def closure_affected_sessions(
    *, organization: Organization, site: Site | None, date: dt.date
) -> QuerySet[GroupSession]:
    """The scheduled sessions a closure on `date` cancels (a queryset): not yet attended.

    closure_add cancels exactly these, and closure_preview counts them.
    """
    qs = GroupSession.objects.filter(date=date, status=SessionStatus.SCHEDULED)
    qs = qs.filter(site=site) if site is not None else qs.filter(site__organization=organization)
    return qs.filter(attendances__isnull=True)


def closure_preview(*, organization: Organization, site: Site | None, date: dt.date) -> int:
    """How many scheduled sessions a closure on `date` would cancel."""
    return closure_affected_sessions(organization=organization, site=site, date=date).count()


# --- episodes (patient data) ----------------------------------------------------------------


@dataclass
class EpisodeTracks:
    episode: Episode
    enrollments: list[Enrollment]
    tracks: QuerySet[Track]
    today: dt.date


def episode_for_programs(
    *, actor: Actor, episode_id: int, cap: Cap, object_type: str
) -> EpisodeTracks:
    """An episode with its enrollments and the active tracks of its site (none when the site takes
    no new work), for the enroll and booking pages; audited as a view of its patient.

    Raises NotFound, or NotPermitted (audited) without `cap` or for a patient at another site.
    """
    episode = get_for(
        actor,
        Episode.objects.select_related("patient", "site"),
        episode_id,
        cap=cap,
        object_type=object_type,
        missing=NotFound("There is no such episode."),
        patient_of=lambda e: e.patient,
    )
    enrollments = list(
        Enrollment.objects.filter(episode=episode)
        .select_related("track")
        .order_by("start_date", "id")
    )
    return EpisodeTracks(
        episode=episode,
        enrollments=enrollments,
        tracks=active_tracks_at(site_id=episode.site_id),
        today=clock.local_today(episode.site.tz),
    )


def enrollment_get(*, actor: Actor, enrollment_id: int) -> Enrollment:
    """One enrollment with its episode and patient, audited as a view of the patient.

    Raises NotFound, or NotPermitted (audited) without Cap.EPISODE_MANAGE or for another site.
    """
    return get_for(
        actor,
        Enrollment.objects.select_related("episode__patient", "episode__site", "track"),
        enrollment_id,
        cap=Cap.EPISODE_MANAGE,
        object_type="enrollment",
        missing=NotFound("There is no such enrollment."),
        patient_of=lambda e: e.episode.patient,
    )


# --- a patient's schedule ahead (billing's authorization forecast) -----------------------------


@dataclass(frozen=True)
class EpisodePlan:
    """An episode's scheduled session days from a date on (`days`), and its planned last day
    (`planned_end`): the latest end date of its enrollments when every one has an end date, None
    while one is open-ended (the episode keeps no planned discharge date of its own)."""

    days: dict[dt.date, int]  # date -> scheduled sessions that day
    planned_end: dt.date | None


def scheduled_days(
    *, episode_ids: list[int], first: dt.date, last: dt.date
) -> dict[int, EpisodePlan]:
    """For each episode, the days from `first` to `last` on which it has a session that is not
    cancelled: a track session on a day an enrollment of the episode covers (the roster rule,
    attendance.selectors.roster_episode_ids), or an individual or family session booked for it.
    Two queries whatever the number of episodes. No access check or audit: the caller's selector
    checked the patients and audits what it shows."""
    enrollments = list(
        Enrollment.objects.filter(episode_id__in=episode_ids)
        .order_by()
        .values_list("episode_id", "track_id", "start_date", "end_date")
    )
    tracks = {track for _, track, _, _ in enrollments}
    sessions = (
        GroupSession.objects.filter(date__gte=first, date__lte=last)
        .exclude(status=SessionStatus.CANCELLED)
        .filter(Q(track_id__in=tracks) | Q(episode_id__in=episode_ids))
        .order_by()
        .values_list("date", "track_id", "episode_id")
    )
    by_track: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
    for episode_id, track_id, start, end in enrollments:
        by_track.setdefault(track_id, []).append((episode_id, start, end))
    days: dict[int, dict[dt.date, int]] = {e: {} for e in episode_ids}
    for date, track_id, session_episode in sessions:
        on: set[int] = set()
        if session_episode in days:
            on.add(session_episode)
        for episode_id, start, end in by_track.get(track_id, []):
            if start <= date and (end is None or date <= end):
                on.add(episode_id)
        for episode_id in on:
            days[episode_id][date] = days[episode_id].get(date, 0) + 1
    ends: dict[int, list[dt.date | None]] = {}
    for episode_id, _, _, end in enrollments:
        ends.setdefault(episode_id, []).append(end)
    result = {}
    for episode_id in episode_ids:
        episode_ends = ends.get(episode_id, [])
        planned = (
            max(e for e in episode_ends if e is not None)
            if episode_ends and all(e is not None for e in episode_ends)
            else None
        )
        result[episode_id] = EpisodePlan(days=days[episode_id], planned_end=planned)
    return result


def group_session_search(
    *,
    actor: Actor,
    track_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[GroupSession]:
    """The group sessions (a track's, or any session that belongs to no patient's episode) at
    the actor's sites, of one track and from date_from to date_to (both included) when given,
    by start, with their site, track, room and facilitator. Individual and family sessions are
    left out: they name a patient. Not audited: no patient data.

    Raises NotPermitted (audited) without Cap.SCHEDULE_VIEW.
    """
    require(actor, Cap.SCHEDULE_VIEW, object_type="schedule")
    qs = GroupSession.objects.filter(site_scope(actor), episode__isnull=True)
    if track_id is not None:
        qs = qs.filter(track_id=track_id)
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    return qs.select_related("site", "track", "room", "facilitator").order_by("starts_at", "id")
