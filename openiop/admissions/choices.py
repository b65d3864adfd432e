from django.db import models

from openiop.admissions.domain import packet, pipeline


class InquiryChannel(models.TextChoices):
    CALL = "call", "Phone call"
    TEXT = "text", "Text message"
    WEB_FORM = "web_form", "Web form"
    REFERRAL = "referral", "Referral"


class AgeGroup(models.TextChoices):
    ADULT = "adult", "Adult"
    ADOLESCENT = "adolescent", "Adolescent"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SOON = "soon", "Soon (this week)"
    URGENT = "urgent", "Urgent (today)"


class ForWhom(models.TextChoices):
    SELF = "self", "The caller"
    SOMEONE_ELSE = "someone_else", "Someone else (family, client, patient)"


class Stage(models.TextChoices):
    """The pipeline stages; `admissions.domain.pipeline` holds the rules about them."""

    INQUIRY = pipeline.INQUIRY, pipeline.STAGE_LABELS[pipeline.INQUIRY]
    PRESCREEN = pipeline.PRESCREEN, pipeline.STAGE_LABELS[pipeline.PRESCREEN]
    ASSESSMENT_SCHEDULED = (
        pipeline.ASSESSMENT_SCHEDULED,
        pipeline.STAGE_LABELS[pipeline.ASSESSMENT_SCHEDULED],
    )
    ASSESSED = pipeline.ASSESSED, pipeline.STAGE_LABELS[pipeline.ASSESSED]
    BENEFITS_VERIFIED = (
        pipeline.BENEFITS_VERIFIED,
        pipeline.STAGE_LABELS[pipeline.BENEFITS_VERIFIED],
    )
    ADMITTED = pipeline.ADMITTED, pipeline.STAGE_LABELS[pipeline.ADMITTED]
    REFERRED_ELSEWHERE = (
        pipeline.REFERRED_ELSEWHERE,
        pipeline.STAGE_LABELS[pipeline.REFERRED_ELSEWHERE],
    )
    DECLINED = pipeline.DECLINED, pipeline.STAGE_LABELS[pipeline.DECLINED]
    LOST_TO_FOLLOW_UP = (
        pipeline.LOST_TO_FOLLOW_UP,
        pipeline.STAGE_LABELS[pipeline.LOST_TO_FOLLOW_UP],
    )


class Motivation(models.TextChoices):
    READY = "ready", "Ready to start"
    AMBIVALENT = "ambivalent", "Ambivalent"
    NOT_READY = "not_ready", "Not ready"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Seat offered"
    ENROLLED = "enrolled", "Enrolled"
    WITHDRAWN = "withdrawn", "Withdrawn"


class DocumentKind(models.TextChoices):
    CONSENT_TO_TREATMENT = packet.CONSENT_TO_TREATMENT, packet.TITLES[packet.CONSENT_TO_TREATMENT]
    PART2_CONSENT = packet.PART2_CONSENT, "42 CFR Part 2 consent"
    RELEASE_OF_INFORMATION = packet.RELEASE_OF_INFORMATION, "Release of information"
    FINANCIAL_AGREEMENT = packet.FINANCIAL_AGREEMENT, "Financial agreement"
    PATIENT_RIGHTS = packet.PATIENT_RIGHTS, "Patient rights"
    PRIVACY_NOTICE = packet.PRIVACY_NOTICE, "Privacy notice"
