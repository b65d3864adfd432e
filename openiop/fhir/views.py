"""The FHIR R4 endpoints at /fhir/R4: parse the request, check the token and its scopes, call one
selector or write, answer application/fhir+json. Every DomainError becomes an OperationOutcome
with its HTTP status, here and nowhere else."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from openiop.consents.domain import REDISCLOSURE_NOTICE
from openiop.fhir import bulk, exports, mapping, selectors, tasks, writes
from openiop.fhir.auth import FhirContext
from openiop.fhir.errors import fhir_endpoint, operation_outcome, respond
from openiop.fhir.models import ExportKind, ExportStatus
from openiop.fhir.scopes import RESOURCE_TYPES

FHIR_VERSION = "4.0.1"


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/R4/").rstrip("/")


def _rid(resource: FHIRAbstractModel) -> str:
    return str(getattr(resource, "id", ""))


def _etag(resource: FHIRAbstractModel | dict[str, Any]) -> dict[str, str]:
    if isinstance(resource, dict):
        version = resource.get("meta", {}).get("versionId")
    else:
        meta = getattr(resource, "meta", None)
        version = getattr(meta, "versionId", None) if meta is not None else None
    return {"ETag": f'W/"{version}"'} if version else {}


def _if_match(request: HttpRequest) -> int:
    """The version an update names in If-Match (W/"3"). Required: a write is never unconditional
    (core.concurrency), and FHIR says so by its header, not by a form's version field."""
    value = request.headers.get("If-Match", "").strip()
    if not value:
        raise writes.Unprocessable(
            "An update must name the version it changes: send If-Match with the ETag of your "
            'last read of the resource (e.g. W/"3").',
            field="If-Match",
        )
    digits = value.removeprefix("W/").strip('"')
    version = selectors.whole_number(digits)
    if version is None:
        raise selectors.BadSearch('If-Match must be a version, e.g. W/"3".', field="If-Match")
    return version


def _body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise writes.Unprocessable("The body is not JSON.") from None


def _check_type(resource_type: str) -> None:
    selectors.resource_def(resource_type)  # NotFound for a type this server does not have


# --- endpoints -------------------------------------------------------------------------------------


def _search_bundle(request: HttpRequest, ctx: FhirContext, resource_type: str) -> HttpResponse:
    ctx.require_scope(resource_type)
    params = {k: request.GET.getlist(k) for k in request.GET}
    result = selectors.search(
        actor=ctx.actor,
        recipient=ctx.recipient,
        resource_type=resource_type,
        params=params,
        allowed_types=ctx.may,
    )
    base = _base(request)
    kept = [
        (k, v)
        for k in request.GET
        for v in request.GET.getlist(k)
        if k not in ("_offset", "_count")
    ]

    def link(relation: str, offset: int) -> dict[str, str]:
        query = urlencode([*kept, ("_count", str(result.count)), ("_offset", str(offset))])
        return {"relation": relation, "url": f"{base}/{resource_type}?{query}"}

    links = [link("self", result.offset)]
    if result.has_next:
        links.append(link("next", result.offset + result.count))
    if result.offset > 0:
        links.append(link("previous", max(0, result.offset - max(result.count, 1))))
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}/{r.get_resource_type()}/{_rid(r)}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in result.matches
    ]
    entries += [
        {
            "fullUrl": f"{base}/{r.get_resource_type()}/{_rid(r)}",
            "resource": r,
            "search": {"mode": "include"},
        }
        for r in result.included
    ]
    if result.withheld.total:
        entries.append(
            {
                "resource": operation_outcome(
                    403, result.withheld.sentence, code="suppressed", severity="warning"
                ),
                "search": {"mode": "outcome"},
            }
        )
    if result.disclosed:
        entries.append(
            {
                "resource": operation_outcome(
                    200,
                    f"{REDISCLOSURE_NOTICE} {result.disclosed} record(s) in this Bundle come "
                    "from substance-use treatment and are disclosed with the patient's consent "
                    "(each carries the 42CFRPart2 security label and this notice in its meta).",
                    code="informational",
                    severity="information",
                ),
                "search": {"mode": "outcome"},
            }
        )
    body: dict[str, Any] = {"type": "searchset", "link": links, "entry": entries}
    if result.total is not None:
        body["total"] = result.total
    bundle = mapping.build("Bundle", body)
    return respond(bundle)


