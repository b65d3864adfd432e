"""A backend client of the FHIR API: an OAuth application, the staff user it acts for (the
application's user) and the SMART scopes registered for it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings


class FhirClient(models.Model):
    """The SMART scopes an OAuth application may ask for, and who registered it when.

    The application's `user` is the staff member (often a service account) the client acts for:
    every request with its token has that user's role and sites, and audit entries name them
    with the client id.
    """

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="fhir_client",
    )
    scopes = models.CharField(max_length=2000, help_text="Space-separated SMART scopes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"FHIR client {self.application_id}: {self.scopes}"
