"""The JSON format of instances and solutions (docs/planning-format.md), read and written here.

Reading checks the shape and the references (every id a session names exists, no duplicate ids,
windows and sessions end after they start) and raises FormatError saying where; it does not judge
whether a plan is possible.
"""

from __future__ import annotations

import json
from typing import Any

from openiop.planning.domain.model import (
    Fixed,
    Instance,
    Patient,
    Requirement,
    Room,
    Session,
    SessionType,
    Shortfall,
    Solution,
    Staff,
    Terms,
    Window,
)

INSTANCE_FORMAT = "openiop.plan-week.instance/1"
SOLUTION_FORMAT = "openiop.plan-week.solution/1"


class FormatError(ValueError):
    """The JSON is not an instance (or solution) of this format; the message says where."""


def _window(w: Window) -> list[int]:
    return [w.start_minute, w.end_minute]


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    return {
        "format": INSTANCE_FORMAT,
        "week_start": instance.week_start,
        "time_zone": instance.time_zone,
        "session_types": [
            {
                "name": t.name,
                "max_patients": t.max_patients,
                "required_credentials": list(t.required_credentials),
                "facilitators": t.facilitators,
                "optional": t.optional,
                "max_per_patient": t.max_per_patient,
            }
            for t in instance.session_types
        ],
        "patients": [
            {
                "id": p.id,
                "track": p.track,
                "availability": [_window(w) for w in p.availability],
                "required_minutes": p.required_minutes,
                "requirements": [
                    {"session_type": r.session_type, "count": r.count} for r in p.requirements
                ],
                "max_minutes": p.max_minutes,
            }
            for p in instance.patients
        ],
        "sessions": [
            {
                "id": s.id,
                "session_type": s.session_type,
                "start_minute": s.start_minute,
                "end_minute": s.end_minute,
                "capacity": s.capacity,
                "allowed_facilitators": list(s.allowed_facilitators),
                "tracks": list(s.tracks),
                "needs_room": s.needs_room,
                "allowed_rooms": list(s.allowed_rooms),
                "series": s.series,
                "block": s.block,
            }
            for s in instance.sessions
        ],
        "staff": [
            {
                "id": k.id,
                "credentials": list(k.credentials),
                "availability": [_window(w) for w in k.availability],
                "max_minutes": k.max_minutes,
                "site": k.site,
            }
            for k in instance.staff
        ],
        "rooms": [{"id": r.id, "capacity": r.capacity} for r in instance.rooms],
        "fixed": {
            "patient_sessions": [list(x) for x in instance.fixed.patient_sessions],
            "facilitators": [list(x) for x in instance.fixed.facilitators],
            "rooms": [list(x) for x in instance.fixed.rooms],
            "closed_before_minute": instance.fixed.closed_before_minute,
        },
    }


