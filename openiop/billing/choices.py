from django.db import models


class PayerType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"
    TRIBAL_IHS = "tribal_ihs", "Tribal / IHS"
    SELF_PAY = "self_pay", "Self-pay"


class CoverageRank(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


class SubscriberRelationship(models.TextChoices):
    SELF = "self", "Self"
    SPOUSE = "spouse", "Spouse / partner"
    CHILD = "child", "Child (subscriber is parent)"
    OTHER = "other", "Other"
