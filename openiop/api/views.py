"""The REST API at /api/v1: the program's own objects FHIR has no place for (tracks, group
sessions, rosters, attendance, authorizations). Each endpoint parses the request, checks the
token's api/ scope, calls one selector or service (which check the role and site and write the
audit entry) and answers JSON; every DomainError becomes problem+json in api.http, nowhere else.

Records from a 42 CFR Part 2 episode go only inside the program: to a client acting for staff of
the patient's own organization (fhir.part2.FhirRecipient.inside, the FHIR API's rule). This API
makes no disclosure: to any other client they are left out of a roster or attendance list and
counted in its `withheld` (an outside client reads them through FHIR, under the patient's
consent, with the notice and the accounting of disclosures).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from openiop.api import openapi
from openiop.api.http import (
    MAX_ID,
    ApiContext,
    BadRequest,
    MethodNotAllowed,
    Paging,
    api_endpoint,
    bool_param,
    date_param,
    id_param,
    json_response,
    problem,
)
from openiop.attendance import selectors as attendance_selectors
from openiop.attendance import services as attendance_services
from openiop.billing import selectors_authorizations
from openiop.core.errors import NotFound, RuleViolation
from openiop.episodes.selectors import episode_with_patient
from openiop.programs import selectors as programs_selectors

# --- representations ------------------------------------------------------------------------------


def _staff(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": f"{user.first_name} {user.last_name}".strip()}


def _track(track: Any, enrolled_today: int | None) -> dict[str, Any]:
    return {
        "id": track.pk,
        "site": {"id": track.site_id, "name": track.site.name},
        "name": track.name,
        "age_band": track.age_band,
        "capacity": track.capacity,
        "weekly_minimum_minutes": track.weekly_minimum_minutes,
        "description": track.description,
        "is_active": track.is_active,
        "enrolled_today": enrolled_today,
    }


def _block(block: Any) -> dict[str, Any]:
    return {
        "id": block.pk,
        "weekday": block.weekday,
        "start_time": block.start_time.isoformat(timespec="minutes"),
        "duration_minutes": block.duration_minutes,
        "kind": block.kind,
        "title": block.title,
        "facilitator": _staff(block.facilitator),
        "room": {"id": block.room_id, "name": block.room.name},
        "valid_from": block.valid_from.isoformat(),
        "valid_until": block.valid_until.isoformat() if block.valid_until else None,
    }


def _session(session: Any) -> dict[str, Any]:
    return {
        "id": session.pk,
        "site": {"id": session.site_id, "name": session.site.name},
        "track": (
            {"id": session.track_id, "name": session.track.name} if session.track_id else None
        ),
        "kind": session.kind,
        "title": session.title,
        "topic": session.topic,
        "date": session.date.isoformat(),
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "duration_minutes": session.duration_minutes,
        "status": session.status,
        "facilitator": _staff(session.facilitator),
        "room": {"id": session.room_id, "name": session.room.name} if session.room_id else None,
        "version": session.version,
    }


def _patient(patient: Any) -> dict[str, Any]:
    return {"id": patient.pk, "name": patient.display_name, "mrn": patient.mrn}


def _attendance(record: Any) -> dict[str, Any]:
    return {
        "id": record.pk,
        "session": record.session_id,
        "episode": record.episode_id,
        "patient": record.patient_id,
        "status": record.status,
        "minutes_attended": record.minutes_attended,
        "comment": record.comment,
        "version": record.version,
        "updated_at": record.updated_at.isoformat(),
    }


def _released(ctx: ApiContext, episode: Any, patient: Any) -> bool:
    """Whether a record of this episode may go to the token's client (42 CFR Part 2): not a
    Part 2 episode, or the client is inside the patient's program."""
    return not episode.part2_protected or ctx.recipient.inside(patient.organization_id)


# --- endpoints ------------------------------------------------------------------------------------


