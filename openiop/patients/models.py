from __future__ import annotations

from django.db import models
from django.db.models.functions import Upper

from openiop.core.models import TimeStamped, Versioned
from openiop.patients.choices import Relationship, Sex


class Patient(TimeStamped, Versioned):
    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="patients"
    )
    site = models.ForeignKey(
        "programs.Site",
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="Home site: staff limited to their own sites see the patients of those sites",
    )
    mrn = models.CharField("MRN", max_length=20, editable=False)
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, help_text="Sex assigned at birth")
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    language = models.CharField(max_length=40, default="English")
    # Search helpers, kept lower-case by the service that writes the patient.
    search_name = models.CharField(max_length=320, editable=False, default="")

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mrn"], name="patient_unique_mrn")
        ]
        indexes = [
            models.Index(fields=["search_name"], name="patient_search_name"),
            models.Index(fields=["date_of_birth"], name="patient_dob"),
            models.Index(
                fields=["site", "legal_last_name", "legal_first_name"], name="patient_site_name"
            ),
            # MRN look-ups ignore case (mrn__iexact: the audit search, the chart by MRN): without
            # this, a scan of every patient (5 ms at 20,000).
            models.Index(Upper("mrn"), name="patient_mrn_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        """Preferred first name with the legal last name, as staff address the person."""
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"


class PatientContact(TimeStamped):
    """A family member, guardian or emergency contact."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    is_emergency_contact = models.BooleanField(default=False)
    is_legal_guardian = models.BooleanField(default=False)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-is_emergency_contact", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"
