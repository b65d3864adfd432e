"""Registering a backend client of the FHIR API: one service, audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.consents.choices import Purpose
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.fhir.models import CLIENT_PURPOSES, FhirClient
from openiop.fhir.scopes import validate_registration


@dataclass(frozen=True)
class NewClient:
    client: FhirClient
    client_id: str
    client_secret: str  # shown once: only its hash is stored


def fhir_client_create(
    *,
    user: User,
    scopes: str,
    name: str,
    by: Actor,
    purpose: str = Purpose.TREATMENT,
    outside_organization: str = "",
) -> NewClient:
    """Register a confidential OAuth client (client credentials grant) that acts for `user`
    (usually a service account whose role and sites give what the integration needs) with the
    SMART `scopes` it may ask for, its `purpose` of use (consents.choices.Purpose, not the
    single TPO purpose: a disclosure states one) and, for an integration serving another
    organization, that `outside_organization` (its reads of Part 2 records are then disclosures,
    made only under the patient's consent).

    Raises NotPermitted (audited) without Cap.STAFF_MANAGE; RuleViolation for an inactive user,
    an unknown scope or none, or a purpose that is not one of CLIENT_PURPOSES.
    """
    require(by, Cap.STAFF_MANAGE, object_type="fhir_client")
    scopes = " ".join(scopes.split())
    if not scopes:
        raise RuleViolation("Give the client at least one SMART scope.", field="scopes")
    if unknown := validate_registration(scopes):
        raise RuleViolation(
            f"Not SMART scopes this server knows: {', '.join(unknown)} "
            "(e.g. system/*.read, system/Observation.read, user/Patient.write).",
            field="scopes",
        )
    if purpose not in dict(CLIENT_PURPOSES):
        raise RuleViolation(
            "Give the client one purpose of use: "
            + ", ".join(value for value, _label in CLIENT_PURPOSES)
            + ".",
            field="purpose",
        )
    outside_organization = " ".join(outside_organization.split())[:200]
    if not user.is_active:
        raise RuleViolation(f"{user.username} is not an active staff member.", field="user")
    if (
        by.user is not None
        and by.user.organization_id
        and user.organization_id != by.user.organization_id
    ):
        raise RuleViolation("That staff member is in another organization.", field="user")
    application_model = get_application_model()
    secret = generate_client_secret()
    with transaction.atomic():
        application = application_model.objects.create(
            user=user,
            name=name[:255],
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        client = FhirClient.objects.create(
            application=application,
            scopes=scopes,
            purpose=purpose,
            outside_organization=outside_organization,
            created_by=by.user,
            created_at=clock.now(),
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="fhir_client",
            object_id=client.pk,
            detail={
                "client_id": application.client_id,
                "user": user.username,
                "scopes": scopes,
                "purpose": purpose,
                "outside_organization": outside_organization,
            },
        )
    return NewClient(client=client, client_id=application.client_id, client_secret=secret)
