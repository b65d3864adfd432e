"""An uploaded import file kept between its dry run and its import, and the link from another
EHR's patient id to ours (how a second import of the same file merges instead of duplicating)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.core.models import TimeStamped


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    FHIR = "fhir", "FHIR Bundle of Patients (JSON)"


class BatchStatus(models.TextChoices):
    PLANNED = "planned", "Dry run done: waiting for confirmation"
    QUEUED = "queued", "Importing in the background"
    APPLIED = "applied", "Imported"
    FAILED = "failed", "Refused at import: nothing written"
    DISCARDED = "discarded", "Discarded"


class ImportBatch(TimeStamped):
    """One uploaded file at one site: its text until it is imported or discarded (then cleared),
    the row-by-row report of its last dry run or import, and who uploaded it."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source_name = models.CharField(max_length=100, help_text="The EHR the file comes from")
    file_name = models.CharField(max_length=200)
    file_format = models.CharField(max_length=10, choices=ImportFormat.choices)
    content = models.TextField(blank=True, help_text="Cleared once imported or discarded")
    status = models.CharField(max_length=20, choices=BatchStatus.choices)
    report = models.JSONField(
        default=list, help_text="One entry per row: the last dry run or import"
    )
    summary = models.CharField(max_length=300, blank=True)
    job = models.ForeignKey(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["site", "created_at"], name="import_batch_site_created")]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.file_name} ({self.get_status_display()})"


class ImportedIdentity(TimeStamped):
    """Another EHR's id for one of our patients: the same id imported again merges into them."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="+"
    )
    source_name = models.CharField(max_length=100)
    external_id = models.CharField(max_length=64)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="imported_identities"
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="identities"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_name", "external_id"],
                name="imported_identity_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_name} {self.external_id}"
