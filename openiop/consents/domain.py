"""42 CFR Part 2 disclosure rules as plain functions: whether a consent on file covers a disclosure,
what the response says about what was withheld, and the notice that accompanies a disclosure.

Sources: ../shared/domain.md section 5 (2024 rule: consent elements of 42 CFR 2.31, single TPO
consent and its redisclosure under 2.33, notice of 2.32, accounting of 2.25). No Django, no clock:
the caller passes the moment of the disclosure, in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# Recipient kinds and purposes: the string values of consents.choices.
TPO_CLASS = "tpo_class"
PAYER = "payer"
ORGANIZATION = "organization"
API_CLIENT = "api_client"
PERSON = "person"

TPO = "tpo"
TREATMENT = "treatment"
PAYMENT = "payment"
OPERATIONS = "operations"
PATIENT_REQUEST = "patient_request"

END_OF_TREATMENT = "end_of_treatment"

# 42 CFR 2.31(a)(5): "for treatment, payment, and health care operations" is a sufficient purpose
# statement for the single TPO consent; it covers each of the three.
PURPOSES_COVERED: dict[str, frozenset[str]] = {
    TPO: frozenset({TREATMENT, PAYMENT, OPERATIONS}),
    TREATMENT: frozenset({TREATMENT}),
    PAYMENT: frozenset({PAYMENT}),
    OPERATIONS: frozenset({OPERATIONS}),
    PATIENT_REQUEST: frozenset({PATIENT_REQUEST}),
}

# 42 CFR 2.31(a)(4)(i): a single TPO consent may name its recipients as the class "my treating
# providers, health plans, third-party payers, and people helping to operate this program".
TPO_RECIPIENT_CLASSES: frozenset[str] = frozenset(
    {"treating_provider", "health_plan", "third_party_payer", "program_operations"}
)
# The TPO recipient classes an API client registered for one purpose of use belongs to: a client
# at the patient's request is no member of the class and needs a consent naming it.
API_CLIENT_CLASSES: dict[str, frozenset[str]] = {
    TREATMENT: frozenset({"treating_provider"}),
    PAYMENT: frozenset({"health_plan", "third_party_payer"}),
    OPERATIONS: frozenset({"program_operations"}),
}
TPO_CLASS_WORDS = (
    "my treating providers, health plans, third-party payers, and people helping to operate "
    "this program"
)

# 42 CFR 2.25: an accounting covers the disclosures of the prior three years.
ACCOUNTING_YEARS = 3

# The notice that accompanies each disclosure made with the patient's consent (42 CFR 2.32(a)).
# The 2024 rule offers a long statement (Statement 1) or this short one (Statement 2). Statement 1's
# full text could not be read verbatim in the sources at hand (its list of permitted uses was cut
# off), so the product uses Statement 2. Its 2020 eCFR text is "42 CFR part 2 prohibits
# unauthorized disclosure of these records."; the 2024 rule adds "use or" (domain.md section 5,
# "Part 2 forbids unauthorized use or disclosure of these records"). The wording below follows the
# 2024 rule as summarised there: CONFIRM against the eCFR before release.
REDISCLOSURE_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
REDISCLOSURE_NOTICE_SOURCE = (
    "42 CFR 2.32(a)(2) (2024 rule, Statement 2; wording from the 2020 eCFR text with the 2024 "
    "rule's 'use or', to be confirmed against the current eCFR)"
)


def redisclosure_notice() -> str:
    """The written statement that must accompany a disclosure made with consent (42 CFR 2.32)."""
    return REDISCLOSURE_NOTICE


@dataclass(frozen=True)
class ConsentTerms:
    """The elements of one consent that decide a disclosure (42 CFR 2.31(a)).

    `recipient_identifier` is what a recipient is matched on: "payer:<id>" for a payer on file, the
    client id of an API client, or the organization's or person's name (compared without case).
    `treatment_ended_on` is the day treatment ended, when the consent expires at the end of
    treatment and the patient has no open episode (else None)."""

    consent_id: int
    recipient_kind: str
    recipient_identifier: str
    purpose: str
    effective_on: dt.date
    expires_on: dt.date | None = None
    expiry_event: str = ""
    treatment_ended_on: dt.date | None = None
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True)
class Recipient:
    """Who would receive a disclosure. `classes` are the TPO classes it belongs to (a payer is a
    health plan and third-party payer; another clinic a treating provider). `inside_program`
    marks staff of the program itself with access (no disclosure: no consent needed)."""

    kind: str
    identifier: str
    name: str
    classes: frozenset[str] = frozenset()
    inside_program: bool = False

    @classmethod
    def payer(cls, payer_id: int, name: str) -> Recipient:
        return cls(
            kind=PAYER,
            identifier=f"payer:{payer_id}",
            name=name,
            classes=frozenset({"health_plan", "third_party_payer"}),
        )

    @classmethod
    def api_client(cls, client_id: str, name: str, purpose: str) -> Recipient:
        """An API client of another organization, registered for one purpose of use. The TPO
        class it belongs to follows that purpose (API_CLIENT_CLASSES): registering a client for
        treatment states it serves a treating provider, for payment a health plan or payer, for
        operations people helping to operate the program (42 CFR 2.31(a)(4)(i))."""
        return cls(
            kind=API_CLIENT,
            identifier=client_id,
            name=name,
            classes=API_CLIENT_CLASSES.get(purpose, frozenset()),
        )

    @classmethod
    def program_staff(cls, name: str = "program staff") -> Recipient:
        return cls(kind=ORGANIZATION, identifier="", name=name, inside_program=True)


@dataclass(frozen=True)
class Decision:
    permitted: bool
    consent_id: int | None
    reason: str


def _normal(identifier: str) -> str:
    return " ".join(identifier.casefold().split())


def recipient_matches(terms: ConsentTerms, recipient: Recipient) -> bool:
    """Whether the consent names this recipient (42 CFR 2.31(a)(4)): the TPO class by class
    membership, others by identifier (a payer's consent also covers it by name as organization)."""
    if terms.recipient_kind == TPO_CLASS:
        return bool(recipient.classes & TPO_RECIPIENT_CLASSES)
    if not terms.recipient_identifier.strip():
        return False
    if terms.recipient_kind == recipient.kind or {terms.recipient_kind, recipient.kind} <= {
        PAYER,
        ORGANIZATION,
    }:
        return _normal(terms.recipient_identifier) in {
            _normal(recipient.identifier),
            _normal(recipient.name),
        }
    return False


def purpose_covered(terms: ConsentTerms, purpose: str) -> bool:
    """Whether the consent's stated purpose covers this one (42 CFR 2.31(a)(5))."""
    return purpose in PURPOSES_COVERED.get(terms.purpose, frozenset())


def _in_force(terms: ConsentTerms, on: dt.datetime) -> str | None:
    """None when the consent is in force at `on`, else why not (revoked, expired, not yet)."""
    today = on.date()
    if terms.revoked_at is not None and terms.revoked_at <= on:
        # Revocation is written and takes effect when recorded (42 CFR 2.31(a)(6)).
        return f"consent {terms.consent_id} was revoked on {terms.revoked_at:%Y-%m-%d}"
    if today < terms.effective_on:
        return f"consent {terms.consent_id} takes effect on {terms.effective_on:%Y-%m-%d}"
    if terms.expires_on is not None and today > terms.expires_on:
        return f"consent {terms.consent_id} expired on {terms.expires_on:%Y-%m-%d}"
    ended = terms.treatment_ended_on
    if terms.expiry_event == END_OF_TREATMENT and ended is not None and today > ended:
        return f"consent {terms.consent_id} ended with treatment on {ended:%Y-%m-%d}"
    return None


def disclosure_decision(
    consents: Iterable[ConsentTerms], recipient: Recipient, purpose: str, on: dt.datetime
) -> Decision:
    """Whether Part 2 records of one patient may go to `recipient` for `purpose` at `on`.

    Inside the program (staff with access) there is no disclosure and no consent is needed.
    Outside it, a consent on file must name the recipient (by name or the TPO class), state a
    purpose that covers this one, be in effect, not expired (date or end of treatment) and not
    revoked (42 CFR 2.31, 2.33). Returns the first consent that covers it, else the reason the
    nearest one does not (recipient first, then purpose, then its dates).
    """
    if recipient.inside_program:
        return Decision(True, None, "inside the program: not a disclosure")
    terms = list(consents)
    if not terms:
        return Decision(False, None, "no Part 2 consent on file")
    naming = [t for t in terms if recipient_matches(t, recipient)]
    if not naming:
        return Decision(False, None, f"no Part 2 consent names {recipient.name}")
    for_purpose = [t for t in naming if purpose_covered(t, purpose)]
    if not for_purpose:
        return Decision(
            False,
            None,
            f"no Part 2 consent covers {recipient.name} for {purpose.replace('_', ' ')}",
        )
    reasons: list[str] = []
    for t in for_purpose:
        problem = _in_force(t, on)
        if problem is None:
            return Decision(True, t.consent_id, f"consent {t.consent_id} covers this disclosure")
        reasons.append(problem)
    return Decision(False, None, "; ".join(reasons))


@dataclass(frozen=True)
class Withheld:
    """What a response withheld for want of consent: counts by resource type and the number of
    patients, never what the records contained."""

    counts: dict[str, int] = field(default_factory=dict)
    patients: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sentence(self) -> str:
        if not self.total:
            return "Nothing was withheld."
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        return (
            f"Withheld under 42 CFR Part 2 (no consent covering this recipient and purpose): "
            f"{kinds} of {self.patients} patient(s)."
        )


def withheld_summary(withheld: Iterable[tuple[str, int]]) -> Withheld:
    """Count withheld records, given (resource type, patient id) pairs."""
    pairs = list(withheld)
    return Withheld(
        counts=dict(Counter(kind for kind, _ in pairs)), patients=len({p for _, p in pairs})
    )


def accounting_since(today: dt.date) -> dt.date:
    """The first day an accounting of disclosures covers (42 CFR 2.25: the prior three years)."""
    try:
        return today.replace(year=today.year - ACCOUNTING_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - ACCOUNTING_YEARS, day=28)


def consent_problems(
    *,
    recipient_kind: str,
    recipient_name: str,
    recipient_identifier: str,
    purpose: str,
    information: str,
    effective_on: dt.date,
    expires_on: dt.date | None,
    expiry_event: str,
    signed_by: str,
) -> dict[str, str]:
    """The missing or inconsistent 42 CFR 2.31(a) elements of a consent, by field (empty: valid).

    A consent other than the single TPO consent needs an expiration date or event (2.31(a)(7):
    "end of treatment" or "none" is allowed for TPO)."""
    problems: dict[str, str] = {}
    if recipient_kind != TPO_CLASS and not (recipient_name.strip() or recipient_identifier):
        problems["recipient_name"] = "Name the recipient (42 CFR 2.31(a)(4))."
    if recipient_kind == TPO_CLASS and purpose != TPO:
        problems["purpose"] = (
            "The TPO recipient class goes with the purpose 'treatment, payment and health care "
            "operations' (42 CFR 2.31(a)(4)-(5))."
        )
    if not information.strip():
        problems["information"] = (
            "Describe the information to be disclosed, specifically (42 CFR 2.31(a)(3))."
        )
    if not signed_by.strip():
        problems["signed_by_name"] = "Who signed: the patient or their authorized representative."
    if expires_on is not None and expires_on < effective_on:
        problems["expires_on"] = "The consent cannot expire before it takes effect."
    if purpose != TPO and expires_on is None and expiry_event != END_OF_TREATMENT:
        problems["expires_on"] = (
            "Give an expiration date or event; only a TPO consent may run until revoked "
            "(42 CFR 2.31(a)(7))."
        )
    return problems


@dataclass(frozen=True)
class PacketConsent:
    """The structured elements read from the intake packet's Part 2 consent (free text fields)."""

    recipient_kind: str
    recipient_name: str
    purpose: str
    expires_on: dt.date | None
    expiry_event: str


def _packet_expiry(text: str) -> tuple[dt.date | None, str] | None:
    words = " ".join(text.casefold().split()).strip(". ")
    if words in {"none", "no expiration", "until revoked", "never"}:
        return None, ""
    if "end of treatment" in words or "discharge" in words:
        return None, END_OF_TREATMENT
    try:
        return dt.date.fromisoformat(words), ""
    except ValueError:
        return None


def consent_from_packet(details: dict[str, str]) -> PacketConsent | None:
    """Read the packet's free-text recipients, purpose and expiration as consent elements, or
    None when they do not clearly say one of the forms 42 CFR 2.31 names (then staff record the
    consent by hand from the signed document). The TPO class is recognised by its wording
    (2.31(a)(4)(i)); purposes by "treatment, payment and health care operations", "payment",
    "treatment" or "at my request" (2.31(a)(5))."""
    recipients = " ".join((details.get("recipients") or "").split())
    purpose_words = " ".join((details.get("purpose") or "").casefold().split())
    expiry = _packet_expiry(details.get("expiration") or "")
    if not recipients or expiry is None:
        return None
    if "operations" in purpose_words or (
        "treatment" in purpose_words and "payment" in purpose_words
    ):
        purpose = TPO
    elif "request" in purpose_words:
        purpose = PATIENT_REQUEST
    elif "payment" in purpose_words:
        purpose = PAYMENT
    elif "treatment" in purpose_words:
        purpose = TREATMENT
    else:
        return None
    lowered = recipients.casefold()
    tpo_class = any(w in lowered for w in ("treating providers", "health plans", "third-party"))
    if tpo_class and purpose == TPO:
        kind, name = TPO_CLASS, ""
    else:
        kind, name = ORGANIZATION, recipients[:200]
    expires_on, event = expiry
    if purpose != TPO and expires_on is None and event != END_OF_TREATMENT:
        return None
    return PacketConsent(kind, name, purpose, expires_on, event)
