"""Every write in the set-up pages goes through the service the rest of OpenIOP uses for it, where
there is one, with the same permission check and the same audit entry; what has no service is
written only here, audited by SetupAdmin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.contrib import admin
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.billing import services
from openiop.billing.models import Payer
from openiop.core.actor import Actor
from openiop.testing import make_org, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

# Each model the set-up pages may write, and the doorway of that write. A new admin page fails
# test_every_writable_set_up_page_is_accounted_for until it is listed here: with its service, or
# as set-up data that only these pages write (audited by SetupAdmin).
DOORWAYS: dict[str, str] = {
    "accounts.user": "accounts.services.staff_create; role, sites and reactivation through "
    "staff_change_access; names, credentials and deactivation: set-up data",
    "accounts.accesschangerequest": "accounts.services.access_change_decide (actions only)",
    "otp_totp.totpdevice": "accounts.mfa (read-only here)",
    "billing.payer": "billing.services.payer_create and payer_update",
    "billing.povertyguidelineyear": "set-up data",
    "billing.payerprogrambilling": "billing.services.payer_billing_create and payer_billing_update",
    "billing.feescheduleentry": "billing.services.fee_entry_create and fee_entry_update",
    "billing.billingprovider": "billing.services.billing_provider_save",
    "billing.payerclaimsetup": "billing.services.payer_claim_setup_save",
    "billing.trackclaimsetup": "billing.services.track_claim_setup_save",
    "programs.organization": "set-up data",
    "programs.site": "set-up data (rooms inline)",
    "measures.sitesafetysettings": "set-up data",
}


@pytest.fixture
def setup(mfa_passed: None) -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)")
    return {
        "org": org,
        "director": make_user(Role.DIRECTOR, sites=[site], org=org, last_name="Cobblethwaite"),
        "admin": make_user(Role.ADMIN, sites=[site], org=org, last_name="Ironbridge"),
    }


def _shape(entry: AuditEntry) -> tuple[str, str, list[str]]:
    return (entry.action, entry.object_type, sorted(entry.detail))


def test_every_writable_set_up_page_is_accounted_for() -> None:
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry} - {
        "axes.accessattempt",
        "axes.accesslog",
        "axes.accessfailurelog",
    }
    assert registered - set(DOORWAYS) == set()


def test_a_payer_added_in_the_set_up_pages_goes_through_payer_create(
    client: Client, setup: dict[str, Any]
) -> None:
    org = setup["org"]
    client.force_login(setup["director"])
    response = client.post(
        reverse("admin:billing_payer_add"),
        {
            "organization": org.pk,
            "name": "  Bluebell Mutual (fictional) ",
            "payer_id": "BB1",
            "payer_type": "commercial",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    payer = Payer.objects.get(payer_id="BB1")
    assert payer.name == "Bluebell Mutual (fictional)"  # the service's own clean-up
    by_admin = AuditEntry.objects.get(object_id=str(payer.pk), object_type="payer")
    assert by_admin.user_id == setup["director"].pk
    assert not AuditEntry.objects.filter(object_type="setup.payer").exists()
    by_service = services.payer_create(
        organization_id=org.pk,
        name="Hollyhock Health (fictional)",
        payer_id="",
        payer_type="commercial",
        by=Actor(user=setup["director"]),
    )
    assert _shape(by_admin) == _shape(
        AuditEntry.objects.get(object_id=str(by_service.pk), object_type="payer")
    )


def _payer(org: Any, name: str = "Bluebell Mutual (fictional)") -> Payer:
    return Payer.objects.create(organization=org, name=name, payer_type="commercial")


def test_a_payer_changed_in_the_set_up_pages_goes_through_payer_update(
    client: Client, setup: dict[str, Any]
) -> None:
    payer = _payer(setup["org"])
    client.force_login(setup["director"])
    response = client.post(
        reverse("admin:billing_payer_change", args=[payer.pk]),
        {"name": "Bluebell Mutual (fictional)", "payer_id": "BB9", "payer_type": "commercial"},
    )  # is_active unticked: deactivated
    assert response.status_code == 302, response.content.decode()[:1500]
    payer.refresh_from_db()
    assert (payer.payer_id, payer.is_active) == ("BB9", False)
    entry = AuditEntry.objects.get(object_type="payer", action="update")
    assert entry.detail["fields"] == ["payer_id", "is_active"]
    assert entry.detail["after"] == {"payer_id": "BB9", "is_active": False}
    assert not AuditEntry.objects.filter(object_type="setup.payer").exists()
    other = _payer(setup["org"], "Hollyhock Health (fictional)")
    services.payer_update(payer=other, payer_id="HH1", by=Actor(user=setup["director"]))
    latest = AuditEntry.objects.filter(object_type="payer").latest("id")
    assert _shape(latest) == _shape(entry)


def test_a_repeated_payer_name_is_refused_in_the_form_with_what_was_typed(
    client: Client, setup: dict[str, Any]
) -> None:
    _payer(setup["org"])
    client.force_login(setup["director"])
    response = client.post(
        reverse("admin:billing_payer_add"),
        {
            "organization": setup["org"].pk,
            "name": "BLUEBELL mutual (fictional)",
            "payer_id": "XY7",
            "payer_type": "commercial",
        },
    )
    assert response.status_code == 200
    assert "is already a payer" in response.text and 'value="XY7"' in response.text
    assert Payer.objects.count() == 1


def test_an_administrator_sees_payers_but_only_benefits_staff_write_them(
    client: Client, setup: dict[str, Any]
) -> None:
    payer = _payer(setup["org"])
    client.force_login(setup["admin"])
    assert client.get(reverse("admin:billing_payer_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_payer_add")).status_code == 403
    client.post(
        reverse("admin:billing_payer_change", args=[payer.pk]),
        {"name": "Renamed (fictional)", "payer_id": "", "payer_type": "commercial"},
    )
    payer.refresh_from_db()
    assert payer.name == "Bluebell Mutual (fictional)" and payer.is_active
    assert not AuditEntry.objects.filter(object_type="payer").exists()