def _written(
    request: HttpRequest, ctx: FhirContext, resource_type: str, row: Any, interaction: str
) -> HttpResponse:
    """The answer to a create (201, with Location) or an update (200): the resource as a read of
    it would answer this client (selectors.read: access, the Part 2 decision, the VIEW audit
    noting the interaction, the accounting of a disclosure), with its ETag. Where that read
    would be refused (a Part 2 record no consent lets go to this client, Part2Withheld; a
    role that may write but not read the type; or a token whose scopes allow writing the type
    but not reading it, OutOfScope as a GET would raise) the write stands and the body is an
    OperationOutcome (severity information) saying it was saved and that its content is not
    returned, and why: FHIR's `Prefer: return=OperationOutcome` (RESTful API, managing return
    content); the Location and ETag headers still let the client name the version it changes.
    `row` is the row the write returned, saved: its version (a Versioned row's; a type without
    versions has none) is the one that ETag names."""
    pk = row.pk
    status = 201 if interaction == "create" else 200
    headers = {"Location": f"{_base(request)}/{resource_type}/{pk}"} if status == 201 else {}
    answer = selectors.written_answer(
        actor=ctx.actor,
        recipient=ctx.recipient,
        resource_type=resource_type,
        pk=pk,
        version=getattr(row, "version", None),
        interaction=interaction,
        # The scopes' read decision (ctx.may), with its reason, as a GET makes it.
        first=lambda: ctx.require_scope(resource_type),
    )
    if answer.resource is not None:
        return respond(answer.resource, status, {**headers, **_etag(answer.resource)})
    if answer.version is not None:
        headers["ETag"] = f'W/"{answer.version}"'
    saved = f"{resource_type}/{pk} was saved" + (
        f" (version {answer.version})." if answer.version is not None else "."
    )
    note = operation_outcome(
        status,
        f"{saved} Its content is not returned: {answer.refusal}",
        code="suppressed" if answer.part2 else "informational",
        severity="information",
    )
    return respond(note, status, headers)


@fhir_endpoint
def type_endpoint(request: HttpRequest, ctx: FhirContext, resource_type: str) -> HttpResponse:
    """GET: search. POST: create (Patient, QuestionnaireResponse), answered as _written."""
    _check_type(resource_type)
    if request.method == "GET":
        return _search_bundle(request, ctx, resource_type)
    if request.method == "POST" and resource_type in ("Patient", "QuestionnaireResponse"):
        ctx.require_scope(resource_type, write=True)
        body = _body(request)
        if resource_type == "Patient":
            row: Any = writes.create_patient(actor=ctx.actor, body=body)
        else:
            row = writes.create_questionnaire_response(actor=ctx.actor, body=body)
        return _written(request, ctx, resource_type, row, "create")
    return respond(
        operation_outcome(405, f"{request.method} is not supported on {resource_type}."), 405
    )


@fhir_endpoint
def instance_endpoint(
    request: HttpRequest, ctx: FhirContext, resource_type: str, resource_id: str
) -> HttpResponse:
    """GET: read. PUT: update (Patient demographics, Appointment status), If-Match honoured,
    answered as _written."""
    _check_type(resource_type)
    if request.method == "GET":
        ctx.require_scope(resource_type)
        found = selectors.read(
            actor=ctx.actor,
            recipient=ctx.recipient,
            resource_type=resource_type,
            resource_id=resource_id,
            prefetched=ctx.row,  # read with the token (errors.fhir_endpoint)
        )
        return respond(found, 200, _etag(found))
    if request.method == "PUT" and resource_type in ("Patient", "Appointment"):
        ctx.require_scope(resource_type, write=True)
        body, expected = _body(request), _if_match(request)
        if resource_type == "Patient":
            row: Any = writes.update_patient(
                actor=ctx.actor, resource_id=resource_id, body=body, expected_version=expected
            )
        else:
            row = writes.update_appointment(
                actor=ctx.actor, resource_id=resource_id, body=body, expected_version=expected
            )
        return _written(request, ctx, resource_type, row, "update")
    return respond(
        operation_outcome(405, f"{request.method} is not supported on {resource_type}/{{id}}."),
        405,
    )


# --- bulk data export (FHIR Bulk Data Access IG v2) ------------------------------------------------

