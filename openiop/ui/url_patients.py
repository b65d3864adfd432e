"""Which patients the record a staff URL names concerns, so that a refused attempt is audited
against them (staff_view asks only when an attempt is refused: an allowed page pays nothing).

Each URL argument that carries a record's id maps to the record's model and the path from it to
its patient. A test walks every patient-data URL and fails on an argument missing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps

# URL argument -> (model, paths to the patient id: any that is set names a patient).
RECORD_PATIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "episode_id": ("episodes.Episode", ("patient_id",)),
    "alert_id": ("episodes.Alert", ("patient_id",)),
    "note_id": ("notes.ProgressNote", ("sections__patient_id",)),
    "section_id": ("notes.NoteSection", ("patient_id",)),
    "treatment_plan_id": ("treatment.TreatmentPlan", ("patient_id",)),
    "plan_id": ("measures.SafetyPlan", ("patient_id",)),
    "safety_alert_id": ("measures.SafetyAlert", ("patient_id",)),
    "session_id": ("programs.GroupSession", ("attendances__patient_id", "episode__patient_id")),
    "enrollment_id": ("programs.Enrollment", ("episode__patient_id",)),
    "inquiry_id": ("admissions.Inquiry", ("patient_id",)),
    "assessment_id": ("admissions.Assessment", ("inquiry__patient_id",)),
    "coverage_id": ("billing.Coverage", ("inquiry__patient_id",)),
    "estimate_id": ("billing.CostEstimate", ("inquiry__patient_id",)),
    "authorization_id": (
        "billing.Authorization",
        ("coverage__patient_id", "coverage__inquiry__patient_id"),
    ),
    "certification_id": ("billing.PhysicianCertification", ("episode__patient_id",)),
    "statement_id": ("billing.Statement", ("patient_id",)),
    "claim_id": ("billing.Claim", ("patient_id",)),
    "export_id": ("billing.ClaimExport", ("claims__patient_id",)),
    "denial_id": ("billing.DenialWorkItem", ("claim__patient_id",)),
    "task_id": ("admissions.AdmissionTask", ("inquiry__patient_id",)),
    "document_id": ("admissions.IntakeDocument", ("patient_id",)),
    "entry_id": ("admissions.WaitlistEntry", ("episode__patient_id",)),
    "consent_id": ("consents.Consent", ("patient_id",)),
    # Medications and drug testing (issue 18).
    "medication_id": ("medications.Medication", ("patient_id",)),
    "mat_id": ("medications.MatEpisode", ("patient_id",)),
    "drug_test_id": ("drugtests.DrugTestOrder", ("patient_id",)),
    "drug_test_flag_id": ("drugtests.ReconciliationFlag", ("order__patient_id",)),
}

# URL arguments that name no patient's record (a track, a site, a schedule block; an
# organization's 835 file or unmatched remittance item, looked up within the actor's organization
# only, whose matched claims are listed only at sites the actor sees; a site's kept import file,
# looked up by the kernel's site check, whose report names people of a file, not one record).
NOT_PATIENT_RECORDS = frozenset(
    {
        "track_id",
        "site_id",
        "block_id",
        "instrument",
        "contact_id",
        "remittance_id",
        "unmatched_id",
        "batch_id",
        "proposal_id",  # a week's plan names many patients; its page audits each one it shows
    }
)


def url_patients(kwargs: Mapping[str, Any]) -> list[int]:
    """The ids of the patients the URL's arguments name, sorted (one query a record argument;
    none for `patient_id`). A record that does not exist names nobody."""
    found: set[int] = set()
    for name, value in kwargs.items():
        if name == "patient_id":
            found.add(int(value))
            continue
        if name not in RECORD_PATIENTS:
            continue
        label, paths = RECORD_PATIENTS[name]
        model = apps.get_model(label)
        for row in model.objects.filter(pk=value).values_list(*paths):
            found.update(int(i) for i in row if i is not None)
    return sorted(found)
