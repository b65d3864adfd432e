"""Reads of rosters, hours and the Today board. Each checks access and writes the audit entry.

Rosters are derived at read time (docs/decisions.md #2): the episodes enrolled in the session's
track on its date, the episode of an individual or family session, and anyone already recorded.
Query counts stay constant whatever the number of patients or sessions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery

from openiop.accounts.access import get_for, require, require_site, site_scope
from openiop.accounts.domain import Cap
from openiop.attendance.domain import SessionLine, WeekLine, ledger, weekly_minimum_minutes
from openiop.attendance.models import Attendance, RosterSeat
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.billing.choices import CoverageRank
from openiop.billing.models import Coverage, PayerProgramBilling
from openiop.casemgmt.selectors import RosterSupport, roster_support
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.core.errors import NotFound
from openiop.episodes.choices import OPEN_STATUSES, AlertStatus, EpisodeStatus
from openiop.episodes.models import Alert, Episode
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_match
from openiop.programs.choices import SessionStatus
from openiop.programs.domain import DateSpan
from openiop.programs.models import Enrollment, GroupSession, Site, Track, enrolled_q


# --- rosters -------------------------------------------------------------------------------------
def roster_episode_ids(
    session: GroupSession, recorded: Sequence[Attendance] | None = None
) -> set[int]:
    """The ids of the episodes on a session's roster: enrolled in its track on its date, seated on
    it (RosterSeat), its own episode, or recorded (one or two queries; one when the caller passes
    the session's attendance records it has already read)."""
    ids: set[int] = set()
    if session.episode_id:
        ids.add(session.episode_id)
    if session.track_id:
        # The seats added beyond enrollments (RosterSeat: make-up sessions, an accepted week's
        # plan) in the same query. Only track sessions take seats.
        ids.update(
            Enrollment.objects.on(session.date)
            .filter(track_id=session.track_id)
            .order_by()
            .values_list("episode_id", flat=True)
            .union(
                RosterSeat.objects.filter(session_id=session.pk)
                .order_by()
                .values_list("episode_id", flat=True)
            )
        )
    if recorded is None:
        # order_by(): the model's default ordering would join the session table for nothing.
        ids.update(
            Attendance.objects.filter(session=session)
            .order_by()
            .values_list("episode_id", flat=True)
        )
    else:
        ids.update(a.episode_id for a in recorded)
    return ids


def session_get(*, actor: Actor, session_id: int, cap: Cap = Cap.ATTENDANCE_VIEW) -> GroupSession:
    """A session with its site, track, room and facilitator, if the actor may see its roster."""
    require(actor, cap, object_type="session")
    return get_for(
        actor,
        GroupSession.objects.select_related(
            "site", "track", "room", "facilitator", "episode__patient"
        ),
        session_id,
        cap=cap,
        object_type="session",
        missing=NotFound("That session does not exist."),
        site_of=lambda s: s.site_id,
        action=None,  # the roster's selector audits the patients it shows
    )


@dataclass
class RosterRow:
    episode: Episode
    patient: Patient
    attendance: Attendance | None
    week: WeekLine | None
    # Rides (the van) and childcare requested or booked for this session (casemgmt).
    support: list[RosterSupport] = field(default_factory=list)


def session_roster(
    *,
    actor: Actor,
    session: GroupSession,
    today: dt.date | None = None,
    with_support: bool = True,
) -> list[RosterRow]:
    """The roster of a session with each patient's hours in the session's week, and with
    `with_support` their ride and childcare requests (one query; the REST roster does not return
    them, so it leaves them out).

    Checks Cap.ATTENDANCE_VIEW and the session's site (no extra query once session_get has run).
    `today` defaults to today in the session's site time zone. Writes one audit entry naming every
    patient shown.
    """
    require(actor, Cap.ATTENDANCE_VIEW, object_type="session_roster")
    require_site(actor, session.site_id, object_type="site")
    today = today or local_today(session.site.tz)
    recorded = list(Attendance.objects.filter(session=session).order_by())
    records = {a.episode_id: a for a in recorded}
    episodes = list(
        Episode.objects.filter(pk__in=roster_episode_ids(session, recorded))
        .select_related("patient")
        .order_by("patient__legal_last_name", "patient__legal_first_name")
    )
    week = IsoWeek.of(session.date)
    weeks = weekly_lines(episodes, [week], today)
    support = (
        roster_support(session=session, episode_ids=[e.pk for e in episodes])
        if with_support
        else {}
    )
    rows = [
        RosterRow(
            episode=e,
            patient=e.patient,
            attendance=records.get(e.pk),
            week=weeks[e.pk][0] if weeks.get(e.pk) else None,
            support=support.get(e.pk, []),
        )
        for e in episodes
    ]
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="session_roster",
        object_id=session.pk,
        patient_ids=[e.patient_id for e in episodes],
    )
    return rows


