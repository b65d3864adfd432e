"""A payer's billing rules for a program and its fee schedule: checked by the charge rules' own
types before they are saved, one fee a day per code, site-checked and audited; the set-up pages
write them through the same services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.billing import services
from openiop.billing.models import FeeScheduleEntry, Payer, PayerProgramBilling
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.testing import make_org, make_site, make_track, make_user

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)")
    other = make_site(org, name="Far Away (fictional)")
    return {
        "org": org,
        "track": make_track(site, name="Adult Day IOP (fictional)"),
        "payer": Payer.objects.create(
            organization=org, name="Bluebell Mutual (fictional)", payer_type="commercial"
        ),
        "director": Actor(user=make_user(Role.DIRECTOR, sites=[site], org=org)),
        "other_intake": Actor(user=make_user(Role.INTAKE, sites=[other], org=org)),
    }


def _fee(setup: dict[str, Any], **kw: Any) -> FeeScheduleEntry:
    by = kw.pop("by", setup["director"])
    fields: dict[str, Any] = {
        "code": "H0015",
        "rate": Decimal("250.00"),
        "effective_from": dt.date(2026, 1, 1),
    }
    fields.update(kw)
    return services.fee_entry_create(payer=setup["payer"], track=setup["track"], by=by, **fields)


def test_a_fee_overlapping_another_of_the_same_code_is_refused(setup: dict[str, Any]) -> None:
    _fee(setup, effective_to=dt.date(2026, 6, 30))
    with pytest.raises(RuleViolation) as refused:
        _fee(setup, effective_from=dt.date(2026, 6, 1), rate=Decimal("260.00"))
    assert refused.value.field == "effective_from"
    assert refused.value.message == (
        "Bluebell Mutual (fictional) already has a fee for H0015 in Adult Day IOP (fictional) "
        "from 2026-01-01 to 2026-06-30: one fee a day. End that one the day before this one "
        "starts."
    )
    later = _fee(setup, effective_from=dt.date(2026, 7, 1), rate=Decimal("260.00"))
    assert FeeScheduleEntry.objects.count() == 2
    with pytest.raises(RuleViolation):  # moving the new one back onto the old one
        services.fee_entry_update(
            entry=later, effective_from=dt.date(2026, 6, 30), by=setup["director"]
        )


def test_a_fee_is_checked_by_the_domain_and_normalized(setup: dict[str, Any]) -> None:
    with pytest.raises(RuleViolation, match="rate must be a Decimal of 0 or more"):
        _fee(setup, rate=Decimal("-1.00"))
    with pytest.raises(RuleViolation, match="is not a four-digit revenue code"):
        _fee(setup, revenue_code="906")
    fee = _fee(setup, code="h0015", modifiers="hq  tf")
    assert (fee.code, fee.modifiers) == ("H0015", "HQ,TF")
    entry = AuditEntry.objects.get(object_type="fee_schedule_entry", action="create")
    assert entry.detail["rate"] == "250.00"


def test_a_per_diem_payer_needs_its_per_diem_code(setup: dict[str, Any]) -> None:
    with pytest.raises(RuleViolation, match="A per-diem payer bills H0015 or S9480"):
        services.payer_billing_create(
            payer=setup["payer"],
            track=setup["track"],
            mode="per_diem",
            claim_form="837I",
            by=setup["director"],
        )
    with pytest.raises(RuleViolation, match="'talk' is not a service kind"):
        services.payer_billing_create(
            payer=setup["payer"],
            track=setup["track"],
            mode="itemized",
            claim_form="837P",
            codes={"talk": [["90834", 38, 52]]},
            by=setup["director"],
        )
    assert not PayerProgramBilling.objects.exists()


def test_billing_rules_are_changed_and_audited_with_before_and_after(
    setup: dict[str, Any],
) -> None:
    config = services.payer_billing_create(
        payer=setup["payer"],
        track=setup["track"],
        mode="per_diem",
        claim_form="837I",
        per_diem_code="h0015",
        min_minutes_per_day=180,
        by=setup["director"],
    )
    assert config.per_diem_code == "H0015"
    services.payer_billing_update(config=config, min_minutes_per_day=150, by=setup["director"])
    config.refresh_from_db()
    assert config.min_minutes_per_day == 150
    entry = AuditEntry.objects.get(object_type="payer_billing", action="update")
    assert entry.detail == {
        "fields": ["min_minutes_per_day"],
        "before": {"min_minutes_per_day": 180},
        "after": {"min_minutes_per_day": 150},
    }
    with pytest.raises(RuleViolation, match="already has billing rules"):
        services.payer_billing_create(
            payer=setup["payer"],
            track=setup["track"],
            mode="itemized",
            claim_form="837P",
            by=setup["director"],
        )


def test_a_user_of_another_site_cannot_set_fees_for_this_sites_program(
    setup: dict[str, Any],
) -> None:
    with pytest.raises(NotPermitted):
        _fee(setup, by=setup["other_intake"])
    assert not FeeScheduleEntry.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", object_type="fee_schedule_entry").exists()


def test_a_fee_added_in_the_set_up_pages_goes_through_the_service(
    client: Client, setup: dict[str, Any], mfa_passed: None
) -> None:
    client.force_login(setup["director"].user)
    form = {
        "payer": setup["payer"].pk,
        "track": setup["track"].pk,
        "code": "h0015",
        "modifiers": "",
        "revenue_code": "0906",
        "rate": "250.00",
        "effective_from": "2026-01-01",
        "effective_to": "",
    }
    response = client.post(reverse("admin:billing_feescheduleentry_add"), form)
    assert response.status_code == 302, response.content.decode()[:1500]
    fee = FeeScheduleEntry.objects.get()
    assert fee.code == "H0015"  # the service's normalization
    assert AuditEntry.objects.filter(object_type="fee_schedule_entry", action="create").exists()
    assert not AuditEntry.objects.filter(object_type="setup.feescheduleentry").exists()

    response = client.post(
        reverse("admin:billing_feescheduleentry_add"),
        {**form, "effective_from": "2026-03-01", "rate": "275.00"},
    )
    assert response.status_code == 200
    assert "already has a fee for H0015" in response.text and 'value="275.00"' in response.text
    assert FeeScheduleEntry.objects.count() == 1
