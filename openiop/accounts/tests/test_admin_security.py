"""The set-up pages (/django-admin/): no patient data anywhere, no secrets, no back doors, audited.

Issue 13, points 1 and 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.admin_base import SetupAdmin
from openiop.accounts.domain import Role
from openiop.accounts.models import AccessChangeRequest, AccessChangeStatus, User
from openiop.accounts.services import staff_change_access
from openiop.admissions.models import Inquiry
from openiop.audit.models import AuditEntry
from openiop.billing.models import Coverage, Payer, PovertyGuidelineYear
from openiop.core.actor import Actor
from openiop.measures.models import SafetyAlert, SiteSafetySettings
from openiop.patients.models import Patient, PatientContact
from openiop.programs.models import Site
from openiop.testing import PASSWORD, make_site, make_user
from openiop.web.tests.conftest import World, world  # noqa: F401  (the shared fictional clinic)

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db


# --- the clinic the crawl visits ----------------------------------------------------------------


@pytest.fixture
def clinic(world: World) -> dict[str, Any]:  # noqa: F811
    """The shared world, plus what only the set-up pages show: configuration rows, a second
    inquiry with insurance, a TOTP device with its key, a locked-out login attempt."""
    site = Site.objects.get(pk=world.ids["site_id"])
    org = site.organization
    admin_user = world.users["admin"]
    payer = Payer.objects.create(organization=org, name="Fictional Mutual", payer_type="commercial")
    inquiry = Inquiry.objects.create(
        organization=org,
        site=site,
        received_at=timezone.now(),
        channel="call",
        referral_source="self",
        first_name="Balthazar",
        last_name="Quillfeather",
        phone="555-010-4242",
        concerns="mental_health",
        insurance_name="Fictional Mutual",
        insurance_member_id="ZQX-778812",
        stage_entered_on=timezone.localdate(),
    )
    Coverage.objects.create(
        inquiry=inquiry,
        payer=payer,
        rank="primary",
        member_id="MBR-99417733",
        subscriber_name="Hesperus Quillfeather",
    )
    SiteSafetySettings.objects.create(
        site=site, on_call=world.users["clinician"], director=world.users["director"]
    )
    PovertyGuidelineYear.objects.create(
        organization=org,
        year=2026,
        label="2026 guideline (fictional)",
        base_amount=15000,
        per_additional_person=5000,
        sliding_scale=[[100, 10], [None, 100]],
        daily_rate=200,
    )
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    AccessAttempt.objects.create(
        username="nobody-real",
        ip_address="127.0.0.1",
        user_agent="test",
        path_info="/accounts/login/",
        failures_since_start=2,
        get_data="",
        post_data="username=nobody-real",
    )
    fresh_site = make_site(org, name="Empty Annex (fictional)")
    return {
        "admin": admin_user,
        "director": world.users["director"],
        "site": site,
        "fresh_site": fresh_site,
        "device": device,
    }


def _patient_data() -> set[str]:
    """Every patient-identifying string in the database: what no set-up page may show."""
    found: set[str] = set()
    for p in Patient.objects.all():
        found.update({p.legal_first_name, p.legal_last_name, p.mrn})
    for i in Inquiry.objects.all():
        found.update({i.first_name, i.last_name, i.phone, i.insurance_member_id})
    found.update(SafetyAlert.objects.values_list("message", flat=True))
    from openiop.episodes.models import Alert

    found.update(Alert.objects.values_list("message", flat=True))
    for c in Coverage.objects.all():
        found.update({c.member_id, c.subscriber_name})
    found.update(PatientContact.objects.values_list("name", flat=True))
    return {s for s in found if s}


def _admin_urls() -> list[str]:
    """Every page of the admin: index, app indexes, and for each registered model its list, add
    page and each row's change, delete and history pages."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse("admin:app_list", args=[opts.app_label]))
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls += [reverse(f"{base}_changelist"), reverse(f"{base}_changelist") + "?q=a"]
        urls.append(reverse(f"{base}_add"))
        for obj in model._default_manager.all():
            urls += [
                reverse(f"{base}_change", args=[obj.pk]),
                reverse(f"{base}_delete", args=[obj.pk]),
                reverse(f"{base}_history", args=[obj.pk]),
            ]
        if model is User:
            urls += [reverse("admin:accounts_user_access", args=[u.pk]) for u in User.objects.all()]
            urls += [
                reverse("admin:auth_user_password_change", args=[u.pk]) for u in User.objects.all()
            ]
    return sorted(set(urls))


def _follow(client: Any, url: str) -> Any:
    response = client.get(url)
    hops = 0
    while response.status_code in (301, 302) and hops < 3:
        response = client.get(response["Location"])
        hops += 1
    return response


