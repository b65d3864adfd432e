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
from openiop.consents.domain import OPERATIONS, PAYMENT, TREATMENT
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.fhir.models import FhirClient
from openiop.fhir.scopes import validate_registration


@dataclass(frozen=True)
class NewClient:
    client: FhirClient
    client_id: str
    client_secret: str  # shown once: only its hash is stored


# The purposes a client's disclosures of Part 2 records may have (42 CFR 2.31(a)(5)); a TPO
# consent covers each of the first three.
CLIENT_PURPOSES = (TREATMENT, PAYMENT, OPERATIONS)


def fhir_client_create(
    *, user: User, scopes: str, name: str, by: Actor, purpose: str = ""
) -> NewClient:
    """Register a confidential OAuth client (client credentials grant) that acts for `user`
    (usually a service account whose role and sites give what the integration needs) with the
    SMART `scopes` it may ask for, and the `purpose` of its disclosures of Part 2 records
    (treatment, payment or operations; blank: treatment).

    Raises NotPermitted (audited) without Cap.STAFF_MANAGE; RuleViolation for an inactive user,
    an unknown scope or none.
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
    if purpose and purpose not in CLIENT_PURPOSES:
        raise RuleViolation(f"The purpose is one of {', '.join(CLIENT_PURPOSES)}.", field="purpose")
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
                "purpose": purpose or TREATMENT,
            },
        )
    return NewClient(client=client, client_id=application.client_id, client_secret=secret)
