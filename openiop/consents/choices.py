from __future__ import annotations

from django.db import models


class RecipientKind(models.TextChoices):
    """Who a consent names as recipient (42 CFR 2.31(a)(4)): by name, or as the single TPO class."""

    TPO_CLASS = "tpo_class", "My treating providers, health plans, third-party payers (TPO)"
    PAYER = "payer", "A payer (health plan) on file"
    ORGANIZATION = "organization", "A named organization"
    API_CLIENT = "api_client", "An API client (integration) of another organization"
    PERSON = "person", "A named person (family member, friend)"


class Purpose(models.TextChoices):
    """The purpose of a disclosure (42 CFR 2.31(a)(5))."""

    TPO = "tpo", "Treatment, payment and health care operations"
    TREATMENT = "treatment", "Treatment"
    PAYMENT = "payment", "Payment"
    OPERATIONS = "operations", "Health care operations"
    PATIENT_REQUEST = "patient_request", "At the patient's request"


class ExpiryEvent(models.TextChoices):
    NONE = "", "A date (or none: a TPO consent lasts until revoked)"
    END_OF_TREATMENT = "end_of_treatment", "End of treatment"


class ConsentSource(models.TextChoices):
    INTAKE_PACKET = "intake_packet", "Signed in the intake packet"
    PAPER = "paper", "Signed on paper"
    ELECTRONIC = "electronic", "Signed electronically"


class Channel(models.TextChoices):
    """The way a disclosure left the program."""

    CLAIM_EXPORT = "claim_export", "837 claim export"
    REVIEW_PACKET = "review_packet", "Concurrent-review packet"
    PRINT = "print", "Printed record"
    FHIR_API = "fhir_api", "FHIR API"
    BULK_EXPORT = "bulk_export", "Bulk export"
    PORTAL = "portal", "Patient portal"
