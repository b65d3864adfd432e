"""The claim configuration services (billing.services.claim_setup) and their set-up pages: the
domain's and the 837 writer's checks refuse what could not be billed, each save is audited, the
admin page writes through the service, another organization is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.billing import services
from openiop.billing.models import BillingProvider, Payer, PayerClaimSetup, TrackClaimSetup
from openiop.billing.tests.x12_validation import npi_with_check_digit
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.testing import make_org, make_site, make_track, make_user

pytestmark = pytest.mark.django_db

NPI = npi_with_check_digit("123456789")
PROVIDER = {
    "name": "TEST IOP CLINIC",
    "npi": NPI,
    "ein": "990000001",
    "taxonomy": "",
    "address_line": "2 Fictional Plaza",
    "city": "Springfield",
    "state": "il",
    "postal_code": "627010001",
    "submitter_name": "TEST IOP CLINIC",
    "submitter_id": "TESTSUBMITTER",
    "contact_name": "Testy McTestface",
    "contact_phone": "5555550100",
    "sender_qualifier": "ZZ",
    "sender_id": "TESTSUBMITTER",
    "application_sender_code": "TESTSUBMITTER",
    "production": False,
}
PAYER_SETUP = {
    "period": "week",
    "sequential": True,
    "authorization_required": False,
    "certification_required": True,
    "patient_status": "",
    "claim_filing_indicator": "MA",
    "receiver_name": "TEST MAC",
    "receiver_id": "TESTMAC",
    "receiver_qualifier": "ZZ",
    "receiver_interchange_id": "TESTMAC",
    "application_receiver_code": "TESTMAC",
    "assignment": "A",
    "benefits_assignment": "Y",
    "release_of_information": "Y",
    "provider_signature_on_file": True,
}


@pytest.fixture
def office() -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)")
    other_org = make_org()
    make_site(other_org, name="Far Away (fictional)")
    return {
        "org": org,
        "site": site,
        "track": make_track(site),
        "payer": Payer.objects.create(organization=org, name="Test MAC", payer_type="medicare"),
        "foreign_payer": Payer.objects.create(
            organization=other_org, name="Elsewhere", payer_type="commercial"
        ),
        "billing": Actor(user=make_user(Role.BILLING, sites=[site], org=org)),
        "clinician": Actor(user=make_user(Role.CLINICIAN, sites=[site], org=org)),
        "director": make_user(Role.DIRECTOR, sites=[site], org=org),
    }


def test_the_billing_provider_is_checked_saved_once_per_site_and_audited(
    office: dict[str, Any],
) -> None:
    with pytest.raises(RuleViolation, match="check digit"):
        services.billing_provider_save(
            by=office["billing"], site=office["site"], values={**PROVIDER, "npi": "1234567890"}
        )
    with pytest.raises(RuleViolation, match="ZIP"):
        services.billing_provider_save(
            by=office["billing"], site=office["site"], values={**PROVIDER, "postal_code": "62701"}
        )
    provider = services.billing_provider_save(
        by=office["billing"], site=office["site"], values=PROVIDER
    )
    assert provider.state == "IL"
    services.billing_provider_save(
        by=office["billing"], site=office["site"], values={**PROVIDER, "name": "RENAMED CLINIC"}
    )
    assert BillingProvider.objects.get().name == "RENAMED CLINIC"
    actions = list(
        AuditEntry.objects.filter(object_type="billing_provider", outcome="ok")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]
    with pytest.raises(NotPermitted):
        services.billing_provider_save(by=office["clinician"], site=office["site"], values=PROVIDER)


def test_a_payers_claim_setup_follows_the_claim_rules(office: dict[str, Any]) -> None:
    # Sequential claims take the patient status from the episode [domain.md 2.1].
    with pytest.raises(RuleViolation, match="Sequential"):
        services.payer_claim_setup_save(
            by=office["billing"],
            payer=office["payer"],
            values={**PAYER_SETUP, "patient_status": "01"},
        )
    with pytest.raises(RuleViolation):
        services.payer_claim_setup_save(
            by=office["billing"], payer=office["payer"], values={**PAYER_SETUP, "assignment": "Q"}
        )
    setup = services.payer_claim_setup_save(
        by=office["billing"], payer=office["payer"], values=PAYER_SETUP
    )
    assert (setup.period, setup.sequential) == ("week", True)
    with pytest.raises(NotPermitted):
        services.payer_claim_setup_save(
            by=office["billing"], payer=office["foreign_payer"], values=PAYER_SETUP
        )
    assert AuditEntry.objects.filter(object_type="payer_claim_setup", outcome="denied").exists()
    assert PayerClaimSetup.objects.count() == 1


def test_a_programs_claim_setup_needs_the_bill_type_on_837i_and_the_pos_on_837p(
    office: dict[str, Any],
) -> None:
    base = {
        "facility_code": "",
        "place_of_service": "",
        "rendering_npi_required": False,
        "condition_codes": "",
        "provider_last_name": "",
        "provider_first_name": "",
        "provider_npi": "",
        "provider_taxonomy": "",
    }
    with pytest.raises(RuleViolation, match="facility code"):
        services.track_claim_setup_save(
            by=office["billing"], track=office["track"], claim_form="837I", values=base
        )
    with pytest.raises(RuleViolation, match="place of service"):
        services.track_claim_setup_save(
            by=office["billing"],
            track=office["track"],
            claim_form="837P",
            values={**base, "facility_code": "13"},
        )
    setup = services.track_claim_setup_save(
        by=office["billing"],
        track=office["track"],
        claim_form="837I",
        values={**base, "facility_code": "13", "condition_codes": "92 "},
    )
    assert (setup.facility_code, setup.condition_codes) == ("13", "92")
    assert TrackClaimSetup.objects.count() == 1


def test_the_set_up_page_writes_the_billing_provider_through_the_service(
    office: dict[str, Any], client: Client, mfa_passed: None
) -> None:
    client.force_login(office["director"])
    response = client.post(
        reverse("admin:billing_billingprovider_add"), {**PROVIDER, "site": office["site"].pk}
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    provider = BillingProvider.objects.get()
    assert provider.state == "IL"  # the service's own clean-up
    entry = AuditEntry.objects.get(object_type="billing_provider", object_id=str(provider.pk))
    assert entry.user_id == office["director"].pk
    # A bad NPI is refused in the form, keeping what was typed.
    response = client.post(
        reverse("admin:billing_billingprovider_change", args=[provider.pk]),
        {**PROVIDER, "npi": "1234567890"},
    )
    assert response.status_code == 200 and "check digit" in response.content.decode()
    provider.refresh_from_db()
    assert provider.npi == NPI
