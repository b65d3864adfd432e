from django.db import models


class AgeBand(models.TextChoices):
    ADULT = "adult", "Adults (18+)"
    ADOLESCENT = "adolescent", "Adolescents (13-17)"
    TWEEN = "tween", "Tweens (10-12)"


class BlockKind(models.TextChoices):
    GROUP_THERAPY = "group_therapy", "Group therapy"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    SKILLS = "skills", "Skills workshop"
    HOLISTIC = "holistic", "Holistic (mindfulness, yoga)"
    FAMILY_GROUP = "family_group", "Family group"


class SessionKind(models.TextChoices):
    GROUP_THERAPY = "group_therapy", "Group therapy"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    SKILLS = "skills", "Skills workshop"
    HOLISTIC = "holistic", "Holistic (mindfulness, yoga)"
    FAMILY_GROUP = "family_group", "Family group"
    INDIVIDUAL = "individual", "Individual therapy"
    FAMILY = "family", "Family therapy"
    # A prescriber visit (issue 18.2): booked for one episode like individual and family sessions;
    # its provider is a prescriber and its note is a medication-management note.
    MEDICATION_MANAGEMENT = "medication_mgmt", "Medication management (prescriber visit)"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
