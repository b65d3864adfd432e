from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.consents.choices import (
    Channel,
    ConsentSource,
    ExpiryEvent,
    Purpose,
    RecipientKind,
)
from openiop.core.models import TimeStamped, Versioned


class Consent(TimeStamped, Versioned):
    """A patient's written consent to disclose their 42 CFR Part 2 records, its 2.31(a) elements
    as data. Recorded by consents.services.consent_record; revoked (in writing, at once) by
    consent_revoke; never deleted."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consents"
    )
    discloser = models.CharField(
        "Who may disclose", max_length=200, help_text="The program, by name (2.31(a)(2))"
    )
    information = models.TextField(
        "Information to be disclosed", help_text="Specific and meaningful (2.31(a)(3))"
    )
    recipient_kind = models.CharField(max_length=20, choices=RecipientKind.choices)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_identifier = models.CharField(
        max_length=200,
        blank=True,
        help_text='"payer:<id>" for a payer on file, an API client id, else empty',
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    effective_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(
        max_length=20, choices=ExpiryEvent.choices, blank=True, default=""
    )
    signed_by_name = models.CharField(max_length=200)
    signed_by_relationship = models.CharField(
        max_length=60, default="patient", help_text="The patient, or their authorized person"
    )
    signed_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    intake_document = models.OneToOneField(
        "admissions.IntakeDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_method = models.CharField(
        max_length=20, blank=True, help_text="Written (42 CFR 2.31(a)(6))"
    )
    revocation_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "revoked_at"], name="consent_patient")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("effective_on")),
                name="consent_expires_after_effective",
            )
        ]

    def __str__(self) -> str:
        return f"Consent {self.pk} ({self.get_purpose_display()})"

    @property
    def recipient_words(self) -> str:
        if self.recipient_kind == RecipientKind.TPO_CLASS:
            from openiop.consents.domain import TPO_CLASS_WORDS

            return TPO_CLASS_WORDS
        return self.recipient_name or self.recipient_identifier


class DisclosureQuerySet(models.QuerySet["Disclosure"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("The accounting of disclosures is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The accounting of disclosures is append-only")


class Disclosure(models.Model):
    """One disclosure of a patient's Part 2 records outside the program: the accounting of
    disclosures (42 CFR 2.25). Append-only: written by consents.services.disclosure_record; on
    PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002)."""

    at = models.DateTimeField()
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="disclosures"
    )
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    disclosed_by_name = models.CharField(max_length=150, blank=True)
    discloser = models.CharField(max_length=200, help_text="The program that disclosed")
    recipient_kind = models.CharField(max_length=20, choices=RecipientKind.choices)
    recipient_identifier = models.CharField(max_length=200, blank=True)
    recipient_name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    description = models.CharField(max_length=500, help_text="What was disclosed, in words")
    resources = models.JSONField(
        default=list, blank=True, help_text='[{"type": "Claim", "id": "12"}, ...]'
    )
    notice_attached = models.BooleanField(default=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"], name="disclosure_patient_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} to {self.recipient_name} ({self.get_channel_display()})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("The accounting of disclosures is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type,unused-ignore]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("The accounting of disclosures is append-only")
