"""The REST API's one mapping of the DomainError tree, its token check, its paging and its query
parameters: every endpoint runs inside api_endpoint, which authenticates the bearer token (the
FHIR API's tokens, openiop.fhir.auth) and answers an RFC 9457 problem+json body with the error's
status (400, 401, 403, 404, 405, 409, 422). Views never catch DomainError themselves."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from openiop.core.actor import Actor
from openiop.core.errors import DomainError, RuleViolation
from openiop.fhir.auth import OutOfScope
from openiop.fhir.auth import authenticate as token_context
from openiop.fhir.part2 import FhirRecipient
from openiop.fhir.scopes import Grant, api_scope_allows, parse_api_scopes

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
# Limits of the list endpoints' `limit` (a page) and of ids in paths and queries (ui.converters:
# 18 digits fit the database's 64-bit integer).
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10**9
MAX_ID = 10**18 - 1

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable content",
}


class BadRequest(RuleViolation):
    """A query parameter or body that cannot be read (HTTP 400, whatever the method)."""

    code = "bad_request"


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    http_status = 405


@dataclass(frozen=True)
class ApiContext:
    """Who a REST request acts as (the token's staff user, channel "api"), whom the answer goes
    to (for 42 CFR Part 2) and the token's REST API scopes."""

    actor: Actor
    recipient: FhirRecipient
    grants: tuple[Grant, ...]

    def require_scope(self, api_object: str, *, write: bool = False) -> None:
        """Raise OutOfScope (403) unless the token's api/ scopes allow the action."""
        decision = api_scope_allows(list(self.grants), api_object, write=write)
        if not decision.allowed:
            raise OutOfScope(decision.reason)


def authenticate(request: HttpRequest) -> ApiContext:
    """The context of the request's bearer token. Raises Unauthenticated (401)."""
    ctx = token_context(request, channel="api")
    return ApiContext(ctx.actor, ctx.recipient, tuple(parse_api_scopes(ctx.scope)))


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def problem(exc: DomainError, status: int | None = None) -> HttpResponse:
    """The problem+json answer to a DomainError (core.errors' as_problem, with RFC 9457's
    `detail` and the field it concerns under `errors`)."""
    status = status or exc.http_status
    body = {
        **exc.as_problem(),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": exc.message,
    }
    body.pop("field", None)
    if exc.field:
        body["errors"] = [{"field": exc.field, "detail": exc.message}]
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_JSON)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="openiop-api"'
    response.headers["Cache-Control"] = "no-store"
    return response


def api_endpoint(
    *methods: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Answer only `methods` (405 otherwise), authenticate the token, run the view and turn a
    DomainError into problem+json. A rule that refuses a write is 422 (the body as it stands
    cannot be processed); a parameter or body that cannot be read is 400."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    response = problem(MethodNotAllowed(f"{request.method} is not supported here."))
                    response.headers["Allow"] = ", ".join(methods)
                    return response
                ctx = authenticate(request)
                return view(request, ctx, *args, **kwargs)
            except DomainError as exc:
                status = exc.http_status
                if (
                    request.method == "POST"
                    and isinstance(exc, RuleViolation)
                    and not isinstance(exc, BadRequest)
                ):
                    status = 422
                return problem(exc, status)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


# --- query parameters -----------------------------------------------------------------------------


def _one(request: HttpRequest, name: str) -> str | None:
    values = request.GET.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"Give {name} once.", field=name)
    return values[0]


def id_param(request: HttpRequest, name: str, *, required: bool = False) -> int | None:
    """Query parameter `name` as a record id (1 to MAX_ID), None when absent and not required."""
    text = _one(request, name)
    if text is None or text == "":
        if required:
            raise BadRequest(f"{name} is required (a record id).", field=name)
        return None
    value = whole_number(text)
    if value is None or not 1 <= value <= MAX_ID:
        raise BadRequest(f"{name} must be a record id (a whole number from 1).", field=name)
    return value


def date_param(request: HttpRequest, name: str) -> dt.date | None:
    text = _one(request, name)
    if text is None or text == "":
        return None
    try:
        if len(text) != 10 or not text.isascii():
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be a date, YYYY-MM-DD.", field=name) from None


def bool_param(request: HttpRequest, name: str) -> bool:
    text = _one(request, name)
    if text is None or text == "":
        return False
    if text not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false.", field=name)
    return text == "true"


def whole_number(text: str) -> int | None:
    """`text` as a whole number (ASCII digits only, at most 19 of them), else None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    return int(text)


@dataclass(frozen=True)
class Paging:
    """limit/offset paging: at most MAX_LIMIT records a page."""

    limit: int
    offset: int

    @classmethod
    def of(cls, request: HttpRequest) -> Paging:
        limit_text, offset_text = _one(request, "limit"), _one(request, "offset")
        limit = DEFAULT_LIMIT if limit_text in (None, "") else whole_number(limit_text or "")
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.", field="limit")
        offset = 0 if offset_text in (None, "") else whole_number(offset_text or "")
        if offset is None or offset > MAX_OFFSET:
            raise BadRequest(
                f"offset must be a whole number from 0 to {MAX_OFFSET}.", field="offset"
            )
        return cls(limit, offset)

    def envelope(self, request: HttpRequest, total: int, results: list[Any]) -> dict[str, Any]:
        """The page as the list endpoints answer it: count (all records), limit, offset, the
        links to the next and previous pages (absolute URLs, None at either end) and results."""
        kept = [
            (k, v)
            for k in request.GET
            for v in request.GET.getlist(k)
            if k not in ("limit", "offset")
        ]

        def link(offset: int) -> str:
            query = urlencode([*kept, ("limit", str(self.limit)), ("offset", str(offset))])
            return request.build_absolute_uri(f"{request.path}?{query}")

        return {
            "count": total,
            "limit": self.limit,
            "offset": self.offset,
            "next": link(self.offset + self.limit) if self.offset + self.limit < total else None,
            "previous": link(max(0, self.offset - self.limit)) if self.offset > 0 else None,
            "results": results,
        }