def test_no_admin_page_shows_patient_data_or_fails(
    client: Client, clinic: dict[str, Any], mfa_passed: None
) -> None:
    secrets = _patient_data()
    assert "Quintessa" in secrets and "MBR-99417733" in secrets and "PHQ-9 item 9 at 1" in secrets
    client.force_login(clinic["admin"])
    urls = _admin_urls()
    assert len(urls) > 40
    shown = 0
    for url in urls:
        response = _follow(client, url)
        assert response.status_code in (200, 403), (url, response.status_code)
        shown += response.status_code == 200
        html = response.content.decode()
        leaked = sorted(s for s in secrets if s in html)
        assert not leaked, (url, leaked)
    assert shown > len(urls) * 0.8  # the pages were shown, not refused


def test_delete_confirmation_shows_counts_not_rows(
    client: Client, clinic: dict[str, Any], mfa_passed: None
) -> None:
    """A row without history may be deleted; its confirmation lists kinds of rows, not rows."""
    client.force_login(clinic["admin"])
    fresh = clinic["fresh_site"]
    url = reverse("admin:programs_site_delete", args=[fresh.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "Sites: 1" in response.content.decode()
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Site.objects.filter(pk=fresh.pk).exists()
    entry = AuditEntry.objects.get(object_type="setup.site", action="delete")
    assert entry.object_id == str(fresh.pk) and entry.username == clinic["admin"].username


@pytest.mark.parametrize("which", ["site", "organization", "clinician"])
def test_rows_with_clinical_history_cannot_be_deleted(
    client: Client,
    clinic: dict[str, Any],
    world: World,  # noqa: F811
    mfa_passed: None,
    which: str,
) -> None:
    site = clinic["site"]
    obj: Any = {
        "site": site,
        "organization": site.organization,
        "clinician": world.users["clinician"],
    }[which]
    opts = obj._meta
    client.force_login(clinic["admin"])
    change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    delete_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
    assert delete_url not in change.content.decode()  # no Delete link
    response = client.post(delete_url, {"post": "yes"}, follow=True)
    assert "deactivate it instead" in response.content.decode()
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert Patient.objects.filter(pk=world.patient.pk).exists()


def test_delete_selected_is_not_offered(
    client: Client, clinic: dict[str, Any], mfa_passed: None
) -> None:
    client.force_login(clinic["admin"])
    for name in ("accounts_user", "programs_site", "programs_organization"):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert 'value="delete_selected"' not in response.content.decode()
    response = client.post(
        reverse("admin:programs_site_changelist"),
        {"action": "delete_selected", "_selected_action": [clinic["site"].pk], "post": "yes"},
    )
    assert Site.objects.filter(pk=clinic["site"].pk).exists()


def test_every_registered_admin_uses_the_shared_base() -> None:
    """Role-based entry, audited writes and counts-only deletion hold on every page."""
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, SetupAdmin), model


# --- secrets and back doors ---------------------------------------------------------------------


def test_password_hash_never_shown_and_password_change_audited(
    client: Client, staff: dict[str, Any], mfa_passed: None
) -> None:
    clinician = staff["clinician"]
    client.force_login(staff["admin"])
    html = client.get(reverse("admin:accounts_user_change", args=[clinician.pk])).content.decode()
    assert clinician.password.split("$")[-1][:6] not in html
    assert clinician.password.split("$")[-2][:6] not in html
    new = "another-correct-horse-77"
    response = client.post(
        reverse("admin:auth_user_password_change", args=[clinician.pk]),
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_type="setup.user", object_id=str(clinician.pk))
    assert entry.action == "update" and new not in str(entry.detail)


def test_totp_key_never_shown(client: Client, clinic: dict[str, Any], mfa_passed: None) -> None:
    device = clinic["device"]
    client.force_login(clinic["admin"])
    base = "admin:otp_totp_totpdevice"
    pages = [
        reverse(f"{base}_changelist"),
        reverse(f"{base}_change", args=[device.pk]),
        reverse(f"{base}_changelist").rstrip("/") + f"/{device.pk}/config/",
        reverse(f"{base}_changelist").rstrip("/") + f"/{device.pk}/qrcode/",
    ]
    for url in pages:
        html = _follow(client, url).content.decode()
        assert device.key not in html and device.key.upper() not in html, url
    assert "phone" in client.get(reverse(f"{base}_changelist")).content.decode()


def test_administrator_cannot_make_itself_superuser_or_grant_permissions(
    client: Client, clinic: dict[str, Any], mfa_passed: None
) -> None:
    me = clinic["admin"]
    client.force_login(me)
    perm = Permission.objects.get(codename="view_patient")
    url = reverse("admin:accounts_user_change", args=[me.pk])
    client.post(
        url,
        {
            "username": me.username,
            "first_name": me.first_name,
            "last_name": me.last_name,
            "email": "",
            "credentials": "",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "user_permissions": [perm.pk],
            "role": Role.DIRECTOR.value,
            "sites": [clinic["site"].pk],
        },
    )
    me.refresh_from_db()
    assert not me.is_superuser and not me.is_staff
    assert not me.user_permissions.exists() and not me.groups.exists()
    assert me.role == Role.ADMIN.value
    html = client.get(url).content.decode()
    for field in ("is_superuser", "user_permissions", "groups", 'name="role"', 'name="sites"'):
        assert field not in html
    assert client.get("/django-admin/auth/group/").status_code == 404


def test_django_flags_grant_no_entry(
    client: Client, clinic: dict[str, Any], mfa_passed: None
) -> None:
    """is_staff and is_superuser open nothing: entry is by role (and TOTP)."""
    clerk = make_user(Role.BILLING, sites=[clinic["site"]])
    clerk.is_staff = clerk.is_superuser = True
    clerk.save()
    client.force_login(clerk)
    assert _follow(client, reverse("admin:index")).status_code == 403
    assert _follow(client, reverse("admin:programs_site_changelist")).status_code == 403


def test_anonymous_visitor_is_sent_to_the_staff_login(client: Client, db: None) -> None:
    response = _follow(client, reverse("admin:programs_site_changelist"))
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("accounts:login")


def test_administrator_needs_totp_for_the_set_up_pages(
    client: Client, clinic: dict[str, Any]
) -> None:
    client.force_login(clinic["admin"])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/accounts/two-factor/" in response["Location"]


def test_admin_save_is_audited_with_before_and_after(
    client: Client, clinic: dict[str, Any], mfa_passed: None
) -> None:
    site = clinic["site"]
    client.force_login(clinic["admin"])
    response = client.post(
        reverse("admin:programs_site_change", args=[site.pk]),
        {
            "organization": site.organization_id,
            "name": "Riverbend North (fictional)",
            "timezone": site.timezone,
            "address": "",
            "is_active": "on",
            "rooms-TOTAL_FORMS": "0",
            "rooms-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(object_type="setup.site", action="update")
    assert entry.detail["before"]["name"] == "Riverbend (fictional)"
    assert entry.detail["after"]["name"] == "Riverbend North (fictional)"


# --- role and site changes in the set-up pages -------------------------------------------------


def test_own_role_change_refused_in_the_set_up_pages(
    client: Client, staff: dict[str, Any], mfa_passed: None
) -> None:
    me = staff["admin"]
    client.force_login(me)
    response = client.post(
        reverse("admin:accounts_user_access", args=[me.pk]),
        {"role": Role.DIRECTOR.value, "sites": [staff["site"].pk], "reason": "promotion"},
    )
    assert response.status_code == 200
    assert "Nobody changes their own role" in response.content.decode()
    me.refresh_from_db()
    assert me.role == Role.ADMIN.value
    assert not AccessChangeRequest.objects.exists()


def test_reactivation_in_the_user_form_is_refused(
    client: Client, staff: dict[str, Any], mfa_passed: None
) -> None:
    gone = staff["clinician"]
    gone.is_active = False
    gone.save()
    client.force_login(staff["admin"])
    response = client.post(
        reverse("admin:accounts_user_change", args=[gone.pk]),
        {"username": gone.username, "first_name": "Testy", "last_name": "X", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Reactivating an account" in response.content.decode()
    gone.refresh_from_db()
    assert not gone.is_active


def test_new_account_in_set_up_pages_waits_for_approval(
    client: Client, staff: dict[str, Any], mfa_passed: None
) -> None:
    client.force_login(staff["admin"])
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "groupfacilitator",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "Fennimore",
            "last_name": "Testfacilitator",
            "credentials": "LPC",
            "organization": staff["org"].pk,
            "role": Role.CLINICIAN.value,
            "sites": [staff["site"].pk],
            "reason": "new hire",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="groupfacilitator")
    assert not user.is_active
    assert AccessChangeRequest.objects.get(user=user).status == AccessChangeStatus.PENDING


def test_director_approves_in_the_set_up_pages(
    client: Client, staff: dict[str, Any], mfa_passed: None
) -> None:
    change = staff_change_access(
        user=staff["billing"],
        role=Role.CLINICIAN.value,
        sites=[staff["site"]],
        by=Actor(user=staff["admin"]),
    )
    changelist = reverse("admin:accounts_accesschangerequest_changelist")
    client.force_login(staff["admin"])  # the requester's attempt changes nothing
    client.post(changelist, {"action": "approve", "_selected_action": [change.pk]})
    change.refresh_from_db()
    assert change.status == AccessChangeStatus.PENDING
    client.force_login(staff["director"])
    page = client.get(changelist)
    assert page.status_code == 200 and "Clinician" in page.content.decode()
    client.post(changelist, {"action": "approve", "_selected_action": [change.pk]})
    change.refresh_from_db()
    assert change.status == AccessChangeStatus.APPROVED
    staff["billing"].refresh_from_db()
    assert staff["billing"].role == Role.CLINICIAN.value
