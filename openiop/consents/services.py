"""The writes of Part 2 consents and of the accounting of disclosures: one doorway each, audited
(42 CFR 2.31 consent, 2.25 accounting; ../shared/domain.md section 5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from openiop.accounts.access import require, require_patient
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.consents import domain
from openiop.consents.choices import ConsentSource, RecipientKind
from openiop.consents.domain import Recipient
from openiop.consents.models import Consent, Disclosure
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation

if TYPE_CHECKING:
    from openiop.admissions.models import IntakeDocument
    from openiop.patients.models import Patient


def _audit(by: Actor, consent: Consent, action: str, detail: dict[str, Any]) -> None:
    audit_record(
        by,
        action=action,
        patient_id=consent.patient_id,
        object_type="consent",
        object_id=consent.pk,
        detail=detail,
    )


def consent_record(
    *,
    patient: Patient,
    information: str,
    recipient_kind: str,
    purpose: str,
    effective_on: dt.date,
    signed_by_name: str,
    signed_at: dt.datetime,
    by: Actor,
    recipient_name: str = "",
    recipient_identifier: str = "",
    expires_on: dt.date | None = None,
    expiry_event: str = "",
    signed_by_relationship: str = "patient",
    discloser: str = "",
    source: str = ConsentSource.PAPER,
    intake_document: IntakeDocument | None = None,
) -> Consent:
    """Record a patient's signed Part 2 consent with its 42 CFR 2.31(a) elements.

    `discloser` defaults to the patient's organization (the program). Raises RuleViolation (on
    the field) for a missing or inconsistent element (domain.consent_problems); NotPermitted
    (audited) without Cap.CONSENT_MANAGE at the patient's site."""
    require_patient(by, Cap.CONSENT_MANAGE, patient, object_type="consent")
    if recipient_kind not in RecipientKind.values:
        raise RuleViolation("Choose who receives the records.", field="recipient_kind")
    if purpose not in domain.PURPOSES_COVERED:
        raise RuleViolation("Choose the purpose.", field="purpose")
    problems = domain.consent_problems(
        recipient_kind=recipient_kind,
        recipient_name=recipient_name,
        recipient_identifier=recipient_identifier,
        purpose=purpose,
        information=information,
        effective_on=effective_on,
        expires_on=expires_on,
        expiry_event=expiry_event,
        signed_by=signed_by_name,
    )
    if problems:
        name, message = next(iter(problems.items()))
        raise RuleViolation(message, code="consent_incomplete", field=name)
    assert by.user is not None
    with transaction.atomic():
        consent = Consent.objects.create(
            patient=patient,
            discloser=(discloser or patient.organization.name)[:200],
            information=information.strip(),
            recipient_kind=recipient_kind,
            recipient_name=recipient_name.strip()[:200],
            recipient_identifier=recipient_identifier.strip()[:200],
            purpose=purpose,
            effective_on=effective_on,
            expires_on=expires_on,
            expiry_event=expiry_event,
            signed_by_name=" ".join(signed_by_name.split())[:200],
            signed_by_relationship=(signed_by_relationship or "patient").strip()[:60],
            signed_at=signed_at,
            source=source,
            intake_document=intake_document,
            recorded_by=by.user,
        )
        _audit(
            by,
            consent,
            AuditAction.CREATE,
            {"recipient_kind": recipient_kind, "purpose": purpose, "source": source},
        )
    return consent


def consent_revoke(
    *, consent: Consent, by: Actor, note: str = "", expected_version: int | None = None
) -> Consent:
    """Record the patient's written revocation (42 CFR 2.31(a)(6)): it takes effect at once, so
    every later decision withholds what this consent allowed. Raises RuleViolation when already
    revoked; Conflict on a stale version; NotPermitted (audited) without Cap.CONSENT_MANAGE."""
    require_patient(by, Cap.CONSENT_MANAGE, consent.patient, object_type="consent")
    with transaction.atomic():
        current = Consent.objects.select_for_update().get(pk=consent.pk)
        if current.revoked_at is not None:
            raise RuleViolation(
                f"This consent was already revoked on {current.revoked_at:%Y-%m-%d}.",
                code="already_revoked",
            )
        current.revoked_at = clock.now()
        current.revoked_by = by.user
        current.revocation_method = "written"
        current.revocation_note = note.strip()[:500]
        current.updated_at = current.revoked_at
        save_if_unchanged(
            current,
            expected_version=current.version if expected_version is None else expected_version,
            fields=[
                "revoked_at",
                "revoked_by_id",
                "revocation_method",
                "revocation_note",
                "updated_at",
            ],
        )
        _audit(by, current, AuditAction.UPDATE, {"event": "revoked", "method": "written"})
    return current


