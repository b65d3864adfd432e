from django.db import models


class LevelOfCare(models.TextChoices):
    """ASAM Criteria levels (3rd edition names; ../shared/domain.md section 1)."""

    L1 = "1", "Level 1 · Outpatient"
    L2_1 = "2.1", "Level 2.1 · Intensive outpatient"
    L2_5 = "2.5", "Level 2.5 · Partial hospitalization"
    L3_1 = "3.1", "Level 3.1 · Clinically managed low-intensity residential"
    L3_5 = "3.5", "Level 3.5 · Clinically managed high-intensity residential"
    L3_7 = "3.7", "Level 3.7 · Medically monitored intensive inpatient"
    L4 = "4", "Level 4 · Medically managed intensive inpatient"


class EpisodeStatus(models.TextChoices):
    WAITLISTED = "waitlisted", "Waitlisted"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    DISCHARGED = "discharged", "Discharged"


OPEN_STATUSES = (EpisodeStatus.WAITLISTED, EpisodeStatus.ACTIVE, EpisodeStatus.ON_HOLD)


class DischargeReason(models.TextChoices):
    """TEDS discharge categories (../shared/domain.md section 8)."""

    COMPLETED = "completed", "Treatment completed"
    TRANSFERRED = "transferred", "Transferred to another program or facility"
    DROPPED_OUT = "dropped_out", "Dropped out (left against advice)"
    TERMINATED = "terminated", "Terminated by facility"
    OTHER = "other", "Other"


class TreatmentFocus(models.TextChoices):
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    CO_OCCURRING = "co_occurring", "Co-occurring (mental health and substance use)"


PART2_FOCUSES = (TreatmentFocus.SUBSTANCE_USE, TreatmentFocus.CO_OCCURRING)


class ReferralSource(models.TextChoices):
    SELF = "self", "Self"
    FAMILY = "family", "Family or friend"
    THERAPIST = "therapist", "Outpatient therapist"
    PHYSICIAN = "physician", "Physician / primary care"
    INPATIENT = "inpatient", "Inpatient unit (step-down)"
    PHP = "php", "Partial hospitalization (step-down)"
    COURT = "court", "Court / criminal justice"
    SCHOOL = "school", "School"
    EMPLOYER = "employer", "Employer / EAP"
    OTHER = "other", "Other"


class AlertKind(models.TextChoices):
    CONSECUTIVE_ABSENCES = "consecutive_absences", "Consecutive unexcused absences"
    BELOW_HOURS = "below_hours", "Below weekly hours minimum"
    # Raised by billing's daily job (billing.domain.authorizations.AlertKind, same values).
    AUTHORIZATION_USAGE = "authorization_usage", "Authorization mostly used"
    AUTHORIZATION_ENDING = "authorization_ending", "Authorization ending soon"
    RECERTIFICATION_DUE = "recertification_due", "Physician recertification due"
    CERTIFICATION_LAPSED = "certification_lapsed", "Physician certification lapsed"
    CERTIFICATION_MISSING = "certification_missing", "No physician certification on file"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
