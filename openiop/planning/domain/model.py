"""The week's plan as plain data: the instance a planner reads and the solution it returns.

Times are whole minutes from the start of the planned week (Monday 00:00 in the site's time zone,
`Instance.week_start` and `Instance.time_zone` say which week and zone); a window or a session is
the half-open interval [start_minute, end_minute). Nothing here is a clinical or billing constant:
each patient's weekly minimum (9 h adults, 6 h adolescents, or a payer's own: ../shared/domain.md
s.1, s.2 and s.6) and each session type's group size limit (90853 group psychotherapy: at most 12
participants, NGS LCD L33632, domain.md s.3 and s.6) arrive as configuration in the instance.

Hard rules (never broken by any planner, verified by `check.check_solution`):
- a patient attends a session only if it is open to their track and lies wholly inside one of their
  availability windows; a session's patients never exceed its capacity, its type's group size
  limit, nor its room's capacity;
- a facilitator is one of the session's allowed facilitators, holds every credential its type
  requires, is available for the whole session, and facilitates at most `max_minutes` a week;
- a room is one the session allows (any room when the list is empty);
- nobody and no room is in two overlapping sessions (patients, staff and rooms alike);
- a session that runs (has at least one patient) has exactly its type's number of facilitators and,
  if it needs one, one room; a session with no patient is cancelled and holds no one;
- a patient has at most their type's `max_per_patient` sessions of a type;
- fixed assignments (`Instance.fixed`) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class Window:
    """[start_minute, end_minute) from Monday 00:00 of the planned week."""

    start_minute: int
    end_minute: int

    def covers(self, start: int, end: int) -> bool:
        return self.start_minute <= start and end <= self.end_minute


@dataclass(frozen=True)
class SessionType:
    """Configuration for one kind of session.

    `max_patients`: the group size limit (None: only the session's and room's capacity apply), e.g.
    12 for group psychotherapy billed as 90853 (domain.md s.3, NGS LCD L33632).
    `required_credentials`: every facilitator must hold all of them.
    `facilitators`: how many facilitators a running session needs.
    `max_per_patient`: most sessions of this type one patient has in the week (None: no limit).
    `optional`: True for a bookable slot (an individual session) that runs only when someone is in
    it; False for a scheduled group, whose cancellation is penalised (`objective.W_CANCELLED`).
    """

    name: str
    max_patients: int | None = None
    required_credentials: tuple[str, ...] = ()
    facilitators: int = 1
    optional: bool = False
    max_per_patient: int | None = None


@dataclass(frozen=True)
class Requirement:
    """At least `count` sessions of `session_type` a week (e.g. one individual session)."""

    session_type: str
    count: int = 1


@dataclass(frozen=True)
class Patient:
    """`required_minutes`: the weekly minimum from the track's or payer's configuration.
    `max_minutes`: an upper bound on planned minutes (None: none)."""

    id: str
    track: str
    availability: tuple[Window, ...]
    required_minutes: int
    requirements: tuple[Requirement, ...] = ()
    max_minutes: int | None = None


@dataclass(frozen=True)
class Session:
    """One meeting in the week. `tracks`: the tracks whose patients may attend (empty: any).
    `series`: sessions of one series are the same group meeting on several days (continuity goals
    count distinct facilitators and rooms per series). `block`: parallel series offering the same
    content (two sections of the morning process group) share a block; a patient moving between
    them is a group change. `allowed_rooms` empty with `needs_room` means any room."""

    id: str
    session_type: str
    start_minute: int
    end_minute: int
    capacity: int
    allowed_facilitators: tuple[str, ...]
    tracks: tuple[str, ...] = ()
    needs_room: bool = True
    allowed_rooms: tuple[str, ...] = ()
    series: str = ""
    block: str = ""

    @property
    def duration_minutes(self) -> int:
        return self.end_minute - self.start_minute


@dataclass(frozen=True)
class Staff:
    """`max_minutes`: most facilitation minutes in the week. `site`: the pool whose caseloads are
    balanced together (objective.W_PEAK_CASELOAD)."""

    id: str
    credentials: tuple[str, ...]
    availability: tuple[Window, ...]
    max_minutes: int
    site: str = ""


@dataclass(frozen=True)
class Room:
    id: str
    capacity: int


@dataclass(frozen=True)
class Fixed:
    """Assignments a planner must keep (the make-up planner fixes what has happened or is
    published). `closed_before_minute`: no new patient joins a session starting before it."""

    patient_sessions: tuple[tuple[str, str], ...] = ()  # (patient, session)
    facilitators: tuple[tuple[str, str], ...] = ()  # (session, staff)
    rooms: tuple[tuple[str, str], ...] = ()  # (session, room)
    closed_before_minute: int = 0


@dataclass(frozen=True)
class Instance:
    week_start: str  # ISO date of the Monday
    time_zone: str
    session_types: tuple[SessionType, ...]
    patients: tuple[Patient, ...]
    sessions: tuple[Session, ...]
    staff: tuple[Staff, ...]
    rooms: tuple[Room, ...]
    fixed: Fixed = field(default_factory=Fixed)

    def session_type(self, name: str) -> SessionType:
        for t in self.session_types:
            if t.name == name:
                return t
        raise KeyError(name)


@dataclass(frozen=True)
class Shortfall:
    """A patient below their minimum, or missing a required session type, and why in words."""

    patient: str
    planned_minutes: int
    required_minutes: int
    missing: tuple[Requirement, ...]
    reason: str


@dataclass(frozen=True)
class Terms:
    """The objective's parts before weighting (objective.py weighs them)."""

    shortfall_minutes: int = 0
    missing_sessions: int = 0
    cancelled_sessions: int = 0
    group_changes: int = 0
    facilitator_changes: int = 0
    room_changes: int = 0
    peak_caseload_minutes: int = 0


@dataclass(frozen=True)
class Solution:
    """`status`: OPTIMAL (proven), FEASIBLE (a plan, not proven best), or FALLBACK (the greedy
    plan: CP-SAT found none in time). `bound`: the best proven lower bound of `objective`;
    `gap` = (objective - bound) / max(1, objective)."""

    patient_sessions: tuple[tuple[str, str], ...]  # (patient, session), sorted
    facilitators: tuple[tuple[str, str], ...]  # (session, staff), sorted
    rooms: tuple[tuple[str, str], ...]  # (session, room), sorted
    shortfalls: tuple[Shortfall, ...]
    objective: int
    bound: int
    gap: float
    status: str
    solver: str
    terms: Terms = field(default_factory=Terms)
    wall_seconds: float = 0.0
