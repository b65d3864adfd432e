"""Why a patient falls short, in words a director can act on."""

from __future__ import annotations

from collections import defaultdict

from openiop.planning.domain.eligibility import Eligible, most_minutes
from openiop.planning.domain.model import Instance, Requirement, Shortfall


def hours_text(minutes: int) -> str:
    """540 -> '9 h', 270 -> '4 h 30 min', 45 -> '45 min', 0 -> '0 h'."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if rest:
        return f"{rest} min"
    return f"{hours} h"


def _type_label(name: str) -> str:
    return name.replace("_", " ")


def shortfalls(
    instance: Instance, eligible: Eligible, patient_sessions: tuple[tuple[str, str], ...]
) -> tuple[Shortfall, ...]:
    """One Shortfall per patient planned below their minimum or lacking a required session, in
    patient order. The reason says whether the week could not give them more (their availability
    against their track's sessions) or the plan could not (sessions full or not staffed)."""
    sessions = {s.id: s for s in instance.sessions}
    planned: dict[str, list[str]] = defaultdict(list)
    for patient, session in patient_sessions:
        planned[patient].append(session)
    out: list[Shortfall] = []
    for p in instance.patients:
        mine = [sessions[s] for s in planned[p.id]]
        minutes = sum(s.duration_minutes for s in mine)
        missing: list[Requirement] = []
        for req in p.requirements:
            have = sum(1 for s in mine if s.session_type == req.session_type)
            if have < req.count:
                missing.append(Requirement(req.session_type, req.count - have))
        if minutes >= p.required_minutes and not missing:
            continue
        options = [sessions[s] for s in eligible.sessions_of_patient[p.id]]
        parts: list[str] = []
        if minutes < p.required_minutes:
            possible = most_minutes(instance, options)
            needs = hours_text(p.required_minutes)
            if not options:
                parts.append(
                    f"no session of their track fits their availability this week; needs {needs}"
                )
            elif possible < p.required_minutes:
                parts.append(
                    f"available {hours_text(possible)} in sessions of their track this week; "
                    f"needs {needs}"
                )
            else:
                parts.append(
                    f"could attend {hours_text(possible)} in sessions of their track this week, "
                    f"but the plan reaches {hours_text(minutes)} of {needs}: the other sessions "
                    "that fit were full or could not be staffed"
                )
        for req in missing:
            label = _type_label(req.session_type)
            if not any(s.session_type == req.session_type for s in options):
                parts.append(f"no {label} session fits their availability this week")
            else:
                parts.append(
                    f"every {label} session that fits their availability is taken or cannot be "
                    "staffed"
                )
        reason = "; ".join(parts)
        out.append(Shortfall(p.id, minutes, p.required_minutes, tuple(missing), reason))
    return tuple(out)