NDJSON = "application/fhir+ndjson"


def _kickoff(request: HttpRequest, ctx: FhirContext, kind: str, group_id: str = "") -> HttpResponse:
    """Kick off an export: 202 with the status URL in Content-Location. The IG asks for
    `Prefer: respond-async`; without it, 400."""
    if request.method not in ("GET", "POST"):
        return respond(
            operation_outcome(405, f"{request.method} is not supported on $export."), 405
        )
    prefer = [p.strip() for p in request.headers.get("Prefer", "").split(",")]
    if "respond-async" not in prefer:
        raise bulk.BadExportRequest(
            "$export runs asynchronously: send the header 'Prefer: respond-async'.",
            field="Prefer",
        )
    if request.method == "POST":
        params = bulk.parameters_body(_body(request))
    else:
        params = {k: request.GET.getlist(k) for k in request.GET}
    export = tasks.export_queue(
        actor=ctx.actor,
        client=exports.ExportClient.of(ctx.recipient),
        kind=kind,
        params=params,
        request_url=request.build_absolute_uri(),
        allowed_types=ctx.may,
        group_id=group_id,
    )
    status_url = f"{_base(request)}/$export-status/{export.pk}"
    note = operation_outcome(
        202,
        "Export queued: poll the Content-Location URL.",
        code="informational",
        severity="information",
    )
    return respond(note, 202, {"Content-Location": status_url})


@fhir_endpoint
def system_export(request: HttpRequest, ctx: FhirContext) -> HttpResponse:
    """[base]/$export: every resource type the token and role allow."""
    return _kickoff(request, ctx, ExportKind.SYSTEM)


@fhir_endpoint
def patient_export(request: HttpRequest, ctx: FhirContext) -> HttpResponse:
    """[base]/Patient/$export: the compartments of every patient the actor may see."""
    return _kickoff(request, ctx, ExportKind.PATIENT)


@fhir_endpoint
def group_export(request: HttpRequest, ctx: FhirContext, group_id: str) -> HttpResponse:
    """[base]/Group/{track-<id>|site-<id>}/$export: the compartments of a group's patients."""
    return _kickoff(request, ctx, ExportKind.GROUP, group_id)