def consent_from_intake_document(*, document: IntakeDocument, by: Actor) -> Consent | None:
    """The Consent for a signed Part 2 consent of the intake packet: created from its details
    when they say a recipient, purpose and expiration in a form 42 CFR 2.31 names
    (domain.consent_from_packet), else None (staff record it by hand from the document; the
    consents page lists it). Idempotent: an already linked document returns its consent."""
    existing = Consent.objects.filter(intake_document=document).first()
    if existing is not None or not document.is_signed:
        return existing
    read = domain.consent_from_packet(dict(document.details or {}))
    if read is None:
        return None
    assert document.signed_at is not None
    return consent_record(
        patient=document.patient,
        information=str(document.details.get("information", "")),
        recipient_kind=read.recipient_kind,
        recipient_name=read.recipient_name,
        purpose=read.purpose,
        effective_on=document.signed_at.date(),
        expires_on=read.expires_on,
        expiry_event=read.expiry_event,
        signed_by_name=document.signed_name,
        signed_by_relationship=document.signer_relationship or "patient",
        signed_at=document.signed_at,
        source=ConsentSource.INTAKE_PACKET,
        intake_document=document,
        by=by,
    )


@dataclass(frozen=True)
class DisclosureItem:
    """What went about one patient: the consent relied on, in words and as resource references."""

    patient_id: int
    consent_id: int | None
    description: str
    resources: Sequence[dict[str, str]] = field(default_factory=tuple)


def disclosure_record(
    *,
    by: Actor,
    recipient: Recipient,
    purpose: str,
    channel: str,
    items: Sequence[DisclosureItem],
    discloser: str = "",
    notice_attached: bool = True,
    at: dt.datetime | None = None,
) -> list[Disclosure]:
    """Append the accounting of one disclosure (42 CFR 2.25): a row per patient whose Part 2
    records went (who disclosed, what, to whom, when, purpose, consent, channel), in one INSERT,
    and one audit entry naming them all. Nothing for a recipient inside the program.

    The caller has decided the disclosure (selectors.part2_release) and checked the actor's
    access; NotPermitted (audited) for an actor without a user."""
    if recipient.inside_program or not items:
        return []
    if by.user is None:
        require(by, Cap.CONSENT_VIEW, object_type="disclosure")  # refuses, audited
    when = at or clock.now()
    user = by.user
    org_name = discloser
    if not org_name and user is not None and user.organization is not None:
        org_name = user.organization.name
    rows = [
        Disclosure(
            at=when,
            patient_id=item.patient_id,
            disclosed_by=user,
            disclosed_by_name=(user.get_full_name() or user.username)[:150] if user else "",
            discloser=(org_name or "this program")[:200],
            recipient_kind=recipient.kind,
            recipient_identifier=recipient.identifier[:200],
            recipient_name=recipient.name[:200],
            purpose=purpose,
            consent_id=item.consent_id,
            channel=channel,
            description=item.description[:500],
            resources=list(item.resources),
            notice_attached=notice_attached,
        )
        for item in items
    ]
    with transaction.atomic():
        created = Disclosure.objects.bulk_create(rows)
        audit_record_many(
            by,
            action=AuditAction.EXPORT,
            object_type="disclosure",
            patient_ids={item.patient_id for item in items},
            detail={
                "recipient": recipient.name[:120],
                "purpose": purpose,
                "channel": channel,
                "patients": len(items),
            },
        )
    return created
