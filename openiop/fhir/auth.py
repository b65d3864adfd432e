"""Who a FHIR request acts as: the bearer token's OAuth application, the staff user it acts for
(the token's user, else the application's user: a backend client's service account), the
SMART scopes the token carries and who receives what it reads (part2.FhirRecipient: the
client's organization, outside organization and purpose of use)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.oauth2_backends import get_oauthlib_core

from openiop.accounts.backends import user_from_row, user_select
from openiop.accounts.models import User
from openiop.consents.choices import Purpose
from openiop.core.actor import Actor, client_address
from openiop.core.errors import DomainError, NotPermitted
from openiop.fhir.models import FhirClient
from openiop.fhir.part2 import FhirRecipient
from openiop.fhir.scopes import Grant, parse_scopes, scope_allows
from openiop.programs.models import Site


class Unauthenticated(DomainError):
    """No bearer token, or one that is unknown, expired or revoked (HTTP 401)."""

    code = "unauthenticated"
    http_status = 401


class OutOfScope(NotPermitted):
    """The token's scopes do not cover the resource type and action (HTTP 403)."""

    code = "out_of_scope"


@dataclass(frozen=True)
class FhirContext:
    actor: Actor
    recipient: FhirRecipient
    grants: tuple[Grant, ...]
    # The token's scopes as granted (the REST API reads its api/ scopes from them).
    scope: str = ""
    # The row the request reads, when authenticate read it in the token's statement: the
    # selectors.RowRead it was asked for and the values found (None: not read with the token).
    row: Any = None

    def may(self, resource_type: str, *, write: bool = False) -> bool:
        return scope_allows(list(self.grants), resource_type, write=write).allowed

    def require_scope(self, resource_type: str, *, write: bool = False) -> None:
        """Raise OutOfScope unless the token's scopes allow the action on the type."""
        decision = scope_allows(list(self.grants), resource_type, write=write)
        if not decision.allowed:
            raise OutOfScope(decision.reason)


def _bearer(request: HttpRequest) -> str:
    """The request's bearer token, as oauthlib reads it (`Authorization: Bearer <token>`)."""
    # From META itself: request.headers parses every header of the request to read this one.
    parts: list[str] = str(request.META.get("HTTP_AUTHORIZATION", "")).split()
    if len(parts) != 2 or parts[0] != "Bearer":
        raise Unauthenticated(
            "A bearer token is required (OAuth 2.0, see /.well-known/smart-configuration)."
        )
    return parts[1]


@functools.cache
def _token_sql() -> str:
    """One statement for everything a request's token decides: the token (by its SHA-256
    checksum, django-oauth-toolkit's unique index), its application and registration, the staff
    user it acts for (the token's, else the application's) with their sites, and the ids of the
    sites of that user's organization (visible_site_ids of a user who sees every site)."""
    token = AccessToken._meta.db_table
    app = Application._meta.db_table
    client = FhirClient._meta.db_table
    sites = Site._meta.db_table
    users = User._meta.db_table
    if connection.vendor == "postgresql":
        org_sites = f"(SELECT STRING_AGG(z.id::text, ',') FROM {sites} z WHERE z.organization_id = u.organization_id)"
    else:
        org_sites = f"(SELECT GROUP_CONCAT(z.id) FROM {sites} z WHERE z.organization_id = u.organization_id)"
    return (
        f"SELECT t.expires, t.scope, t.resource, a.id, a.client_id, a.name, f.id, f.purpose, "
        f"f.outside_organization, {org_sites}, {user_select()} "
        f"FROM {token} t "
        f"LEFT JOIN {app} a ON a.id = t.application_id "
        f"LEFT JOIN {client} f ON f.application_id = t.application_id "
        f"LEFT JOIN {users} u ON u.id = COALESCE(t.user_id, a.user_id) "
        "WHERE t.token_checksum = %s"
    )


@functools.lru_cache(maxsize=256)
def _grants(scope: str) -> tuple[Grant, ...]:
    return tuple(parse_scopes(scope))


def token_statement(bearer: str, row: Any = None) -> tuple[str, list[Any]]:
    """The one statement authenticate runs for a bearer token (_token_sql, by the token's
    SHA-256 checksum), with `row` (a selectors.RowRead) read in it when given."""
    checksum = hashlib.sha256(bearer.encode("utf-8")).hexdigest()
    sql, params = _token_sql(), [checksum]
    if row is not None:
        sql = f"SELECT * FROM ({sql}) tok LEFT JOIN ({row.sql}) r ON 1 = 1"
        params.append(row.pk)
    return sql, params