class _Reader:
    """Typed field access with the path in every error."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise FormatError(f"{path} must be an object")
        self.data = data
        self.path = path

    def _get(self, key: str, default: Any, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise FormatError(f"{self.path}.{key} is missing")
            return default
        return self.data[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default, default is None)
        if not isinstance(value, str) or (default is None and not value):
            raise FormatError(f"{self.path}.{key} must be a non-empty string")
        return value

    def integer(self, key: str, default: int | None = None, *, low: int = 0) -> int:
        value = self._get(key, default, default is None)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise FormatError(f"{self.path}.{key} must be a whole number of at least {low}")
        return int(value)

    def optional_integer(self, key: str) -> int | None:
        value = self._get(key, None, False)
        if value is None:
            return None
        return self.integer(key)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default, False)
        if not isinstance(value, bool):
            raise FormatError(f"{self.path}.{key} must be true or false")
        return value

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        value = self._get(key, [], required)
        if not isinstance(value, list):
            raise FormatError(f"{self.path}.{key} must be a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.items(key, required=False)
        if not all(isinstance(v, str) and v for v in values):
            raise FormatError(f"{self.path}.{key} must be a list of non-empty strings")
        return tuple(values)

    def windows(self, key: str) -> tuple[Window, ...]:
        out: list[Window] = []
        for i, w in enumerate(self.items(key)):
            where = f"{self.path}.{key}[{i}]"
            if (
                not isinstance(w, list)
                or len(w) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in w)
                or not 0 <= w[0] < w[1]
            ):
                raise FormatError(f"{where} must be [start_minute, end_minute] with start < end")
            out.append(Window(w[0], w[1]))
        return tuple(out)

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for i, x in enumerate(self.items(key, required=False)):
            if not (isinstance(x, list) and len(x) == 2 and all(isinstance(v, str) for v in x)):
                raise FormatError(f"{self.path}.{key}[{i}] must be a pair of ids")
            out.append((x[0], x[1]))
        return tuple(out)


def _unique(kind: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise FormatError(f"{kind} id {i!r} appears twice")
        seen.add(i)
    return seen


def instance_from_dict(data: Any) -> Instance:
    """Raises FormatError (where and what) for anything not of the format."""
    top = _Reader(data, "instance")
    if top.text("format") != INSTANCE_FORMAT:
        raise FormatError(f"instance.format must be {INSTANCE_FORMAT!r}")
    types: list[SessionType] = []
    for i, raw in enumerate(top.items("session_types")):
        r = _Reader(raw, f"session_types[{i}]")
        types.append(
            SessionType(
                name=r.text("name"),
                max_patients=r.optional_integer("max_patients"),
                required_credentials=r.texts("required_credentials"),
                facilitators=r.integer("facilitators", 1, low=1),
                optional=r.flag("optional", False),
                max_per_patient=r.optional_integer("max_per_patient"),
            )
        )
    type_names = _unique("session type", [t.name for t in types])
    patients: list[Patient] = []
    for i, raw in enumerate(top.items("patients")):
        r = _Reader(raw, f"patients[{i}]")
        reqs = []
        for j, q in enumerate(r.items("requirements", required=False)):
            rq = _Reader(q, f"patients[{i}].requirements[{j}]")
            name = rq.text("session_type")
            if name not in type_names:
                raise FormatError(f"patients[{i}].requirements[{j}]: unknown session type {name!r}")
            reqs.append(Requirement(name, rq.integer("count", 1, low=1)))
        patients.append(
            Patient(
                id=r.text("id"),
                track=r.text("track"),
                availability=r.windows("availability"),
                required_minutes=r.integer("required_minutes"),
                requirements=tuple(reqs),
                max_minutes=r.optional_integer("max_minutes"),
            )
        )
    staff: list[Staff] = []
    for i, raw in enumerate(top.items("staff")):
        r = _Reader(raw, f"staff[{i}]")
        staff.append(
            Staff(
                id=r.text("id"),
                credentials=r.texts("credentials"),
                availability=r.windows("availability"),
                max_minutes=r.integer("max_minutes"),
                site=r.text("site", ""),
            )
        )
    rooms: list[Room] = []
    for i, raw in enumerate(top.items("rooms")):
        r = _Reader(raw, f"rooms[{i}]")
        rooms.append(Room(id=r.text("id"), capacity=r.integer("capacity")))
    staff_ids = _unique("staff", [k.id for k in staff])
    room_ids = _unique("room", [x.id for x in rooms])
    patient_ids = _unique("patient", [p.id for p in patients])
    sessions: list[Session] = []
    for i, raw in enumerate(top.items("sessions")):
        r = _Reader(raw, f"sessions[{i}]")
        session = Session(
            id=r.text("id"),
            session_type=r.text("session_type"),
            start_minute=r.integer("start_minute"),
            end_minute=r.integer("end_minute", low=1),
            capacity=r.integer("capacity"),
            allowed_facilitators=r.texts("allowed_facilitators"),
            tracks=r.texts("tracks"),
            needs_room=r.flag("needs_room", True),
            allowed_rooms=r.texts("allowed_rooms"),
            series=r.text("series", ""),
            block=r.text("block", ""),
        )
        if session.session_type not in type_names:
            raise FormatError(f"sessions[{i}]: unknown session type {session.session_type!r}")
        if session.end_minute <= session.start_minute:
            raise FormatError(f"sessions[{i}] must end after it starts")
        for k in session.allowed_facilitators:
            if k not in staff_ids:
                raise FormatError(f"sessions[{i}]: unknown facilitator {k!r}")
        for x in session.allowed_rooms:
            if x not in room_ids:
                raise FormatError(f"sessions[{i}]: unknown room {x!r}")
        sessions.append(session)
    session_ids = _unique("session", [s.id for s in sessions])
    fixed = Fixed()
    if "fixed" in top.data:
        r = _Reader(top.data["fixed"], "fixed")
        fixed = Fixed(
            patient_sessions=r.pairs("patient_sessions"),
            facilitators=r.pairs("facilitators"),
            rooms=r.pairs("rooms"),
            closed_before_minute=r.integer("closed_before_minute", 0),
        )
        for p_id, s_id in fixed.patient_sessions:
            if p_id not in patient_ids or s_id not in session_ids:
                raise FormatError(f"fixed.patient_sessions: unknown pair {[p_id, s_id]}")
        for s_id, k_id in fixed.facilitators:
            if s_id not in session_ids or k_id not in staff_ids:
                raise FormatError(f"fixed.facilitators: unknown pair {[s_id, k_id]}")
        for s_id, room_id in fixed.rooms:
            if s_id not in session_ids or room_id not in room_ids:
                raise FormatError(f"fixed.rooms: unknown pair {[s_id, room_id]}")
    return Instance(
        week_start=top.text("week_start"),
        time_zone=top.text("time_zone"),
        session_types=tuple(types),
        patients=tuple(patients),
        sessions=tuple(sessions),
        staff=tuple(staff),
        rooms=tuple(rooms),
        fixed=fixed,
    )


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    t = solution.terms
    return {
        "format": SOLUTION_FORMAT,
        "status": solution.status,
        "solver": solution.solver,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "wall_seconds": solution.wall_seconds,
        "terms": {
            "shortfall_minutes": t.shortfall_minutes,
            "missing_sessions": t.missing_sessions,
            "cancelled_sessions": t.cancelled_sessions,
            "group_changes": t.group_changes,
            "facilitator_changes": t.facilitator_changes,
            "room_changes": t.room_changes,
            "peak_caseload_minutes": t.peak_caseload_minutes,
        },
        "patient_sessions": [list(x) for x in solution.patient_sessions],
        "facilitators": [list(x) for x in solution.facilitators],
        "rooms": [list(x) for x in solution.rooms],
        "shortfalls": [
            {
                "patient": s.patient,
                "planned_minutes": s.planned_minutes,
                "required_minutes": s.required_minutes,
                "missing": [{"session_type": m.session_type, "count": m.count} for m in s.missing],
                "reason": s.reason,
            }
            for s in solution.shortfalls
        ],
    }


def solution_from_dict(data: Any) -> Solution:
    """Raises FormatError for anything not of the format (references are not checked here:
    check.check_solution reports unknown ids against an instance)."""
    top = _Reader(data, "solution")
    if top.text("format") != SOLUTION_FORMAT:
        raise FormatError(f"solution.format must be {SOLUTION_FORMAT!r}")
    gap = top.data.get("gap")
    wall = top.data.get("wall_seconds", 0.0)
    if not isinstance(gap, int | float) or not isinstance(wall, int | float):
        raise FormatError("solution.gap and solution.wall_seconds must be numbers")
    tr = _Reader(top.data.get("terms", {}), "solution.terms")
    shortfalls = []
    for i, raw in enumerate(top.items("shortfalls")):
        r = _Reader(raw, f"shortfalls[{i}]")
        missing = []
        for j, q in enumerate(r.items("missing", required=False)):
            rq = _Reader(q, f"shortfalls[{i}].missing[{j}]")
            missing.append(Requirement(rq.text("session_type"), rq.integer("count", 1, low=1)))
        shortfalls.append(
            Shortfall(
                patient=r.text("patient"),
                planned_minutes=r.integer("planned_minutes"),
                required_minutes=r.integer("required_minutes"),
                missing=tuple(missing),
                reason=r.text("reason", ""),
            )
        )
    return Solution(
        patient_sessions=top.pairs("patient_sessions"),
        facilitators=top.pairs("facilitators"),
        rooms=top.pairs("rooms"),
        shortfalls=tuple(shortfalls),
        objective=top.integer("objective"),
        bound=top.integer("bound"),
        gap=float(gap),
        status=top.text("status"),
        solver=top.text("solver"),
        terms=Terms(
            **{
                name: tr.integer(name, 0)
                for name in (
                    "shortfall_minutes",
                    "missing_sessions",
                    "cancelled_sessions",
                    "group_changes",
                    "facilitator_changes",
                    "room_changes",
                    "peak_caseload_minutes",
                )
            }
        ),
        wall_seconds=float(wall),
    )


def read_instance(text: str) -> Instance:
    """Parse JSON text; FormatError for bad JSON or a bad shape."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    return instance_from_dict(data)


def read_solution(text: str) -> Solution:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    return solution_from_dict(data)


def write_instance(instance: Instance) -> str:
    return json.dumps(instance_to_dict(instance), indent=2) + "\n"


def write_solution(solution: Solution) -> str:
    return json.dumps(solution_to_dict(solution), indent=2) + "\n"
