"""42 CFR Part 2 on the FHIR API: who a response goes to, and how the records of a Part 2
episode say what they are and what protects them. The decision whether such a record may go is
not made here: it is consents.selectors.part2_release (the consent on file), asked once per
response by openiop.fhir.selectors.

Who receives it (FhirRecipient): a client acting for staff of the patient's own organization is
inside the program (a use, not a disclosure: no consent needed). A client of another organization,
of none (a network-wide account), or registered for an outside organization
(FhirClient.outside_organization) is an API client recipient (consents.domain.Recipient.api_client)
for its registered purpose of use (FhirClient.purpose).

What a client reads:

- Every resource from a Part 2 episode (or a row marked part2), and every Consent, carries
  `meta.security` PART2_SECURITY: confidentiality R (restricted, v3-Confidentiality) and the
  42CFRPart2 policy (v3-ActCode), as issue 17 point 3 names them (HL7 Data Segmentation for
  Privacy), and the redisclosure notice of 42 CFR 2.32 as a `meta` extension (NOTICE_EXTENSION,
  valueString: consents.domain.REDISCLOSURE_NOTICE), so the notice travels with each record.
- A searchset Bundle that released Part 2 records to an outside client has an OperationOutcome
  entry (search.mode "outcome", severity information, code "informational") whose diagnostics
  start with the same notice.
- Records withheld for want of consent: a searchset Bundle has an OperationOutcome entry (search
  mode "outcome", severity warning, code "suppressed") counting them by resource type and
  patients (consents.domain.Withheld.sentence), never their contents; a read answers 403 with
  that OperationOutcome.

The rule they mark is 42 CFR Part 2 (../shared/domain.md section 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openiop.consents.domain import REDISCLOSURE_NOTICE, Recipient

CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NOTICE_EXTENSION = "http://openiop.org/fhir/StructureDefinition/part2-redisclosure-notice"

PART2_SECURITY: list[dict[str, Any]] = [
    {"system": CONFIDENTIALITY_SYSTEM, "code": "R", "display": "restricted"},
    {
        "system": ACT_CODE_SYSTEM,
        "code": "42CFRPart2",
        "display": "42 CFR Part2",
    },
]


def part2_meta() -> dict[str, Any]:
    """The `meta` elements of a Part 2 record: its security labels and the 2.32 notice."""
    return {
        "security": PART2_SECURITY,
        "extension": [{"url": NOTICE_EXTENSION, "valueString": REDISCLOSURE_NOTICE}],
    }


@dataclass(frozen=True)
class FhirRecipient:
    """Who a FHIR response goes to: the OAuth client (its id and name), the organization of the
    staff user it acts for (None: a network-wide account), the outside organization it is
    registered for (empty: none) and its purpose of use."""

    client_id: str
    client_name: str
    organization_id: int | None
    purpose: str
    outside_organization: str = ""

    def inside(self, patient_organization_id: int) -> bool:
        """Whether records of a patient of this organization stay inside the program."""
        return (
            not self.outside_organization
            and self.organization_id is not None
            and self.organization_id == patient_organization_id
        )

    def consent_recipient(self) -> Recipient:
        """The recipient a consent must name when the records leave the program."""
        name = self.outside_organization or self.client_name or self.client_id
        return Recipient.api_client(self.client_id, name, self.purpose)
