"""The intake packet of an episode: opening its documents at admission, filling in consents and
releases, signing them, and adding releases."""

from __future__ import annotations

import re

from django.db import transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.admissions.domain import packet
from openiop.admissions.models import IntakeDocument
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.consents.services import consent_from_intake_document
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.models import Episode

DATA_URL = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/=]+$")
SIGNATURE_MAX_CHARS = 200_000


def open_packet(episode: Episode, by: Actor) -> list[IntakeDocument]:
    """Open the packet's documents for a new episode, the Part 2 consent filled in; returns them.

    No check of its own: admission_admit calls it inside its transaction."""
    docs = [
        IntakeDocument(
            episode=episode,
            patient_id=episode.patient_id,
            kind=kind,
            document_version=packet.VERSIONS[kind],
            details=(
                {
                    "purpose": "for treatment, payment, and health care operations",
                    "recipients": "my treating providers, health plans, third-party payers, and "
                    "people helping to operate this program",
                    "information": "my substance use disorder diagnosis, treatment, attendance "
                    "and progress records",
                    "expiration": "when I revoke it in writing",
                }
                if kind == packet.PART2_CONSENT
                else {}
            ),
        )
        for kind in packet.PACKET
    ]
    IntakeDocument.objects.bulk_create(docs)
    return list(IntakeDocument.objects.filter(episode=episode).order_by("id"))


def _refuse_if_signed(document: IntakeDocument) -> None:
    if IntakeDocument.objects.filter(pk=document.pk, signed_at__isnull=False).exists():
        raise RuleViolation(
            "This document is signed and cannot change; add a new version instead.",
            code="signed",
        )


def document_fill(
    *,
    document: IntakeDocument,
    details: dict[str, str],
    by: Actor,
    expected_version: int | None = None,
) -> IntakeDocument:
    """Fill in a consent's or release's details (recipient, information, purpose, expiration).

    Raises RuleViolation once signed or for unknown details; Conflict on a stale version;
    NotPermitted (audited) without Cap.ADMISSIONS_MANAGE at the patient's site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, document.patient, object_type="intake_document")
    allowed = packet.DETAIL_FIELDS.get(document.kind, ())
    unknown = sorted(set(details) - set(allowed))
    if unknown:
        raise RuleViolation(f"Unknown details: {', '.join(unknown)}", code="details")
    with transaction.atomic():
        _refuse_if_signed(document)
        document.details = {k: (details.get(k) or "").strip()[:500] for k in allowed}
        document.updated_at = clock.now()
        save_if_unchanged(
            document, expected_version=expected_version, fields=["details", "updated_at"]
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=document.patient_id,
            object_type="intake_document",
            object_id=document.pk,
            detail={"event": "details", "kind": document.kind},
        )
    return document


def document_text_for(document: IntakeDocument) -> packet.DocumentText:
    """The text of a document: as signed once signed, else as it would read now."""
    patient = document.patient
    if document.is_signed:
        return packet.DocumentText(
            title=packet.TITLES[document.kind],
            version=document.document_version,
            paragraphs=tuple(document.text),
        )
    return packet.document_text(
        document.kind,
        patient_name=patient.legal_name,
        program_name=patient.organization.name,
        details=document.details,
    )


def document_sign(
    *,
    document: IntakeDocument,
    signed_name: str,
    by: Actor,
    signer_relationship: str = "",
    signature_png: str = "",
    expected_version: int | None = None,
) -> IntakeDocument:
    """Sign a packet document electronically: the typed name, an optional drawn signature, the
    time, the client address and the document's version are kept with the text as signed.

    Raises RuleViolation without a typed name, with missing details, an invalid drawing, or once
    signed (signed documents never change); Conflict on a stale version; NotPermitted (audited)
    without Cap.ADMISSIONS_MANAGE at the patient's site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, document.patient, object_type="intake_document")
    signed_name = " ".join((signed_name or "").split())
    if not signed_name:
        raise RuleViolation(
            "Type the signer's full name to sign.", code="required", field="signed_name"
        )
    if len(signed_name) > 200:
        raise RuleViolation("The name is too long.", code="too_long", field="signed_name")
    signature_png = (signature_png or "").strip()
    if signature_png and (
        len(signature_png) > SIGNATURE_MAX_CHARS or not DATA_URL.match(signature_png)
    ):
        raise RuleViolation(
            "The drawn signature could not be read; clear it and draw again, or sign by name.",
            code="signature",
            field="signature_png",
        )
    problems = packet.detail_problems(document.kind, document.details)
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleViolation(
            f"Fill in the document before signing: {message}", code="details", field=field
        )
    with transaction.atomic():
        _refuse_if_signed(document)
        text = document_text_for(document)
        document.text = list(text.paragraphs)
        document.signed_name = signed_name
        document.signer_relationship = (signer_relationship or "").strip()[:60]
        document.signature_png = signature_png
        document.signed_at = clock.now()
        document.signed_client_addr = by.client_addr[:64]
        document.witnessed_by = by.user
        document.updated_at = document.signed_at
        save_if_unchanged(
            document,
            expected_version=expected_version,
            fields=[
                "text",
                "signed_name",
                "signer_relationship",
                "signature_png",
                "signed_at",
                "signed_client_addr",
                "witnessed_by_id",
                "updated_at",
            ],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=document.patient_id,
            object_type="intake_document",
            object_id=document.pk,
            detail={
                "event": "signed",
                "kind": document.kind,
                "version": document.document_version,
                "drawn": bool(signature_png),
            },
        )
        if document.kind == packet.PART2_CONSENT:
            # The signed Part 2 consent becomes data the disclosure decision reads.
            consent_from_intake_document(document=document, by=by)
    return document


def release_add(*, episode: Episode, by: Actor) -> IntakeDocument:
    """Add another release of information to the episode's packet (one per recipient).

    Raises NotPermitted (audited) without Cap.ADMISSIONS_MANAGE at the patient's site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, episode.patient, object_type="intake_document")
    with transaction.atomic():
        document = IntakeDocument.objects.create(
            episode=episode,
            patient_id=episode.patient_id,
            kind=packet.RELEASE_OF_INFORMATION,
            document_version=packet.VERSIONS[packet.RELEASE_OF_INFORMATION],
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="intake_document",
            object_id=document.pk,
            detail={"kind": document.kind},
        )
    return document