def authenticate(request: HttpRequest, *, channel: str = "fhir", row: Any = None) -> FhirContext:
    """The context of a request's bearer token; its actor acts through `channel` ("fhir", or
    "api" for the REST API, which takes the same tokens). Raises Unauthenticated.

    One query (_token_sql) and nothing cached between requests: a token revoked (its row
    deleted, as django-oauth-toolkit revokes) or expired is refused on the next request, and a
    user deactivated, moved to other sites or given another role acts so on the next request.
    The checks are django-oauth-toolkit's validate_bearer_token's: the token exists and has not
    expired (`now >= expires` is expired); a token bound to a resource (RFC 8707) goes through
    that validator itself, which checks the audience.

    `row` (a selectors.RowRead: a SELECT of one row by key) is run in the same statement, its
    values kept on the context for the read (one round trip for the token and the record; they
    are only used after the token, the role and the site have been checked as always)."""
    sql, params = token_statement(_bearer(request), row)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        raise Unauthenticated("The bearer token is unknown, expired or revoked.")
    read = None
    if row is not None:
        read = (row, found[len(found) - row.columns :])
        found = found[: len(found) - row.columns]
    return _from_token_row(request, channel, found, read)


def _from_token_row(
    request: HttpRequest, channel: str, row: Any, read: tuple[Any, Any] | None
) -> FhirContext:
    """The context from the values of _token_sql (and the read's row, kept as it is)."""
    expires, scope, resource, _app, client_id, app_name, reg_id, purpose, outside, org_sites = row[
        :10
    ]
    if isinstance(resource, str):  # SQLite returns the JSON column as text
        resource = json.loads(resource or "[]")
    if resource:
        return _authenticate_by_oauthlib(request, channel=channel)
    if expires is None or timezone.now() >= _aware(expires):
        raise Unauthenticated("The bearer token is unknown, expired or revoked.")
    user = user_from_row(row[10:]) if row[10] is not None else None
    if user is None or not user.is_active:
        raise Unauthenticated("The token acts for no active staff member.")
    if org_sites is not None and user.organization_id is not None:
        # visible_site_ids' own query, answered by the token's statement (read by it only for
        # a user who sees every site of their organization).
        user._visible_site_ids = {int(i) for i in str(org_sites).split(",") if i}  # type: ignore[attr-defined]
    elif user.organization_id is not None:
        user._visible_site_ids = set()  # type: ignore[attr-defined]  # an organization without sites
    return _context(
        request,
        channel=channel,
        user=user,
        client_id=client_id or "",
        client_name=app_name or "",
        registered=(purpose, outside) if reg_id is not None else None,
        scope=scope or "",
        row=read,
    )


def _aware(value: dt.datetime) -> dt.datetime:
    """A datetime the database returned, aware (SQLite's raw rows may come back as text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def _authenticate_by_oauthlib(request: HttpRequest, *, channel: str) -> FhirContext:
    """The token checked by django-oauth-toolkit's own validator (tokens bound to a resource)."""
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None) if valid else None
    if token is None:
        raise Unauthenticated("The bearer token is unknown, expired or revoked.")
    application = token.application
    user = token.user or (application.user if application is not None else None)
    if user is None or not user.is_active:
        raise Unauthenticated("The token acts for no active staff member.")
    registered = (
        FhirClient.objects.filter(application_id=application.pk).first()
        if application is not None
        else None
    )
    return _context(
        request,
        channel=channel,
        user=user,
        client_id=application.client_id if application is not None else "",
        client_name=application.name if application is not None else "",
        registered=(registered.purpose, registered.outside_organization) if registered else None,
        scope=token.scope or "",
    )


def _context(
    request: HttpRequest,
    *,
    channel: str,
    user: User,
    client_id: str,
    client_name: str,
    registered: tuple[str, str] | None,
    scope: str,
    row: Any = None,
) -> FhirContext:
    actor = Actor(
        user=user,
        channel=channel,
        client_addr=client_address(request),
        path=request.get_full_path()[:500],
        client_id=client_id,
    )
    return FhirContext(
        actor=actor,
        recipient=FhirRecipient(
            client_id=client_id,
            client_name=client_name,
            organization_id=user.organization_id,
            purpose=registered[0] if registered is not None else Purpose.TREATMENT,
            outside_organization=(registered[1] or "") if registered is not None else "",
        ),
        grants=_grants(scope),
        scope=scope,
        row=row,
    )
