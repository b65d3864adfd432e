"""Who a FHIR request acts as: the bearer token's OAuth application, the staff user it acts for
(the token's user, else the application's user: a backend client's service account), the
SMART scopes the token carries and who receives what it reads (part2.FhirRecipient: the
client's organization, outside organization and purpose of use)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import get_oauthlib_core

from openiop.consents.choices import Purpose
from openiop.core.actor import Actor, client_address
from openiop.core.errors import DomainError, NotPermitted
from openiop.fhir.models import FhirClient
from openiop.fhir.part2 import FhirRecipient
from openiop.fhir.scopes import Grant, parse_scopes, scope_allows


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

    def may(self, resource_type: str, *, write: bool = False) -> bool:
        return scope_allows(list(self.grants), resource_type, write=write).allowed

    def require_scope(self, resource_type: str, *, write: bool = False) -> None:
        """Raise OutOfScope unless the token's scopes allow the action on the type."""
        decision = scope_allows(list(self.grants), resource_type, write=write)
        if not decision.allowed:
            raise OutOfScope(decision.reason)


def authenticate(request: HttpRequest, *, channel: str = "fhir") -> FhirContext:
    """The context of a request's bearer token; its actor acts through `channel` ("fhir", or
    "api" for the REST API, which takes the same tokens). Raises Unauthenticated."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        raise Unauthenticated(
            "A bearer token is required (OAuth 2.0, see /.well-known/smart-configuration)."
        )
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None) if valid else None
    if token is None:
        raise Unauthenticated("The bearer token is unknown, expired or revoked.")
    application = token.application
    user = token.user or (application.user if application is not None else None)
    if user is None or not user.is_active:
        raise Unauthenticated("The token acts for no active staff member.")
    client_id = application.client_id if application is not None else ""
    registered = (
        FhirClient.objects.filter(application_id=application.pk).first()
        if application is not None
        else None
    )
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
            client_name=application.name if application is not None else "",
            organization_id=user.organization_id,
            purpose=registered.purpose if registered is not None else Purpose.TREATMENT,
            outside_organization=registered.outside_organization if registered else "",
        ),
        grants=tuple(parse_scopes(token.scope or "")),
        scope=token.scope or "",
    )
