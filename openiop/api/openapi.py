"""The OpenAPI 3.0 document of the REST API (/api/openapi.json), as a Python dict: every path,
parameter and response schema, the problem+json schema of every error and the OAuth 2.0 client
credentials scheme (the token URL the project serves, /o/token/). The schemathesis test in
api/tests checks the endpoints against it; change both together."""

from __future__ import annotations

from typing import Any

from openiop.api.http import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT, MAX_OFFSET
from openiop.attendance.choices import AttendanceStatus
from openiop.attendance.domain import WeekStatus
from openiop.billing.choices import AuthorizationUnitKind, CoverageRank
from openiop.fhir.scopes import all_scopes
from openiop.programs.choices import AgeBand, BlockKind, SessionKind, SessionStatus

VERSION = "1.0.0"
PROBLEM = "application/problem+json"
JSON = "application/json"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(**kw: Any) -> dict[str, Any]:
    return {"type": "string", **kw}


def _int(**kw: Any) -> dict[str, Any]:
    return {"type": "integer", **kw}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _object(properties: dict[str, Any], *, nullable: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "object",
        "required": sorted(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if nullable:
        body["nullable"] = True
    return body


def _named(*, nullable: bool = False) -> dict[str, Any]:
    """{id, name}: a site, track, room or staff member a record names."""
    return _object({"id": _int(minimum=1), "name": _string()}, nullable=nullable)


def _page_of(item: str, *, withheld: bool = False) -> dict[str, Any]:
    link = _nullable(_string(format="uri"))
    props: dict[str, Any] = {
        "count": _int(minimum=0, description="Every record the query matches"),
        "limit": _int(minimum=1, maximum=MAX_LIMIT),
        "offset": _int(minimum=0),
        "next": {**link, "description": "The next page, or null on the last"},
        "previous": {**link, "description": "The previous page, or null on the first"},
        "results": {"type": "array", "items": _ref(item)},
    }
    if withheld:
        props["withheld"] = _int(
            minimum=0, description="Records of this page left out under 42 CFR Part 2"
        )
    return _object(props)


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "An RFC 9457 problem details object.",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": _string(format="uri"),
            "title": _string(),
            "status": _int(minimum=400, maximum=599),
            "detail": _string(),
            "code": _string(description="What went wrong, for programs"),
            "errors": {
                "type": "array",
                "description": "The fields of the request the problem concerns",
                "items": _object({"field": _string(), "detail": _string()}),
            },
        },
    },
    "Track": _object(
        {
            "id": _int(minimum=1),
            "site": _named(),
            "name": _string(),
            "age_band": _string(enum=list(AgeBand.values)),
            "capacity": _int(minimum=0),
            "weekly_minimum_minutes": _int(minimum=0),
            "description": _string(),
            "is_active": {"type": "boolean"},
            "enrolled_today": _int(minimum=0, description="Episodes enrolled on the site's today"),
        }
    ),
    "TrackBlock": _object(
        {
            "id": _int(minimum=1),
            "weekday": _int(minimum=0, maximum=6, description="0 Monday to 6 Sunday"),
            "start_time": _string(pattern=r"^\d\d:\d\d$", description="Local time at the site"),
            "duration_minutes": _int(minimum=0),
            "kind": _string(enum=list(BlockKind.values)),
            "title": _string(),
            "facilitator": _named(),
            "room": _named(),
            "valid_from": _string(format="date"),
            "valid_until": _nullable(_string(format="date")),
        }
    ),
    "Session": _object(
        {
            "id": _int(minimum=1),
            "site": _named(),
            "track": _named(nullable=True),
            "kind": _string(enum=list(SessionKind.values)),
            "title": _string(),
            "topic": _string(),
            "date": _string(format="date", description="Local date at the site"),
            "starts_at": _string(format="date-time"),
            "ends_at": _string(format="date-time"),
            "duration_minutes": _int(minimum=0),
            "status": _string(enum=list(SessionStatus.values)),
            "facilitator": _named(),
            "room": _named(nullable=True),
            "version": _int(minimum=1),
        }
    ),
    "Attendance": _object(
        {
            "id": _int(minimum=1),
            "session": _int(minimum=1),
            "episode": _int(minimum=1),
            "patient": _int(minimum=1),
            "status": _string(enum=list(AttendanceStatus.values)),
            "minutes_attended": _int(minimum=0),
            "comment": _string(),
            "version": _int(minimum=1, description="Send it back to correct the record"),
            "updated_at": _string(format="date-time"),
        }
    ),
    "AttendanceWrite": {
        "type": "object",
        "required": ["session", "episode", "status"],
        "additionalProperties": False,
        "properties": {
            "session": _int(minimum=1, maximum=MAX_ID),
            "episode": _int(minimum=1, maximum=MAX_ID, description="The roster member's episode"),
            "status": _string(enum=list(AttendanceStatus.values)),
            "minutes_attended": _nullable(
                _int(
                    minimum=0,
                    maximum=24 * 60,
                    description="Default: the session's length when present, 0 when absent",
                )
            ),
            "comment": _nullable(_string(maxLength=300)),
            "version": _nullable(
                _int(
                    minimum=1,
                    maximum=2**31 - 1,
                    description="Required to correct a record: the version it was read at",
                )
            ),
        },
    },
    "RosterMember": _object(
        {
            "episode": _int(minimum=1),
            "patient": _object(
                {"id": _int(minimum=1), "name": _string(), "mrn": _string()},
            ),
            "attendance": {**_ref("Attendance"), "nullable": True},
            "week": _object(
                {
                    "week": _string(description="ISO week, e.g. 2026-W02"),
                    "scheduled_minutes": _int(minimum=0),
                    "attended_minutes": _int(minimum=0),
                    "remaining_minutes": _int(minimum=0),
                    "minimum_minutes": _nullable(_int(minimum=0)),
                    "status": _string(enum=[s.value for s in WeekStatus]),
                },
                nullable=True,
            ),
        }
    ),
    "Roster": _object(
        {
            "session": _ref("Session"),
            "members": {"type": "array", "items": _ref("RosterMember")},
            "withheld": _int(minimum=0, description="Members left out under 42 CFR Part 2"),
        }
    ),
    "Authorization": _object(
        {
            "id": _int(minimum=1),
            "patient": _int(minimum=1),
            "coverage": _object(
                {
                    "id": _int(minimum=1),
                    "payer": _string(),
                    "rank": _string(enum=list(CoverageRank.values)),
                }
            ),
            "reference_number": _string(),
            "unit_kind": _string(enum=list(AuthorizationUnitKind.values)),
            "quantity": _int(minimum=1),
            "service_codes": {"type": "array", "items": _string()},
            "start_date": _string(format="date"),
            "end_date": _string(format="date"),
            "end_reason": _string(),
            "used": _int(minimum=0, description="Units (or days) used by live charges"),
            "remaining": _int(minimum=0),
            "percent_used": _int(minimum=0),
            "ended": {"type": "boolean"},
            "runs_out_on": _nullable(
                _string(format="date", description="When it runs out on the schedule")
            ),
            "version": _int(minimum=1),
        }
    ),
}
SCHEMAS["TrackDetail"] = {
    **SCHEMAS["Track"],
    "required": sorted([*SCHEMAS["Track"]["required"], "blocks"]),
    "properties": {
        **SCHEMAS["Track"]["properties"],
        "blocks": {"type": "array", "items": _ref("TrackBlock")},
    },
}
SCHEMAS["TrackPage"] = _page_of("Track")
SCHEMAS["SessionPage"] = _page_of("Session")
SCHEMAS["AttendancePage"] = _page_of("Attendance", withheld=True)
SCHEMAS["AuthorizationPage"] = _page_of("Authorization")

