"""42 CFR Part 2 on the FHIR API: the security labels of records from a Part 2 episode, and the
one decision whether such a record is released to a client (part2_release).

The labels: confidentiality R (restricted, v3-Confidentiality) and the 42CFRPart2 policy
(v3-ActCode), as issue 17 point 3 names them (HL7 Data Segmentation for Privacy); the rule they
mark is 42 CFR Part 2 (../shared/domain.md section 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

PART2_SECURITY: list[dict[str, Any]] = [
    {"system": CONFIDENTIALITY_SYSTEM, "code": "R", "display": "restricted"},
    {
        "system": ACT_CODE_SYSTEM,
        "code": "42CFRPart2",
        "display": "42 CFR Part2",
    },
]


@dataclass(frozen=True)
class Recipient:
    """Who a FHIR response goes to: the OAuth client and the organization of the staff user it
    acts for (None: a user of no organization, e.g. a network-wide service account)."""

    client_id: str
    organization_id: int | None


def part2_release(*, recipient: Recipient, patient_organization_id: int) -> bool:
    """Whether a record from a Part 2 episode of a patient of `patient_organization_id` may be
    released to `recipient`.

    For now: only inside the program's own organization (a use within the program, not a
    disclosure); every client of another organization, or of none, is refused, since no consent
    is consulted yet. At merge this is the one function replaced by the consent decision
    (issue 17 point 3: a consent on file that covers the recipient and purpose).
    """
    return (
        recipient.organization_id is not None
        and recipient.organization_id == patient_organization_id
    )


def withheld_message(count: int) -> str:
    """The note a searchset carries for records withheld (what was withheld, never its content)."""
    noun = "record" if count == 1 else "records"
    return (
        f"{count} {noun} withheld under 42 CFR Part 2: they come from substance-use treatment and "
        "this client is outside the program's organization, with no consent on file for it."
    )
