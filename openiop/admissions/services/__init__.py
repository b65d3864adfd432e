"""Every write of admissions goes through these functions: one doorway each, audited.

One module per step of the way in: inquiries, assessment (pre-screen, tasks and the
level-of-care assessment), admission, waitlist (taking a seat), waitlist_offers (offering one) and intake_packet; common holds the steps they
share with billing's services (the inquiry check, its lock, stage and audit entry).
"""

from openiop.admissions.services.admission import AdmissionResult, admission_admit
from openiop.admissions.services.assessment import (
    assessment_decide,
    assessment_save,
    assessment_schedule,
    prescreen_record,
    task_cap,
    task_complete,
)
from openiop.admissions.services.inquiries import (
    FOLLOW_UP_FIELDS,
    INQUIRY_FIELDS,
    inquiry_create,
    inquiry_link_patient,
    inquiry_move,
    inquiry_owner_choices,
    inquiry_submit_public,
    inquiry_update,
    public_post_count,
)
from openiop.admissions.services.intake_packet import (
    DATA_URL,
    SIGNATURE_MAX_CHARS,
    document_fill,
    document_sign,
    document_text_for,
    release_add,
)
from openiop.admissions.services.waitlist import waitlist_accept
from openiop.admissions.services.waitlist_offers import (
    next_session_date,
    waitlist_offer_freed_seats,
    waitlist_offer_seats,
)

__all__ = [
    "DATA_URL",
    "FOLLOW_UP_FIELDS",
    "INQUIRY_FIELDS",
    "SIGNATURE_MAX_CHARS",
    "AdmissionResult",
    "admission_admit",
    "assessment_decide",
    "assessment_save",
    "assessment_schedule",
    "document_fill",
    "document_sign",
    "document_text_for",
    "inquiry_create",
    "inquiry_link_patient",
    "inquiry_move",
    "inquiry_owner_choices",
    "inquiry_submit_public",
    "inquiry_update",
    "next_session_date",
    "prescreen_record",
    "public_post_count",
    "release_add",
    "task_cap",
    "task_complete",
    "waitlist_accept",
    "waitlist_offer_freed_seats",
    "waitlist_offer_seats",
]
