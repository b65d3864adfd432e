from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import Part2Marked, TimeStamped, Versioned
from openiop.notes.domain import written_text


class NoteKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    GROUP = "group", "Group"
    FAMILY = "family", "Family"
    # The prescriber's medication-management visit (issue 18.2): written and signed by prescribers.
    MEDICATION = "medication", "Medication management"


class NoteFormat(models.TextChoices):
    DAP = "dap", "DAP (data, assessment, plan)"
    BIRP = "birp", "BIRP (behavior, intervention, response, plan)"
    SOAP = "soap", "SOAP (subjective, objective, assessment, plan)"
    # The format of medication-management notes only (notes.domain.formats_for).
    MEDICATION = "medication", "Medication management (medications, response, adherence, plan)"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class ProgressNote(TimeStamped, Versioned, Part2Marked):
    """A progress note for one service. Individual and family notes have one section; a group note
    has the shared part (written once) and one section per attending member. Signing signs every
    section and locks the note; afterwards only addenda."""

    part2_episode_path = "sections__episode"

    kind = models.CharField(max_length=20, choices=NoteKind.choices)
    note_format = models.CharField("Format", max_length=10, choices=NoteFormat.choices)
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "programs.GroupSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="progress_notes",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The shared part of a group note (also used for an individual note's topic).
    topic = models.CharField(max_length=200, blank=True)
    curriculum_module = models.CharField(max_length=200, blank=True)
    modality = models.CharField(max_length=60, blank=True)
    interventions = models.TextField(blank=True, help_text="What the facilitators did")
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="cofacilitated_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_notes"
    )
    status = models.CharField(max_length=10, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    cosign_required_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notes_to_cosign",
        help_text="The supervisor who must co-sign (the author's supervisor when signed)",
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(kind="group", session__isnull=False),
                name="note_one_group_note_per_session",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="note_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "ends_at"], name="note_status_ends"),
            models.Index(fields=["author", "status"], name="note_author_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note {self.pk} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    @property
    def awaiting_cosign(self) -> bool:
        return self.is_signed and self.cosign_required_by_id is not None and not self.cosigned_at

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class NoteSection(TimeStamped, Part2Marked):
    """One member's part of a note: shown in that member's chart only."""

    note = models.ForeignKey(ProgressNote, on_delete=models.CASCADE, related_name="sections")
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="note_sections"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="note_sections"
    )
    attendance = models.ForeignKey(
        "attendance.Attendance",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="note_sections",
    )
    minutes_attended = models.PositiveIntegerField(null=True, blank=True)
    arrived_late = models.BooleanField(default=False)
    left_early = models.BooleanField(default=False)
    body = models.JSONField(default=dict, blank=True, help_text="Text per field of the format")
    objectives = models.ManyToManyField(
        "treatment.PlanObjective", blank=True, related_name="note_sections"
    )
    similarity_flagged = models.BooleanField(default=False)
    similarity_score = models.FloatField(null=True, blank=True)
    similarity_reason = models.CharField(
        max_length=500, blank=True, help_text="Why similar text is right for this member"
    )

    class Meta:
        ordering = ["patient__legal_last_name", "patient__legal_first_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["note", "episode"], name="note_section_once_per_member")
        ]
        indexes = [models.Index(fields=["patient", "note"], name="note_section_patient")]

    def __str__(self) -> str:
        return f"Section {self.pk} of note {self.note_id}"

    def text(self) -> str:
        """The section's text the author wrote, for the guard and for search (a medication
        note's copy of the medication list is the chart's text, not the author's)."""
        return written_text(self.body)


class NoteAddendum(TimeStamped, Part2Marked):
    """Text added to a member's section after signing; the signed text never changes."""

    part2_episode_path = "section__episode"

    section = models.ForeignKey(NoteSection, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "note addenda"

    def __str__(self) -> str:
        return f"Addendum {self.pk} to section {self.section_id}"
