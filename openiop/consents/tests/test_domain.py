"""The disclosure decision, table by table (42 CFR 2.31 consent elements, 2.33 uses with consent;
../shared/domain.md section 5). No database."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.consents import domain
from openiop.consents.domain import ConsentTerms, Recipient, disclosure_decision

UTC = dt.UTC
ON = dt.datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
PAYER = Recipient.payer(7, "Bluewhistle Health Plan (fictional)")
OTHER_PAYER = Recipient.payer(8, "Marigold Mutual (fictional)")
CLINIC = Recipient(
    kind=domain.ORGANIZATION,
    identifier="Pebblebrook Clinic (fictional)",
    name="Pebblebrook Clinic (fictional)",
    classes=frozenset({"treating_provider"}),
)
API = Recipient(kind=domain.API_CLIENT, identifier="client-abc", name="Fernhill HIE (fictional)")
FAMILY = Recipient(kind=domain.PERSON, identifier="Orsino Moonwhistle", name="Orsino Moonwhistle")


def terms(**kw: object) -> ConsentTerms:
    base: dict[str, object] = {
        "consent_id": 1,
        "recipient_kind": domain.TPO_CLASS,
        "recipient_identifier": "",
        "purpose": domain.TPO,
        "effective_on": dt.date(2026, 1, 5),
    }
    base.update(kw)
    return ConsentTerms(**base)  # type: ignore[arg-type]


CASES = [
    # (why, consents, recipient, purpose, permitted, reason contains)
    (
        "2.31(a)(4)(i): the single TPO consent names payers as a class",
        [terms()],
        PAYER,
        domain.PAYMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(4)(i): the TPO class covers treating providers",
        [terms()],
        CLINIC,
        domain.TREATMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(5): a TPO consent does not cover a disclosure at the patient's request",
        [terms()],
        PAYER,
        domain.PATIENT_REQUEST,
        False,
        "for patient request",
    ),
    (
        "2.31(a)(4): the TPO class is not an API client of another organization",
        [terms()],
        API,
        domain.TREATMENT,
        False,
        "names Fernhill",
    ),
    (
        "2.31(a)(4): the TPO class is not family",
        [terms()],
        FAMILY,
        domain.PATIENT_REQUEST,
        False,
        "names Orsino",
    ),
    (
        "2.31(a)(4): a consent naming one payer covers that payer",
        [
            terms(
                recipient_kind=domain.PAYER,
                recipient_identifier="payer:7",
                purpose=domain.PAYMENT,
                expires_on=dt.date(2026, 12, 31),
            )
        ],
        PAYER,
        domain.PAYMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(4): ... and not another payer",
        [
            terms(
                recipient_kind=domain.PAYER,
                recipient_identifier="payer:7",
                purpose=domain.PAYMENT,
                expires_on=dt.date(2026, 12, 31),
            )
        ],
        OTHER_PAYER,
        domain.PAYMENT,
        False,
        "names",
    ),
    (
        "2.31(a)(5): a payment consent does not cover treatment",
        [
            terms(
                recipient_kind=domain.PAYER,
                recipient_identifier="payer:7",
                purpose=domain.PAYMENT,
                expires_on=dt.date(2026, 12, 31),
            )
        ],
        PAYER,
        domain.TREATMENT,
        False,
        "covers",
    ),
    (
        "2.31(a)(4): a named organization matches by name, without case",
        [
            terms(
                recipient_kind=domain.ORGANIZATION,
                recipient_identifier="pebblebrook clinic (FICTIONAL)",
                purpose=domain.TREATMENT,
                expires_on=dt.date(2026, 12, 31),
            )
        ],
        CLINIC,
        domain.TREATMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(4): an API client matches by its client id",
        [
            terms(
                recipient_kind=domain.API_CLIENT,
                recipient_identifier="client-abc",
                purpose=domain.TREATMENT,
                expires_on=dt.date(2026, 12, 31),
            )
        ],
        API,
        domain.TREATMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(6): a revoked consent covers nothing from the moment of revocation",
        [terms(revoked_at=ON - dt.timedelta(seconds=1))],
        PAYER,
        domain.PAYMENT,
        False,
        "revoked",
    ),
    (
        "2.31(a)(6): a disclosure before the revocation was covered",
        [terms(revoked_at=ON + dt.timedelta(seconds=1))],
        PAYER,
        domain.PAYMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(7): an expired consent covers nothing",
        [
            terms(
                purpose=domain.TREATMENT,
                recipient_kind=domain.ORGANIZATION,
                recipient_identifier="Pebblebrook Clinic (fictional)",
                expires_on=dt.date(2026, 6, 14),
            )
        ],
        CLINIC,
        domain.TREATMENT,
        False,
        "expired",
    ),
    (
        "2.31(a)(7): the expiration day itself is covered",
        [terms(expires_on=dt.date(2026, 6, 15))],
        PAYER,
        domain.PAYMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(7): 'end of treatment' ends with the discharge",
        [terms(expiry_event=domain.END_OF_TREATMENT, treatment_ended_on=dt.date(2026, 5, 1))],
        PAYER,
        domain.PAYMENT,
        False,
        "ended with treatment",
    ),
    (
        "2.31(a)(7): 'end of treatment' runs while treatment goes on",
        [terms(expiry_event=domain.END_OF_TREATMENT)],
        PAYER,
        domain.PAYMENT,
        True,
        "covers",
    ),
    (
        "2.31(a)(9): a consent before its effective date covers nothing",
        [terms(effective_on=dt.date(2026, 7, 1))],
        PAYER,
        domain.PAYMENT,
        False,
        "takes effect",
    ),
    ("no consent on file: withheld", [], PAYER, domain.PAYMENT, False, "no Part 2 consent"),
    (
        "a revoked consent and a later one in force: the later covers",
        [terms(revoked_at=ON - dt.timedelta(days=1)), terms(consent_id=2)],
        PAYER,
        domain.PAYMENT,
        True,
        "consent 2",
    ),
]


@pytest.mark.parametrize(
    ("why", "consents", "recipient", "purpose", "permitted", "reason"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_disclosure_decision(
    why: str,
    consents: list[ConsentTerms],
    recipient: Recipient,
    purpose: str,
    permitted: bool,
    reason: str,
) -> None:
    decision = disclosure_decision(consents, recipient, purpose, ON)
    assert decision.permitted is permitted, decision.reason
    assert reason in decision.reason
    assert (decision.consent_id is not None) is permitted


def test_inside_the_program_no_consent_is_needed() -> None:
    decision = disclosure_decision([], Recipient.program_staff(), domain.TREATMENT, ON)
    assert decision.permitted and decision.consent_id is None


@pytest.mark.parametrize(
    ("client_purpose", "tpo_covers"),
    [
        (domain.TREATMENT, True),
        (domain.PAYMENT, True),
        (domain.OPERATIONS, True),
        (domain.PATIENT_REQUEST, False),
    ],
)
def test_an_api_client_is_in_the_tpo_class_of_its_purpose(
    client_purpose: str, tpo_covers: bool
) -> None:
    """A FHIR client of another organization registered for treatment serves a treating provider
    (2.31(a)(4)(i)); one at the patient's request is no member of the class."""
    client = Recipient.api_client("client-xyz", "Fernhill HIE (fictional)", client_purpose)
    assert client.kind == domain.API_CLIENT and not client.inside_program
    decision = disclosure_decision([terms()], client, client_purpose, ON)
    assert decision.permitted is tpo_covers, decision.reason
    named = terms(
        recipient_kind=domain.API_CLIENT,
        recipient_identifier="client-xyz",
        purpose=client_purpose,
        expires_on=dt.date(2027, 1, 1),
    )
    assert disclosure_decision([named], client, client_purpose, ON).permitted


