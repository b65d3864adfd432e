from django.db import models

from openiop.measures.domain import REGISTRY

INSTRUMENT_CHOICES = [(key, instrument.label) for key, instrument in REGISTRY.items()]


class ResponseMode(models.TextChoices):
    STAFF = "staff", "Entered by staff in the chart"
    PATIENT_LINK = "patient_link", "Patient, on their own device (link)"
    TABLET = "tablet", "Patient, on a clinic tablet (link)"


class LinkPurpose(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    SAFETY_PLAN = "safety_plan", "Safety plan"


class AlertReason(models.TextChoices):
    ITEM9 = "item9", "Thoughts of death or self-harm (item 9)"
    CSSRS = "cssrs", "C-SSRS screen at moderate or high risk"
    CLINICIAN = "clinician_flag", "Flagged by a clinician"


class RiskLevel(models.TextChoices):
    NONE = "none", "No current risk identified"
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"
    UNASSESSED = "unassessed", "Positive screen, not yet assessed"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


class AlertAction(models.TextChoices):
    """What the clinician did (../shared/domain.md section 7, the positive-screen workflow)."""

    CSSRS_DONE = "cssrs_done", "C-SSRS done"
    SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", "Safety plan written or reviewed"
    HIGHER_LEVEL = "higher_level_of_care", "Referred to a higher level of care"
    EMERGENCY = "emergency_services", "Emergency services contacted"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
