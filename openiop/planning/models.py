"""A stored week's plan: what the planner proposed for a site's week, as the director edits it,
until it is accepted into the rosters or discarded (issue 19 point 3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.core.models import TimeStamped, Versioned


class ProposalStatus(models.TextChoices):
    QUEUED = "queued", "Planning"
    DRAFT = "draft", "Draft"
    ACCEPTED = "accepted", "Accepted"
    DISCARDED = "discarded", "Discarded"
    FAILED = "failed", "Failed"


class PlanProposal(TimeStamped, Versioned):
    """One proposal for one site's week (all its tracks, or one track's sessions).

    `instance` is the week as the database stood when the proposal was made
    (openiop.planning.domain.jsonio's instance format; ids are e<episode>, s<session>,
    u<user>, r<room>, t<track>), `fixed.patient_sessions` being the rosters then. `solution` is
    the planner's answer, then the director's edits (null while the job runs). `version` detects
    two edits of the same proposal at once."""

    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="+")
    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    week_start = models.DateField(help_text="The Monday of the planned week (site-local)")
    status = models.CharField(
        max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.QUEUED
    )
    instance = models.JSONField()
    solution = models.JSONField(null=True, blank=True)
    job = models.ForeignKey(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    seats_added = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "week_start"], name="plan_site_week")]

    def __str__(self) -> str:
        return f"Plan {self.pk} for week of {self.week_start} ({self.status})"
