"""A director's edit of a proposed plan: move a patient, remove or add an assignment. Pure.

`apply_edit` returns the edited solution (facilitators and rooms re-derived for the sessions whose
membership changed, shortfalls and objective recomputed) together with the hard rules it breaks
(check.check_solution, the independent checker): a caller keeps the old plan when the list is
not empty.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from openiop.planning.domain.check import Violation, check_solution
from openiop.planning.domain.eligibility import eligible
from openiop.planning.domain.model import Instance, Solution
from openiop.planning.domain.objective import terms_of, weigh
from openiop.planning.domain.reasons import shortfalls

EDITED = "EDITED"

Op = Literal["move", "remove", "add"]


@dataclass(frozen=True)
class Edit:
    """`move`: `patient` from `from_session` to `to_session`; `remove`: `patient` out of
    `from_session`; `add`: `patient` into `to_session`."""

    op: Op
    patient: str
    from_session: str = ""
    to_session: str = ""


@dataclass(frozen=True)
class Edited:
    solution: Solution
    violations: tuple[Violation, ...]
    problem: str = ""  # the edit itself makes no sense (not in that session, already there)


def apply_edit(instance: Instance, solution: Solution, edit: Edit) -> Edited:
    """The solution after `edit`, and what it breaks. A session that already runs keeps its
    facilitators and room; one gaining its first patient takes its first allowed facilitators (as
    many as its type needs) and its first allowed room; one left empty gives up both (a session
    with no patient holds no one). The checker then judges the result."""
    pairs = set(solution.patient_sessions)
    sessions = {s.id: s for s in instance.sessions}
    if edit.op in ("move", "remove") and (edit.patient, edit.from_session) not in pairs:
        return Edited(solution, (), "That patient is not in that session in this plan.")
    if edit.op in ("move", "add"):
        if edit.to_session not in sessions:
            return Edited(solution, (), "Choose a session of this week.")
        if (edit.patient, edit.to_session) in pairs:
            return Edited(solution, (), "That patient is already in that session.")
    if edit.op in ("move", "remove"):
        pairs.discard((edit.patient, edit.from_session))
    if edit.op in ("move", "add"):
        pairs.add((edit.patient, edit.to_session))

    running = {s for _, s in pairs}
    staff = [(s, k) for s, k in solution.facilitators if s in running]
    rooms = [(s, r) for s, r in solution.rooms if s in running]
    staffed = {s for s, _ in staff}
    roomed = {s for s, _ in rooms}
    staff_ids = {k.id for k in instance.staff}
    for s_id in sorted(running - staffed):
        s = sessions[s_id]
        need = instance.session_type(s.session_type).facilitators
        staff.extend(
            (s_id, k) for k in [k for k in s.allowed_facilitators if k in staff_ids][:need]
        )
    room_ids = [r.id for r in instance.rooms]
    for s_id in sorted(running - roomed):
        s = sessions[s_id]
        if s.needs_room:
            options = [r for r in (s.allowed_rooms or tuple(room_ids)) if r in room_ids]
            if options:
                rooms.append((s_id, options[0]))

    patient_sessions = tuple(sorted(pairs))
    facilitators = tuple(sorted(staff))
    room_pairs = tuple(sorted(rooms))
    terms = terms_of(instance, patient_sessions, facilitators, room_pairs)
    value = weigh(terms)
    edited = replace(
        solution,
        patient_sessions=patient_sessions,
        facilitators=facilitators,
        rooms=room_pairs,
        shortfalls=shortfalls(instance, eligible(instance), patient_sessions),
        objective=value,
        bound=min(solution.bound, value),
        gap=round((value - min(solution.bound, value)) / max(1, abs(value)), 6),
        status=EDITED,
        terms=terms,
    )
    return Edited(edited, tuple(check_solution(instance, edited)))