# --- the weekly ledger, batched ------------------------------------------------------------------
def weekly_lines(
    episodes: Sequence[Episode], weeks: Sequence[IsoWeek], today: dt.date
) -> dict[int, list[WeekLine]]:
    """Each episode's ledger over `weeks`, in four queries whatever the number of episodes.

    Scheduled: the track sessions on dates the episode was enrolled (cancelled sessions excluded),
    plus its own individual and family sessions, plus the sessions it is seated on (RosterSeat). The minimum is the enrolled track's that week, or
    the payer's where the patient's primary coverage sets one for the track.
    """
    if not episodes or not weeks:
        return {}
    start = min(w.monday for w in weeks)
    end = max(w.sunday for w in weeks)
    ids = [e.pk for e in episodes]
    # Plain tuples, not model instances: at a site's 130 patients building models was most of the
    # page's time.
    # Plain SQL with the id lists as single parameters: the ORM spent more time preparing 100+
    # ids one by one (and compiling) than PostgreSQL spent answering, and these three queries run
    # on every roster, below-hours list and hours ledger. Same three queries on SQLite.
    # The payer's own weekly minimum for the track (billing's PayerProgramBilling), where the
    # patient's primary coverage in force in these weeks sets one (the latest starting, if two
    # are): the one seam, attendance.domain.weekly_minimum_minutes, prefers it to the track's.
    payer_minimum = (
        f"(SELECT pb.min_minutes_per_week FROM {_table(Coverage)} c "
        f"JOIN {_table(PayerProgramBilling)} pb ON pb.payer_id = c.payer_id "
        f"AND pb.track_id = en.track_id "
        f"WHERE c.patient_id = ep.patient_id AND c.rank = %s "
        f"AND (c.start_date IS NULL OR c.start_date <= %s) "
        f"AND (c.end_date IS NULL OR c.end_date >= %s) "
        f"ORDER BY c.start_date DESC, c.id DESC LIMIT 1)"
    )
    enrollments = _rows(
        f"SELECT en.episode_id, en.track_id, en.start_date, en.end_date, "
        f"t.weekly_minimum_minutes, {payer_minimum} FROM {_table(Enrollment)} en "
        f"JOIN {_table(Track)} t ON t.id = en.track_id "
        f"JOIN {_table(Episode)} ep ON ep.id = en.episode_id "
        f"WHERE {{episodes}} AND en.start_date <= %s AND (en.end_date IS NULL OR en.end_date >= %s) "
        f"ORDER BY en.start_date, en.id",
        episodes=("en.episode_id", ids),
        params=[CoverageRank.PRIMARY.value, end, start, end, start],
    )
    track_ids = sorted({en[1] for en in enrollments})
    # Seats beyond enrollments (RosterSeat) come in the same query, one row per seat: a session
    # two of these episodes are seated on comes twice, and is kept once as a slot.
    slots: list[_Slot] = []
    seated: dict[int, list[int]] = defaultdict(list)  # episode -> sessions it is seated on
    seen: set[int] = set()
    for id_, date, starts_at, ends_at, track_id, episode_id, seat_episode in _rows(
        f"SELECT s.id, s.date, s.starts_at, s.ends_at, s.track_id, s.episode_id, rs.episode_id "
        f"FROM {_table(GroupSession)} s LEFT JOIN {_table(RosterSeat)} rs "
        f"ON rs.session_id = s.id AND {{seats}} WHERE s.date >= %s AND s.date <= %s "
        f"AND s.status = %s AND ({{tracks}} OR {{episodes}} OR rs.episode_id IS NOT NULL)",
        seats=("rs.episode_id", ids),
        tracks=("s.track_id", track_ids),
        episodes=("s.episode_id", ids),
        params=[start, end, SessionStatus.SCHEDULED.value],
    ):
        if seat_episode is not None:
            seated[seat_episode].append(id_)
        if id_ not in seen:
            seen.add(id_)
            minutes = int((ends_at - starts_at).total_seconds() // 60)
            slots.append(_Slot(id_, date, minutes, track_id, episode_id))
    # Only the minutes on the sessions above count, so look them up by session (the unique
    # (session, episode) index) rather than scanning each episode's whole history for the week:
    # at 20,000 patients that scan was 64 ms of the below-hours page.
    attended: dict[tuple[int, int], int] = (
        {
            (episode_id, session_id): minutes
            for episode_id, session_id, minutes in _rows(
                f"SELECT a.episode_id, a.session_id, a.minutes_attended "
                f"FROM {_table(Attendance)} a WHERE {{sessions}} AND {{episodes}}",
                sessions=("a.session_id", [slot.id for slot in slots]),
                episodes=("a.episode_id", ids),
            )
        }
        if slots
        else {}
    )
    slot_of = {slot.id: slot for slot in slots}
    by_track: dict[int, list[_Slot]] = defaultdict(list)
    by_episode: dict[int, list[_Slot]] = defaultdict(list)
    for slot in slots:
        if slot.episode_id:
            by_episode[slot.episode_id].append(slot)
        elif slot.track_id:
            by_track[slot.track_id].append(slot)
    enrollments_of: dict[int, list[tuple[int, dt.date, dt.date | None, int, int | None]]] = (
        defaultdict(list)
    )
    for episode_id, track_id, start_date, end_date, minimum_minutes, payer_min in enrollments:
        enrollments_of[episode_id].append(
            (track_id, start_date, end_date, minimum_minutes, payer_min)
        )
    week_spans = [(week, DateSpan(week.monday, week.sunday)) for week in weeks]

    result: dict[int, list[WeekLine]] = {}
    for episode in episodes:
        lines: list[SessionLine] = []
        minimum: dict[IsoWeek, int | None] = {}
        discharged = episode.discharge_date
        counted: set[int] = set()
        for track_id, start_date, end_date, minimum_minutes, payer_min in enrollments_of[
            episode.pk
        ]:
            enrolled = DateSpan(start_date, end_date)
            # On rosters until the enrollment ends or the episode is discharged, whichever is first.
            ends = [d for d in (end_date, discharged) if d is not None]
            on_roster = DateSpan(start_date, min(ends) if ends else None)
            for slot in by_track[track_id]:
                if on_roster.contains(slot.date):
                    counted.add(slot.id)
                    lines.append(
                        SessionLine(slot.date, slot.minutes, attended.get((episode.pk, slot.id)))
                    )
            for week, span in week_spans:
                if enrolled.overlaps(span):
                    minimum[week] = weekly_minimum_minutes(minimum_minutes, payer_min)
        for slot in by_episode[episode.pk]:
            lines.append(SessionLine(slot.date, slot.minutes, attended.get((episode.pk, slot.id))))
        for session_id in seated[episode.pk]:
            slot = slot_of[session_id]
            if session_id not in counted and (discharged is None or slot.date <= discharged):
                counted.add(session_id)
                lines.append(
                    SessionLine(slot.date, slot.minutes, attended.get((episode.pk, session_id)))
                )
        result[episode.pk] = ledger(lines, minimum, weeks, today)
    return result


def _table(model: type[Any]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _rows(
    sql: str, *, params: Sequence[Any] = (), **id_lists: tuple[str, Sequence[int]]
) -> list[tuple[Any, ...]]:
    """Run `sql`, replacing each {name} with "column is one of these ids": `= ANY(%s)` with one
    array parameter on PostgreSQL, `IN (%s, ...)` elsewhere (never true for no ids). `params`
    fill the plain %s placeholders in order."""
    plain = iter(params)
    values: list[Any] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            values.append(next(plain))
            return "%s"
        column, ids = id_lists[match.group(1)]
        if connection.vendor == "postgresql":
            values.append(list(ids))
            return f"{column} = ANY(%s)"
        if not ids:
            return "1 = 0"
        values.extend(ids)
        return f"{column} IN ({', '.join(['%s'] * len(ids))})"

    text = re.sub(r"%s|\{(\w+)\}", replace, sql)
    with connection.cursor() as cursor:
        cursor.execute(text, values)
        return list(cursor.fetchall())


class _Slot(NamedTuple):
    """A scheduled session as the ledger needs it (no model instance to build)."""

    id: int
    date: dt.date
    minutes: int  # scheduled length
    track_id: int | None
    episode_id: int | None


@dataclass
class PatientLedger:
    patient: Patient
    weeks: list[WeekLine]
    episode: Episode | None


def patient_weekly_ledger(
    *, actor: Actor, patient_id: int, weeks: int, today: dt.date | None = None
) -> PatientLedger:
    """A patient's last `weeks` clinic-local weeks (newest first) across their episodes. Audited.

    `today` defaults to today in the patient's site time zone.
    """
    require(actor, Cap.ATTENDANCE_VIEW, patient_id=patient_id, object_type="hours_ledger")
    patient = get_for(
        actor,
        Patient.objects.select_related("site"),
        patient_id,
        cap=Cap.ATTENDANCE_VIEW,
        object_type="hours_ledger",
        missing=NotFound("That patient does not exist."),
        patient_of=lambda p: p,
        action=None,  # audited below once the ledger is read (an entry without an object id)
    )
    today = today or local_today(patient.site.tz)
    episodes = list(Episode.objects.filter(patient=patient).order_by("-admission_date"))
    wanted = [IsoWeek.of(today)]
    for _ in range(weeks - 1):
        wanted.append(wanted[-1].previous())
    per_episode = weekly_lines(episodes, wanted, today)
    merged: list[WeekLine] = []
    for i, week in enumerate(wanted):
        candidates = [per_episode[e.pk][i] for e in episodes if e.pk in per_episode]
        with_min = [c for c in candidates if c.minimum_minutes is not None or c.scheduled_minutes]
        merged.append(with_min[0] if with_min else candidates[0] if candidates else _empty(week))
    audit_record(actor, action=AuditAction.VIEW, patient_id=patient.pk, object_type="hours_ledger")
    return PatientLedger(patient=patient, weeks=merged, episode=episodes[0] if episodes else None)


def _empty(week: IsoWeek) -> WeekLine:
    from openiop.attendance.domain import WeekStatus

    return WeekLine(week, 0, 0, 0, None, WeekStatus.NO_MINIMUM)


# --- below hours ---------------------------------------------------------------------------------
@dataclass
class BelowRow:
    episode: Episode
    patient: Patient
    line: WeekLine


def below_hours(
    *, actor: Actor, site: Site, week: IsoWeek, today: dt.date, query: str = ""
) -> list[BelowRow]:
    """Active patients at a site whose week is below (finished) or at risk (current). Audited."""
    require(actor, Cap.ATTENDANCE_VIEW, object_type="below_hours")
    require_site(actor, site, object_type="site")
    episodes_qs = (
        Episode.objects.filter(
            enrolled_q(week.monday, week.sunday, via="enrollments__"),
            site=site,
            status=EpisodeStatus.ACTIVE,
        )
        .select_related("patient")
        # What the list and the ledger read; a site has 100+ active episodes to judge each week.
        .only(
            "site_id",
            "status",
            "discharge_date",
            "patient__preferred_name",
            "patient__legal_first_name",
            "patient__legal_last_name",
            "patient__mrn",
        )
        .distinct()
        .order_by("patient__legal_last_name", "patient__legal_first_name")
    )
    episodes_qs = episodes_qs.filter(patient_match(query))  # name words, MRN or date of birth
    episodes = list(episodes_qs)
    lines = weekly_lines(episodes, [week], today)
    rows = [
        BelowRow(episode=e, patient=e.patient, line=lines[e.pk][0])
        for e in episodes
        if lines.get(e.pk) and lines[e.pk][0].flagged
    ]
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="below_hours",
        object_id=str(week),
        patient_ids=[r.patient.pk for r in rows],
    )
    return rows


def sites_for(actor: Actor) -> list[Site]:
    """The sites the actor may choose among on the daily pages, by name: those that take new work
    (an inactive site has no open episodes or sessions to come; its records stay readable)."""
    return list(Site.objects.active().filter(site_scope(actor, "id")).order_by("name"))


# --- Today ---------------------------------------------------------------------------------------
@dataclass
class TodaySession:
    session: GroupSession
    roster_size: int
    recorded: int

    @property
    def complete(self) -> bool:
        return self.roster_size > 0 and self.recorded >= self.roster_size


@dataclass
class TodayBoard:
    site: Site
    date: dt.date
    sessions: list[TodaySession] = field(default_factory=list)
    alerts: list[Alert] | None = None  # None: the role does not see clinical alerts
    safety_alerts: list[Any] | None = None  # open measures.SafetyAlert rows at the site
    # open urgent admissions.AdmissionTask rows at the site; None: the role does not see admissions
    admission_tasks: list[Any] | None = None
    # Waiting for the user at any of their sites, whatever site the page shows: open safety
    # alerts they own or that were escalated to them, urgent tasks assigned to them.
    my_safety_alerts: list[Any] = field(default_factory=list)
    my_tasks: list[Any] = field(default_factory=list)
    # drugtests.selectors.SiteTestWork per site the user sees (tests due, unreconciled results);
    # None: the role does not see test results (Cap.DRUGTEST_VIEW)
    test_work: list[Any] | None = None


# What the Today board shows of each session and its room, facilitator, track and patient. A busy
# site has 70+ sessions a day (groups, individual and family sessions): loading every column of
# six models per row (timestamps, the facilitator's password hash...) was most of the page's time.
# A field the page starts to show must be added here, or each row costs a query (the pinned query
# count in the Today test catches that).
TODAY_SESSION_FIELDS = (
    "site_id",
    "track_id",
    "episode_id",
    "kind",
    "title",
    "topic",
    "date",
    "starts_at",
    "ends_at",
    "status",
    "room__name",
    "facilitator__first_name",
    "facilitator__last_name",
    "facilitator__credentials",
    "track__name",
    "episode__patient_id",
    "episode__patient__preferred_name",
    "episode__patient__legal_first_name",
    "episode__patient__legal_last_name",
    "episode__patient__mrn",
)


def today_board(*, actor: Actor, site: Site, date: dt.date) -> TodayBoard:
    """Today's sessions at a site with roster sizes and recorded counts, and the open alerts.

    Constant queries: sessions (1), enrollment counts per track (1), recorded counts (1), alerts (1),
    open safety alerts at the site and the user's own at all their sites (1), open urgent
    admissions tasks at the site and those assigned to the user at all their sites (1, for roles
    that see admissions), drug tests due and unreconciled results per site the user sees (2, for
    roles that see test results: clinicians, prescribers and the director).
    """
    require(actor, Cap.SCHEDULE_VIEW, object_type="today")
    require_site(actor, site, object_type="site")
    # Seats beyond enrollments (RosterSeat) counted in the same query.
    seats = (
        RosterSeat.objects.filter(session_id=OuterRef("pk"))
        .order_by()
        .values("session_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    sessions = list(
        GroupSession.objects.filter(site=site, date=date)
        .select_related("room", "facilitator", "track", "episode__patient")
        .only(*TODAY_SESSION_FIELDS)
        .annotate(seats=Subquery(seats))
        .order_by("starts_at", "title")
    )
    track_ids = {s.track_id for s in sessions if s.track_id}
    enrolled = dict(
        Enrollment.objects.on(date)
        .filter(track_id__in=track_ids)
        .values("track_id")
        .annotate(n=Count("id"))
        .values_list("track_id", "n")
    )
    recorded = dict(
        Attendance.objects.filter(session__in=sessions)
        .order_by()
        .values("session_id")
        .annotate(n=Count("id"))
        .values_list("session_id", "n")
    )
    board = TodayBoard(site=site, date=date)
    for s in sessions:
        size = 1 if s.episode_id or s.track_id is None else enrolled.get(s.track_id, 0)
        size += getattr(s, "seats", None) or 0
        board.sessions.append(
            TodaySession(
                session=s,
                roster_size=max(size, recorded.get(s.pk, 0)),
                recorded=recorded.get(s.pk, 0),
            )
        )
    patient_ids: set[int] = {s.episode.patient_id for s in sessions if s.episode_id and s.episode}
    user = actor.user
    if user is not None and user.can(Cap.CLINICAL_VIEW):
        board.alerts = list(
            Alert.objects.filter(
                status=AlertStatus.OPEN, patient__site=site, episode__status__in=OPEN_STATUSES
            )
            .select_related("patient")
            .order_by("-created_at")[:50]
        )
        patient_ids.update(a.patient_id for a in board.alerts)
        from openiop.measures.selectors import open_safety_alerts_for_today

        found = open_safety_alerts_for_today(actor=actor, site=site)
        board.safety_alerts, board.my_safety_alerts = found.at_site, found.mine
        patient_ids.update(a.patient_id for a in found.at_site + found.mine)
    if user is not None and user.can(Cap.ADMISSIONS_VIEW):
        from openiop.admissions.selectors import open_urgent_tasks_for_today

        board.admission_tasks, board.my_tasks = open_urgent_tasks_for_today(actor=actor, site=site)
        patient_ids.update(
            t.inquiry.patient_id
            for t in board.admission_tasks + board.my_tasks
            if t.inquiry.patient_id
        )
    if user is not None and user.can(Cap.DRUGTEST_VIEW):
        from openiop.drugtests.selectors import today_test_work

        board.test_work = today_test_work(actor=actor)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="today",
        object_id=str(date),
        patient_ids=patient_ids,
    )
    return board


def alert_get(*, actor: Actor, alert_id: int) -> Alert:
    return get_for(
        actor,
        Alert.objects.select_related("patient", "episode"),
        alert_id,
        cap=Cap.ALERT_ACK,
        object_type="alert",
        missing=NotFound("That alert does not exist."),
        patient_of=lambda a: a.patient,
        action=None,  # the acknowledgement audits
    )


@dataclass
class AttendancePage:
    """One page of a session's attendance records: `total` of them, `rows` from `offset`."""

    session: GroupSession
    total: int
    rows: list[Attendance]


def session_attendance_page(
    *, actor: Actor, session_id: int, offset: int, limit: int
) -> AttendancePage:
    """The attendance records of one session by patient name, `limit` of them from `offset`,
    each with its episode and patient. Checks Cap.ATTENDANCE_VIEW at the session's site; one
    audit entry names the patients of the page. Raises NotFound, NotPermitted (audited)."""
    session = session_get(actor=actor, session_id=session_id)
    qs = Attendance.objects.filter(session=session)
    total = qs.count()
    rows = list(
        qs.select_related("episode", "patient").order_by(
            "patient__legal_last_name", "patient__legal_first_name", "id"
        )[offset : offset + limit]
    )
    if rows:
        audit_record_many(
            actor,
            action=AuditAction.VIEW,
            object_type="attendance",
            object_id=f"session {session.pk}",
            patient_ids=[a.patient_id for a in rows],
        )
    return AttendancePage(session=session, total=total, rows=rows)


def session_attendance(session: GroupSession) -> QuerySet[Attendance]:
    """Every attendance row of a session (absent ones too), by name, with the patient (the group
    note lists them; no access check: its callers have made theirs)."""
    return (
        Attendance.objects.filter(session=session)
        .select_related("patient")
        .order_by("patient__legal_last_name", "patient__legal_first_name", "id")
    )
