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


# Charges (issue 16). The values are billing.domain.charges' enums', so a stored value converts
# straight to the domain's (BillingMode(value)...).


class BillingMode(models.TextChoices):
    PER_DIEM = "per_diem", "Per diem (H0015 / S9480, one unit per attended day)"
    MEDICARE_IOP = "medicare_iop", "Medicare IOP (a line per service, condition code 92)"
    ITEMIZED = "itemized", "Itemized (a code per session)"


class ClaimForm(models.TextChoices):
    INSTITUTIONAL = "837I", "837I (institutional, UB-04)"
    PROFESSIONAL = "837P", "837P (professional, CMS-1500)"


class ChargeStatus(models.TextChoices):
    OPEN = "open", "Open"
    ON_CLAIM = "on_claim", "On a claim"
    VOIDED = "voided", "Voided"


class AdjustmentKind(models.TextChoices):
    ADD = "add", "Added"
    VOID = "void", "Voided"
    CHANGE = "change", "Changed"


# Authorizations and Medicare certifications (issue 16). The values are
# billing.domain.authorizations' enums', so a stored value converts straight to the domain's.


class AuthorizationUnitKind(models.TextChoices):
    UNITS = "units", "Units (each charge uses its units)"
    DAYS = "days", "Days (each service date uses one day)"


class RecertificationInterval(models.TextChoices):
    EVERY_OTHER_MONTH = "every_other_month", "Every other month (same day, two months later)"
    SIXTY_DAYS = "sixty_days", "Every 60 days"
    EARLIER_OF_BOTH = "earlier_of_both", "The earlier of the two"
