"""A backend client of the FHIR API: an OAuth application, the staff user it acts for (the
application's user) and the SMART scopes registered for it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings

from openiop.consents.choices import Purpose

# A disclosure states one purpose: the single TPO purpose is a consent's, not a client's.
CLIENT_PURPOSES = [(value, label) for value, label in Purpose.choices if value != Purpose.TPO]


class FhirClient(models.Model):
    """The SMART scopes an OAuth application may ask for, and who registered it when.

    The application's `user` is the staff member (often a service account) the client acts for:
    every request with its token has that user's role and sites, and audit entries name them
    with the client id.

    Inside the program: a client of the program's own organization (its user's), unless it is
    registered for an `outside_organization` (an integration the program runs for another
    organization). Outside it, records of Part 2 episodes go only where a consent covers the
    client for its `purpose` of use (42 CFR Part 2; openiop.fhir.part2).
    """

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="fhir_client",
    )
    scopes = models.CharField(max_length=2000, help_text="Space-separated SMART scopes")
    purpose = models.CharField(
        max_length=20,
        choices=CLIENT_PURPOSES,
        default=Purpose.TREATMENT,
        help_text="The purpose of use of what the client reads (42 CFR 2.31(a)(5))",
    )
    outside_organization = models.CharField(
        max_length=200,
        blank=True,
        help_text="The other organization this client serves (empty: the user's own)",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"FHIR client {self.application_id}: {self.scopes}"


class ExportKind(models.TextChoices):
    """The level of a FHIR Bulk Data export: the whole system, a group's patients, every patient."""

    SYSTEM = "system", "System ($export)"
    GROUP = "group", "Group (Group/{id}/$export)"
    PATIENT = "patient", "Patients (Patient/$export)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class BulkExport(models.Model):
    """One FHIR Bulk Data export (`$export`): who asked for it, what, how far it has got, and
    its NDJSON files (BulkExportFile).

    `client_id` is the OAuth client that kicked it off ("" from the command line): only that
    client sees its status and files. The files live in the database, so an export works on a
    fresh machine, in CI and with several web and worker machines alike; exports older than
    fhir.exports.EXPORT_KEEP are deleted with their files (fhir.tasks.prune_bulk_exports).
    """

    client_id = models.CharField(max_length=100, blank=True, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ExportKind.choices)
    # The group's id as the client named it (track-<pk> or site-<pk>), blank otherwise.
    group_id = models.CharField(max_length=40, blank=True)
    # The request as the manifest repeats it, and its parsed parameters: types, since, purpose.
    request_url = models.CharField(max_length=2000)
    params = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    # The manifest's transactionTime: the moment the export's data were read from.
    transaction_time = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Bulk export {self.pk} ({self.kind}, {self.status})"


class BulkExportFile(models.Model):
    """One NDJSON file of an export: up to fhir.exports.FILE_LINES resources of one type (a
    type with more has several parts), or, with `is_error`, the OperationOutcome lines of the
    manifest's `error` list (what was withheld under Part 2, counted, never described)."""

    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    part = models.PositiveIntegerField(default=1)
    is_error = models.BooleanField(default=False)
    count = models.PositiveIntegerField(default=0)
    ndjson = models.TextField()

    class Meta:
        ordering = ["export", "is_error", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["export", "resource_type", "part", "is_error"],
                name="bulk_export_file_unique_part",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} part {self.part} of export {self.export_id}"
