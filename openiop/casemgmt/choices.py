"""The kinds and statuses of case management (issue 18): shared by models, forms and views."""

from __future__ import annotations

from django.db import models


class ResourceKind(models.TextChoices):
    SUPPORT_GROUP = "support_group", "Support group / 12-step meeting"
    SOBER_LIVING = "sober_living", "Sober living"
    HOUSING = "housing", "Housing"
    FOOD = "food", "Food"
    LEGAL = "legal", "Legal"
    EMPLOYMENT = "employment", "Employment"
    TRANSPORTATION = "transportation", "Transportation"
    CHILDCARE = "childcare", "Childcare"
    OTHER = "other", "Other"


class ReferralStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class SupportKind(models.TextChoices):
    TRANSPORTATION = "transportation", "Ride (van)"
    CHILDCARE = "childcare", "Childcare"


class SupportStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"


class TaskView(models.TextChoices):
    """The lists of the My tasks page."""

    OPEN = "open", "Open"
    OVERDUE = "overdue", "Overdue"
    DONE = "done", "Done"
