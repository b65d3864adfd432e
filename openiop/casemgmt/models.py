"""Case management (issue 18): the community resource directory of each site, referrals of a
patient to a resource, the case manager's tasks, and rides and childcare for sessions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.casemgmt.choices import ReferralStatus, ResourceKind, SupportKind, SupportStatus
from openiop.core.models import Part2Marked, TimeStamped, Versioned


class CommunityResource(TimeStamped, Versioned):
    """A place in the community a site refers patients to (a meeting, a shelter, a food pantry).
    Not patient data: the directory of the site."""

    site = models.ForeignKey(
        "programs.Site", on_delete=models.PROTECT, related_name="community_resources"
    )
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    hours = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["site", "kind", "name"], name="casemgmt_res_site_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Referral(TimeStamped, Versioned, Part2Marked):
    """A patient's referral to a community resource, within an episode of care. A referral of a
    substance-use episode is a 42 CFR Part 2 record (`part2`, set by referral_create)."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="community_referrals"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="community_referrals"
    )
    resource = models.ForeignKey(
        CommunityResource, on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.PROPOSED
    )
    follow_up_on = models.DateField(null=True, blank=True, help_text="When to check back")
    outcome = models.TextField(blank=True, help_text="What came of it")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Referral to {self.resource.name} ({self.get_status_display()})"


class CaseTask(TimeStamped, Part2Marked):
    """A to-do on a staff member's own list (My tasks), about a patient's episode or not."""

    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_tasks"
    )
    episode = models.ForeignKey(
        "episodes.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_tasks",
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=300)
    due_on = models.DateField(help_text="Clinic-local date")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "done_at", "due_on"], name="casemgmt_task_owner")]

    def __str__(self) -> str:
        return self.title


class SupportRequest(TimeStamped, Versioned, Part2Marked):
    """A ride (the clinic's van) or childcare a patient needs to come to one session, shown on
    that session's roster while requested or booked."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="support_requests"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="support_requests"
    )
    session = models.ForeignKey(
        "programs.GroupSession", on_delete=models.PROTECT, related_name="support_requests"
    )
    kind = models.CharField(max_length=20, choices=SupportKind.choices)
    status = models.CharField(
        max_length=20, choices=SupportStatus.choices, default=SupportStatus.REQUESTED
    )
    pickup_address = models.CharField(max_length=300, blank=True)
    pickup_at = models.DateTimeField(null=True, blank=True, help_text="Rides: when the van calls")
    notes = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["session__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "episode", "kind"],
                condition=~Q(status="cancelled"),
                name="casemgmt_one_live_request_per_session",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for session {self.session_id} ({self.status})"
