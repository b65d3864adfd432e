"""The FHIR interface's one mapping of the DomainError tree: every endpoint runs inside
fhir_endpoint, which authenticates the bearer token and answers an OperationOutcome with the
error's HTTP status (400, 401, 403, 404, 409, 412, 422). Views never catch DomainError themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from openiop.core.errors import Conflict, DomainError, RuleViolation
from openiop.fhir import mapping
from openiop.fhir.auth import authenticate
from openiop.fhir.selectors import BadSearch, row_read

FHIR_JSON = "application/fhir+json"

ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    422: "processing",
}


def respond(
    resource: FHIRAbstractModel | dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body = (
        resource.model_dump_json()
        if isinstance(resource, FHIRAbstractModel)
        else json.dumps(resource, separators=(",", ":"), ensure_ascii=False)
    )
    response = HttpResponse(body, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def operation_outcome(
    status: int,
    message: str,
    *,
    code: str | None = None,
    field: str | None = None,
    severity: str = "error",
) -> FHIRAbstractModel:
    issue: dict[str, Any] = {
        "severity": severity,
        "code": code or ISSUE_CODE.get(status, "exception"),
        "diagnostics": message,
    }
    if field:
        issue["expression"] = [field]
    return mapping.build("OperationOutcome", {"issue": [issue]})


def _error(exc: DomainError, *, writing: bool, if_match: bool = False) -> HttpResponse:
    status = exc.http_status
    if writing and if_match and isinstance(exc, Conflict):
        # The version the client named in If-Match is no longer current: FHIR's "412
        # Precondition Failed", not a plain conflict (RESTful API, managing resource contention).
        status = 412
    if (
        writing
        and isinstance(exc, RuleViolation)
        and status == 400
        and not isinstance(exc, BadSearch)
    ):
        status = 422  # a resource the service refused as it stands: unprocessable, per FHIR
    code = "suppressed" if exc.code == "part2_withheld" else None
    if isinstance(exc, BadSearch) and exc.field:
        code = "not-supported"
    headers = {"WWW-Authenticate": 'Bearer realm="openiop-fhir"'} if status == 401 else {}
    return respond(
        operation_outcome(status, exc.message, code=code, field=exc.field), status, headers
    )


def _read_of(request: HttpRequest, kwargs: dict[str, Any]) -> Any:
    """For a read (GET Type/id), the row's SELECT for the token's statement to run with it
    (selectors.row_read); None for anything else."""
    if request.method != "GET" or "resource_id" not in kwargs:
        return None
    return row_read(kwargs.get("resource_type", ""), kwargs["resource_id"])


def fhir_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate the bearer token, run the view, turn DomainError into an OperationOutcome."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            ctx = authenticate(request, row=_read_of(request, kwargs))
            return view(request, ctx, *args, **kwargs)
        except DomainError as exc:
            return _error(
                exc,
                writing=request.method in ("POST", "PUT"),
                if_match=bool(request.headers.get("If-Match", "").strip()),
            )

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped
