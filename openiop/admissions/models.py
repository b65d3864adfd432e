"""Admissions: inquiries and their pipeline, pre-screens, ASAM assessments, the waitlist, the packet.

Insurance (payers, coverages, benefits checks) and self-pay estimates live in `openiop.billing`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.admissions.choices import (
    AgeGroup,
    DocumentKind,
    ForWhom,
    InquiryChannel,
    Motivation,
    Stage,
    TaskStatus,
    Urgency,
    WaitlistStatus,
)
from openiop.admissions.domain import asam
from openiop.core.models import TimeStamped, Versioned
from openiop.episodes.choices import LevelOfCare, ReferralSource, TreatmentFocus
from openiop.episodes.domain import is_part2_protected

User = settings.AUTH_USER_MODEL


class Inquiry(TimeStamped, Versioned):
    """A first contact (call, text, web form, referral) about someone who may need the program."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="inquiries"
    )
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="inquiries")
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=InquiryChannel.choices)
    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices)
    referral_detail = models.CharField(max_length=200, blank=True)
    for_whom = models.CharField(max_length=20, choices=ForWhom.choices, default=ForWhom.SELF)
    caller_name = models.CharField(max_length=200, blank=True)
    caller_relationship = models.CharField(max_length=60, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(max_length=200, blank=True)
    concerns = models.CharField(max_length=20, choices=TreatmentFocus.choices)
    age_group = models.CharField(max_length=20, choices=AgeGroup.choices, default=AgeGroup.ADULT)
    urgency = models.CharField(max_length=20, choices=Urgency.choices, default=Urgency.ROUTINE)
    insurance_name = models.CharField(max_length=120, blank=True)
    insurance_member_id = models.CharField(max_length=60, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    stage = models.CharField(max_length=30, choices=Stage.choices, default="inquiry")
    stage_entered_on = models.DateField()
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_inquiries"
    )
    next_action = models.CharField(max_length=200, blank=True)
    next_action_date = models.DateField(null=True, blank=True)
    assessment_date = models.DateField(null=True, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inquiries",
        help_text="The existing patient this inquiry is linked to, or the one admission created",
    )
    episode = models.ForeignKey(
        "episodes.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inquiries",
    )
    high_risk = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "inquiries"
        indexes = [
            models.Index(fields=["site", "stage"], name="inquiry_site_stage"),
            models.Index(fields=["organization", "received_at"], name="inquiry_org_received"),
        ]

    def __str__(self) -> str:
        return f"Inquiry {self.pk}: {self.first_name} {self.last_name}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def part2_protected(self) -> bool:
        """Whether this inquiry's records concern substance use treatment (42 CFR Part 2): referral
        and assessment for SUD are Part 2 records before any episode exists."""
        return is_part2_protected(self.concerns)


class StageChange(TimeStamped):
    """The pipeline history of an inquiry: from which stage to which, when, by whom, why."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=30, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=30, choices=Stage.choices)
    on = models.DateField()
    changed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} -> {self.to_stage} on {self.on}"


class AdmissionTask(TimeStamped):
    """A task someone must act on; an urgent one comes from a high-risk pre-screen."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="tasks")
    urgent = models.BooleanField(default=False)
    title = models.CharField(max_length=300)
    assigned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="admission_tasks"
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-urgent", "created_at"]

    def __str__(self) -> str:
        return self.title


class Prescreen(TimeStamped):
    """The pre-screen answers, the C-SSRS screener answers and the result; never edited."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="prescreens")
    needs_24h_supervision = models.BooleanField()
    needs_medical_withdrawal = models.BooleanField()
    safe_home = models.BooleanField()
    substance_free_home = models.BooleanField()
    outpatient_not_enough = models.BooleanField()
    can_attend = models.BooleanField()
    motivation = models.CharField(max_length=20, choices=Motivation.choices)
    cssrs_answers = models.JSONField(help_text="Seven C-SSRS screener answers, 1 = yes")
    cssrs_tier = models.CharField(max_length=10)
    outcome = models.CharField(max_length=20)
    reasons = models.JSONField(default=list)
    notes = models.TextField(max_length=2000, blank=True)
    screened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Pre-screen {self.pk} ({self.outcome})"


class Assessment(TimeStamped, Versioned):
    """An ASAM level-of-care assessment: drafted, then accepted or overridden (then never edited)."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="assessments")
    edition = models.CharField(max_length=1, choices=[("3", "3rd edition"), ("4", "4th edition")])
    ratings = models.JSONField(help_text="[{dimension, rating, notes}] for the six dimensions")
    recommended_level = models.CharField(max_length=4, choices=LevelOfCare.choices)
    withdrawal_management = models.BooleanField(default=False)
    reasons = models.JSONField(default=list)
    why_not_lower = models.TextField()
    why_not_higher = models.TextField()
    chosen_level = models.CharField(max_length=4, choices=LevelOfCare.choices, blank=True)
    override_justification = models.TextField(max_length=2000, blank=True)
    assessed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Assessment {self.pk} (recommends {self.recommended_level})"

    @property
    def is_decided(self) -> bool:
        return self.decided_at is not None

    @property
    def is_override(self) -> bool:
        return bool(self.chosen_level) and self.chosen_level != self.recommended_level

    @property
    def recommended_level_name(self) -> str:
        """The recommended level with its name in this assessment's edition."""
        return asam.level_name(self.recommended_level, self.edition)

    @property
    def chosen_level_name(self) -> str:
        return asam.level_name(self.chosen_level, self.edition) if self.chosen_level else ""


class WaitlistEntry(TimeStamped):
    """An admitted episode waiting for a seat in a full track; offered a seat when one frees."""

    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="waitlist")
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    joined_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offered_start_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "episode"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_once_per_track",
            )
        ]

    def __str__(self) -> str:
        return f"{self.episode} waiting for {self.track}"

    def position(self) -> int | None:
        """Place in line among the track's waiting entries (1 = next; first come, first served);
        None once offered or closed. One query."""
        if self.status != WaitlistStatus.WAITING:
            return None
        ahead = WaitlistEntry.objects.filter(
            Q(joined_at__lt=self.joined_at) | Q(joined_at=self.joined_at, id__lt=self.pk),
            track_id=self.track_id,
            status=WaitlistStatus.WAITING,
        ).count()
        return ahead + 1


class IntakeDocument(TimeStamped, Versioned):
    """One document of the intake packet; signed once (typed name, optional drawing), then fixed."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="intake_documents"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intake_documents"
    )
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    document_version = models.CharField(max_length=20)
    details = models.JSONField(default=dict, blank=True)
    text = models.JSONField(default=list, blank=True, help_text="The paragraphs as signed")
    signed_name = models.CharField(max_length=200, blank=True)
    signer_relationship = models.CharField(max_length=60, blank=True)
    signature_png = models.TextField(blank=True, help_text="data:image/png;base64 drawing")
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_client_addr = models.CharField(max_length=64, blank=True)
    witnessed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "kind"],
                condition=~Q(kind="release_of_information"),
                name="intake_document_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'signed' if self.signed_at else 'to sign'})"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class PublicInquiryThrottle(models.Model):
    """Posts of the public inquiry form per client address and clock hour.

    Kept in the database so every worker process shares one count: a per-process cache would
    multiply the limit by the number of workers and forget it on each restart.
    """

    client_key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_key", "window_start"], name="public_throttle_once_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_key} {self.window_start:%Y-%m-%d %H:00}: {self.count}"
