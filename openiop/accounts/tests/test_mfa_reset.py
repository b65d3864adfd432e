"""An administrator's two-factor reset: the one way to remove an authenticator without a code
from it. Audited; never one's own account; the user's sessions end and their next login enrols."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.domain import Role
from openiop.accounts.mfa import mfa_reset
from openiop.accounts.models import StaffSession, User
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.programs.models import Organization, Site
from openiop.testing import PASSWORD, make_org, make_site, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> tuple[Organization, Site]:
    org = make_org()
    return org, make_site(org)


def _login(client: Client, user: User) -> Client:
    client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    return client


def _enrolled(user: User) -> Client:
    """An authenticator and recovery codes set up through the pages; returns the verified client."""
    client = _login(Client(), user)
    client.get(reverse("accounts:mfa_setup"))
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("accounts:mfa_setup"), {"token": f"{totp(pending.bin_key):06d}"})
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return client


def test_reset_removes_the_devices_ends_the_sessions_and_the_next_login_enrols(
    clinic: tuple[Organization, Site],
) -> None:
    org, site = clinic
    admin_user = make_user(Role.ADMIN, org=org, sites=[site])
    director = make_user(Role.DIRECTOR, org=org, sites=[site])
    their_session = _enrolled(director)
    assert their_session.get(reverse("audit:log")).status_code == 200

    mfa_reset(user=director, by=Actor.cli(admin_user, "test"))

    assert not TOTPDevice.objects.filter(user=director).exists()
    assert not StaticDevice.objects.filter(user=director).exists()
    assert not StaffSession.objects.filter(user_id=director.pk).exists()
    assert their_session.get(reverse("audit:log"))["Location"].startswith(reverse("accounts:login"))
    entry = AuditEntry.objects.get(action="delete", object_type="mfa_device")
    assert entry.user_id == admin_user.pk and entry.object_id == str(director.pk)
    assert entry.detail == {"username": director.username, "authenticators": 1, "sessions_ended": 1}

    again = _login(Client(), director)
    response = again.get(reverse("audit:log"))
    assert response["Location"].startswith(reverse("accounts:mfa_setup"))


def test_reset_refuses_ones_own_account_and_roles_without_staff_management(
    clinic: tuple[Organization, Site],
) -> None:
    org, site = clinic
    director = make_user(Role.DIRECTOR, org=org, sites=[site])
    _enrolled(director)
    with pytest.raises(RuleViolation, match="own two-factor"):
        mfa_reset(user=director, by=Actor.cli(director, "test"))
    clinician = make_user(Role.CLINICIAN, org=org, sites=[site])
    with pytest.raises(NotPermitted):
        mfa_reset(user=director, by=Actor.cli(clinician, "test"))
    assert TOTPDevice.objects.filter(user=director, confirmed=True).exists()
    assert StaffSession.objects.filter(user_id=director.pk).exists()
    assert AuditEntry.objects.filter(
        object_type="mfa_device", outcome="denied", user_id=clinician.pk
    ).exists()
    assert not AuditEntry.objects.filter(action="delete", object_type="mfa_device").exists()


def test_the_admin_action_asks_for_confirmation_then_resets(
    clinic: tuple[Organization, Site],
) -> None:
    org, site = clinic
    admin_user = make_user(Role.ADMIN, org=org, sites=[site], is_staff=True, is_superuser=True)
    director = make_user(Role.DIRECTOR, org=org, sites=[site])
    _enrolled(director)
    client = _enrolled(admin_user)  # the admin site requires two-factor too
    changelist = reverse("admin:accounts_user_changelist")
    chosen = {"action": "reset_two_factor", "_selected_action": [director.pk]}

    confirm = client.post(changelist, chosen)
    assert confirm.status_code == 200
    assert "Yes, reset two-factor" in confirm.content.decode()
    assert TOTPDevice.objects.filter(user=director).exists()

    done = client.post(changelist, {**chosen, "confirm": "yes"}, follow=True)
    assert "they enrol at their next login" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=director).exists()
    assert AuditEntry.objects.filter(
        action="delete", object_type="mfa_device", user_id=admin_user.pk, channel="web"
    ).exists()

    own = client.post(changelist, {**chosen, "_selected_action": [admin_user.pk], "confirm": "yes"})
    assert own.status_code == 302
    assert TOTPDevice.objects.filter(user=admin_user, confirmed=True).exists()


def test_cli_resets_as_the_named_administrator_and_exits_2_when_refused(
    clinic: tuple[Organization, Site],
) -> None:
    org, site = clinic
    admin_user = make_user(Role.ADMIN, org=org, sites=[site])
    director = make_user(Role.DIRECTOR, org=org, sites=[site])
    _enrolled(director)
    out = io.StringIO()
    call_command("mfa_reset", director.username, "--as", admin_user.username, stdout=out)
    assert "enrol at their next login" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=director).exists()
    assert AuditEntry.objects.filter(action="delete", channel="cli", user_id=admin_user.pk).exists()

    for args in ([admin_user.username, "--as", admin_user.username], ["nobody", "--as", "x"]):
        with pytest.raises(CommandError) as refused:
            call_command("mfa_reset", *args)
        assert refused.value.returncode == 2