def test_what_was_withheld_says_counts_never_contents() -> None:
    summary = domain.withheld_summary([("Observation", 1), ("Observation", 2), ("Condition", 1)])
    assert summary.counts == {"Observation": 2, "Condition": 1}
    assert summary.patients == 2
    assert "1 Condition, 2 Observation of 2 patient(s)" in summary.sentence


def test_the_accounting_covers_three_years() -> None:
    """42 CFR 2.25: disclosures of the prior three years."""
    assert domain.accounting_since(dt.date(2026, 6, 15)) == dt.date(2023, 6, 15)
    assert domain.accounting_since(dt.date(2028, 2, 29)) == dt.date(2025, 2, 28)


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (
            {
                "recipients": "My treating providers, health plans, third-party payers",
                "purpose": "for treatment, payment and health care operations",
                "expiration": "none",
            },
            domain.PacketConsent(domain.TPO_CLASS, "", domain.TPO, None, ""),
        ),
        (
            {
                "recipients": "Dr. Juniper Quill (fictional)",
                "purpose": "treatment",
                "expiration": "end of treatment",
            },
            domain.PacketConsent(
                domain.ORGANIZATION,
                "Dr. Juniper Quill (fictional)",
                domain.TREATMENT,
                None,
                domain.END_OF_TREATMENT,
            ),
        ),
        (
            {"recipients": "Pebblebrook Clinic", "purpose": "treatment", "expiration": "none"},
            None,  # 2.31(a)(7): only a TPO consent may run until revoked
        ),
        ({"recipients": "Someone", "purpose": "because", "expiration": "2026-12-31"}, None),
    ],
)
def test_the_packet_consent_is_read_only_when_it_is_clear(
    details: dict[str, str], expected: domain.PacketConsent | None
) -> None:
    assert domain.consent_from_packet(details) == expected


def test_a_non_tpo_consent_needs_an_expiration() -> None:
    problems = domain.consent_problems(
        recipient_kind=domain.ORGANIZATION,
        recipient_name="Pebblebrook Clinic",
        recipient_identifier="",
        purpose=domain.TREATMENT,
        information="Attendance and diagnosis",
        effective_on=dt.date(2026, 1, 5),
        expires_on=None,
        expiry_event="",
        signed_by="Quintessa Moonwhistle",
    )
    assert "expires_on" in problems


def test_the_notice_is_the_short_statement() -> None:
    assert domain.redisclosure_notice().startswith("42 CFR part 2 prohibits unauthorized")
