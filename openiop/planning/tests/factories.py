"""Small hand-made week instances for the planner's tests (fictional ids)."""

from __future__ import annotations

from openiop.planning.domain.model import (
    Instance,
    Patient,
    Requirement,
    Room,
    Session,
    SessionType,
    Staff,
    Window,
)

DAY = 24 * 60
GROUP = SessionType("group_therapy", 12, ("licensed",))
INDIVIDUAL = SessionType("individual", 1, ("licensed",), optional=True, max_per_patient=1)


def at(day: int, hour: float) -> int:
    """Minutes from Monday 00:00 to `hour` o'clock on weekday `day` (0 = Monday)."""
    return day * DAY + round(hour * 60)


def whole_days(*days: int) -> tuple[Window, ...]:
    return tuple(Window(at(d, 7), at(d, 21)) for d in days)


def group(
    session_id: str, day: int, hour: float, minutes: int, *, capacity: int = 12, series: str = ""
) -> Session:
    start = at(day, hour)
    return Session(
        id=session_id,
        session_type="group_therapy",
        start_minute=start,
        end_minute=start + minutes,
        capacity=capacity,
        allowed_facilitators=("dr-quill", "dr-marsh"),
        tracks=("T",),
        series=series,
    )


def week(
    patients: tuple[Patient, ...],
    sessions: tuple[Session, ...],
    *,
    staff: tuple[Staff, ...] | None = None,
    rooms: tuple[Room, ...] = (Room("room-otter", 12),),
) -> Instance:
    return Instance(
        week_start="2026-03-02",
        time_zone="America/Chicago",
        session_types=(GROUP, INDIVIDUAL),
        patients=patients,
        sessions=sessions,
        staff=staff
        if staff is not None
        else (Staff("dr-quill", ("licensed",), whole_days(0, 1, 2, 3, 4), 1_200, "site-1"),),
        rooms=rooms,
    )


def patient(
    patient_id: str,
    *days: int,
    required: int = 120,
    requirements: tuple[Requirement, ...] = (),
) -> Patient:
    return Patient(patient_id, "T", whole_days(*days), required, requirements)
