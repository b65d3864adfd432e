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