def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3 description of this API (no token needed)."""
    if request.method not in ("GET", "HEAD"):
        response = problem(MethodNotAllowed(f"{request.method} is not supported here."))
        response.headers["Allow"] = "GET, HEAD"
        return response
    token_url = request.build_absolute_uri("/o/token/")
    return json_response(openapi.document(token_url=token_url))


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/: 404 as problem+json."""
    return problem(NotFound("There is no such endpoint; see /api/openapi.json."))


@api_endpoint("GET")
def track_list(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """GET /api/v1/tracks: the tracks at the actor's sites (active ones unless include_inactive)."""
    ctx.require_scope("Track")
    paging = Paging.of(request)
    include_inactive = bool_param(request, "include_inactive")
    qs = programs_selectors.track_search(actor=ctx.actor, include_inactive=include_inactive)
    total = qs.count()
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    results = [_track(t, t.enrolled_today) for t in rows]  # type: ignore[attr-defined]
    return json_response(paging.envelope(request, total, results))


@api_endpoint("GET")
def track_detail(request: HttpRequest, ctx: ApiContext, track_id: int) -> HttpResponse:
    """GET /api/v1/tracks/{id}: one track with its current weekly blocks."""
    ctx.require_scope("Track")
    detail = programs_selectors.track_detail(actor=ctx.actor, track_id=_path_id(track_id))
    body = _track(detail.track, detail.enrolled_today)
    body["blocks"] = [_block(b) for b in detail.blocks]
    return json_response(body)


@api_endpoint("GET")
def session_list(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """GET /api/v1/sessions: the schedule of group sessions, by track and dates."""
    ctx.require_scope("Session")
    paging = Paging.of(request)
    track_id = id_param(request, "track")
    date_from, date_to = date_param(request, "date_from"), date_param(request, "date_to")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise BadRequest("date_to is before date_from.", field="date_to")
    qs = programs_selectors.group_session_search(
        actor=ctx.actor, track_id=track_id, date_from=date_from, date_to=date_to
    )
    total = qs.count()
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    return json_response(paging.envelope(request, total, [_session(s) for s in rows]))


@api_endpoint("GET")
def session_roster(request: HttpRequest, ctx: ApiContext, session_id: int) -> HttpResponse:
    """GET /api/v1/sessions/{id}/roster: who is on a session's roster, with their attendance and
    their hours that week. Audited (attendance.selectors.session_roster)."""
    ctx.require_scope("Attendance")
    session = attendance_selectors.session_get(actor=ctx.actor, session_id=_path_id(session_id))
    rows = attendance_selectors.session_roster(actor=ctx.actor, session=session, with_support=False)
    shown = [r for r in rows if _released(ctx, r.episode, r.patient)]
    members = [
        {
            "episode": r.episode.pk,
            "patient": _patient(r.patient),
            "attendance": _attendance(r.attendance) if r.attendance is not None else None,
            "week": (
                {
                    "week": str(r.week.week),
                    "scheduled_minutes": r.week.scheduled_minutes,
                    "attended_minutes": r.week.attended_minutes,
                    "remaining_minutes": r.week.remaining_minutes,
                    "minimum_minutes": r.week.minimum_minutes,
                    "status": str(r.week.status.value),
                }
                if r.week is not None
                else None
            ),
        }
        for r in shown
    ]
    return json_response(
        {"session": _session(session), "members": members, "withheld": len(rows) - len(shown)}
    )


@api_endpoint("GET", "POST")
def attendance(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """GET /api/v1/attendance?session=: a session's attendance records (audited).
    POST /api/v1/attendance: record (or correct, with the version read) one roster member's
    attendance, through attendance.services.attendance_record like the roster page."""
    if request.method == "POST":
        return _record_attendance(request, ctx)
    ctx.require_scope("Attendance")
    paging = Paging.of(request)
    session_id = id_param(request, "session", required=True)
    assert session_id is not None
    page = attendance_selectors.session_attendance_page(
        actor=ctx.actor, session_id=session_id, offset=paging.offset, limit=paging.limit
    )
    shown = [a for a in page.rows if _released(ctx, a.episode, a.patient)]
    body = paging.envelope(request, page.total, [_attendance(a) for a in shown])
    body["withheld"] = len(page.rows) - len(shown)
    return json_response(body)


ATTENDANCE_FIELDS = ("session", "episode", "status", "minutes_attended", "comment", "version")


def _record_attendance(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    ctx.require_scope("Attendance", write=True)
    body = _json_object(request)
    unknown = sorted(set(body) - set(ATTENDANCE_FIELDS))
    if unknown:
        raise RuleViolation(f"Unknown fields: {', '.join(unknown)}.", field=unknown[0])
    session_id = _body_int(body, "session", required=True, low=1, high=MAX_ID)
    episode_id = _body_int(body, "episode", required=True, low=1, high=MAX_ID)
    status = body.get("status")
    if not isinstance(status, str):
        raise RuleViolation("status is required (an attendance status).", field="status")
    minutes = _body_int(body, "minutes_attended", low=0, high=24 * 60)
    version = _body_int(body, "version", low=1, high=2**31 - 1)
    comment = body.get("comment", "")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > 300:
        raise RuleViolation("comment must be text of at most 300 characters.", field="comment")
    assert session_id is not None and episode_id is not None
    session = attendance_selectors.session_get(actor=ctx.actor, session_id=session_id)
    episode = episode_with_patient(episode_id=episode_id)
    if episode is None:
        raise RuleViolation(
            "That patient is not on this session's roster.", code="not_on_roster", field="episode"
        )
    record = attendance_services.attendance_record(
        session=session,
        episode=episode,
        status=status,
        minutes_attended=minutes,
        comment=comment,
        expected_version=version,
        by=ctx.actor,
    )
    return json_response(_attendance(record), 201 if record.version == 1 else 200)


def _json_object(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise BadRequest("Send the body as application/json.")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def _body_int(
    body: dict[str, Any], name: str, *, required: bool = False, low: int, high: int
) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise RuleViolation(f"{name} is required.", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleViolation(f"{name} must be a whole number from {low} to {high}.", field=name)
    return int(value)


@api_endpoint("GET")
def authorization_list(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """GET /api/v1/authorizations?patient=: a patient's payer authorizations with what each has
    used and when it runs out. Audited as a view of the patient."""
    ctx.require_scope("Authorization")
    paging = Paging.of(request)
    patient_id = id_param(request, "patient", required=True)
    assert patient_id is not None
    found = selectors_authorizations.patient_authorizations(actor=ctx.actor, patient_id=patient_id)
    states = found.states[paging.offset : paging.offset + paging.limit]
    results = [
        {
            "id": s.row.pk,
            "patient": found.patient.pk,
            "coverage": {
                "id": s.row.coverage_id,
                "payer": s.row.coverage.payer.name,
                "rank": s.row.coverage.rank,
            },
            "reference_number": s.row.reference_number,
            "unit_kind": s.row.unit_kind,
            "quantity": s.row.quantity,
            "service_codes": list(s.row.service_codes),
            "start_date": s.row.start_date.isoformat(),
            "end_date": s.row.end_date.isoformat(),
            "end_reason": s.row.end_reason,
            "used": s.usage.used,
            "remaining": s.usage.remaining,
            "percent_used": s.usage.percent_used,
            "ended": s.ended,
            "runs_out_on": s.runs_out_on.isoformat() if s.runs_out_on else None,
            "version": s.row.version,
        }
        for s in states
    ]
    return json_response(paging.envelope(request, len(found.states), results))


def _path_id(value: int) -> int:
    """A path id (ui.converters' 1 to 18 digits): 0 names nothing."""
    if value < 1:
        raise NotFound("There is no such record.")
    return value