ERRORS = {
    400: "A query parameter or body that cannot be read",
    401: "No bearer token, or one unknown, expired or revoked",
    403: "The token's scopes, the staff user's role or their sites do not allow this",
    404: "No such record",
    409: "Someone changed the record since it was read (send the current version)",
    422: "A rule refused the write (e.g. not on the roster, session not started, cancelled)",
}

PAGING = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"Records a page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
        "schema": _int(minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT),
    },
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "description": "Records to skip",
        "schema": _int(minimum=0, maximum=MAX_OFFSET, default=0),
    },
]


def _id_param(name: str, where: str, description: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": _int(minimum=1, maximum=MAX_ID),
    }


def _operation(
    *,
    operation_id: str,
    summary: str,
    scope: str,
    ok: dict[int, tuple[str, str]],
    errors: tuple[int, ...],
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {"description": what, "content": {JSON: {"schema": _ref(schema)}}}
        for status, (schema, what) in ok.items()
    }
    for status in errors:
        responses[str(status)] = {
            "description": ERRORS[status],
            "content": {PROBLEM: {"schema": _ref("Problem")}},
        }
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "security": [{"oauth2": [scope]}],
        "parameters": parameters or [],
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(body)}}}
    return op


PATHS: dict[str, Any] = {
    "/api/v1/tracks": {
        "get": _operation(
            operation_id="listTracks",
            summary="The tracks at the staff user's sites",
            scope="api/Track.read",
            ok={200: ("TrackPage", "One page of tracks, by site and name")},
            errors=(400, 401, 403),
            parameters=[
                *PAGING,
                {
                    "name": "include_inactive",
                    "in": "query",
                    "required": False,
                    "description": "Include tracks that are no longer active",
                    "schema": {"type": "boolean", "default": False},
                },
            ],
        )
    },
    "/api/v1/tracks/{id}": {
        "get": _operation(
            operation_id="getTrack",
            summary="One track with its current weekly blocks",
            scope="api/Track.read",
            ok={200: ("TrackDetail", "The track")},
            errors=(401, 403, 404),
            parameters=[_id_param("id", "path", "The track's id")],
        )
    },
    "/api/v1/sessions": {
        "get": _operation(
            operation_id="listSessions",
            summary="The schedule: group sessions at the staff user's sites, by start",
            scope="api/Session.read",
            ok={200: ("SessionPage", "One page of sessions")},
            errors=(400, 401, 403),
            parameters=[
                *PAGING,
                _id_param("track", "query", "Only this track's sessions", required=False),
                {
                    "name": "date_from",
                    "in": "query",
                    "required": False,
                    "description": "First local date (included)",
                    "schema": _string(format="date"),
                },
                {
                    "name": "date_to",
                    "in": "query",
                    "required": False,
                    "description": "Last local date (included); not before date_from",
                    "schema": _string(format="date"),
                },
            ],
        )
    },
    "/api/v1/sessions/{id}/roster": {
        "get": _operation(
            operation_id="getRoster",
            summary="A session's roster with each member's attendance and hours that week",
            scope="api/Attendance.read",
            ok={200: ("Roster", "The roster (audited as a view of each patient shown)")},
            errors=(401, 403, 404),
            parameters=[_id_param("id", "path", "The session's id")],
        )
    },
    "/api/v1/attendance": {
        "get": _operation(
            operation_id="listAttendance",
            summary="A session's attendance records, by patient name",
            scope="api/Attendance.read",
            ok={200: ("AttendancePage", "One page (audited as a view of each patient shown)")},
            errors=(400, 401, 403, 404),
            parameters=[*PAGING, _id_param("session", "query", "The session's id")],
        ),
        "post": _operation(
            operation_id="recordAttendance",
            summary="Record, or correct with its version, a roster member's attendance",
            scope="api/Attendance.write",
            ok={
                201: ("Attendance", "Recorded"),
                200: ("Attendance", "Corrected"),
            },
            errors=(400, 401, 403, 404, 409, 422),
            body="AttendanceWrite",
        ),
    },
    "/api/v1/authorizations": {
        "get": _operation(
            operation_id="listAuthorizations",
            summary="A patient's payer authorizations with their usage and run-out date",
            scope="api/Authorization.read",
            ok={200: ("AuthorizationPage", "One page, ending latest first (audited)")},
            errors=(400, 401, 403, 404),
            parameters=[*PAGING, _id_param("patient", "query", "The patient's id")],
        )
    },
}


def document(*, token_url: str) -> dict[str, Any]:
    """The OpenAPI document, with `token_url` (absolute) as the client credentials token URL."""
    api_scopes = {k: v for k, v in all_scopes().items() if k.startswith("api/")}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "OpenIOP REST API",
            "version": VERSION,
            "description": (
                "The program's own objects FHIR has no place for: tracks, the schedule of group "
                "sessions, rosters, attendance and payer authorizations. The FHIR API's tokens "
                "(OAuth 2.0 client credentials) with api/ scopes; the token acts for its client's "
                "staff user, with that user's role and sites, and every read of patient data is "
                "audited. Lists page with limit and offset. Errors are RFC 9457 problem+json."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"oauth2": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Client credentials; register a client with "
                    "`openiop fhir client create` and api/ scopes (e.g. api/*.read).",
                    "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": api_scopes}},
                }
            },
        },
    }
