"""Roles and what each may do: a pure table, so the permission matrix can be read and tested.

Minimum necessary (45 CFR 164.502(b), 164.514(d)): each role gets the capabilities its work needs.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INTAKE = "intake"
    CLINICIAN = "clinician"
    CASE_MANAGER = "case_manager"
    PRESCRIBER = "prescriber"
    BILLING = "billing"
    DIRECTOR = "director"
    ADMIN = "admin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.INTAKE: "Intake coordinator",
    Role.CLINICIAN: "Clinician (group facilitator)",
    Role.CASE_MANAGER: "Case manager",
    Role.PRESCRIBER: "Prescriber / nurse",
    Role.BILLING: "Billing",
    Role.DIRECTOR: "Program director",
    Role.ADMIN: "Administrator",
    Role.AUDITOR: "Auditor",
}


class Cap(StrEnum):
    """Capabilities. Names say what is seen or done."""

    PATIENT_DEMOGRAPHICS = "patient.demographics"  # name, DOB, contacts, MRN
    PATIENT_EDIT = "patient.edit"  # create and edit demographics and contacts
    EPISODE_VIEW = "episode.view"  # episode status, dates, level of care, enrollments
    EPISODE_MANAGE = "episode.manage"  # open, change level, hold, discharge, enroll
    # Discharge the episodes of which one is the primary clinician (episodes.services)
    EPISODE_DISCHARGE_OWN = "episode.discharge_own"
    CLINICAL_VIEW = (
        "clinical.view"  # clinical chart: attendance detail, alerts, (later) notes, scores
    )
    NOTE_TEXT = "note.text"  # the text of clinical notes
    ATTENDANCE_VIEW = "attendance.view"  # rosters and hours (billing needs hours for claims)
    ATTENDANCE_RECORD = "attendance.record"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_MANAGE = "schedule.manage"  # tracks, blocks, closures, moving/cancelling sessions
    APPOINTMENT_BOOK = "appointment.book"  # individual and family sessions
    ALERT_ACK = "alert.ack"
    MEASURE_RECORD = (
        "measure.record"  # enter questionnaire answers, send links, safety plans, flag risk
    )
    AUDIT_VIEW = "audit.view"
    STAFF_MANAGE = "staff.manage"
    ALL_SITES = "sites.all"  # not limited to the user's own sites
    ADMISSIONS_VIEW = "admissions.view"  # inquiries and the admissions pipeline board
    ADMISSIONS_MANAGE = "admissions.manage"  # record inquiries, move them, admit, intake packet
    # The pre-screen with the C-SSRS screener: the front desk takes the first call, and the
    # screener's screen version is made for non-clinicians. Its urgent task stays clinical.
    ADMISSIONS_PRESCREEN = "admissions.prescreen"
    ADMISSIONS_ASSESS = "admissions.assess"  # level-of-care assessment, urgent (safety) tasks
    BENEFITS_MANAGE = "benefits.manage"  # payers, coverages, benefits checks, self-pay estimates
    # The revenue cycle: fee schedules and payer billing rules, charges, claims, authorizations,
    # remittances and patient accounts. Billing staff and the director; not intake.
    REVENUE_MANAGE = "revenue.manage"
    # 42 CFR Part 2 consents and the accounting of disclosures: see them (billing too, to know
    # whether a payer may be sent a claim) and record or revoke them.
    CONSENT_VIEW = "consent.view"
    CONSENT_MANAGE = "consent.manage"
    # Medications and MAT (openiop.medications, issue 18): the medication list, allergies and MAT
    # episodes are read with CLINICAL_VIEW; recording them and the doses given in the clinic is
    # the prescriber's and nurse's work.
    MEDICATION_RECORD = "medication.record"
    # Drug and alcohol testing (openiop.drugtests, issue 18): results are Part 2 records read by the
    # clinical team that acts on them (clinicians, prescribers, the director), not case managers,
    # intake or billing. Clinicians and nurses order tests and enter results; the prescriber
    # answers the reconciliation flags.
    DRUGTEST_VIEW = "drugtest.view"
    DRUGTEST_RECORD = "drugtest.record"
    DRUGTEST_RESPOND = "drugtest.respond"
    # Case management (issue 18): the community resource directory, referrals of patients to
    # resources, the case manager's tasks, and rides and childcare booked for sessions.
    CASE_MANAGE = "casemgmt.manage"
    # Prescriber visits (issue 18.2): conduct a medication-management visit and write and sign its
    # note. Booking the visit stays Cap.APPOINTMENT_BOOK; its provider must have this one.
    PRESCRIBER_VISIT = "prescriber.visit"


ROLE_CAPS: dict[Role, frozenset[Cap]] = {
    Role.INTAKE: frozenset(
        {
            Cap.ADMISSIONS_VIEW,
            Cap.ADMISSIONS_MANAGE,
            Cap.ADMISSIONS_PRESCREEN,
            Cap.BENEFITS_MANAGE,
            Cap.PATIENT_DEMOGRAPHICS,
            Cap.PATIENT_EDIT,
            Cap.EPISODE_VIEW,
            Cap.EPISODE_MANAGE,
            Cap.SCHEDULE_VIEW,
            Cap.CONSENT_VIEW,
            Cap.CONSENT_MANAGE,
        }
    ),
    Role.CLINICIAN: frozenset(
        {
            Cap.ADMISSIONS_VIEW,
            Cap.ADMISSIONS_PRESCREEN,
            Cap.ADMISSIONS_ASSESS,
            Cap.PATIENT_DEMOGRAPHICS,
            Cap.EPISODE_VIEW,
            Cap.EPISODE_DISCHARGE_OWN,
            Cap.CLINICAL_VIEW,
            Cap.NOTE_TEXT,
            Cap.ATTENDANCE_VIEW,
            Cap.ATTENDANCE_RECORD,
            Cap.SCHEDULE_VIEW,
            Cap.APPOINTMENT_BOOK,
            Cap.ALERT_ACK,
            Cap.MEASURE_RECORD,
            Cap.CONSENT_VIEW,
            Cap.CONSENT_MANAGE,
            Cap.DRUGTEST_VIEW,
            Cap.DRUGTEST_RECORD,
        }
    ),
    Role.CASE_MANAGER: frozenset(
        {
            Cap.ADMISSIONS_VIEW,
            Cap.ADMISSIONS_MANAGE,
            Cap.ADMISSIONS_PRESCREEN,
            Cap.ADMISSIONS_ASSESS,
            Cap.PATIENT_DEMOGRAPHICS,
            Cap.PATIENT_EDIT,
            Cap.EPISODE_VIEW,
            Cap.EPISODE_MANAGE,
            # The chart (attendance, alerts, scores, plans) but not the text of therapy notes
            # (Cap.NOTE_TEXT): minimum necessary for referrals, rides and tasks (issue 18.4).
            Cap.CLINICAL_VIEW,
            Cap.ATTENDANCE_VIEW,
            Cap.SCHEDULE_VIEW,
            Cap.APPOINTMENT_BOOK,
            Cap.ALERT_ACK,
            Cap.MEASURE_RECORD,
            Cap.CONSENT_VIEW,
            Cap.CONSENT_MANAGE,
            Cap.CASE_MANAGE,
        }
    ),
    Role.PRESCRIBER: frozenset(
        {
            Cap.ADMISSIONS_VIEW,
            Cap.ADMISSIONS_PRESCREEN,
            Cap.ADMISSIONS_ASSESS,
            Cap.PATIENT_DEMOGRAPHICS,
            Cap.EPISODE_VIEW,
            Cap.CLINICAL_VIEW,
            Cap.NOTE_TEXT,
            Cap.ATTENDANCE_VIEW,
            Cap.SCHEDULE_VIEW,
            Cap.APPOINTMENT_BOOK,
            Cap.ALERT_ACK,
            Cap.MEASURE_RECORD,
            Cap.CONSENT_VIEW,
            Cap.MEDICATION_RECORD,
            Cap.PRESCRIBER_VISIT,
            Cap.DRUGTEST_VIEW,
            Cap.DRUGTEST_RECORD,
            Cap.DRUGTEST_RESPOND,
        }
    ),
    Role.BILLING: frozenset(
        {
            Cap.ADMISSIONS_VIEW,
            Cap.BENEFITS_MANAGE,
            Cap.REVENUE_MANAGE,
            Cap.PATIENT_DEMOGRAPHICS,
            Cap.EPISODE_VIEW,
            Cap.ATTENDANCE_VIEW,
            Cap.SCHEDULE_VIEW,
            Cap.ALL_SITES,
            Cap.CONSENT_VIEW,
        }
    ),
    Role.DIRECTOR: frozenset(
        {
            Cap.ADMISSIONS_VIEW,
            Cap.ADMISSIONS_MANAGE,
            Cap.ADMISSIONS_PRESCREEN,
            Cap.ADMISSIONS_ASSESS,
            Cap.BENEFITS_MANAGE,
            Cap.REVENUE_MANAGE,
            Cap.PATIENT_DEMOGRAPHICS,
            Cap.PATIENT_EDIT,
            Cap.EPISODE_VIEW,
            Cap.EPISODE_MANAGE,
            Cap.CLINICAL_VIEW,
            Cap.NOTE_TEXT,
            Cap.ATTENDANCE_VIEW,
            Cap.ATTENDANCE_RECORD,
            Cap.SCHEDULE_VIEW,
            Cap.SCHEDULE_MANAGE,
            Cap.APPOINTMENT_BOOK,
            Cap.ALERT_ACK,
            Cap.MEASURE_RECORD,
            Cap.AUDIT_VIEW,
            Cap.STAFF_MANAGE,
            Cap.ALL_SITES,
            Cap.CONSENT_VIEW,
            Cap.CONSENT_MANAGE,
            Cap.DRUGTEST_VIEW,
            Cap.CASE_MANAGE,
        }
    ),
    Role.ADMIN: frozenset(
        {Cap.SCHEDULE_VIEW, Cap.SCHEDULE_MANAGE, Cap.STAFF_MANAGE, Cap.ALL_SITES}
    ),
    Role.AUDITOR: frozenset({Cap.AUDIT_VIEW, Cap.ALL_SITES}),
}

# Roles that must use TOTP two-factor authentication; others may opt in.
MFA_REQUIRED_ROLES: frozenset[Role] = frozenset({Role.DIRECTOR, Role.ADMIN})


def roles_with(cap: Cap) -> frozenset[Role]:
    """The roles that have a capability."""
    return frozenset(role for role, caps in ROLE_CAPS.items() if cap in caps)


def role_can(role: Role | str, cap: Cap) -> bool:
    """Whether a role has a capability. Unknown roles have none."""
    try:
        return cap in ROLE_CAPS[Role(role)]
    except ValueError:
        return False


# What an access change can grant that a clinic treats as access to records: reading patients
# (demographics, charts, note text), reading the audit log of who read them, managing staff (which
# includes approving access changes), and seeing every site's patients.
RECORD_CAPS: frozenset[Cap] = frozenset(
    {
        Cap.PATIENT_DEMOGRAPHICS,
        Cap.CLINICAL_VIEW,
        Cap.NOTE_TEXT,
        Cap.DRUGTEST_VIEW,
        Cap.AUDIT_VIEW,
        Cap.STAFF_MANAGE,
        Cap.ALL_SITES,
    }
)
# Capabilities whose reach is limited by the user's sites (access.site_scope).
PATIENT_CAPS: frozenset[Cap] = frozenset(
    {Cap.PATIENT_DEMOGRAPHICS, Cap.CLINICAL_VIEW, Cap.NOTE_TEXT, Cap.DRUGTEST_VIEW}
)
# Roles that may grant record access on their own authority, and approve what others request.
ACCESS_APPROVER_ROLES: frozenset[Role] = frozenset({Role.DIRECTOR})


def effective_caps(role: Role | str, *, active: bool) -> frozenset[Cap]:
    """The capabilities an account with `role` has: none while it is inactive."""
    if not active:
        return frozenset()
    try:
        return ROLE_CAPS[Role(role)]
    except ValueError:
        return frozenset()


def access_change_needs_approval(
    *,
    old_role: Role | str,
    old_active: bool,
    old_site_ids: frozenset[int],
    new_role: Role | str,
    new_active: bool,
    new_site_ids: frozenset[int],
) -> bool:
    """Whether a change of role, sites or activation grants access to records, so that it needs the
    director's approval (or a second administrator's) unless the director makes it.

    It does when the account gains a capability of RECORD_CAPS it did not have (reactivating an
    account counts as gaining all its role's capabilities), or when sites are added to an account
    whose role reads patients of its own sites only (PATIENT_CAPS without ALL_SITES). Lowering a
    role, removing sites or deactivating never needs approval.
    """
    before = effective_caps(old_role, active=old_active)
    after = effective_caps(new_role, active=new_active)
    if (after - before) & RECORD_CAPS:
        return True
    site_limited_reader = bool(after & PATIENT_CAPS) and Cap.ALL_SITES not in after
    return site_limited_reader and bool(new_site_ids - old_site_ids)
