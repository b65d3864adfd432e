"""The intake packet: which documents a new admission signs, their versions, and their text.

The texts are plain-language templates with a version; a clinic replaces them with its counsel's
wording by changing the text and the version (configuration, not code elsewhere). The 42 CFR Part 2
consent carries the elements of 42 CFR 2.31 as summarised in ../shared/domain.md section 5; the
statutory redisclosure wording is UNCONFIRMED there (take the verbatim eCFR text for production).
No Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CONSENT_TO_TREATMENT = "consent_to_treatment"
PART2_CONSENT = "part2_consent"
RELEASE_OF_INFORMATION = "release_of_information"
FINANCIAL_AGREEMENT = "financial_agreement"
PATIENT_RIGHTS = "patient_rights"
PRIVACY_NOTICE = "privacy_notice"

PACKET: tuple[str, ...] = (
    CONSENT_TO_TREATMENT,
    PART2_CONSENT,
    RELEASE_OF_INFORMATION,
    FINANCIAL_AGREEMENT,
    PATIENT_RIGHTS,
    PRIVACY_NOTICE,
)

TITLES: Mapping[str, str] = {
    CONSENT_TO_TREATMENT: "Consent to treatment",
    PART2_CONSENT: "Consent to disclose substance use disorder records (42 CFR Part 2)",
    RELEASE_OF_INFORMATION: "Release of information",
    FINANCIAL_AGREEMENT: "Financial agreement",
    PATIENT_RIGHTS: "Patient rights",
    PRIVACY_NOTICE: "Notice of privacy practices (acknowledgement)",
}

VERSIONS: Mapping[str, str] = {kind: "2026-01" for kind in PACKET}

# Documents whose details (recipient, purpose...) are filled in before signing.
DETAIL_FIELDS: Mapping[str, tuple[str, ...]] = {
    PART2_CONSENT: ("recipients", "information", "purpose", "expiration"),
    RELEASE_OF_INFORMATION: ("recipients", "information", "purpose", "expiration"),
}

DETAIL_LABELS: Mapping[str, str] = {
    "recipients": "To whom (name, or class such as 'my treating providers and health plans')",
    "information": "What information (a specific, meaningful description)",
    "purpose": "Purpose (e.g. 'for treatment, payment and health care operations')",
    "expiration": "Expires on (a date or event, e.g. 'end of treatment', or 'none' for TPO)",
}


@dataclass(frozen=True)
class DocumentText:
    title: str
    version: str
    paragraphs: tuple[str, ...]


def detail_problems(kind: str, details: Mapping[str, str]) -> dict[str, str]:
    """The missing details of a document, field -> message (empty when complete)."""
    problems: dict[str, str] = {}
    for name in DETAIL_FIELDS.get(kind, ()):
        if not (details.get(name) or "").strip():
            problems[name] = f"Enter {DETAIL_LABELS[name].split(' (')[0].lower()}."
    return problems


def document_text(
    kind: str, *, patient_name: str, program_name: str, details: Mapping[str, str]
) -> DocumentText:
    """The text of one packet document for this patient. Raises KeyError for an unknown kind."""
    title = TITLES[kind]
    d = {k: (details.get(k) or "").strip() for k in DETAIL_FIELDS.get(kind, ())}
    paragraphs: tuple[str, ...]
    if kind == CONSENT_TO_TREATMENT:
        paragraphs = (
            f"I, {patient_name}, agree to take part in the intensive outpatient program of "
            f"{program_name}: group therapy, individual and family sessions, education and case "
            "management, as set out in my treatment plan.",
            "I understand that the program meets several days a week and that I am expected to "
            "attend. I may ask questions about my care at any time and may withdraw this consent "
            "in writing; withdrawing does not undo care already given.",
            "If I am at risk of harming myself or others, staff will act to keep people safe, "
            "which may include calling 988 or emergency services.",
        )
    elif kind == PART2_CONSENT:
        paragraphs = (
            f"1. Patient: {patient_name}.",
            f"2. Who may disclose: {program_name}.",
            f"3. Information to be disclosed: {d['information']}.",
            f"4. Recipients: {d['recipients']}.",
            f"5. Purpose: {d['purpose']}.",
            "6. I may revoke this consent at any time in writing, by giving or sending a signed "
            f"note to {program_name}, except to the extent the program or others have already "
            "acted in reliance on it.",
            f"7. This consent expires: {d['expiration']}.",
            "8-9. Signature of the patient (or authorized person) and the date appear below.",
            "10. When records are disclosed for treatment, payment or health care operations to a "
            "HIPAA covered entity or business associate, the recipient may further disclose them "
            "as HIPAA permits, except for uses and disclosures in civil, criminal, administrative "
            "or legislative proceedings against me.",
            "11. My treatment, payment, enrollment or eligibility for benefits is not conditioned "
            "on signing this consent, except as the law allows. I have the right to a copy of "
            "this consent, to request restrictions, and to an accounting of disclosures.",
            "Notice to recipients: these records are protected by federal law (42 CFR Part 2); "
            "Part 2 prohibits unauthorized use or disclosure of these records.",
        )
    elif kind == RELEASE_OF_INFORMATION:
        paragraphs = (
            f"I, {patient_name}, authorize {program_name} to release {d['information']} to "
            f"{d['recipients']} for this purpose: {d['purpose']}.",
            f"This release expires: {d['expiration']}. I may revoke it in writing at any time, "
            "except for information already released in reliance on it.",
            "My treatment does not depend on signing this release.",
        )
    elif kind == FINANCIAL_AGREEMENT:
        paragraphs = (
            f"I, {patient_name}, understand the estimated cost of the program and my share of it "
            "as explained to me, based on my insurance benefits or the sliding fee scale.",
            "Benefits quoted by an insurer are not a guarantee of payment. I agree to pay my "
            "share (copays, coinsurance, deductible or self-pay amounts) or to follow the payment "
            "plan agreed with the program, and to tell the program when my insurance changes.",
        )
    elif kind == PATIENT_RIGHTS:
        paragraphs = (
            "You have the right to be treated with dignity and respect; to take part in planning "
            "your treatment; to privacy and confidentiality of your records; to see your records; "
            "to refuse treatment; and to voice complaints without fear of losing care.",
            f"Complaints can be made to {program_name}'s director and to the state licensing "
            "authority. Substance use disorder records are also protected by 42 CFR Part 2.",
        )
    elif kind == PRIVACY_NOTICE:
        paragraphs = (
            f"I acknowledge that I received {program_name}'s notice of privacy practices, which "
            "explains how my health information may be used and disclosed and my rights under "
            "HIPAA and 42 CFR Part 2, including the right to request restrictions and an "
            "accounting of disclosures, and how to complain to the program or to HHS.",
        )
    else:  # pragma: no cover - TITLES[kind] already raised
        raise KeyError(kind)
    return DocumentText(title=title, version=VERSIONS[kind], paragraphs=paragraphs)