@fhir_endpoint
def export_status(request: HttpRequest, ctx: FhirContext, export_id: int) -> HttpResponse:
    """GET: 202 with X-Progress and Retry-After while it runs, 200 with the manifest when done,
    500 with an OperationOutcome when it failed. DELETE: cancel (202). Another client's: 404."""
    if request.method == "DELETE":
        exports.export_cancel(actor=ctx.actor, export_id=export_id)
        note = operation_outcome(
            202, "Export cancelled.", code="informational", severity="information"
        )
        return respond(note, 202)
    if request.method != "GET":
        return respond(operation_outcome(405, f"{request.method} is not supported here."), 405)
    export = exports.export_for_client(client_id=ctx.recipient.client_id, export_id=export_id)
    if export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        progress = bulk.progress_text(export.progress_done, export.progress_total, export.status)
        response = HttpResponse(status=202)
        response.headers["X-Progress"] = progress[:100]
        response.headers["Retry-After"] = str(exports.RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response
    if export.status == ExportStatus.FAILED:
        return respond(
            operation_outcome(500, f"The export failed: {export.error}", code="exception"), 500
        )
    assert export.transaction_time is not None
    base = _base(request)

    def entry(f: Any) -> bulk.FileEntry:
        return bulk.FileEntry(
            f.resource_type, f"{base}/$export-file/{export.pk}/{f.pk}.ndjson", f.count
        )

    files = exports.export_files(export)
    body = bulk.manifest(
        transaction_time=export.transaction_time,
        request_url=export.request_url,
        output=[entry(f) for f in files if not f.is_error],
        errors=[entry(f) for f in files if f.is_error],
    )
    response = HttpResponse(json.dumps(body), content_type="application/json")
    if export.finished_at is not None:
        expires = export.finished_at + exports.EXPORT_KEEP
        response.headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
    response.headers["Cache-Control"] = "no-store"
    return response


@fhir_endpoint
def export_file(
    request: HttpRequest, ctx: FhirContext, export_id: int, file_id: int
) -> HttpResponse:
    """One NDJSON file of the client's export (the same token as the kick-off)."""
    found = exports.export_file(actor=ctx.actor, export_id=export_id, file_id=file_id)
    response = HttpResponse(found.ndjson, content_type=NDJSON)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- discovery (no token needed) -----------------------------------------------------------------


def capability_statement(base: str) -> FHIRAbstractModel:
    """What this server does, as a CapabilityStatement."""
    resources = []
    for rt in RESOURCE_TYPES:
        d = selectors.DEFS[rt]
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if rt in ("Patient", "QuestionnaireResponse"):
            interactions.append({"code": "create"})
        if rt in ("Patient", "Appointment"):
            interactions.append({"code": "update"})
        params = [{"name": "_id", "type": "token"}, {"name": "_count", "type": "number"}]
        if d.updated_path:
            params.append({"name": "_lastUpdated", "type": "date"})
        params += [{"name": name, "type": _param_type(name)} for name in d.params]
        entry: dict[str, Any] = {
            "type": rt,
            "interaction": interactions,
            "versioning": "versioned-update" if rt in ("Patient", "Appointment") else "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": params,
        }
        includes = sorted(i for i in selectors.INCLUDES if i.startswith(f"{rt}:"))
        if includes:
            entry["searchInclude"] = includes
        if rt == "Patient":
            entry["searchRevInclude"] = sorted(selectors.INCLUDES)
        resources.append(entry)
    return mapping.build(
        "CapabilityStatement",
        {
            "status": "active",
            "date": "2026-01-01",
            "publisher": "OpenIOP",
            "kind": "instance",
            "software": {"name": "OpenIOP"},
            "implementation": {"description": "OpenIOP FHIR R4 API", "url": base},
            "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                        "code": "SMART-on-FHIR",
                                    }
                                ]
                            }
                        ],
                        "description": "OAuth 2.0 client credentials with SMART scopes; "
                        "see /.well-known/smart-configuration. Records from substance-use "
                        "treatment carry the 42CFRPart2 security label and the 42 CFR 2.32 "
                        "notice; a client outside the program receives them only under the "
                        "patient's consent, and every such disclosure is accounted for. The "
                        "answer to a create or update is such a read: where the record is "
                        "withheld the change is saved and the answer is an OperationOutcome "
                        "(code suppressed) with the Location and ETag headers, and where the "
                        "token's scopes allow writing the type but not reading it the same "
                        "(code informational). An update must send If-Match "
                        "(versioned-update).",
                    },
                    "resource": resources,
                    # FHIR Bulk Data: $export at the system level, Patient/$export and
                    # Group/{track-<id>|site-<id>}/$export (a Group is a track or a site).
                    "operation": [
                        {
                            "name": "export",
                            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                        },
                        {
                            "name": "patient-export",
                            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                        },
                        {
                            "name": "group-export",
                            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                        },
                    ],
                }
            ],
        },
    )


def _param_type(name: str) -> str:
    if name in (
        "patient",
        "subject",
        "beneficiary",
        "episode-of-care",
        "practitioner",
        "location",
        "organization",
        "care-manager",
        "performer",
        "context",
    ):
        return "reference"
    if name in (
        "date",
        "birthdate",
        "authored",
        "created",
        "recorded-date",
        "effective",
        "effective-time",
    ):
        return "date"
    if name in ("name", "family", "given"):
        return "string"
    return "token"


@csrf_exempt
def metadata(request: HttpRequest) -> HttpResponse:
    return respond(capability_statement(_base(request)))


def smart_configuration(request: HttpRequest) -> HttpResponse:
    """SMART App Launch's discovery document: where to get a token, and how."""
    from openiop.fhir.scopes import all_scopes

    token = request.build_absolute_uri("/o/token/")
    body = {
        "issuer": request.build_absolute_uri("/"),
        "token_endpoint": token,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "revocation_endpoint": request.build_absolute_uri("/o/revoke_token/"),
        "introspection_endpoint": request.build_absolute_uri("/o/introspect/"),
        "scopes_supported": sorted(all_scopes()),
        "capabilities": ["client-confidential-symmetric", "permission-v1", "permission-v2"],
    }
    response = HttpResponse(json.dumps(body), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = [
    "export_file",
    "export_status",
    "group_export",
    "instance_endpoint",
    "metadata",
    "patient_export",
    "smart_configuration",
    "system_export",
    "type_endpoint",
]
